"""The catalogue's demo data: every demo cooperative gets deliveries, lots with member shares and listings, every
input supplier offers with tiers; a second run adds nothing."""

import io

import pytest

from catalogue.models import Delivery, Listing, Lot, LotContribution, PriceTier, SupplierOffer
from marketplace.demo import catalogue as catalogue_demo
from marketplace.demo import organisations as organisations_demo
from marketplace.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    return (
        list(Delivery.objects.order_by("pk").values_list("receipt_number", "net_grams", "grade__code")),
        list(Lot.objects.order_by("pk").values_list("code", "quantity_grams", "status")),
        list(Listing.objects.order_by("pk").values_list("title", "price_amount", "quantity_offered_grams")),
        list(PriceTier.objects.order_by("pk").values_list("offer__product__name", "min_packs", "unit_price_amount")),
    )


def test_demo_catalogue_is_complete_and_idempotent(reference):
    organisations_demo.seed(stdout=io.StringIO())
    first = io.StringIO()
    catalogue_demo.seed(stdout=first)
    assert "deliveries" in first.getvalue()
    before = snapshot()

    for cooperative in Organisation.objects.filter(kind=Organisation.Kind.COOPERATIVE):
        assert Delivery.objects.filter(organisation=cooperative, kind="delivery").count() >= 20
        assert Delivery.objects.filter(organisation=cooperative, kind="reversal").count() == 1
        lots = Lot.objects.filter(organisation=cooperative)
        assert lots.filter(origin="split").exists() and lots.filter(origin="merge").exists()
        for lot in lots:
            shares = LotContribution.objects.filter(lot=lot).values_list("grams", flat=True)
            assert sum(shares) == lot.quantity_grams
        assert Listing.objects.filter(organisation=cooperative, status="active").count() == 2
    for supplier in Organisation.objects.filter(kind=Organisation.Kind.INPUT_SUPPLIER):
        offers = SupplierOffer.objects.filter(organisation=supplier)
        assert offers.count() >= 3
        assert all(offer.tiers.count() >= 2 for offer in offers)

    again = io.StringIO()
    catalogue_demo.seed(stdout=again)
    assert "nothing new" in again.getvalue()
    assert snapshot() == before
