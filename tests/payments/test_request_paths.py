"""Heavy work kept off request paths: the ledger page shows the stored result of the last check and pages its
accounts, the money page runs a constant number of queries, the nightly ledger check is incremental, and the
webhook lookups have indexes."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from marketplace.core.models import CheckRun
from payments.models import Account, LedgerTransaction
from payments.selectors import ledger_overview, organisation_money
from payments.services.checks import CHECK_NAME, ledger_check_run
from payments.services.ledger import ledger_post
from payments.tasks import ledger_verify
from tests.payments.conftest import paid_order

pytestmark = pytest.mark.django_db
K = Account.Kind


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def test_the_ledger_page_shows_the_stored_check_and_does_not_run_it(world, django_assert_max_num_queries):
    order = paid_order(world)
    assert ledger_verify() == 0
    client = signed_in(world.operator.viewer)
    one = queries(lambda: client.get("/payments/ledger/"))
    for _ in range(3):
        paid_order(world)
    with django_assert_max_num_queries(one):
        page = client.get("/payments/ledger/")
    assert 'id="ledger-ok"' in page.text
    # A problem made after the check shows once a check has run, not before: the page does not check.
    escrow = Account.objects.get(kind=K.ORDER_ESCROW, order_id=order.pk)
    Account.objects.filter(pk=escrow.pk).update(balance=escrow.balance + 1)
    assert 'id="ledger-ok"' in client.get("/payments/ledger/").text
    assert ledger_verify() >= 1
    page = client.get("/payments/ledger/")
    assert f"account {escrow.pk}: stored balance" in page.text and 'id="ledger-ok"' not in page.text
    api = signed_in(world.operator.viewer).get("/api/v1/payments/ledger/").json()
    assert any(f"account {escrow.pk}" in p for p in api["problems"]) and api["checked_at"]


def test_the_ledger_accounts_come_in_pages(world):
    for _ in range(2):
        paid_order(world)
    overview = ledger_overview(viewer=world.operator.viewer, per_page=2)
    assert (overview["page"], overview["pages"]) == (1, 2) and len(overview["accounts"]) == 2
    second = ledger_overview(viewer=world.operator.viewer, per_page=2, page=2)
    assert len(second["accounts"]) == 1  # two escrows and the provider clearing account (summed from entries)
    assert {a.kind for a in overview["accounts"] + second["accounts"]} == {K.ORDER_ESCROW, K.PROVIDER_CLEARING}
    clearing = next(a for a in overview["accounts"] + second["accounts"] if a.kind == K.PROVIDER_CLEARING)
    assert clearing.current_balance == 6_000_000 and clearing.balance == 0
    assert ledger_overview(viewer=world.operator.viewer, per_page=2, page="abc")["page"] == 1  # bad input: page 1
    client = signed_in(world.operator.viewer)
    assert client.get("/payments/ledger/?page=zzz").status_code == 200
    assert signed_in(world.seller.manager).get("/payments/ledger/").status_code == 404
    api = signed_in(world.operator.viewer).get("/api/v1/payments/ledger/?page=1").json()
    assert (api["page"], api["pages"]) == (1, 1) and len(api["accounts"]) == 3


def test_the_money_page_runs_as_many_queries_for_many_held_orders_as_for_one(world, django_assert_max_num_queries):
    paid_order(world)
    seller = world.seller.manager
    organisation_id = world.seller.organisation.pk
    one = queries(lambda: organisation_money(viewer=seller, organisation_id=organisation_id))
    for _ in range(3):
        paid_order(world)
    with django_assert_max_num_queries(one):
        money = organisation_money(viewer=seller, organisation_id=organisation_id)
    assert [held for _, held in money["held_orders"]] == [3_000_000] * 4
    client = signed_in(seller)
    page_one = queries(lambda: client.get(f"/payments/money/{organisation_id}/"))
    paid_order(world)
    with django_assert_max_num_queries(page_one):
        assert client.get(f"/payments/money/{organisation_id}/").status_code == 200


def test_the_incremental_check_catches_a_change_after_its_checkpoint(world):
    paid_order(world)
    assert ledger_check_run(full=True) == []
    run = CheckRun.objects.get(name=CHECK_NAME)
    assert run.full and run.checkpoint["at"]
    later = paid_order(world)
    escrow = Account.objects.get(kind=K.ORDER_ESCROW, order_id=later.pk)
    clearing = Account.objects.get(kind=K.PROVIDER_CLEARING, currency="XOF")
    # A second credit to the new order's escrow (a double-posted payment): balanced, but wrong.
    ledger_post(actor=None, kind="payment", idempotency_key="payment:again", lines=[(clearing, 10), (escrow, -10)],
                order_id=later.pk)  # fmt: skip
    problems = ledger_check_run()
    assert any(f"order {later.pk}: escrow credits for payments" in p for p in problems)
    run.refresh_from_db()
    assert not run.full and run.problems == problems
    assert ledger_check_run() == problems  # a run that finds problems keeps its checkpoint: they stay reported


def test_the_incremental_check_looks_only_at_what_changed(world, django_assert_max_num_queries):
    from django.utils import timezone

    from payments.selectors import ledger_scope_since

    first = paid_order(world)
    ledger_check_run(full=True)
    since = timezone.now()
    second = paid_order(world)
    scope = ledger_scope_since(since)
    assert scope["orders"] == [second.pk] and first.pk not in scope["orders"]
    assert LedgerTransaction.objects.filter(pk__in=scope["transactions"]).get().order_id == second.pk


def test_webhook_lookups_have_indexes():
    with connection.cursor() as cursor:
        indexes = {
            table: {
                tuple(c["columns"])
                for c in connection.introspection.get_constraints(cursor, table).values()
                if c["index"]
            }
            for table in ["payments_payment", "payments_refund", "payments_transfer"]
        }
    assert ("provider", "charge_reference") in indexes["payments_payment"]
    assert ("reference",) in indexes["payments_refund"] and ("reference",) in indexes["payments_transfer"]
