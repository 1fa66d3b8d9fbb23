"""Input products and supplier offers: tiers that must be ordered and touching, and the total price at
every breakpoint."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from catalogue import services
from catalogue.models import InputProduct, PriceTier, SupplierOffer
from catalogue.selectors import price_for_quantity
from catalogue.services import RegionInput, TierInput
from catalogue.services.offers import OFFER_TRANSITIONS
from marketplace.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from marketplace.core.models import AuditEvent
from marketplace.core.money import Money
from marketplace.organisations.roles import Role
from tests.catalogue.factories import PackagingFactory
from tests.dates import today

pytestmark = pytest.mark.django_db


def kes(amount: int) -> Money:
    return Money(amount * 100, "KES")


STANDARD_TIERS = [
    TierInput(min_packs=1, max_packs=99, unit_price=kes(3500)),
    TierInput(min_packs=100, max_packs=499, unit_price=kes(3300)),
    TierInput(min_packs=500, unit_price=kes(3100)),
]


@pytest.fixture
def fertiliser(supplier, supplier_manager, reference):
    from catalogue.models import Packaging

    return services.input_product_create(
        actor=supplier_manager, organisation_id=supplier.pk, kind="fertiliser", name="NPK 17-17-17",
        npk=(17, 17, 17), packaging_id=Packaging.objects.get(code="pp-bag-50kg").pk,
    )  # fmt: skip


@pytest.fixture
def make_offer(supplier, supplier_manager, fertiliser):
    def make(**overrides):
        fields = {
            "actor": supplier_manager,
            "organisation_id": supplier.pk,
            "product_id": fertiliser.pk,
            "currency": "KES",
            "stock_packs": 2_000,
            "tiers": STANDARD_TIERS,
            "regions": [RegionInput("KE", "Trans Nzoia"), RegionInput("KE", "Uasin Gishu")],
            "lead_time_days": 7,
            "valid_from": today(),
            "valid_until": today() + datetime.timedelta(days=90),
        }
        fields.update(overrides)
        return services.supplier_offer_create(**fields)

    return make


# --- Input products -----------------------------------------------------------------------


def test_products_of_each_kind(supplier, supplier_manager, cocoa, maize, reference):
    bag = PackagingFactory()
    make = {"actor": supplier_manager, "organisation_id": supplier.pk, "packaging_id": bag.pk}
    seed = services.input_product_create(kind="seed", name="H614D", crop_id=maize.pk, variety="H614D", **make)
    assert (seed.crop, seed.variety) == (maize, "H614D")
    npk = services.input_product_create(kind="fertiliser", name="DAP", npk=(18, 46, 0), **make)
    assert npk.npk_formula == "18-46-0"
    spray = services.input_product_create(
        kind="crop_protection", name="Roundup", active_ingredient="glyphosate 360 g/l", **make
    )
    assert spray.active_ingredient == "glyphosate 360 g/l"
    tool = services.input_product_create(kind="tool", name="Machete", **make)
    assert tool.kind == InputProduct.Kind.TOOL


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "seed", "variety": "H614D"}, "crop"),
        ({"kind": "seed", "crop_id": None, "variety": ""}, "variety"),
        ({"kind": "fertiliser"}, "npk"),
        ({"kind": "fertiliser", "npk": (60, 60, 0)}, "npk"),
        ({"kind": "fertiliser", "npk": (0, 0, 0)}, "npk"),
        ({"kind": "crop_protection"}, "active_ingredient"),
        ({"kind": "magic"}, "kind"),
        ({"kind": "tool", "name": ""}, "name"),
    ],
)
def test_bad_products_are_refused(supplier, supplier_manager, reference, fields, field):
    bag = PackagingFactory()
    fields = {"name": "Product", **fields}
    with pytest.raises(ValidationFailed) as refused:
        services.input_product_create(
            actor=supplier_manager, organisation_id=supplier.pk, packaging_id=bag.pk, **fields
        )
    assert field in refused.value.fields
    assert InputProduct.objects.count() == 0


def test_only_input_suppliers_describe_products(coop, manager, reference):
    with pytest.raises(ValidationFailed, match="Only input suppliers"):
        services.input_product_create(
            actor=manager, organisation_id=coop.pk, kind="tool", name="Hoe", packaging_id=PackagingFactory().pk
        )


def test_the_database_refuses_a_seed_without_crop(reference):
    with pytest.raises(IntegrityError), transaction.atomic():
        InputProduct.objects.create(kind="seed", name="?", packaging=PackagingFactory())


# --- Offers and tiers ---------------------------------------------------------------------


def test_an_offer_stores_breakpoints_regions_and_the_maximum(make_offer):
    offer = make_offer()
    assert list(offer.tiers.values_list("min_packs", "unit_price_amount")) == [
        (1, 350_000), (100, 330_000), (500, 310_000),
    ]  # fmt: skip
    assert offer.max_order_packs is None
    assert sorted(offer.regions.values_list("region", flat=True)) == ["Trans Nzoia", "Uasin Gishu"]
    assert AuditEvent.objects.filter(action="supplier_offer.created", subject_id=str(offer.pk)).exists()
    bounded = make_offer(tiers=[TierInput(1, kes(10), 49), TierInput(50, kes(9), 200)])
    assert bounded.max_order_packs == 200


@pytest.mark.parametrize(
    ("packs", "unit", "total"),
    [(1, 3500, 3500), (2, 3500, 7000), (99, 3500, 346_500), (100, 3300, 330_000), (101, 3300, 333_300),
     (499, 3300, 1_646_700), (500, 3100, 1_550_000), (501, 3100, 1_553_100), (10_000, 3100, 31_000_000)],
)  # fmt: skip
def test_total_price_at_every_breakpoint(make_offer, packs, unit, total):
    offer = make_offer()
    quote = price_for_quantity(list(offer.tiers.all()), packs, currency="KES", max_order_packs=offer.max_order_packs)
    assert quote.unit_price == kes(unit)
    assert quote.total == kes(total)


def test_quantities_outside_the_tiers_are_refused():
    tiers = [PriceTier(min_packs=10, unit_price_amount=500), PriceTier(min_packs=50, unit_price_amount=450)]
    with pytest.raises(ValidationFailed, match="minimum order is 10"):
        price_for_quantity(tiers, 9, currency="XOF", max_order_packs=100)
    with pytest.raises(ValidationFailed, match="maximum order is 100"):
        price_for_quantity(tiers, 101, currency="XOF", max_order_packs=100)
    assert price_for_quantity(tiers, 100, currency="XOF", max_order_packs=100).total == Money(45_000, "XOF")


@pytest.mark.parametrize(
    ("tiers", "words"),
    [
        ([], "at least one price tier"),
        ([TierInput(100, kes(3300), 499), TierInput(1, kes(3500), 99)], "out of order"),
        ([TierInput(1, kes(3500), 120), TierInput(100, kes(3300))], "overlaps tier 1 (up to 120)"),
        ([TierInput(1, kes(3500), 99), TierInput(150, kes(3300))], "Nothing prices 100–149 packs"),
        ([TierInput(1, kes(3500)), TierInput(100, kes(3300))], "no upper end"),
        ([TierInput(1, kes(3300), 99), TierInput(100, kes(3500))], "never get dearer"),
        ([TierInput(0, kes(3300))], "1 pack or more"),
        ([TierInput(10, kes(3300), 5)], "ends (5) before it starts (10)"),
        ([TierInput(1, Money(3300, "XOF"))], "priced in XOF; the offer is in KES"),
        ([TierInput(1, kes(0))], "more than 0"),
    ],
)
def test_bad_tiers_are_refused_and_nothing_is_written(make_offer, tiers, words):
    with pytest.raises(ValidationFailed) as refused:
        make_offer(tiers=tiers)
    assert words in refused.value.message
    assert SupplierOffer.objects.count() == 0 and PriceTier.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "KESH"}, "currency"),
        ({"stock_packs": -1}, "stock_packs"),
        ({"lead_time_days": 400}, "lead_time_days"),
        ({"valid_until": today() - datetime.timedelta(days=1), "valid_from": today() - datetime.timedelta(days=9)},
         "valid_until"),
        ({"regions": []}, "regions"),
        ({"regions": [RegionInput("ZZ")]}, "regions.0"),
        ({"regions": [RegionInput("KE", "Kitale"), RegionInput("KE", "Kitale")]}, "regions.1"),
        ({"product_id": 999_999}, "product"),
    ],
)  # fmt: skip
def test_bad_offers_are_refused(make_offer, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        make_offer(**overrides)
    assert field in refused.value.fields
    assert SupplierOffer.objects.count() == 0


def test_offers_are_for_the_suppliers_managers(make_offer, supplier, member_of, outsider):
    with pytest.raises(PermissionDenied):
        make_offer(actor=member_of(supplier, Role.CLERK))
    with pytest.raises(NotFound):
        make_offer(actor=outsider)


def test_another_suppliers_product_cannot_be_offered(make_offer, other_supplier, member_of):
    theirs = services.input_product_create(
        actor=member_of(other_supplier), organisation_id=other_supplier.pk, kind="tool", name="Hoe",
        packaging_id=PackagingFactory().pk,
    )  # fmt: skip
    with pytest.raises(ValidationFailed, match="your products"):
        make_offer(product_id=theirs.pk)


def test_update_replaces_the_tiers_and_audits_them(make_offer, supplier_manager):
    offer = make_offer()
    services.supplier_offer_update(
        actor=supplier_manager, offer_id=offer.pk, tiers=[TierInput(1, kes(3400), 199), TierInput(200, kes(3000))],
        stock_packs=50,
    )  # fmt: skip
    assert list(offer.tiers.values_list("min_packs", flat=True)) == [1, 200]
    with pytest.raises(ValidationFailed, match="overlaps"):
        services.supplier_offer_update(
            actor=supplier_manager, offer_id=offer.pk, tiers=[TierInput(1, kes(1), 10), TierInput(5, kes(1))]
        )
    assert list(offer.tiers.values_list("min_packs", flat=True)) == [1, 200]
    assert AuditEvent.objects.filter(action="supplier_offer.updated", subject_id=str(offer.pk)).count() == 1


def test_stock_is_taken_atomically_and_never_negative(make_offer):
    offer = make_offer(stock_packs=10)
    services.supplier_offer_take_stock(offer_id=offer.pk, packs=7, reference="group-order:1")
    with pytest.raises(Conflict, match="Only 3 packs"):
        services.supplier_offer_take_stock(offer_id=offer.pk, packs=4)
    services.supplier_offer_return_stock(offer_id=offer.pk, packs=2)
    offer.refresh_from_db()
    assert offer.stock_packs == 5
    with pytest.raises(IntegrityError), transaction.atomic():
        SupplierOffer.objects.filter(pk=offer.pk).update(stock_packs=-1)


# Written out here, not read from the code.
OFFER_MOVES = {("active", "paused"), ("active", "withdrawn"), ("paused", "active"), ("paused", "withdrawn")}


def test_the_offer_table_is_the_one_written_here():
    assert OFFER_TRANSITIONS.pairs() == OFFER_MOVES


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [(a, b) for a in SupplierOffer.Status.values for b in SupplierOffer.Status.values],
)
def test_every_offer_transition_pair(make_offer, supplier_manager, from_status, to_status):
    offer = make_offer()
    if from_status != "active":
        services.supplier_offer_status_transition(actor=supplier_manager, offer_id=offer.pk, to_status=from_status)
    call = {"actor": supplier_manager, "offer_id": offer.pk, "to_status": to_status}
    if (from_status, to_status) in OFFER_MOVES:
        services.supplier_offer_status_transition(**call)
        offer.refresh_from_db()
        assert offer.status == to_status
        assert AuditEvent.objects.filter(
            action=f"supplier_offer.{to_status}", subject_id=str(offer.pk), from_status=from_status, to_status=to_status
        ).exists()
    else:
        with pytest.raises(InvalidTransition):
            services.supplier_offer_status_transition(**call)
