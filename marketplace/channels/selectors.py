"""Reads for the farmers' channel. The viewer is the caller: a member farmer identified by phone number; every
read below is scoped to that one farmer (or to the cooperative's public listing prices), never to an id the
caller typed. The clerk's page reads go through `viewer=user` like the rest of the product."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import phonenumbers
from django.conf import settings
from django.db.models import Max, Min, Sum

from catalogue.models import Delivery, Listing
from marketplace.channels.models import FarmerPin, Message
from marketplace.core.money import Money
from marketplace.organisations.models import MemberFarmer, Organisation, User
from marketplace.organisations.roles import Capability
from marketplace.organisations.selectors import member_farmer_get, organisation_for
from orders.group_models import MemberRequest, OrderingWindow, WindowProduct
from payments.models import Account
from payments.payouts.models import PayoutBatch, PayoutLine

SUPPORTED = {code for code, _name in settings.LANGUAGES}


def e164(raw: str) -> str | None:
    """The number in E.164, or None when it is not a valid phone number. The gateway sends "+2547..."."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.startswith("+"):
        raw = "+" + raw.lstrip("0")
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def language_of(farmer: MemberFarmer) -> str:
    """The member's own language, else the cooperative's, else the deployment's default."""
    for code in (farmer.language, farmer.organisation.preferred_language, settings.LANGUAGE_CODE):
        if code in SUPPORTED:
            return code
    return "en"


def callers_for_phone(*, phone: str) -> list[MemberFarmer]:
    """Active member farmers of cooperatives registered with this number (more than one when shared)."""
    return list(
        MemberFarmer.objects.filter(
            phone=phone,
            status=MemberFarmer.Status.ACTIVE,
            organisation__kind=Organisation.Kind.COOPERATIVE,
        )
        .select_related("organisation")
        .order_by("organisation__legal_name", "member_number", "id")
    )


def contact_for_phone(*, phone: str | None) -> str:
    """Whom an unknown caller should call: the cooperative that once registered the number, else the operator."""
    if phone:
        farmer = (
            MemberFarmer.objects.filter(phone=phone, organisation__kind=Organisation.Kind.COOPERATIVE)
            .exclude(organisation__phone="")
            .select_related("organisation")
            .order_by("-updated_at")
            .first()
        )
        if farmer is not None:
            return f"{farmer.organisation.name} {farmer.organisation.phone}"
    operator = Organisation.objects.filter(kind=Organisation.Kind.OPERATOR).first()
    if operator is not None:
        return f"{operator.name} {operator.phone or operator.email}".strip()
    return ""


@dataclass(frozen=True)
class Balance:
    owed: list[Money]
    last_line: PayoutLine | None


def farmer_balance(*, farmer: MemberFarmer) -> Balance:
    """What the cooperative holds for the member now, and the member's last executed payout."""
    owed = [
        Money(row["total"], row["currency"])
        for row in Account.objects.filter(kind=Account.Kind.MEMBER_PAYABLE, farmer=farmer, balance__gt=0)
        .values("currency")
        .annotate(total=Sum("balance"))
        .order_by("currency")
    ]
    last_line = (
        PayoutLine.objects.filter(farmer=farmer, batch__status=PayoutBatch.Status.EXECUTED)
        .select_related("batch")
        .order_by("-batch__executed_at", "-pk")
        .first()
    )
    return Balance(owed=owed, last_line=last_line)


def farmer_input_credit(*, farmer: MemberFarmer) -> list[Money]:
    return [
        Money(row["total"], row["currency"])
        for row in Account.objects.filter(kind=Account.Kind.MEMBER_INPUT_CREDIT, farmer=farmer, balance__gt=0)
        .values("currency")
        .annotate(total=Sum("balance"))
        .order_by("currency")
    ]


def farmer_deliveries(*, farmer: MemberFarmer, limit: int = 3) -> list[Delivery]:
    return list(
        Delivery.objects.filter(farmer=farmer)
        .select_related("commodity", "grade")
        .order_by("-delivered_on", "-pk")[:limit]
    )


@dataclass(frozen=True)
class CropPrice:
    commodity: str
    currency: str
    low_per_tonne: int
    high_per_tonne: int


def farmer_prices(*, farmer: MemberFarmer, today: date) -> list[CropPrice]:
    """The cooperative's active listing prices today for the crops this member has delivered, per tonne."""
    crops = Delivery.objects.filter(farmer=farmer).values("commodity_id")
    rows = (
        Listing.objects.filter(
            organisation_id=farmer.organisation_id,
            status=Listing.Status.ACTIVE,
            commodity_id__in=crops,
            available_from__lte=today,
            valid_until__gte=today,
        )
        .values("commodity__name", "currency")
        .annotate(low=Min("price_per_tonne_minor"), high=Max("price_per_tonne_minor"))
        .order_by("commodity__name", "currency")
    )
    return [CropPrice(r["commodity__name"], r["currency"], r["low"], r["high"]) for r in rows]


@dataclass(frozen=True)
class InputChoice:
    """One product a member may ask for in one ordering window of the member's cooperative."""

    window: OrderingWindow
    line: WindowProduct

    @property
    def product(self):
        return self.line.product

    def accepts_requests(self, now) -> bool:
        return self.window.accepts_requests(now)


RECENTLY_CLOSED = timedelta(hours=1)
MAX_INPUT_CHOICES = 6


def farmer_input_choices(*, farmer: MemberFarmer, now: datetime, recent: bool = False) -> list[InputChoice]:
    """The products of the ordering windows of the member's own cooperative that take requests now, numbered in
    a fixed order (window opening, then product name). With `recent`, windows closed or cancelled within the last
    hour keep their place too, so the numbers a caller typed a minute ago still name the same product (and the
    caller is told the window closed)."""
    windows = OrderingWindow.objects.filter(organisation_id=farmer.organisation_id, opens_at__lte=now)
    if recent:
        windows = windows.filter(
            status__in=[OrderingWindow.Status.OPEN, OrderingWindow.Status.CLOSED, OrderingWindow.Status.CANCELLED],
            closes_at__gt=now - RECENTLY_CLOSED,
        )
    else:
        windows = windows.filter(status=OrderingWindow.Status.OPEN, closes_at__gt=now)
    lines = (
        WindowProduct.objects.filter(window__in=windows)
        .select_related("window", "product__packaging")
        .order_by("window__opens_at", "window_id", "product__name", "product_id")[:MAX_INPUT_CHOICES]
    )
    return [InputChoice(window=line.window, line=line) for line in lines]


def farmer_input_request(*, farmer: MemberFarmer, window_id: int, product_id: int) -> MemberRequest | None:
    """The member's own current request for one product in one window (None before the first)."""
    return MemberRequest.objects.filter(farmer=farmer, window_id=window_id, product_id=product_id).first()


def farmer_pin_get(*, farmer: MemberFarmer) -> FarmerPin | None:
    return FarmerPin.objects.filter(farmer=farmer).first()


# --- For the clerk's page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FarmerChannel:
    farmer: MemberFarmer
    pin: FarmerPin | None
    language: str
    messages: list[Message]


def farmer_channel_get(*, viewer: User, farmer_id: int) -> FarmerChannel:
    """The member's channel settings and last messages, for staff who record for the member's cooperative."""
    farmer = member_farmer_get(viewer=viewer, farmer_id=farmer_id)
    organisation_for(viewer=viewer, organisation_id=farmer.organisation_id, capability=Capability.RECORD)
    messages = list(Message.objects.filter(farmer=farmer).order_by("-created_at", "-id")[:10])
    return FarmerChannel(
        farmer=farmer, pin=farmer_pin_get(farmer=farmer), language=language_of(farmer), messages=messages
    )
