"""The dashboard's figures for the viewer's current organisation (house rule 2: scoped by the viewer, checked once
by organisation_for, then every figure filtered by that organisation; ledger balances read from the payments models,
never written).

A cooperative's manager sees stock, open orders, money held and owed, deliveries per week, payouts to approve and
what needs doing now; a buyer its orders and the money it has in escrow; an input supplier the orders to answer.
A bounded number of queries whatever the organisation's size: the viewer is checked once (organisation_for, or the
request's own membership for the cached figures), then one query per panel at most (open orders of both sides in
one, the four money figures in one UNION ALL, payouts to approve with their count in one), each on an index that
matches its filter; see docs/benchmarks.md.

`dashboard_cached` keeps the figures in Django's cache per organisation, under the organisation's data version
(`marketplace.core.versions`: replaced after the commit of any audited change of the organisation or of a ledger
posting that moves its money), so the next request after a change shows it and the others read the cache.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, Sum, Value, Window
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, ngettext_lazy

from catalogue.models import Delivery, Lot
from marketplace.core.errors import NotFound
from marketplace.core.money import Money
from marketplace.core.versions import organisation_version
from marketplace.market.charts import bar_chart
from marketplace.organisations import selectors as organisations
from marketplace.organisations.models import Membership, Organisation, User
from marketplace.organisations.roles import Capability, role_can
from marketplace.organisations.selectors import organisation_for
from orders.models import Order
from payments.models import Account
from payments.payouts.models import PayoutBatch

S = Order.Status
OPEN_STATUSES = [S.PLACED, S.ACCEPTED, S.PAID, S.DISPATCHED, S.DELIVERED, S.DISPUTED]
STOCK_STATUSES = [Lot.Status.OPEN, Lot.Status.LISTED, Lot.Status.RESERVED, Lot.Status.SOLD]
DELIVERY_WEEKS = 12
# A cached dashboard is replaced by the next change of the organisation (its version); this bound only limits how
# long a change made outside the services (a data repair in the database) can go unseen.
CACHE_SECONDS = 5 * 60
CACHE_FORMAT = 1  # raise when the cached Dashboard changes shape

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
class BatchToApprove:
    pk: int
    proposed_at: datetime


@dataclass
class Dashboard:
    """Plain values only (it is pickled into the cache); `organisation` is set per request, never cached."""

    organisation: Organisation | None
    stock: list[dict] = field(default_factory=list)
    selling: dict[str, int] = field(default_factory=dict)
    buying: dict[str, int] = field(default_factory=dict)
    held: list[Money] = field(default_factory=list)
    owed_to_us: list[Money] = field(default_factory=list)
    owed_to_members: list[Money] = field(default_factory=list)
    bought_held: list[Money] = field(default_factory=list)
    deliveries: list[tuple] = field(default_factory=list)
    payouts_to_approve: list[BatchToApprove] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    members: dict[str, int] | None = None  # a cooperative's active members, women and youth
    plots: dict[str, int | Decimal | None] | None = None  # its members' plots: count and hectares
    deliveries_chart: str = ""  # SVG, in the language it was built in

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
    """The figures read now, from the database."""
    organisation = organisation_for(viewer=viewer, organisation_id=organisation_id, capability=Capability.VIEW)
    return _build(viewer, organisation)


def dashboard_cached(*, viewer: User, membership: Membership) -> tuple[Dashboard, bool]:
    """The figures from the cache when no change of the organisation has committed since they were read (True),
    else read now and cached (False). `membership` is the viewer's membership of the organisation as this request
    loaded it (the middleware's current_membership): it is checked here, before the cache is read, without a
    second query; the key names its organisation, so one organisation's figures are never another's."""
    if membership.user_id != viewer.pk or not role_can(membership.role, Capability.VIEW):
        raise NotFound("No such organisation.")
    organisation = membership.organisation
    key = _cache_key(organisation)
    board = cache.get(key)
    hit = board is not None
    if not hit:
        board = _build(viewer, organisation)
        board.organisation = None
        cache.set(key, board, CACHE_SECONDS)
    board.organisation = organisation
    return board, hit


def _cache_key(organisation: Organisation) -> str:
    # The version is read before the figures (see marketplace.core.versions). The creation time keeps a reused id
    # (a database restored or recreated under the same cache) from meeting another organisation's entry; the day
    # moves the deliveries' 12-week window; the language is that of the action texts and the chart.
    version = organisation_version(organisation.pk)
    created = organisation.created_at.timestamp() if organisation.created_at else 0
    today = timezone.localdate().isoformat()
    return f"market:dashboard:{CACHE_FORMAT}:{organisation.pk}:{created}:{version}:{today}:{get_language()}"


def _build(viewer: User, organisation: Organisation) -> Dashboard:
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
        newest = list(proposed.annotate(waiting=Window(Count("id"))).values_list("pk", "proposed_at", "waiting")[:10])
        board.payouts_to_approve = [BatchToApprove(pk, proposed_at) for pk, proposed_at, _waiting in newest]
        _action(board.actions, newest[0][2] if newest else 0, TO_APPROVE, reverse("payouts:list"))
        open_lots = sum(row[Lot.Status.OPEN]["lots"] for row in board.stock)
        _action(board.actions, open_lots, TO_LIST, reverse("catalogue-lots") + "?status=open")
        _members_and_chart(board, viewer, org_id)
    if buys:
        _action(board.actions, board.buying.get(S.ACCEPTED, 0), TO_PAY, orders + "&status=accepted")
        _action(board.actions, board.buying.get(S.DISPATCHED, 0), TO_RECEIVE, orders + "&status=dispatched")
        _action(board.actions, board.buying.get(S.DELIVERED, 0), TO_COMPLETE, orders + "&status=delivered")
    return board


def _members_and_chart(board: Dashboard, viewer: User, organisation_id: int) -> None:
    board.members = organisations.inclusion_figures(
        viewer=viewer, organisation_id=organisation_id, year=timezone.localdate().year
    )
    board.plots = (
        organisations.plot_list(viewer=viewer)
        .filter(organisation_id=organisation_id)
        .aggregate(count=Count("id"), area=Sum("area_hectares"))
    )
    if any(tonnes for _week, tonnes in board.deliveries):
        board.deliveries_chart = bar_chart(
            title=gettext("Deliveries per week (tonnes)"),
            bars=[(week.strftime("%d/%m"), tonnes) for week, tonnes in board.deliveries],
            y_label=gettext("Net tonnes delivered by members, per week, the last 12 weeks"),
        )
