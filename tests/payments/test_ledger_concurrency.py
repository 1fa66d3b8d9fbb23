"""Postings of one currency for different parties do not queue on a shared row: the provider clearing and platform
fee accounts keep no running balance. Postings to the same payable still serialise on its row (never negative)."""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from payments.models import Account
from payments.selectors import account_balance, ledger_problems
from payments.services.ledger import account_get_or_create, ledger_post
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db(transaction=True)
K = Account.Kind


def release_lines(organisation_id: int, amount: int = 1000):
    clearing = account_get_or_create(kind=K.PROVIDER_CLEARING, currency="XOF")
    fees = account_get_or_create(kind=K.PLATFORM_FEES, currency="XOF")
    payable = account_get_or_create(kind=K.ORGANISATION_PAYABLE, currency="XOF", organisation_id=organisation_id)
    return [(clearing, amount), (payable, -(amount - amount * 3 // 100)), (fees, -(amount * 3 // 100))]


def hold_open_while(first_lines, second):
    """Post `first_lines` in a transaction another thread keeps open, run `second` meanwhile (with a 1 s
    lock_timeout), then let the first commit. Returns what `second` returned or raised."""
    posted, finish = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                ledger_post(actor=None, kind="test", idempotency_key="first", lines=first_lines)
                posted.set()
                finish.wait(timeout=20)
        except BaseException as error:  # reported by the test
            failures.append(error)
            posted.set()
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert posted.wait(timeout=20)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            outcome = second()
    except OperationalError as error:
        outcome = error
    finally:
        finish.set()
        thread.join(timeout=30)
    assert not failures, failures
    return outcome


def test_two_releases_in_one_currency_for_different_sellers_do_not_wait_on_each_other():
    one, two = OrganisationFactory(), OrganisationFactory()
    first, second = release_lines(one.pk), release_lines(two.pk)
    outcome = hold_open_while(
        first, lambda: ledger_post(actor=None, kind="test", idempotency_key="second", lines=second)
    )
    assert not isinstance(outcome, Exception), outcome
    clearing = Account.objects.get(kind=K.PROVIDER_CLEARING, currency="XOF")
    fees = Account.objects.get(kind=K.PLATFORM_FEES, currency="XOF")
    assert (account_balance(clearing), account_balance(fees)) == (2000, 60)
    assert (clearing.balance, fees.balance) == (0, 0)  # no running balance on the shared accounts
    assert ledger_problems() == []


def test_two_postings_to_the_same_payable_still_serialise_on_its_row():
    organisation = OrganisationFactory()
    first, second = release_lines(organisation.pk), release_lines(organisation.pk)
    outcome = hold_open_while(
        first, lambda: ledger_post(actor=None, kind="test", idempotency_key="second", lines=second)
    )
    assert isinstance(outcome, OperationalError) and "lock timeout" in str(outcome)
