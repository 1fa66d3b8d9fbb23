"""The main menu as data: sections of entries, filtered by the kind of organisation and the user's role.

Add a page to the menu with one line in `MENU`:

    Entry(_("Market prices"), "market:prices", kinds=BUYING | SELLING, section=REPORTS),

`url_name` is a URL name (a string, so no app is imported here); `current` lists the other URL names
that belong to the entry (the pages it leads to), so the entry is marked `aria-current="page"` on them too.
An entry shows when the organisation's kind is in `kinds` (empty: every kind) and the user's role has
`capability` in it; `operator=True` entries show to the platform operator's staff whatever they act for.
A section with no entry left is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from marketplace.organisations.roles import Capability, role_can

COOPERATIVE = frozenset({"cooperative"})
BUYER = frozenset({"buyer"})
SUPPLIER = frozenset({"input_supplier"})
SELLING = COOPERATIVE | SUPPLIER
BUYING = COOPERATIVE | BUYER
TRADING = COOPERATIVE | BUYER | SUPPLIER

# Sections, in the order they show.
MEMBERS = "members"
DELIVERIES = "deliveries"
LOTS = "lots"
MARKET = "market"
OFFERS = "offers"
ORDERS = "orders"
SALES = "sales"
MONEY = "money"
REPORTS = "reports"
PLATFORM = "platform"
ORGANISATION = "organisation"

SECTIONS: dict[str, object] = {
    MEMBERS: _("Members"),
    DELIVERIES: _("Deliveries"),
    LOTS: _("Lots"),
    MARKET: _("Market"),
    OFFERS: _("Offers"),
    ORDERS: _("Orders"),
    SALES: _("Sales"),
    MONEY: _("Money"),
    REPORTS: _("Reports"),
    PLATFORM: _("Platform"),
    ORGANISATION: _("Organisation"),
}


@dataclass(frozen=True)
class Entry:
    label: object
    url_name: str
    section: str
    kinds: frozenset[str] = frozenset()
    capability: Capability = Capability.VIEW
    current: tuple[str, ...] = ()
    operator: bool = False
    query: str = ""

    def visible(self, *, kind: str | None, role: str | None, is_operator: bool) -> bool:
        if self.operator:
            return is_operator
        if role is None or not role_can(role, self.capability):
            return False
        return not self.kinds or kind in self.kinds


MENU: list[Entry] = [
    Entry(_("Member register"), "member-list", MEMBERS, COOPERATIVE,
          current=("member-detail", "member-edit", "plot-add", "plot-edit")),
    Entry(_("Add a member"), "member-add", MEMBERS, COOPERATIVE, Capability.RECORD),
    Entry(_("Record a delivery"), "catalogue-delivery-new", DELIVERIES, COOPERATIVE, Capability.RECORD,
          current=("catalogue-collection-point-new",)),
    Entry(_("Deliveries"), "catalogue-deliveries", DELIVERIES, COOPERATIVE, current=("catalogue-delivery-detail",)),
    Entry(_("Lots"), "catalogue-lots", LOTS, COOPERATIVE,
          current=("catalogue-lot-detail", "catalogue-lot-bulk", "catalogue-lot-merge", "catalogue-lot-split")),
    Entry(_("Our listings"), "catalogue-my-listings", SALES, COOPERATIVE, Capability.DECIDE,
          current=("catalogue-listing-new",)),
    Entry(_("Order inbox"), "orders:inbox", SALES, COOPERATIVE, Capability.DECIDE),
    Entry(_("Our offers"), "catalogue-supplier-offers", OFFERS, SUPPLIER,
          current=("catalogue-offer-new", "catalogue-offer-edit", "catalogue-product-new")),
    Entry(_("Group orders"), "orders:inbox", OFFERS, SUPPLIER),
    Entry(_("Group input orders"), "orders:group-orders", OFFERS, SUPPLIER, current=("orders:group-order",)),
    Entry(_("Input ordering windows"), "orders:group-windows", ORDERS, COOPERATIVE,
          current=("orders:group-window", "orders:group-window-request", "orders:group-window-plan",
                   "orders:group-order")),
    Entry(_("Buyer requests and proposals"), "matching:home", MARKET, BUYER,
          current=("matching:request", "matching:request-new", "matching:request-edit", "matching:proposal")),
    Entry(_("Requests we could serve"), "matching:home", SALES, COOPERATIVE, Capability.DECIDE,
          current=("matching:request", "matching:proposal")),
    Entry(_("Market prices"), "market:index", REPORTS, TRADING, current=("market:detail",)),
    Entry(_("Our prices"), "market:ours", REPORTS, COOPERATIVE),
    Entry(_("Price alerts"), "market:alerts", REPORTS, BUYING, Capability.DECIDE),
    Entry(_("Reports"), "market:reports", REPORTS, TRADING, Capability.DECIDE),
    Entry(_("Member decisions"), "decisions:list", MEMBERS, COOPERATIVE,
          current=("decisions:detail", "decisions:new")),
    # A buyer's staff shop; in a cooperative, those who decide (a clerk records, and does not buy).
    Entry(_("Catalogue"), "catalogue-listings", MARKET, BUYER, current=("catalogue-listing-detail",)),
    Entry(_("Catalogue"), "catalogue-listings", MARKET, COOPERATIVE, Capability.DECIDE,
          current=("catalogue-listing-detail",)),
    Entry(_("Input offers"), "catalogue-offers", MARKET, BUYER, current=("catalogue-offer-detail",)),
    Entry(_("Input offers"), "catalogue-offers", MARKET, COOPERATIVE, Capability.DECIDE,
          current=("catalogue-offer-detail",)),
    Entry(_("Basket"), "orders:basket", ORDERS, BUYER, current=("orders:purchase",)),
    Entry(_("Basket"), "orders:basket", ORDERS, COOPERATIVE, Capability.DECIDE, current=("orders:purchase",)),
    Entry(_("Orders"), "orders:list", ORDERS, BUYER, current=("orders:detail",)),
    Entry(_("Orders"), "orders:list", ORDERS, COOPERATIVE, Capability.DECIDE, current=("orders:detail",)),
    Entry(_("Money"), "payments:money", MONEY, BUYING | SUPPLIER, Capability.DECIDE,
          current=("payments:order", "payments:organisation-money")),
    Entry(_("Member payouts"), "payouts:list", MONEY, COOPERATIVE, Capability.DECIDE,
          current=("payouts:detail", "payouts:statement")),
    Entry(_("Cash payouts"), "payouts:cash", MONEY, COOPERATIVE, Capability.RECORD,
          current=("payouts:cash-confirm", "payouts:cash-receipt")),
    Entry(_("Organisations"), "organisation-list", PLATFORM, operator=True),
    Entry(_("Ledger"), "payments:ledger", PLATFORM, operator=True),
    Entry(_("Dispute desk"), "orders:disputes", PLATFORM, operator=True),
    Entry(_("Members & invitations"), "people", ORGANISATION, TRADING, Capability.INVITE),
]  # fmt: skip


@dataclass
class Link:
    label: object
    url: str
    is_current: bool


@dataclass
class Section:
    key: str
    label: object
    links: list[Link] = field(default_factory=list)


def build_menu(*, kind: str | None, role: str | None, is_operator: bool, view_name: str | None) -> list[Section]:
    """The sections and links the user sees, with the entry of the page shown marked current."""
    sections: dict[str, Section] = {key: Section(key, label) for key, label in SECTIONS.items()}
    seen: set[tuple[str, str]] = set()
    for entry in MENU:
        if not entry.visible(kind=kind, role=role, is_operator=is_operator):
            continue
        if (entry.section, entry.url_name) in seen:
            continue
        try:
            url = reverse(entry.url_name) + entry.query
        except NoReverseMatch:  # an app not installed in this deployment
            continue
        seen.add((entry.section, entry.url_name))
        is_current = view_name is not None and (view_name == entry.url_name or view_name in entry.current)
        sections.setdefault(entry.section, Section(entry.section, entry.section)).links.append(
            Link(entry.label, url, is_current)
        )
    return [section for section in sections.values() if section.links]
