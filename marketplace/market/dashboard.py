"""The dashboard's figures for the viewer's current organisation (house rule 2: scoped by the viewer, checked once
by organisation_for, then every figure filtered by that organisation; ledger balances read from the payments models,
never written).

A cooperative's manager sees stock, open orders, money held and owed, deliveries per week, payouts to approve and
what needs doing now; a buyer its orders and the money it has in escrow; an input supplier the orders to answer.
A bounded number of queries whatever the organisation's size: the viewer is checked once (organisation_for), then
one query per panel at most (open orders of both sides in one, the four money figures in one UNION ALL, payouts to
approve with their count in one), each on an index that matches its filter; see docs/benchmarks.md.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, Sum, Value, Window
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext_lazy

from catalogue.models import Delivery, Lot
from marketplace.core.money import Money
from marketplace.organisations.models import Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import organisation_for
from orders.models import Order
from payments.models import Account
from payments.payouts.models import PayoutBatch

S = Order.Status
OPEN_STATUSES = [S.PLACED, S.ACCEPTED, S.PAID, S.DISPATCHED, S.DELIVERED, S.DISPUTED]
STOCK_STATUSES = [Lot.Status.OPEN, Lot.Status.LISTED, Lot.Status.RESERVED, Lot.Status.SOLD]
DELIVERY_WEEKS = 12

TO_ACCEPT = ngettext_lazy("%(count)s order to accept or reject", "%(count)s orders to accept or reject", "count")
TO_DISPATCH = ngettext_lazy("%(count)s paid order to dispatch", "%(count)s paid orders to dispatch", "count")
TO_APPROVE = ngettext_lazy("%(count)s payout batch to approve", "%(count)s payout batches to approve", "count")
TO_LIST = ngettext_lazy("%(count)s open lot not listed for sale", "%(count)s open lots not listed for sale", "count")
TO_PAY = ngettext_lazy("%(count)s accepted order to pay", "%(count)s accepted orders to pay", "count")
TO_RECEIVE = ngettext_lazy("%(count)s dispatched order to receive", "%(count)s dispatched orders to receive", "count")
TO_COMPLETE = ngettext_lazy(
    "%(count)s delivered order to complete or dispute", "%(count)s delivered orders to complete or dispute", "count"
)


@dataclass
class Action:
    count: int
    text: str
    url: str


@dataclass
class Dashboard:
    organisation: Organisation
    stock: list[dict] = field(default_factory=list)
    selling: dict[str, int] = field(default_factory=dict)
    buying: dict[str, int] = field(default_factory=dict)
    held: list[Money] = field(default_factory=list)
    owed_to_us: list[Money] = field(default_factory=list)
    owed_to_members: list[Money] = field(default_factory=list)
    bought_held: list[Money] = field(default_factory=list)
    deliveries: list[tuple] = field(default_factory=list)
    payouts_to_approve: list[PayoutBatch] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @property
    def selling_rows(self) -> list[tuple[str, int]]:
        return [(S(status).label, count) for status, count in self.selling.items()]

    @property
    def buying_rows(self) -> list[tuple[str, int]]:
        return [(S(status).label, count) for status, count in self.buying.items()]


def _order_counts(organisation_id: int, *, selling: bool, buying: bool) -> tuple[dict[str, int], dict[str, int]]:
    """Open orders by status on each side, in one query grouped by (seller, status) over the organisation's open
    orders, found through the (seller|buyer, status, -created_at) indexes. (A plain GROUP BY: a dozen FILTERed
    counts cost more to compile than to run.)"""
    either = Q(pk__in=[])
    if selling:
        either |= Q(seller_id=organisation_id)
    if buying:
        either |= Q(buyer_id=organisation_id)
    if not (selling or buying):
        return {}, {}
    rows = (
        Order.objects.filter(either, status__in=OPEN_STATUSES)
        .order_by()
        .values_list("seller_id", "status")
        .annotate(n=Count("id"))
    )
    found: tuple[dict[str, int], dict[str, int]] = ({}, {})
    for seller_id, status, n in rows:
        found[0 if selling and seller_id == organisation_id else 1][status] = n
    return tuple({status: side[status] for status in OPEN_STATUSES if side.get(status)} for side in found)


def _balances(organisation_id: int, panels: list[str]) -> dict[str, list[Money]]:
    """The money panels (`held`, `bought_held`, `owed_to_us`, `owed_to_members`) per currency, in one query: a
    UNION ALL of one small grouped sum per panel, each on its own index (escrow through the organisation's open
    orders, payables through the organisation's or its members' accounts)."""
    A = Account.Kind
    filters = {
        "held": Q(kind=A.ORDER_ESCROW, order__seller_id=organisation_id, order__status__in=OPEN_STATUSES),
        "bought_held": Q(kind=A.ORDER_ESCROW, order__buyer_id=organisation_id, order__status__in=OPEN_STATUSES),
        "owed_to_us": Q(kind=A.ORGANISATION_PAYABLE, organisation_id=organisation_id),
        "owed_to_members": Q(kind=A.MEMBER_PAYABLE, farmer__organisation_id=organisation_id),
    }
    parts = [
        Account.objects.filter(filters[panel])
        .annotate(panel=Value(panel))
        .order_by()
        .values_list("panel", "currency")
        .annotate(total=Sum("balance"))
        for panel in panels
    ]
    found: dict[str, list[Money]] = {panel: [] for panel in panels}
    if not parts:
        return found
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    for panel, currency, total in sorted(rows, key=lambda row: (row[0], row[1])):
        if total:
            found[panel].append(Money(total, currency))
    return found


def _stock(viewer: User, organisation_id: int) -> list[dict]:
    # The caller has checked the viewer through organisation_for: the plain model with the (organisation, status)
    # index, without lot_list's second membership check and member-count subquery.
    rows = (
        Lot.objects.filter(organisation_id=organisation_id, status__in=STOCK_STATUSES)
        .order_by()
        .values("commodity__name", "grade__name", "grade__rank", "status")
        .annotate(lots=Count("id"), grams=Sum("quantity_grams"))
    )
    table: dict[tuple, dict] = {}
    for row in rows:
        key = (row["commodity__name"], row["grade__rank"], row["grade__name"])
        entry = table.setdefault(key, {"commodity": key[0], "grade": key[2],
                                       **{s: {"lots": 0, "tonnes": 0.0} for s in STOCK_STATUSES}})  # fmt: skip
        entry[row["status"]] = {"lots": row["lots"], "tonnes": row["grams"] / 1_000_000}
    return [table[key] for key in sorted(table)]


def _deliveries(viewer: User, organisation_id: int) -> list[tuple]:
    today = timezone.localdate()
    first = today - timedelta(days=today.weekday() + 7 * (DELIVERY_WEEKS - 1))
    rows = dict(
        # After the caller's organisation_for check: the (organisation, -delivered_on) index over the last 12 weeks,
        # without delivery_list's second membership check and its joins; reversed deliveries left out as there.
        Delivery.objects.filter(organisation_id=organisation_id, kind=Delivery.Kind.DELIVERY, delivered_on__gte=first)
        .exclude(Exists(Delivery.objects.filter(reverses=OuterRef("pk"))))
        .order_by()
        .annotate(week=TruncWeek("delivered_on"))
        .values_list("week")
        .annotate(grams=Sum("net_grams"))
    )
    weeks = [first + timedelta(days=7 * i) for i in range(DELIVERY_WEEKS)]
    return [(week, (rows.get(week) or 0) / 1_000_000) for week in weeks]


def _action(actions: list[Action], count: int, message, url: str) -> None:
    """`message` is an ngettext_lazy(singular, plural, "count")."""
    if count:
        actions.append(Action(count, str(message % {"count": count}), url))


def dashboard_get(*, viewer: User, organisation_id: int) -> Dashboard:
    organisation = organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    board = Dashboard(organisation)
    kind = organisation.kind
    if kind == Organisation.Kind.OPERATOR:
        return board
    # organisation_for has checked that the viewer may see this organisation; every figure below is filtered by it.
    org_id = organisation.pk
    cooperative = kind == Organisation.Kind.COOPERATIVE
    sells = kind in (Organisation.Kind.COOPERATIVE, Organisation.Kind.INPUT_SUPPLIER)
    buys = kind in (Organisation.Kind.COOPERATIVE, Organisation.Kind.BUYER)
    inbox, orders = reverse("orders:inbox"), reverse("orders:list") + "?side=buying"
    board.selling, board.buying = _order_counts(org_id, selling=sells, buying=buys)
    panels = (["held", "owed_to_us"] if sells else []) + (["owed_to_members"] if cooperative else [])
    money = _balances(org_id, panels + (["bought_held"] if buys else []))
    for panel, amounts in money.items():
        setattr(board, panel, amounts)
    if sells:
        _action(board.actions, board.selling.get(S.PLACED, 0), TO_ACCEPT, inbox + "?status=placed")
        _action(board.actions, board.selling.get(S.PAID, 0), TO_DISPATCH, inbox + "?status=paid")
    if cooperative:
        board.stock = _stock(viewer, org_id)
        board.deliveries = _deliveries(viewer, org_id)
        proposed = PayoutBatch.objects.filter(organisation_id=org_id, status=PayoutBatch.Status.PROPOSED).order_by(
            "-proposed_at", "-id"
        )
        # The ten newest and, in the same query, how many there are in all.
        board.payouts_to_approve = list(proposed.annotate(waiting=Window(Count("id")))[:10])
        waiting = board.payouts_to_approve[0].waiting if board.payouts_to_approve else 0
        _action(board.actions, waiting, TO_APPROVE, reverse("payouts:list"))
        open_lots = sum(row[Lot.Status.OPEN]["lots"] for row in board.stock)
        _action(board.actions, open_lots, TO_LIST, reverse("catalogue-lots") + "?status=open")
    if buys:
        _action(board.actions, board.buying.get(S.ACCEPTED, 0), TO_PAY, orders + "&status=accepted")
        _action(board.actions, board.buying.get(S.DISPATCHED, 0), TO_RECEIVE, orders + "&status=dispatched")
        _action(board.actions, board.buying.get(S.DELIVERED, 0), TO_COMPLETE, orders + "&status=delivered")
    return board
