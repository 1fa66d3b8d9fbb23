import threading

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from marketplace.core.errors import Conflict
from payments.models import Account, Entry, LedgerTransaction
from payments.selectors import (
    account_balance,
    ledger_balance_mismatches,
    ledger_unbalanced_transactions,
    negative_accounts,
)
from payments.services.ledger import LedgerImbalance, account_get_or_create, ledger_post, ledger_reverse
from tests.factories import OrganisationFactory

K = Account.Kind


def _accounts(currency="XOF"):
    coop = OrganisationFactory(currency=currency)
    clearing = account_get_or_create(kind=K.PROVIDER_CLEARING, currency=currency)
    payable = account_get_or_create(kind=K.ORGANISATION_PAYABLE, currency=currency, organisation_id=coop.pk)
    fees = account_get_or_create(kind=K.PLATFORM_FEES, currency=currency)
    return clearing, payable, fees


@pytest.mark.django_db
def test_a_post_moves_balances_in_their_normal_orientation():
    clearing, payable, fees = _accounts()
    ledger_post(actor=None, kind="test", idempotency_key="t1", lines=[(clearing, 1000), (payable, -970), (fees, -30)])
    balances = {a.kind: account_balance(a) for a in Account.objects.all()}
    assert balances == {K.PROVIDER_CLEARING: 1000, K.ORGANISATION_PAYABLE: 970, K.PLATFORM_FEES: 30}
    assert ledger_unbalanced_transactions() == [] and ledger_balance_mismatches() == []


@pytest.mark.django_db
@pytest.mark.parametrize("lines", [[], [("clearing", 100), ("payable", -99)], [("clearing", 0), ("payable", 0)]])
def test_unbalanced_or_empty_posts_are_refused_and_write_nothing(lines):
    clearing, payable, _fees = _accounts()
    named = {"clearing": clearing, "payable": payable}
    with pytest.raises(LedgerImbalance):
        ledger_post(actor=None, kind="t", idempotency_key="k", lines=[(named[n], a) for n, a in lines])
    assert not LedgerTransaction.objects.exists()


@pytest.mark.django_db
def test_currencies_balance_separately():
    _clearing, payable, _fees = _accounts("XOF")
    eur_clearing = account_get_or_create(kind=K.PROVIDER_CLEARING, currency="EUR")
    with pytest.raises(LedgerImbalance):
        ledger_post(actor=None, kind="t", idempotency_key="k", lines=[(eur_clearing, 100), (payable, -100)])


@pytest.mark.django_db
def test_the_same_key_posts_once():
    clearing, payable, _fees = _accounts()
    first = ledger_post(actor=None, kind="t", idempotency_key="same", lines=[(clearing, 500), (payable, -500)])
    again = ledger_post(actor=None, kind="t", idempotency_key="same", lines=[(clearing, 500), (payable, -500)])
    assert first.pk == again.pk
    payable.refresh_from_db()
    assert payable.balance == 500


@pytest.mark.django_db
def test_a_payable_never_goes_negative():
    clearing, payable, _fees = _accounts()
    ledger_post(actor=None, kind="t", idempotency_key="in", lines=[(clearing, 100), (payable, -100)])
    with pytest.raises(Conflict):
        ledger_post(actor=None, kind="t", idempotency_key="out", lines=[(clearing, -101), (payable, 101)])
    payable.refresh_from_db()
    assert payable.balance == 100
    assert negative_accounts() == []


@pytest.mark.django_db
def test_the_database_refuses_a_negative_escrow_even_without_the_service():
    _clearing, payable, _fees = _accounts()
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=payable.pk).update(balance=-1)


@pytest.mark.django_db
def test_entries_and_transactions_are_append_only():
    clearing, payable, _fees = _accounts()
    ledger_post(actor=None, kind="t", idempotency_key="k", lines=[(clearing, 100), (payable, -100)])
    for sql in ["UPDATE payments_entry SET amount = 1", "DELETE FROM payments_entry",
                "UPDATE payments_ledgertransaction SET memo = 'x'"]:  # fmt: skip
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


@pytest.mark.django_db
def test_a_reversal_mirrors_the_original_once():
    clearing, payable, _fees = _accounts()
    posted = ledger_post(actor=None, kind="t", idempotency_key="k", lines=[(clearing, 100), (payable, -100)])
    reversal = ledger_reverse(actor=None, transaction_id=posted.pk, reason="keyed twice")
    assert sorted(e.amount for e in reversal.entries.all()) == [-100, 100]
    assert {account_balance(a) for a in Account.objects.filter(pk__in=[clearing.pk, payable.pk])} == {0}
    with pytest.raises(Conflict):
        ledger_reverse(actor=None, transaction_id=posted.pk, reason="again")


@pytest.mark.django_db(transaction=True)
def test_concurrent_withdrawals_never_overdraw():
    clearing, payable, _fees = _accounts()
    ledger_post(actor=None, kind="t", idempotency_key="in", lines=[(clearing, 1000), (payable, -1000)])
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def withdraw(n: int) -> None:
        barrier.wait()
        try:
            ledger_post(actor=None, kind="t", idempotency_key=f"out{n}", lines=[(clearing, -300), (payable, 300)])
            outcomes.append("ok")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    payable.refresh_from_db()
    assert outcomes.count("ok") == 3
    assert payable.balance == 100
    assert ledger_balance_mismatches() == []


class LedgerPropertyTest(TestCase):
    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.tuples(st.integers(1, 10**9), st.integers(0, 10**9)), min_size=1, max_size=8))
    def test_any_sequence_of_posts_keeps_every_invariant(self, moves):
        clearing, payable, fees = _accounts()
        for n, (amount, fee) in enumerate(moves):
            fee = min(fee, amount - 1) if amount > 1 else 0
            lines = [(clearing, amount), (payable, -(amount - fee))] + ([(fees, -fee)] if fee else [])
            ledger_post(actor=None, kind="t", idempotency_key=f"{self._testMethodName}:{n}:{amount}:{fee}", lines=lines)
        assert ledger_unbalanced_transactions() == []
        assert ledger_balance_mismatches() == []
        assert Entry.objects.exclude(currency="XOF").count() == 0


@pytest.mark.django_db
def test_the_nightly_ledger_task_alerts_the_operator_only_when_an_invariant_fails(mailoutbox, operator_user):
    from payments.models import OperatorAlert
    from payments.tasks import ledger_verify

    clearing, payable, _fees = _accounts()
    ledger_post(actor=None, kind="t", idempotency_key="in", lines=[(clearing, 100), (payable, -100)])
    assert ledger_verify() == 0
    assert not OperatorAlert.objects.exists()
    Account.objects.filter(pk=payable.pk).update(balance=99)  # a stored balance that no longer matches its entries
    assert ledger_verify() >= 1
    alert = OperatorAlert.objects.get(kind="ledger_check")
    assert str(payable.pk) in alert.message or "balance" in alert.message
