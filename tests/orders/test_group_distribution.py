"""Distribution: what arrived is allocated to the members' requests, each hand-over is recorded (receipt SMS, EPCIS
event naming the member) and, on credit, posted as the member's input credit, which the next payout recovers."""

import pytest
from django.test import override_settings

from marketplace.core.errors import Conflict, NotFound, PermissionDenied
from marketplace.core.sms import MemorySmsBackend
from marketplace.organisations.models import MemberFarmer
from orders.group_models import GroupOrder, MemberAllocation
from orders.services import group_windows
from orders.services.group_orders import allocation_hand_over, group_order_transition, window_place_orders
from payments.models import Account, LedgerTransaction
from payments.payouts import selectors as payout_selectors
from payments.payouts import services as payout_services
from payments.services.payments import payment_offline_pay, payment_start
from tests.orders.factories import make_world
from tests.orders.group_factories import ask, make_group_world
from tests.payouts.factories import released_order
from traceability.models import Event

pytestmark = pytest.mark.django_db


def delivered_group_order(run, *, rule="first_come", on_credit=True, received_packs=8):
    """A window of the seller cooperative of the orders tests' world, its members asking for NPK (50 kg bags),
    ordered, paid, dispatched and received short; returns (world, group world, group order)."""
    world = make_world()
    members = list(MemberFarmer.objects.filter(pk__in=world.listing.lot.contributions.values("farmer_id")))
    gw = make_group_world(side=world.seller, members=members, allocation_rule=rule, on_credit=on_credit)
    npk = gw.products[0]
    for n, farmer in enumerate(members):
        ask(gw, farmer, npk, 150_000 + 50_000 * n, 25_000)
    group_windows.window_transition(actor=gw.manager, window_id=gw.window.pk, to_status="closed")
    orders = window_place_orders(actor=gw.manager, window_id=gw.window.pk)
    group_order = next(o for o in orders if o.lines.filter(product=npk).exists())
    supplier = next(u for u, s in zip(gw.supplier_users, gw.suppliers, strict=True) if s.pk == group_order.supplier_id)
    group_order_transition(actor=gw.manager, group_order_id=group_order.pk, to_status="submitted")
    group_order = group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="accepted")
    with run():
        payment = payment_start(actor=gw.manager, order_id=group_order.order.pk,
                                amount=group_order.order.total_amount, currency="XOF")  # fmt: skip
        with override_settings(DEBUG=True):  # the demo button: no money moves
            payment_offline_pay(actor=gw.manager, payment_id=payment.pk)
    group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="dispatched",
                           document_number="WB-7")  # fmt: skip
    line = group_order.lines.get(product=npk)
    with run():
        group_order_transition(actor=gw.manager, group_order_id=group_order.pk, to_status="received",
                               lines={str(line.pk): received_packs})  # fmt: skip
    return world, gw, GroupOrder.objects.get(pk=group_order.pk)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_distribution_hand_over_credit_and_recovery_by_the_next_payout(run, settings):
    settings.SMS_BACKEND = "marketplace.core.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    world, gw, group_order = delivered_group_order(run)
    line = group_order.lines.get()
    asked = sorted(r.quantity for r in gw.window.requests.all())
    assert line.packs > 8  # the members asked for more than arrived
    group_order = group_order_transition(actor=gw.clerk, group_order_id=group_order.pk, to_status="distributed")
    allocations = list(MemberAllocation.objects.filter(group_order=group_order).order_by("pk"))
    assert sum(a.quantity for a in allocations) == 8 * 50_000  # exactly what arrived
    assert sum(a.amount for a in allocations) == 8 * line.unit_price_amount  # the cost of what arrived
    assert all(a.quantity <= max(asked) + 25_000 for a in allocations)
    with pytest.raises(Conflict):
        group_order_transition(actor=gw.manager, group_order_id=group_order.pk, to_status="completed")
    first = allocations[0]
    with pytest.raises(PermissionDenied):
        allocation_hand_over(actor=gw.viewer, allocation_id=first.pk)
    with pytest.raises(NotFound):
        allocation_hand_over(actor=world.buyer.manager, allocation_id=first.pk)
    with run():
        for allocation in allocations:
            allocation_hand_over(actor=gw.clerk, allocation_id=allocation.pk)
    with pytest.raises(Conflict):
        allocation_hand_over(actor=gw.clerk, allocation_id=first.pk)
    # receipt SMS, EPCIS event naming the member, input credit on the ledger
    numbers = {MemberAllocation.objects.get(pk=a.pk).receipt_number for a in allocations}
    receipts = [m for m in MemorySmsBackend.outbox if any(number in m.body for number in numbers)]
    on_credit = ("input credit", "crédit d'intrants", "mkopo wa pembejeo")  # in each member's language
    assert len(receipts) == len(allocations) and any(words in receipts[0].body for words in on_credit)
    assert Event.objects.filter(biz_step="dispensing").count() == len(allocations)
    assert Event.objects.filter(biz_step="shipping").exists() and Event.objects.filter(biz_step="receiving").exists()
    credits = {a.farmer_id: a.amount for a in allocations}
    for farmer_id, amount in credits.items():
        account = Account.objects.get(kind=Account.Kind.MEMBER_INPUT_CREDIT, farmer_id=farmer_id)
        assert account.balance == amount
    assert LedgerTransaction.objects.filter(kind="input_credit").count() == len(allocations)
    group_order = group_order_transition(actor=gw.manager, group_order_id=group_order.pk, to_status="completed")
    assert group_order.status == "completed"

    # a later harvest payout recovers the credit first, never leaving a negative net
    _order, _net = released_order(world)
    batch = payout_services.payout_batch_propose(actor=world.seller.manager,
                                                 organisation_id=world.seller.organisation.pk)  # fmt: skip
    assert batch.credit_amount > 0
    for payout_line in batch.lines.all():
        assert payout_line.net_amount >= 0
        assert payout_line.credit_amount <= credits.get(payout_line.farmer_id, 0)
    payout_services.payout_batch_approve(actor=world.seller.manager, batch_id=batch.pk)
    with run():  # the payout task pays the members once the execution commits
        payout_services.payout_batch_execute(actor=world.seller.manager, batch_id=batch.pk)
    farmer_id = first.farmer_id
    statement = payout_selectors.member_statement(viewer=world.seller.manager, farmer_id=farmer_id)
    assert [a.pk for a in statement.inputs] == [first.pk]
    summary = statement.input_credit[0]
    recovered = batch.lines.get(farmer_id=farmer_id).credit_amount
    assert (summary.owed, summary.recovered, summary.left) == (first.amount, recovered, first.amount - recovered)


def test_pro_rata_distribution_and_no_credit_when_paid_in_cash(run):
    _world, gw, group_order = delivered_group_order(run, rule="pro_rata", on_credit=False, received_packs=5)
    group_order_transition(actor=gw.clerk, group_order_id=group_order.pk, to_status="distributed")
    allocations = list(MemberAllocation.objects.filter(group_order=group_order))
    assert sum(a.quantity for a in allocations) == 5 * 50_000
    asked = {r.pk: r.quantity for r in gw.window.requests.all()}
    for a in allocations:
        assert a.quantity <= asked[a.request_id]  # less arrived than was asked: nobody gets tolerance
    with run():
        for allocation in allocations:
            allocation_hand_over(actor=gw.clerk, allocation_id=allocation.pk)
    assert not LedgerTransaction.objects.filter(kind="input_credit").exists()


def test_hand_over_from_the_page_and_the_api_with_isolation(run, as_user, django_assert_max_num_queries):
    from tests.orders.test_group_pages import signed_in

    world, gw, group_order = delivered_group_order(run)
    group_order_transition(actor=gw.manager, group_order_id=group_order.pk, to_status="distributed")
    allocations = list(MemberAllocation.objects.filter(group_order=group_order).order_by("pk"))
    clerk = signed_in(gw.clerk, gw.coop)
    page = clerk.get(f"/orders/group/orders/{group_order.pk}/")
    assert page.status_code == 200 and 'id="allocations"' in page.content.decode()
    with run():
        assert clerk.post(f"/orders/group/allocations/{allocations[0].pk}/hand-over/").status_code == 302
    with django_assert_max_num_queries(10):
        rows = as_user(gw.clerk).get(f"/api/v1/group/orders/{group_order.pk}/allocations/").json()
    assert len(rows) == len(allocations) and rows[0]["handed_over_at"]
    with run():
        answer = as_user(gw.clerk).post(f"/api/v1/group/allocations/{allocations[1].pk}/hand-over/")
    assert answer.status_code == 200
    assert as_user(gw.clerk).post(f"/api/v1/group/allocations/{allocations[1].pk}/hand-over/").status_code == 409
    supplier = next(u for u, s in zip(gw.supplier_users, gw.suppliers, strict=True) if s.pk == group_order.supplier_id)
    for outsider in (world.buyer.manager, supplier):  # the supplier does not see the members
        assert as_user(outsider).get(f"/api/v1/group/orders/{group_order.pk}/allocations/").status_code == 404
        assert as_user(outsider).post(f"/api/v1/group/allocations/{allocations[2].pk}/hand-over/").status_code == 404
        assert signed_in(outsider).post(f"/orders/group/allocations/{allocations[2].pk}/hand-over/").status_code == 404
    assert MemberAllocation.objects.get(pk=allocations[2].pk).handed_over_at is None


def test_receipts_and_window_notices_go_once_per_member_however_often_their_task_runs(run, settings):
    """Tasks are delivered at least once: a rerun of the receipt or of a window notice records no second SMS (the
    gateway backend keys each message by our ids), and the receipt is in the member's language."""
    from marketplace.channels.models import Message
    from orders.group_tasks import group_handover_receipt, group_window_notify

    settings.SMS_BACKEND = "marketplace.channels.backends.GatewaySmsBackend"
    _world, gw, group_order = delivered_group_order(run)
    group_order = group_order_transition(actor=gw.clerk, group_order_id=group_order.pk, to_status="distributed")
    allocation = MemberAllocation.objects.filter(group_order=group_order).select_related("farmer").first()
    allocation.farmer.language = "fr"
    allocation.farmer.save(update_fields=["language"])
    with run():
        allocation_hand_over(actor=gw.clerk, allocation_id=allocation.pk)
    assert group_handover_receipt(allocation.pk) == "sent"  # the outbox delivered the task a second time
    receipts = Message.objects.filter(idempotency_key=f"handover-receipt:{allocation.pk}")
    assert receipts.count() == 1
    assert "a retiré" in receipts.get().body and "collected" not in receipts.get().body

    first = group_window_notify(gw.window.pk, "closing")
    assert first > 0 and group_window_notify(gw.window.pk, "closing") == first
    notices = Message.objects.filter(idempotency_key__startswith=f"group-window:{gw.window.pk}:closing:")
    assert notices.count() == first
    assert notices.values("phone").distinct().count() == first
