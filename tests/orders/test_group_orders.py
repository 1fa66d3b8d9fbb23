"""Group orders per supplier: from the plan, negotiation (counter-offers, expiry), payment into escrow through the
offline provider, dispatch, short receipt and the release to the supplier; the supplier minimum rule at closing."""

import datetime
import itertools

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from marketplace.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.sms import MemorySmsBackend
from orders.group_models import GroupOrder, OrderingWindow
from orders.models import Order
from orders.services import group_windows
from orders.services.group_orders import GROUP_ORDER_TABLE, group_order_transition, window_place_orders
from payments.models import Account, LedgerTransaction
from payments.services.payments import payment_offline_pay, payment_start
from tests.factories import MembershipFactory, OrganisationFactory
from tests.orders.group_factories import ask, make_group_world

pytestmark = pytest.mark.django_db

STATUSES = ["draft", "submitted", "countered", "accepted", "declined", "paid", "dispatched", "received",
            "distributed", "completed", "cancelled", "expired"]  # fmt: skip
ALLOWED = {
    ("draft", "submitted"), ("draft", "cancelled"),
    ("submitted", "accepted"), ("submitted", "countered"), ("submitted", "declined"), ("submitted", "expired"),
    ("submitted", "cancelled"),
    ("countered", "accepted"), ("countered", "submitted"), ("countered", "expired"), ("countered", "cancelled"),
    ("accepted", "paid"), ("accepted", "cancelled"),
    ("paid", "dispatched"), ("dispatched", "received"), ("received", "distributed"), ("distributed", "completed"),
}  # fmt: skip


@pytest.mark.parametrize(("source", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_group_order_transition_table(source, target):
    assert GROUP_ORDER_TABLE.allows(source, target) == ((source, target) in ALLOWED)


def closed_world(**kwargs):
    world = make_group_world(**kwargs)
    npk, urea = world.products
    for farmer in world.farmers:
        ask(world, farmer, npk, 100_000, 10_000)  # 10 bags of 50 kg in all
        ask(world, farmer, urea, 30_000)  # 6 bags of 25 kg
    group_windows.window_transition(actor=world.manager, window_id=world.window.pk, to_status="closed")
    return world


def test_the_plan_becomes_one_draft_order_per_supplier():
    world = closed_world()
    orders = window_place_orders(actor=world.manager, window_id=world.window.pk)
    assert OrderingWindow.objects.get(pk=world.window.pk).status == "ordered"
    by_supplier = {o.supplier_id: o for o in orders}
    assert set(by_supplier) == {world.suppliers[0].pk, world.suppliers[1].pk}
    assert by_supplier[world.suppliers[0].pk].total_amount == 10 * 18_000
    assert by_supplier[world.suppliers[1].pk].total_amount == 6 * 14_000
    with pytest.raises(Conflict):
        window_place_orders(actor=world.manager, window_id=world.window.pk)


@pytest.mark.parametrize("action", ["extend", "cancel"])
def test_a_minimum_not_met_at_closing_extends_or_cancels_posts_nothing_and_tells_every_member(
    action, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "marketplace.core.sms.MemorySmsBackend"
    MemorySmsBackend.outbox.clear()
    world = make_group_world(moq_action=action)
    for offer in world.offers.values():  # every offer now needs at least 50 packs
        offer.tiers.all().delete()
        offer.tiers.create(min_packs=50, unit_price_amount=10_000)
    for farmer in world.farmers[:3]:
        ask(world, farmer, world.products[0], 100_000, 10_000)
    closes = world.window.closes_at
    OrderingWindow.objects.filter(pk=world.window.pk).update(closes_at=timezone.now() - datetime.timedelta(minutes=1))
    ledger_before = LedgerTransaction.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert group_windows.windows_close_due() == 1
    window = OrderingWindow.objects.get(pk=world.window.pk)
    assert window.status == ("open" if action == "extend" else "cancelled")
    if action == "extend":
        assert window.closes_at > timezone.now() + datetime.timedelta(days=6)
        assert window.closes_at != closes
    assert GroupOrder.objects.count() == 0 and Order.objects.count() == 0
    assert LedgerTransaction.objects.count() == ledger_before
    texts = {m.to: m.body for m in MemorySmsBackend.outbox}
    assert set(texts) == {str(f.phone) for f in world.farmers[:3]}
    # The demo cooperative speaks French and its members have no language of their own: the cooperative's applies.
    assert all("le minimum du fournisseur n'est pas atteint" in body for body in texts.values())


def pay(actor, order):
    payment = payment_start(actor=actor, order_id=order.pk, amount=order.total_amount, currency=order.currency)
    with override_settings(DEBUG=True):  # the demo button: no money moves
        return payment_offline_pay(actor=actor, payment_id=payment.pk)


def test_the_loop_counter_accept_pay_dispatch_receive_short_and_release(django_capture_on_commit_callbacks):
    world = closed_world()
    orders = {o.supplier_id: o for o in window_place_orders(actor=world.manager, window_id=world.window.pk)}
    group_order = orders[world.suppliers[0].pk]  # 10 bags of NPK at 18,000
    supplier = world.supplier_users[0]
    line = group_order.lines.get()
    with pytest.raises(PermissionDenied):
        group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="submitted")
    group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted")
    with pytest.raises(PermissionDenied):
        group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="accepted")
    # the supplier counters twice, the cooperative answers once, then accepts the last counter
    group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="countered",
                           lines={str(line.pk): {"unit_price": 18_500}})  # fmt: skip
    with pytest.raises(ValidationFailed):
        group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted",
                               lines={str(line.pk): {"unit_price": 10}})  # fmt: skip
    group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted",
                           lines={str(line.pk): {"packs": 9}})  # fmt: skip
    group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="countered",
                           lines={str(line.pk): {"packs": 10, "unit_price": 18_200}})  # fmt: skip
    group_order = group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="accepted")
    assert group_order.rounds == 2 and group_order.total_amount == 10 * 18_200
    order = group_order.order
    assert (order.kind, order.status, order.total_amount) == ("group_inputs", "accepted", 182_000)
    assert (order.buyer_id, order.seller_id) == (world.coop.pk, world.suppliers[0].pk)
    assert group_order.negotiation.count() == 4

    with django_capture_on_commit_callbacks(execute=True):
        pay(world.manager, order)
    group_order.refresh_from_db()
    assert group_order.status == "paid"
    with pytest.raises(PermissionDenied):
        group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="dispatched",
                               document_number="WB-1")  # fmt: skip
    group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="dispatched",
                           document_number="WB-1")  # fmt: skip
    with pytest.raises(ValidationFailed):
        group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="received",
                               lines={str(line.pk): 11})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="received",
                               lines={str(line.pk): 8})  # fmt: skip
    group_order.refresh_from_db()
    order.refresh_from_db()
    assert group_order.status == "received" and group_order.lines.get().packs_received == 8
    assert (order.status, order.amount_due) == ("completed", 8 * 18_200)
    release = LedgerTransaction.objects.get(idempotency_key=f"release:{order.pk}")
    assert release is not None
    escrow = Account.objects.get(kind=Account.Kind.ORDER_ESCROW, order_id=order.pk)
    assert escrow.balance == 0  # released to the supplier (8 bags), the 2 short refunded to the cooperative
    payable = Account.objects.get(kind=Account.Kind.ORGANISATION_PAYABLE, organisation_id=world.suppliers[0].pk)
    from payments.services.escrow import platform_fee

    # the supplier is owed what arrived (8 bags) less the platform fee, as for any order
    assert payable.balance == 8 * 18_200 - platform_fee(8 * 18_200, "XOF")


def test_three_counter_offers_at_most_and_expiry():
    world = closed_world()
    group_order = window_place_orders(actor=world.manager, window_id=world.window.pk)[0]
    supplier = next(u for u, s in zip(world.supplier_users, world.suppliers, strict=True)
                    if s.pk == group_order.supplier_id)  # fmt: skip
    line = group_order.lines.first()
    group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted")
    for n in range(3):
        group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="countered",
                               lines={str(line.pk): {"unit_price": 20_000 + n}})  # fmt: skip
        group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted",
                               lines={str(line.pk): {"packs": line.packs + n + 1}})  # fmt: skip
    with pytest.raises(Conflict) as error:
        group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="countered",
                               lines={str(line.pk): {"unit_price": 1}})  # fmt: skip
    assert error.value.code == "rounds"
    with pytest.raises(Conflict):
        group_order_transition(actor=None, group_order_id=group_order.pk, to_status="expired")
    GroupOrder.objects.filter(pk=group_order.pk).update(respond_by=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(Conflict):
        group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="accepted")
    from orders.services.group_orders import group_orders_expire_due

    assert group_orders_expire_due() == 1
    assert GroupOrder.objects.get(pk=group_order.pk).status == "expired"


def test_declining_needs_a_reason_and_moves_out_of_order_are_409():
    world = closed_world()
    group_order = window_place_orders(actor=world.manager, window_id=world.window.pk)[0]
    supplier = next(u for u, s in zip(world.supplier_users, world.suppliers, strict=True)
                    if s.pk == group_order.supplier_id)  # fmt: skip
    with pytest.raises(InvalidTransition):
        group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="accepted")
    group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted")
    with pytest.raises(ValidationFailed):
        group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="declined")
    group_order_transition(actor=supplier, group_order_id=group_order.pk, to_status="declined", reason="no stock")
    assert GroupOrder.objects.get(pk=group_order.pk).status == "declined"


def test_who_may_move_a_group_order_is_said_in_whole_sentences_in_each_language():
    """The refusal names the side, its roles and the statuses in the reader's language: no English role with an
    English plural "s" inside a French or Swahili sentence."""
    world = closed_world()
    group_order = window_place_orders(actor=world.manager, window_id=world.window.pk)[0]
    supplier = next(u for u, s in zip(world.supplier_users, world.suppliers, strict=True)
                    if s.pk == group_order.supplier_id)  # fmt: skip
    ref = group_order.reference
    coop_managers = {
        "en": f'Only the cooperative\'s managers and admins may move group order {ref} from "Draft" to "Submitted".',
        "fr": f"Seuls les gérants et administrateurs de la coopérative peuvent faire passer la commande groupée {ref} "
        "de « Brouillon » à « Envoyée ».",
        "sw": f"Ni mameneja na wasimamizi wa chama pekee wanaoweza kuhamisha agizo la pamoja {ref} kutoka "
        '"Rasimu" kwenda "Imewasilishwa".',
    }
    _refused_in_each_language(supplier, group_order, "submitted", coop_managers)
    group_order_transition(actor=world.manager, group_order_id=group_order.pk, to_status="submitted")
    supplier_managers = {
        "en": f'Only the supplier\'s managers and admins may move group order {ref} from "Submitted" to "Accepted".',
        "fr": f"Seuls les gérants et administrateurs du fournisseur peuvent faire passer la commande groupée {ref} "
        "de « Envoyée » à « Acceptée ».",
        "sw": f"Ni mameneja na wasimamizi wa msambazaji pekee wanaoweza kuhamisha agizo la pamoja {ref} kutoka "
        '"Imewasilishwa" kwenda "Imekubaliwa".',
    }
    _refused_in_each_language(world.manager, group_order, "accepted", supplier_managers)


def _refused_in_each_language(actor, group_order, to_status: str, texts: dict[str, str]) -> None:
    for language, text in texts.items():
        with translation.override(language), pytest.raises(PermissionDenied) as refused:
            group_order_transition(actor=actor, group_order_id=group_order.pk, to_status=to_status)
        assert refused.value.message == text


def test_strangers_and_other_suppliers_cannot_see_or_move_a_group_order():
    world = closed_world()
    orders = {o.supplier_id: o for o in window_place_orders(actor=world.manager, window_id=world.window.pk)}
    group_order = orders[world.suppliers[0].pk]
    stranger = MembershipFactory(organisation=OrganisationFactory()).user
    for outsider in (stranger, world.supplier_users[1]):
        with pytest.raises(NotFound):
            group_order_transition(actor=outsider, group_order_id=group_order.pk, to_status="submitted")
    with pytest.raises(NotFound):
        window_place_orders(actor=stranger, window_id=world.window.pk)
