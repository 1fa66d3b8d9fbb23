"""Demo matching: open requests from Amstel Origins (cocoa in XOF, coffee in RWF) and Mavuno Millers (maize in
KES), matched against the cooperatives' live listings so that each has a live proposal. Idempotent: a request is
found by its delivery place and buyer, and a re-match keeps the proposals it would make again."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TextIO

from django.db.models import Sum
from django.utils import timezone

from catalogue.models import Commodity, Listing
from marketplace.demo.organisations import account, organisation
from marketplace.matching import services
from marketplace.matching.models import BuyerRequest, ProposalPart

TONNE = 1_000_000

# buyer key, manager e-mail, commodity, currency, delivery place, latitude, longitude, max distance (km), markup
PLAN = [
    ("amstel-origins", "manager@amstel-origins.demo", "cocoa-beans", "XOF", "San-Pédro port", "4.748510",
     "-6.636310", 300, Decimal("1.12")),
    ("amstel-origins", "manager@amstel-origins.demo", "coffee-arabica-cherry", "RWF", "Rusizi dry mill",
     "-2.484610", "28.907430", 120, Decimal("1.15")),
    ("mavuno-millers", "manager@mavuno-millers.demo", "maize-white", "KES", "Mavuno mill, Nairobi", "-1.308410",
     "36.848770", 450, Decimal("1.30")),
]  # fmt: skip


def seed(*, stdout: TextIO) -> None:
    today = timezone.localdate()
    made = []
    for buyer_key, email, code, currency, place, lat, lon, distance, markup in PLAN:
        commodity = Commodity.objects.filter(code=code).first()
        if commodity is None:
            continue
        buyer = organisation(buyer_key)
        if BuyerRequest.objects.filter(buyer=buyer, commodity=commodity, delivery_place=place).exists():
            continue
        listings = Listing.objects.filter(commodity=commodity, currency=currency, status=Listing.Status.ACTIVE)
        available = listings.aggregate(g=Sum("quantity_available_grams"))["g"] or 0
        if available < TONNE:
            continue
        highest = max(x.price_per_tonne_minor for x in listings)
        quantity = min(20 * TONNE, available // TONNE * TONNE)
        request = services.buyer_request_create(
            actor=account(email),
            buyer_id=buyer.pk,
            data=services.RequestInput(
                commodity_id=commodity.pk, quantity_grams=quantity, min_truckload_grams=min(5 * TONNE, quantity),
                max_price_per_tonne_minor=int(highest * markup), currency=currency, delivery_place=place,
                delivery_latitude=Decimal(lat), delivery_longitude=Decimal(lon), window_start=today,
                window_end=today + datetime.timedelta(days=45), max_distance_km=distance,
            ),
        )  # fmt: skip
        made.append(request)
    for request in made:
        services.matching_rematch(commodity_id=request.commodity_id, currency=request.currency)
    # The cooperatives were "told" when the demo was made: no e-mail or SMS on every seeding.
    ProposalPart.objects.filter(notified_at__isnull=True).update(notified_at=timezone.now())
    if made:
        live = ProposalPart.objects.filter(proposal__request__in=made, proposal__status="open").count()
        stdout.write(f"matching: {len(made)} open requests, {live} proposal parts\n")
    else:
        stdout.write("matching: nothing new\n")
