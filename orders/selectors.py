"""Reads for orders; every selector takes the viewer (house rule 2). A viewer sees an order when one of their
organisations is its buyer or seller, or when they work for the platform operator; anyone else gets NotFound.
Lists run a constant number of queries whatever their length."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext

from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.money import Money
from marketplace.organisations.models import User
from marketplace.organisations.roles import Capability, role_can
from marketplace.organisations.selectors import is_operator
from orders.models import DisputeEvidence, Order, OrderEvent, OrderLine, Purchase
from orders.services._common import actor_sides
from orders.services.transitions import moves_for

SIDES = ("buying", "selling")


def _organisation_ids(viewer: User) -> list[int]:
    if not viewer.is_authenticated:
        return []
    return [m.organisation_id for m in viewer.memberships.all() if role_can(m.role, Capability.VIEW)]


def _visible(viewer: User) -> QuerySet[Order]:
    if not viewer.is_authenticated:
        return Order.objects.none()
    if is_operator(viewer):
        return Order.objects.all()
    ids = _organisation_ids(viewer)
    return Order.objects.filter(Q(buyer_id__in=ids) | Q(seller_id__in=ids))


def order_list(
    *, viewer: User, side: str = "", status: str | list[str] = "", organisation_id: int | None = None, search: str = ""
) -> QuerySet[Order]:
    """Orders the viewer may see, newest first. `side` "buying" or "selling" keeps the orders where one of the
    viewer's organisations (or `organisation_id`) buys or sells; `status` is one status or several."""
    queryset = _visible(viewer)
    if side or organisation_id is not None:
        ids = _organisation_ids(viewer)
        if organisation_id is not None:
            ids = [i for i in ids if i == organisation_id]
        if side == "buying":
            queryset = queryset.filter(buyer_id__in=ids)
        elif side == "selling":
            queryset = queryset.filter(seller_id__in=ids)
        elif side:
            raise ValidationFailed(
                gettext("Side is 'buying' or 'selling', not %(side)s.") % {"side": repr(side)},
                fields={"side": "buying or selling"},
            )
        else:
            queryset = queryset.filter(Q(buyer_id__in=ids) | Q(seller_id__in=ids))
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        unknown = [s for s in statuses if s not in Order.Status.values]
        if unknown:
            raise ValidationFailed(
                gettext("Unknown status %(unknown)s; choose among %(choices)s.")
                % {"unknown": repr(unknown[0]), "choices": ", ".join(Order.Status.values)},
                fields={"status": gettext("Unknown status.")},
            )
        queryset = queryset.filter(status__in=statuses)
    if search:
        queryset = queryset.filter(
            Q(number__icontains=search)
            | Q(purchase__reference__icontains=search)
            | Q(seller__legal_name__icontains=search)
            | Q(buyer__legal_name__icontains=search)
        )
    return (
        queryset.select_related("buyer", "seller", "purchase")
        .annotate(line_count=Count("lines"))
        .order_by("-created_at", "-id")
    )


def _detail_queryset() -> QuerySet[Order]:
    return Order.objects.select_related(
        "buyer", "seller", "purchase", "placed_by", "dispatch", "receipt", "dispute", "invoice",
        "dispatch__recorded_by", "receipt__recorded_by", "dispute__opened_by", "dispute__decided_by",
    ).prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.select_related(
                "grade", "grade_received", "listing", "offer__product", "lot"
            ).prefetch_related("grade_prices__grade"),
        ),
        Prefetch("events", queryset=OrderEvent.objects.select_related("actor").order_by("occurred_at", "id")),
    )  # fmt: skip


def order_get(*, viewer: User, number: str) -> Order:
    """One order with its lines, events, dispatch, receipt, dispute and invoice."""
    order = _detail_queryset().filter(pk__in=_visible(viewer).filter(number=number).values("pk")).first()
    if order is None:
        raise NotFound(gettext("No such order."))
    return order


def order_get_by_id(*, viewer: User, order_id: int) -> Order:
    order = _visible(viewer).filter(pk=order_id).values_list("number", flat=True).first()
    if order is None:
        raise NotFound(gettext("No such order."))
    return order_get(viewer=viewer, number=order)


def order_moves(*, viewer: User, order: Order) -> list[str]:
    """The statuses the viewer may move the order to now."""
    return moves_for(order, actor_sides(viewer, buyer_id=order.buyer_id, seller_id=order.seller_id))


def order_sides(*, viewer: User, order: Order) -> list[str]:
    """buyer, seller and/or operator: how the viewer stands towards the order."""
    return sorted(actor_sides(viewer, buyer_id=order.buyer_id, seller_id=order.seller_id))


def dispute_evidence_get(*, viewer: User, number: str, evidence_id: int) -> DisputeEvidence:
    order = order_get(viewer=viewer, number=number)
    evidence = DisputeEvidence.objects.filter(pk=evidence_id, dispute__order=order).first()
    if evidence is None:
        raise NotFound(gettext("No such file."))
    return evidence


def purchase_get(*, viewer: User, reference: str) -> Purchase:
    """A purchase and the orders of it the viewer may see (the buyer sees them all)."""
    purchase = (
        Purchase.objects.select_related("buyer")
        .prefetch_related(
            Prefetch(
                "orders",
                queryset=_visible(viewer)
                .select_related("buyer", "seller", "purchase")
                .annotate(line_count=Count("lines"))
                .order_by("id"),
            )
        )
        .filter(reference=reference)
        .first()
    )
    if purchase is None or not purchase.orders.all():
        raise NotFound(gettext("No such purchase."))
    return purchase


def dispute_list(*, viewer: User, open_only: bool = True) -> QuerySet[Order]:
    """The operator's dispute desk: disputed orders (and, with open_only False, resolved ones)."""
    if not is_operator(viewer):
        return Order.objects.none()
    statuses = [Order.Status.DISPUTED] if open_only else [Order.Status.DISPUTED, Order.Status.RESOLVED]
    return (
        Order.objects.filter(status__in=statuses)
        .select_related("buyer", "seller", "purchase", "dispute", "dispute__opened_by")
        .prefetch_related("dispute__evidence")
        .annotate(evidence_count=Count("dispute__evidence"))
        .order_by("dispute__opened_at", "id")
    )


@dataclass(frozen=True)
class Settlement:
    """What the escrow owes whom for one order (for the payments app).

    paid: the order total the buyer paid into escrow (0 before payment).
    amount_due: what the receipt computed (None before it).
    to_seller / to_buyer: the split once it is final (they always sum to `paid`); `final` is True when the
    order is completed or its dispute resolved (or it was cancelled after payment: everything back to the buyer).
    """

    order_id: int
    number: str
    status: str
    currency: str
    paid: Money
    amount_due: Money | None
    decision: str
    refund: Money
    to_seller: Money
    to_buyer: Money
    final: bool


def order_settlement(*, order_id: int, viewer: User | None = None) -> Settlement:
    """The settlement of an order; `viewer` None is the system (the payments app)."""
    queryset = Order.objects.select_related("dispute") if viewer is None else _visible(viewer).select_related("dispute")
    order = queryset.filter(pk=order_id).first()
    if order is None:
        raise NotFound(gettext("No such order."))
    currency = order.currency
    paid = order.total_amount if order.payment_reference else 0
    due = order.amount_due
    dispute = getattr(order, "dispute", None)
    decision = dispute.decision if dispute is not None else ""
    refund = dispute.refund_amount or 0 if dispute is not None else 0
    if order.status == Order.Status.CANCELLED:
        to_seller, final = 0, True
    elif order.status in (Order.Status.COMPLETED, Order.Status.RESOLVED) and due is not None:
        to_seller, final = due - refund, True
    else:
        to_seller, final = (due - refund if due is not None else 0), False
    return Settlement(
        order_id=order.pk,
        number=order.number,
        status=order.status,
        currency=currency,
        paid=Money(paid, currency),
        amount_due=None if due is None else Money(due, currency),
        decision=decision,
        refund=Money(refund, currency),
        to_seller=Money(to_seller, currency),
        to_buyer=Money(paid - to_seller, currency),
        final=final,
    )


def order_document(*, viewer: User, number: str, kind: str) -> tuple[str, bytes]:
    """(file name, PDF) of one of the order's documents: purchase-order, delivery-note or invoice."""
    from orders import documents

    if kind not in documents.KINDS:
        raise NotFound(gettext("No such document."))
    order = order_get(viewer=viewer, number=number)
    if not documents.available(order, kind):
        if kind == "invoice":
            raise NotFound(gettext("The invoice exists once the order is dispatched and invoiced."))
        raise NotFound(gettext("The delivery note exists once the order is dispatched."))
    return documents.filename(order, kind), documents.render(order, kind)
