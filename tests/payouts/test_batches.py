"""Payout batches through the services: proposal, approval with its ledger posting, execution through the
offline provider, cancellation; refusals write nothing."""

import pytest
from django.test import override_settings

from marketplace.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.models import AuditEvent
from payments.models import Account, Entry, LedgerTransaction, Refund, Transfer
from payments.payouts import services
from payments.payouts.models import PayoutBatch, PayoutBatchOrder, PayoutLine, PayoutShare, PayoutSms
from payments.payouts.tasks import payout_propose_for_order, payout_sms_send, payouts_propose_released
from payments.selectors import (
    account_balance,
    ledger_balance_mismatches,
    ledger_unbalanced_transactions,
    negative_accounts,
)
from tests.orders.factories import TONNE, advance, place
from tests.payouts.factories import give_input_credit, paid_order, release, released_order

S = PayoutBatch.Status
K = Account.Kind


def balance(kind, **owner):
    account = Account.objects.filter(kind=kind, currency="XOF", **owner).first()
    return account_balance(account) if account else 0


def propose(world, actor=None, **kwargs):
    return services.payout_batch_propose(
        actor=actor or world.seller.manager, organisation_id=world.seller.organisation.pk, **kwargs
    )


def test_a_proposal_splits_the_net_release_among_the_lot_members(world):
    order, net = released_order(world, 2 * TONNE)
    # 2 t at 1,500 XOF/kg = 3,000,000; 3 % platform fee leaves 2,910,000 to split.
    assert net == 2_910_000
    batch = propose(world)
    assert batch.status == S.PROPOSED and batch.proposed_by == world.seller.manager
    assert (batch.proceeds_amount, batch.levy_bp, batch.levy_amount) == (2_910_000, 200, 58_200)
    lines = list(batch.lines.order_by("farmer_id"))
    # The lot of 30 t came from three members with 10 t each.
    assert [line.gross_amount for line in lines] == [970_000, 970_000, 970_000]
    assert [line.levy_amount for line in lines] == [19_400, 19_400, 19_400]
    assert all(line.credit_amount == 0 and line.net_amount == 950_600 for line in lines)
    assert sum(line.net_amount for line in lines) + batch.levy_amount == net
    assert PayoutShare.objects.filter(line__batch=batch).count() == 3
    assert list(batch.orders.values_list("order_id", "amount")) == [(order.pk, net)]
    assert AuditEvent.objects.filter(action="payout_batch.proposed", subject_id=str(batch.pk)).exists()


def test_nothing_to_pay_is_a_clear_400_and_writes_nothing(world):
    with pytest.raises(ValidationFailed) as error:
        propose(world)
    assert error.value.code == "nothing_to_pay" and "nothing to pay" in error.value.message
    order = advance(world, place(world), "completed")  # completed but not released yet
    with pytest.raises(ValidationFailed):
        propose(world, order_ids=[order.pk])
    assert not PayoutBatch.objects.exists()


def test_an_order_is_paid_out_once_unless_its_batch_is_cancelled(world):
    order, _net = released_order(world)
    batch = propose(world)
    with pytest.raises(ValidationFailed):
        propose(world)
    with pytest.raises(ValidationFailed):
        services.payout_batch_cancel(actor=world.seller.manager, batch_id=batch.pk, reason="  ")
    services.payout_batch_cancel(actor=world.seller.manager, batch_id=batch.pk, reason="Wrong levy")
    again = propose(world)
    assert again.pk != batch.pk
    assert PayoutBatchOrder.objects.filter(order=order, active=True).get().batch == again


@pytest.mark.parametrize("who", ["clerk", "viewer", "stranger", "buyer"])
def test_only_the_cooperatives_managers_propose(world, who):
    released_order(world)
    actor = {
        "clerk": world.seller.clerk, "viewer": world.seller.viewer,
        "stranger": world.stranger.manager, "buyer": world.buyer.manager,
    }[who]  # fmt: skip
    expected = PermissionDenied if who in ("clerk", "viewer") else NotFound
    with pytest.raises(expected):
        propose(world, actor=actor)
    assert not PayoutBatch.objects.exists()


def test_approval_posts_the_allocation_and_records_who(world):
    _order, net = released_order(world)
    farmers = sorted(world.listing.lot.contributions.values_list("farmer_id", flat=True).distinct())
    give_input_credit(farmers[0], 100_000)  # the cooperative advanced these inputs: its payable is owed them too
    batch = propose(world)
    assert balance(K.ORGANISATION_PAYABLE, organisation_id=world.seller.organisation.pk) == net + 100_000
    batch = services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)  # the proposer may approve
    assert batch.status == S.APPROVED
    assert batch.approved_by == batch.proposed_by == world.seller.manager and batch.approved_at
    posted = batch.allocation_transaction
    assert posted.kind == "payout_allocation" and posted.idempotency_key == f"payout_allocation:{batch.pk}"
    amounts = {(e.account.kind, e.account.farmer_id): e.amount for e in posted.entries.select_related("account")}
    assert amounts[(K.ORGANISATION_PAYABLE, None)] == batch.net_amount + batch.credit_amount == net - batch.levy_amount
    assert amounts[(K.MEMBER_INPUT_CREDIT, farmers[0])] == -100_000
    assert amounts[(K.MEMBER_PAYABLE, farmers[0])] == -(950_600 - 100_000)
    assert amounts[(K.MEMBER_PAYABLE, farmers[1])] == -950_600
    # The levy and the credit recovered stay in the cooperative's payable until the batch is executed.
    assert balance(K.ORGANISATION_PAYABLE, organisation_id=world.seller.organisation.pk) == batch.levy_amount + 100_000
    assert balance(K.MEMBER_INPUT_CREDIT, farmer_id=farmers[0]) == 0
    assert ledger_unbalanced_transactions() == [] and ledger_balance_mismatches() == [] and not negative_accounts()


def test_approving_twice_is_409_and_posts_once(world):
    released_order(world)
    batch = propose(world)
    services.payout_batch_approve(actor=world.seller.admin, batch_id=batch.pk)
    with pytest.raises(InvalidTransition):
        services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    assert LedgerTransaction.objects.filter(kind="payout_allocation").count() == 1
    batch.refresh_from_db()
    assert batch.approved_by == world.seller.admin


@pytest.mark.parametrize(
    ("who", "error"), [("clerk", PermissionDenied), ("viewer", PermissionDenied), ("stranger", NotFound)]
)
def test_approving_as_a_clerk_or_another_organisation_is_refused_and_writes_nothing(world, who, error):
    released_order(world)
    batch = propose(world)
    actor = {"clerk": world.seller.clerk, "viewer": world.seller.viewer, "stranger": world.stranger.manager}[who]
    with pytest.raises(error):
        services.payout_batch_approve(actor=actor, batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == S.PROPOSED and batch.approved_by is None
    assert not LedgerTransaction.objects.filter(kind="payout_allocation").exists()


def test_another_cooperatives_manager_gets_404(world):
    from tests.orders.factories import make_side

    other = make_side(legal_name="Another Cooperative")
    released_order(world)
    batch = propose(world)
    for move in (services.payout_batch_approve, services.payout_batch_execute):
        with pytest.raises(NotFound):
            move(actor=other.manager, batch_id=batch.pk)
    with pytest.raises(NotFound):
        services.payout_batch_cancel(actor=other.manager, batch_id=batch.pk, reason="x")
    with pytest.raises(NotFound):
        services.payout_batch_approve(actor=other.manager, batch_id=999_999)
    assert PayoutBatch.objects.get().status == S.PROPOSED


def test_execution_pays_each_member_through_the_provider_and_texts_them_once(
    world, sms_outbox, django_capture_on_commit_callbacks
):
    _order, _net = released_order(world)
    batch = propose(world)
    services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.payout_batch_execute(actor=world.seller.admin, batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == S.EXECUTED and batch.executed_by == world.seller.admin and batch.provider == "offline"
    for line in batch.lines.all():
        assert line.paid_at is not None and line.provider_reference == f"OFFLINE-{line.reference}"
        posted = line.payout_transaction
        assert posted.kind == "payout" and posted.idempotency_key == f"payout:{line.pk}"
        entries = {e.account.kind: e.amount for e in posted.entries.select_related("account")}
        assert entries == {K.MEMBER_PAYABLE: line.net_amount, K.PROVIDER_CLEARING: -line.net_amount}
        assert balance(K.MEMBER_PAYABLE, farmer_id=line.farmer_id) == 0
    assert len(sms_outbox) == 3
    assert all(len(message.body) <= 160 for message in sms_outbox)
    assert "950,600" in sms_outbox[0].body
    for line in batch.lines.all():
        payout_sms_send.delay(line.pk)
    assert len(sms_outbox) == 3 and PayoutSms.objects.count() == 3
    assert ledger_unbalanced_transactions() == [] and ledger_balance_mismatches() == [] and not negative_accounts()


def test_execution_leaves_the_levy_for_a_transfer_to_the_cooperative(world, django_capture_on_commit_callbacks):
    order, net = released_order(world)
    other, other_net = released_order(world, TONNE)
    batch = propose(world)
    services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    assert balance(K.ORGANISATION_PAYABLE, organisation_id=world.seller.organisation.pk) == batch.levy_amount
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    # One transfer per order, the levy shared in proportion to each order's proceeds; no payout account yet.
    transfers = {t.order_id: t for t in Transfer.objects.all()}
    assert batch.levy_amount == 87_300 and (net, other_net) == (2_910_000, 1_455_000)
    assert {k: t.amount for k, t in transfers.items()} == {order.pk: 58_200, other.pk: 29_100}
    assert all(t.status == "pending" and t.organisation_id == world.seller.organisation.pk for t in transfers.values())
    assert balance(K.ORGANISATION_PAYABLE, organisation_id=world.seller.organisation.pk) == 87_300


def test_an_order_whose_net_was_already_transferred_is_not_paid_out_again(world):
    order, net = released_order(world)
    Transfer.objects.create(order=order, organisation=world.seller.organisation, provider="offline", amount=net,
                            currency="XOF")  # fmt: skip
    with pytest.raises(ValidationFailed) as error:
        propose(world)
    assert error.value.code == "nothing_to_pay"
    assert payout_propose_for_order(order.pk) is None and payouts_propose_released() == 0
    assert not PayoutBatch.objects.exists()


def test_a_member_without_a_phone_is_recorded_not_texted(world, sms_outbox, django_capture_on_commit_callbacks):
    released_order(world)
    farmer_id = world.listing.lot.contributions.order_by("farmer_id").first().farmer_id
    from marketplace.organisations.models import MemberFarmer

    MemberFarmer.objects.filter(pk=farmer_id).update(phone="")
    batch = propose(world)
    services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    assert len(sms_outbox) == 2
    assert PayoutSms.objects.get(line__farmer_id=farmer_id).outcome == PayoutSms.Outcome.NO_PHONE


def _batch_in(world, status, run_commits):
    released_order(world)
    batch = propose(world)
    if status in (S.APPROVED, S.EXECUTING, S.EXECUTED):
        services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    if status == S.EXECUTING:
        services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)  # the provider not called yet
    if status == S.EXECUTED:
        with run_commits(execute=True):
            services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    if status == S.CANCELLED:
        services.payout_batch_cancel(actor=world.seller.manager, batch_id=batch.pk, reason="test")
    batch.refresh_from_db()
    assert batch.status == status
    return batch


# What a person may ask for, written out here (not read from the code): "executed" starts the execution.
REQUESTABLE = {("proposed", "approved"), ("proposed", "cancelled"), ("approved", "executed")}
# Every status change of a batch, written out here.
BATCH_TABLE = {
    ("proposed", "approved"),
    ("proposed", "cancelled"),
    ("approved", "executing"),
    ("executing", "executed"),
    ("executing", "approved"),
}
STATUSES = ["proposed", "approved", "executing", "executed", "cancelled"]


def test_the_status_list_is_the_one_the_tests_know():
    assert sorted(S.values) == sorted(STATUSES)


@pytest.mark.parametrize("to_status", STATUSES)
@pytest.mark.parametrize("from_status", STATUSES)
def test_the_batch_transition_table(from_status, to_status):
    assert services.PAYOUT_BATCH_TABLE.allows(from_status, to_status) == ((from_status, to_status) in BATCH_TABLE)


@pytest.mark.parametrize("to_status", STATUSES)
@pytest.mark.parametrize("from_status", STATUSES)
def test_what_a_person_may_ask(world, django_capture_on_commit_callbacks, from_status, to_status):
    batch = _batch_in(world, from_status, django_capture_on_commit_callbacks)
    audits = AuditEvent.objects.filter(subject_type="payouts.payoutbatch").count()
    if (from_status, to_status) in REQUESTABLE:
        with django_capture_on_commit_callbacks(execute=True):
            services.payout_batch_transition(
                actor=world.seller.manager, batch_id=batch.pk, to_status=to_status, reason="because"
            )
        batch.refresh_from_db()
        assert batch.status == to_status
        # Execution is two audited moves: approved → executing (the request), executing → executed (paid).
        expected = 2 if to_status == "executed" else 1
        assert AuditEvent.objects.filter(subject_type="payouts.payoutbatch").count() == audits + expected
    else:
        with pytest.raises(InvalidTransition):
            services.payout_batch_transition(
                actor=world.seller.manager, batch_id=batch.pk, to_status=to_status, reason="because"
            )
        batch.refresh_from_db()
        assert batch.status == from_status
        assert AuditEvent.objects.filter(subject_type="payouts.payoutbatch").count() == audits


def test_an_unknown_status_is_400(world, django_capture_on_commit_callbacks):
    batch = _batch_in(world, S.PROPOSED, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationFailed):
        services.payout_batch_transition(actor=world.seller.manager, batch_id=batch.pk, to_status="paid")


def test_credit_recovered_elsewhere_since_the_proposal_stops_the_approval(world):
    released_order(world)
    farmer_id = world.listing.lot.contributions.order_by("farmer_id").first().farmer_id
    credit = give_input_credit(farmer_id, 50_000)
    batch = propose(world)
    assert batch.lines.get(farmer_id=farmer_id).credit_amount == 50_000
    # Meanwhile the member repaid in cash.
    from payments.services.ledger import account_get_or_create, ledger_post

    clearing = account_get_or_create(kind=K.PROVIDER_CLEARING, currency="XOF")
    ledger_post(actor=None, kind="credit_repaid", idempotency_key="cash", lines=[(clearing, 50_000), (credit, -50_000)])
    with pytest.raises(Conflict) as error:
        services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    assert error.value.code == "credit_changed"
    batch.refresh_from_db()
    assert batch.status == S.PROPOSED and not LedgerTransaction.objects.filter(kind="payout_allocation").exists()


def test_two_proposed_batches_do_not_recover_the_same_credit_twice(world):
    released_order(world)
    farmer_id = world.listing.lot.contributions.order_by("farmer_id").first().farmer_id
    give_input_credit(farmer_id, 1_000_000)
    first = propose(world)
    assert first.lines.get(farmer_id=farmer_id).credit_amount == 950_600
    released_order(world)
    second = propose(world)
    assert second.lines.get(farmer_id=farmer_id).credit_amount == 1_000_000 - 950_600


def test_the_levy_is_the_cooperatives_own_when_set(world):
    released_order(world)
    with pytest.raises(PermissionDenied):
        services.payout_policy_set(actor=world.seller.clerk, organisation_id=world.seller.organisation.pk, levy_bp=1)
    for bad in (-1, 10_001, "5", True):
        with pytest.raises(ValidationFailed):
            services.payout_policy_set(
                actor=world.seller.manager, organisation_id=world.seller.organisation.pk, levy_bp=bad
            )
    with pytest.raises(ValidationFailed):
        services.payout_policy_set(actor=world.buyer.manager, organisation_id=world.buyer.organisation.pk, levy_bp=1)
    services.payout_policy_set(actor=world.seller.manager, organisation_id=world.seller.organisation.pk, levy_bp=1000)
    batch = propose(world)
    assert (batch.levy_bp, batch.levy_amount) == (1000, 291_000)


@override_settings(PAYOUT_DEFAULT_LEVY_BP=0)
def test_the_default_levy_comes_from_the_setting(world):
    released_order(world)
    batch = propose(world)
    assert batch.levy_amount == 0 and batch.net_amount == batch.proceeds_amount


def test_a_full_levy_approves_without_a_posting(world):
    released_order(world)
    services.payout_policy_set(actor=world.seller.manager, organisation_id=world.seller.organisation.pk, levy_bp=10_000)
    batch = propose(world)
    batch = services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    assert batch.allocation_transaction is None and batch.net_amount == 0
    batch = services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    assert not LedgerTransaction.objects.filter(kind="payout").exists()


def test_the_release_task_proposes_for_the_system_once(world):
    order = advance(world, paid_order(world), "completed")
    assert payout_propose_for_order.delay(order.pk).result is None  # not released yet
    release(order)
    batch_id = payout_propose_for_order.delay(order.pk).result
    batch = PayoutBatch.objects.get(pk=batch_id)
    assert batch.proposed_by is None and batch.status == S.PROPOSED
    assert payout_propose_for_order.delay(order.pk).result is None
    assert PayoutBatch.objects.count() == 1
    services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)


def test_the_sweep_proposes_one_batch_per_cooperative(world):
    released_order(world)
    released_order(world)
    assert payouts_propose_released.delay().result == 1
    batch = PayoutBatch.objects.get()
    assert batch.orders.count() == 2
    assert payouts_propose_released.delay().result == 0


def test_a_partial_refund_splits_only_what_the_seller_got(world):
    order = advance(world, paid_order(world), "resolved")  # the operator refunds 100,000 to the buyer
    net = release(order)
    assert net == 2_900_000 - 87_000  # the platform's 3 % fee, rounded half-even once
    assert Refund.objects.get(order=order).amount == 100_000
    batch = propose(world)
    assert batch.proceeds_amount == net
    assert sum(PayoutLine.objects.filter(batch=batch).values_list("gross_amount", flat=True)) == net
    assert Entry.objects.filter(transaction__kind="release").count() >= 3


def test_a_release_with_no_member_shares_is_transferred_whole_to_the_cooperative_once(db):
    """Lots always carry member shares today (a deferred trigger checks it); should a sale ever have none, the
    cooperative's net must not sit in its payable unnoticed: it is transferred whole, once."""
    from django.db import connection

    from payments.models import Transfer
    from payments.payouts.services import batches
    from payments.services.escrow import escrow_follow_up
    from tests.orders.factories import make_world
    from tests.payments.conftest import move, paid_order

    world = make_world()
    order = paid_order(world)
    with connection.cursor() as cursor:  # detach the order from its lot, as a sale of no member's produce
        cursor.execute("UPDATE orders_orderline SET lot_id = NULL WHERE order_id = %s", [order.pk])
    move(world, order, "completed")
    assert escrow_follow_up(order_id=order.pk) == "settled"  # the release, as the order-event task makes it
    release = LedgerTransaction.objects.get(idempotency_key=f"release:{order.pk}")
    net = -sum(e.amount for e in release.entries.all() if e.account.kind == "organisation_payable")
    assert batches.payout_batch_propose_for_order(order_id=order.pk) is None
    assert batches.payout_batch_propose_for_order(order_id=order.pk) is None
    transfer = Transfer.objects.get(order=order)
    assert transfer.amount == net > 0
