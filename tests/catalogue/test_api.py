"""The catalogue API end to end: what each endpoint answers, that bad input gets a 400 saying what to fix with
nothing written, and that other organisations can neither see nor change a cooperative's records."""

import datetime
import uuid
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalogue import services
from catalogue.models import Delivery, Listing, Location, Lot, SupplierOffer
from catalogue.services import RegionInput, TierInput
from marketplace.core.money import Money
from marketplace.organisations.roles import Role
from tests.catalogue.factories import PackagingFactory
from tests.dates import today
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class World:
    delivery: Delivery
    unlisted_lot: Lot
    listed_lot: Lot
    listing: Listing
    offer: SupplierOffer


@pytest.fixture
def world(record, make_lot, make_listing, farmers, supplier, supplier_manager, reference) -> World:
    delivery = record(farmers[0], net_grams=90_000)
    unlisted = make_lot((100_000, 200_000))
    listed = make_lot((300_000,))
    listing = make_listing(listed)
    product = services.input_product_create(
        actor=supplier_manager, organisation_id=supplier.pk, kind="fertiliser", name="NPK 17-17-17",
        npk=(17, 17, 17), packaging_id=PackagingFactory().pk,
    )  # fmt: skip
    offer = services.supplier_offer_create(
        actor=supplier_manager, organisation_id=supplier.pk, product_id=product.pk, currency="KES", stock_packs=900,
        tiers=[TierInput(1, Money(350_000, "KES"), 99), TierInput(100, Money(330_000, "KES"))],
        regions=[RegionInput("KE", "Trans Nzoia")], lead_time_days=7, valid_from=today(),
        valid_until=today() + datetime.timedelta(days=30),
    )  # fmt: skip
    return World(delivery, unlisted, listed, listing, offer)


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


# --- Reference data -----------------------------------------------------------------------


def test_commodities_are_public_with_grades_in_order(api, reference):
    response = api(None).get("/api/v1/commodities/")
    assert response.status_code == 200
    by_code = {c["code"]: c for c in response.json()}
    for code in ["cocoa-beans", "coffee-arabica-green", "coffee-robusta-green", "coffee-arabica-cherry",
                 "coffee-robusta-cherry", "maize-white", "rice-paddy", "sorghum", "beans-dry", "cashew-rcn", "sesame",
                 "shea-kernels"]:  # fmt: skip
        assert code in by_code
    cocoa = by_code["cocoa-beans"]
    assert cocoa["hs_code"] == "1801.00" and cocoa["eudr_commodity"] == "cocoa" and cocoa["eudr_relevant"]
    assert [g["rank"] for g in cocoa["grades"]] == [1, 2, 3]
    assert cocoa["grades"][0]["max_moisture_pct"] == "7.50"
    assert by_code["maize-white"]["eudr_relevant"] is False


def test_packaging_is_public(api, reference):
    response = api(None).get("/api/v1/packaging/")
    assert response.status_code == 200
    jute = next(p for p in response.json() if p["code"] == "jute-bag-62-5kg")
    assert jute["net_mass_grams"] == 62_500


# --- Deliveries ---------------------------------------------------------------------------


def delivery_payload(member, collection_point, cocoa, grade_1, **overrides) -> dict:
    payload = {
        "collection_point": collection_point.pk,
        "farmer": member.pk,
        "plot": member.plots.first().pk,
        "commodity": cocoa.pk,
        "grade": grade_1.pk,
        "moisture_pct": "7.2",
        "net_weight_kg": "187.5",
    }
    payload.update(overrides)
    return payload


def test_record_a_delivery_in_kg(api, clerk, coop, farmer, plot, collection_point, cocoa, grade_1):
    response = api(clerk).post(
        f"/api/v1/organisations/{coop.pk}/deliveries/", delivery_payload(farmer, collection_point, cocoa, grade_1)
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["net_grams"] == 187_500 and body["net_kg"] == "187.5" and body["kind"] == "delivery"
    assert body["farmer"]["member_number"] == farmer.member_number
    assert body["receipt_number"].startswith("CAN-")


def test_record_a_delivery_in_bags(api, clerk, coop, farmer, plot, collection_point, cocoa, grade_1, jute_bag):
    payload = delivery_payload(farmer, collection_point, cocoa, grade_1, net_weight_kg=None, bags=4,
                               packaging=jute_bag.pk)  # fmt: skip
    response = api(clerk).post(f"/api/v1/organisations/{coop.pk}/deliveries/", payload)
    assert response.status_code == 201, response.json()
    assert response.json()["net_grams"] == 250_000 and response.json()["bag_count"] == 4


def test_the_same_client_reference_answers_200_with_the_first_delivery(
    api, clerk, coop, farmer, plot, collection_point, cocoa, grade_1
):
    payload = delivery_payload(farmer, collection_point, cocoa, grade_1, client_reference=str(uuid.uuid4()))
    first = api(clerk).post(f"/api/v1/organisations/{coop.pk}/deliveries/", payload)
    again = api(clerk).post(f"/api/v1/organisations/{coop.pk}/deliveries/", payload)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"net_weight_kg": "0"}, "net_weight", "more than 0 kg"),
        ({"net_weight_kg": "-12"}, "net_weight", "more than 0 kg"),
        ({"moisture_pct": "101"}, "moisture_pct", "between 0 and 100"),
        ({"moisture_pct": "9"}, "moisture_pct", "above the 7.5 % limit"),
        ({"farmer": "abc"}, "farmer", "valid integer"),
        ({"net_weight_kg": None}, "net_weight", "number of bags"),
    ],
)
def test_bad_deliveries_get_a_400_that_says_what_to_fix(
    api, clerk, coop, farmer, plot, collection_point, cocoa, grade_1, overrides, field, words
):
    payload = delivery_payload(farmer, collection_point, cocoa, grade_1, **overrides)
    response = api(clerk).post(f"/api/v1/organisations/{coop.pk}/deliveries/", payload, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert words in error["fields"][field][0] and error["message"]
    assert Delivery.objects.count() == 0


def test_a_grade_of_another_commodity_gets_a_400(api, clerk, coop, farmer, plot, collection_point, cocoa, grade_1,
                                                 maize_grade_1):  # fmt: skip
    payload = delivery_payload(farmer, collection_point, cocoa, grade_1, grade=maize_grade_1.pk)
    response = api(clerk).post(f"/api/v1/organisations/{coop.pk}/deliveries/", payload)
    assert response.status_code == 400
    assert "grade of Maize, white" in error_of(response)["fields"]["grade"][0]


def test_list_get_and_reverse_a_delivery(api, clerk, coop, world):
    client = api(clerk)
    listed = client.get(f"/api/v1/organisations/{coop.pk}/deliveries/?bulkable=true").json()
    assert [d["id"] for d in listed["results"]] == [world.delivery.pk]
    assert client.get(f"/api/v1/deliveries/{world.delivery.pk}/").json()["lot_code"] is None
    response = client.post(f"/api/v1/deliveries/{world.delivery.pk}/reverse/", {"reason": "Wrong member"})
    assert response.status_code == 201
    assert response.json()["kind"] == "reversal" and response.json()["net_grams"] == -90_000
    assert client.get(f"/api/v1/deliveries/{world.delivery.pk}/").json()["is_reversed"] is True
    again = client.post(f"/api/v1/deliveries/{world.delivery.pk}/reverse/", {"reason": "Again"})
    assert again.status_code == 409 and "already been reversed" in error_of(again)["message"]
    assert client.post(f"/api/v1/deliveries/{world.delivery.pk}/reverse/", {}).status_code == 400


# --- Lots ---------------------------------------------------------------------------------


def test_bulk_split_merge_move_and_transition(api, manager, coop, world, warehouse, record, farmers):
    client = api(manager)
    response = client.post(
        f"/api/v1/organisations/{coop.pk}/lots/",
        {"deliveries": [world.delivery.pk], "storage_location": warehouse.pk}, format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    lot = response.json()
    assert lot["quantity_grams"] == 90_000 and lot["shares"][0]["grams"] == 90_000
    split = client.post(f"/api/v1/lots/{lot['id']}/split/", {"parts_kg": ["30.5"]}, format="json")
    assert split.status_code == 201
    assert [p["quantity_grams"] for p in split.json()] == [30_500, 59_500]
    assert split.json()[0]["parents"][0]["lot"] == lot["code"]
    merged = client.post("/api/v1/lots/merge/", {"lots": [p["id"] for p in split.json()]}, format="json")
    assert merged.status_code == 201 and merged.json()["quantity_grams"] == 90_000
    other = Location.objects.create(organisation=coop, code="wh-2", name="Second store", is_warehouse=True,
                                    is_collection_point=False, country="CI")  # fmt: skip
    moved = client.post(f"/api/v1/lots/{merged.json()['id']}/move/", {"storage_location": other.pk})
    assert moved.status_code == 200 and moved.json()["storage_location"]["code"] == "wh-2"
    closed = client.post(f"/api/v1/lots/{merged.json()['id']}/transition/", {"status": "closed", "reason": "Spoiled"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    bad = client.post(f"/api/v1/lots/{merged.json()['id']}/transition/", {"status": "open"})
    assert bad.status_code == 409 and error_of(bad)["code"] == "invalid_transition"
    listing = client.get(f"/api/v1/organisations/{coop.pk}/lots/?status=closed").json()
    assert {row["id"] for row in listing["results"]} >= {lot["id"], merged.json()["id"]}


def test_splitting_more_than_the_lot_holds_gets_a_400(api, manager, world):
    response = api(manager).post(
        f"/api/v1/lots/{world.unlisted_lot.pk}/split/", {"parts_kg": ["200", "200"]}, format="json"
    )
    assert response.status_code == 400
    assert "add up to 400 kg, but lot" in error_of(response)["message"]
    assert Lot.objects.filter(status="open").count() == 1


def test_merging_lots_of_different_grades_gets_a_400(api, manager, world, make_lot, grade_2):
    other = make_lot((50_000,), grade_id=grade_2.pk)
    response = api(manager).post("/api/v1/lots/merge/", {"lots": [world.unlisted_lot.pk, other.pk]}, format="json")
    assert response.status_code == 400
    assert "same grade" in error_of(response)["message"]


# --- Listings -----------------------------------------------------------------------------


def listing_payload(lot, warehouse, **overrides) -> dict:
    payload = {
        "lot": lot.pk,
        "title": "Cocoa Grade I, Soubré",
        "price": "1450",
        "currency": "XOF",
        "price_unit": "KGM",
        "quantity_kg": "200",
        "min_order_kg": "50",
        "delivery_terms": "ex_warehouse",
        "pickup_location": warehouse.pk,
        "available_from": today().isoformat(),
        "valid_until": (today() + datetime.timedelta(days=30)).isoformat(),
    }
    payload.update(overrides)
    return payload


def test_create_a_listing_with_a_photo(api, manager, coop, world, warehouse, fairtrade):
    payload = listing_payload(world.unlisted_lot, warehouse, certifications=[fairtrade.pk],
                              photo=SimpleUploadedFile("lot.png", PNG, content_type="image/png"))  # fmt: skip
    response = api(manager).post(f"/api/v1/organisations/{coop.pk}/listings/", payload, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["price"] == {"amount": "1450", "currency": "XOF", "amount_minor": 1450}
    assert body["quantity_available_kg"] == "200" and body["quantity_offered_grams"] == 200_000
    assert body["certifications"][0]["scheme"] == "fairtrade"
    assert body["photo"].startswith("http://testserver/media/listings/")
    assert body["lot"]["code"] == world.unlisted_lot.code


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"currency": "EUR", "price": "2.20"}, "currency", "your cooperative's currency, XOF"),
        ({"price": "1450.5"}, "price", "XOF prices take whole numbers"),
        ({"price": "0"}, "price", "more than 0"),
        ({"quantity_kg": "301"}, "quantity", "at most 300 kg"),
        ({"quantity_kg": "-1"}, "quantity", "more than 0 kg"),
        ({"min_order_kg": "250"}, "min_order", "exceeds the quantity"),
        ({"currency": "X1Z"}, "currency", "three letters"),
        ({"delivery_terms": "delivered", "pickup_location": None}, "delivery_country", "country"),
    ],
)
def test_bad_listings_get_a_400(api, manager, coop, world, warehouse, overrides, field, words):
    payload = listing_payload(world.unlisted_lot, warehouse, **overrides)
    response = api(manager).post(f"/api/v1/organisations/{coop.pk}/listings/", payload, format="json")
    assert response.status_code == 400
    assert words in error_of(response)["fields"][field][0]
    assert Listing.objects.count() == 1


def test_update_and_withdraw_a_listing(api, manager, world):
    client = api(manager)
    response = client.patch(f"/api/v1/listings/{world.listing.pk}/", {"price": "1600", "currency": "XOF"})
    assert response.status_code == 200 and response.json()["price"]["amount"] == "1600"
    wrong = client.patch(f"/api/v1/listings/{world.listing.pk}/", {"price": "2", "currency": "EUR"})
    assert wrong.status_code == 400
    assert client.patch(f"/api/v1/listings/{world.listing.pk}/", {"price": "2"}).status_code == 400
    withdrawn = client.post(f"/api/v1/listings/{world.listing.pk}/transition/", {"status": "withdrawn"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert api(None).get(f"/api/v1/listings/{world.listing.pk}/").status_code == 404
    assert api(manager).get(f"/api/v1/listings/{world.listing.pk}/").status_code == 200


def test_listings_are_public(api, world):
    client = api(None)
    found = client.get("/api/v1/listings/").json()
    assert [row["id"] for row in found["results"]] == [world.listing.pk]
    row = found["results"][0]
    assert "quantity_reserved_grams" not in row and "shares" not in row
    assert client.get(f"/api/v1/listings/{world.listing.pk}/").status_code == 200


# --- Offers -------------------------------------------------------------------------------


def offer_payload(product_id, **overrides) -> dict:
    payload = {
        "product": product_id,
        "currency": "KES",
        "stock_packs": 500,
        "tiers": [
            {"min_packs": 1, "max_packs": 99, "unit_price": "3500"},
            {"min_packs": 100, "max_packs": 499, "unit_price": "3300"},
            {"min_packs": 500, "unit_price": "3100"},
        ],
        "regions": [{"country": "KE", "region": "Trans Nzoia"}],
        "lead_time_days": 5,
        "valid_from": today().isoformat(),
        "valid_until": (today() + datetime.timedelta(days=60)).isoformat(),
    }
    payload.update(overrides)
    return payload


def test_supplier_creates_a_product_and_an_offer(api, supplier, supplier_manager, reference):
    client = api(supplier_manager)
    product = client.post(
        f"/api/v1/organisations/{supplier.pk}/input-products/",
        {"kind": "fertiliser", "name": "DAP", "npk": "18-46-0", "packaging": PackagingFactory().pk},
    )
    assert product.status_code == 201 and product.json()["npk_formula"] == "18-46-0"
    response = client.post(f"/api/v1/organisations/{supplier.pk}/offers/", offer_payload(product.json()["id"]),
                           format="json")  # fmt: skip
    assert response.status_code == 201, response.json()
    tiers = response.json()["tiers"]
    assert [(t["min_packs"], t["max_packs"], t["unit_price"]["amount"]) for t in tiers] == [
        (1, 99, "3500.00"), (100, 499, "3300.00"), (500, None, "3100.00"),
    ]  # fmt: skip
    offer_id = response.json()["id"]
    quote = api(None).get(f"/api/v1/offers/{offer_id}/quote/?packs=100").json()
    assert quote["total"] == {"amount": "330000.00", "currency": "KES", "amount_minor": 33_000_000}
    assert api(None).get(f"/api/v1/offers/{offer_id}/quote/?packs=0").status_code == 400
    mine = api(supplier_manager).get(f"/api/v1/organisations/{supplier.pk}/offers/").json()
    assert [row["id"] for row in mine["results"]] == [offer_id]


@pytest.mark.parametrize(
    ("tiers", "words"),
    [
        ([{"min_packs": 1, "max_packs": 120, "unit_price": "3500"}, {"min_packs": 100, "unit_price": "3300"}],
         "overlaps tier 1"),
        ([{"min_packs": 100, "max_packs": 499, "unit_price": "3300"}, {"min_packs": 1, "unit_price": "3500"}],
         "out of order"),
        ([{"min_packs": 1, "unit_price": "3500.555"}], "at most 2 decimals"),
    ],
)  # fmt: skip
def test_bad_tiers_get_a_400(api, supplier, supplier_manager, world, tiers, words):
    payload = offer_payload(world.offer.product_id, tiers=tiers)
    response = api(supplier_manager).post(f"/api/v1/organisations/{supplier.pk}/offers/", payload, format="json")
    assert response.status_code == 400
    assert words in error_of(response)["message"]
    assert SupplierOffer.objects.count() == 1


def test_offers_are_public_and_searchable(api, world):
    client = api(None)
    found = client.get("/api/v1/offers/?country=KE&region=Trans%20Nzoia&quantity=150").json()
    assert [row["id"] for row in found["results"]] == [world.offer.pk]
    assert found["results"][0]["unit_price_at_quantity"]["amount_minor"] == 330_000
    assert client.get("/api/v1/offers/?country=CI").json()["count"] == 0
    assert client.get("/api/v1/offers/?quantity=901").json()["count"] == 0
    assert client.get(f"/api/v1/offers/{world.offer.pk}/").status_code == 200


def test_update_and_pause_an_offer(api, supplier_manager, world):
    client = api(supplier_manager)
    response = client.patch(
        f"/api/v1/offers/{world.offer.pk}/",
        {"stock_packs": 10, "tiers": [{"min_packs": 1, "unit_price": "3000"}]}, format="json",
    )  # fmt: skip
    assert response.status_code == 200 and response.json()["stock_packs"] == 10
    assert len(response.json()["tiers"]) == 1
    paused = client.post(f"/api/v1/offers/{world.offer.pk}/transition/", {"status": "paused"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert api(None).get(f"/api/v1/offers/{world.offer.pk}/").status_code == 404


# --- Locations and certifications ---------------------------------------------------------


def test_locations_and_certifications(api, manager, coop):
    client = api(manager)
    created = client.post(
        f"/api/v1/organisations/{coop.pk}/locations/",
        {"code": "gagnoa", "name": "Gagnoa store", "is_warehouse": True, "latitude": "6.13", "longitude": "-5.95"},
    )
    assert created.status_code == 201 and created.json()["country"] == "CI"
    duplicate = client.post(f"/api/v1/organisations/{coop.pk}/locations/", {"code": "gagnoa", "name": "Again"})
    assert duplicate.status_code == 400
    half = client.post(f"/api/v1/organisations/{coop.pk}/locations/", {"code": "x", "name": "X", "latitude": "5"})
    assert half.status_code == 400 and "both latitude and longitude" in error_of(half)["message"]
    assert client.get(f"/api/v1/organisations/{coop.pk}/locations/").json()["count"] == 1
    certificate = client.post(
        f"/api/v1/organisations/{coop.pk}/certifications/",
        {
            "scheme": "organic",
            "certificate_number": "EU-BIO-1",
            "valid_from": "2025-01-01",
            "valid_until": "2024-01-01",
        },
    )
    assert certificate.status_code == 400 and "cannot end" in error_of(certificate)["fields"]["valid_until"][0]


# --- Isolation and permissions: every organisation-scoped endpoint ------------------------


def scoped_endpoints(world: World, coop_id: int, supplier_id: int) -> list[tuple[str, str, dict]]:
    lot, listing, delivery, offer = world.unlisted_lot, world.listing, world.delivery, world.offer
    return [
        ("get", f"/api/v1/organisations/{coop_id}/locations/", {}),
        ("post", f"/api/v1/organisations/{coop_id}/locations/", {"code": "z", "name": "Z"}),
        ("get", f"/api/v1/organisations/{coop_id}/certifications/", {}),
        ("post", f"/api/v1/organisations/{coop_id}/certifications/",
         {"scheme": "organic", "certificate_number": "1", "valid_from": "2025-01-01", "valid_until": "2030-01-01"}),
        ("get", f"/api/v1/organisations/{coop_id}/deliveries/", {}),
        ("post", f"/api/v1/organisations/{coop_id}/deliveries/",
         {"collection_point": delivery.collection_point_id, "farmer": delivery.farmer_id, "plot": delivery.plot_id,
          "commodity": delivery.commodity_id, "grade": delivery.grade_id, "moisture_pct": "7", "net_weight_kg": "5"}),
        ("get", f"/api/v1/deliveries/{delivery.pk}/", {}),
        ("post", f"/api/v1/deliveries/{delivery.pk}/reverse/", {"reason": "x"}),
        ("get", f"/api/v1/organisations/{coop_id}/lots/", {}),
        ("post", f"/api/v1/organisations/{coop_id}/lots/",
         {"deliveries": [delivery.pk], "storage_location": lot.storage_location_id}),
        ("get", f"/api/v1/lots/{lot.pk}/", {}),
        ("post", f"/api/v1/lots/{lot.pk}/split/", {"parts_kg": ["10"]}),
        ("post", "/api/v1/lots/merge/", {"lots": [lot.pk, world.listed_lot.pk]}),
        ("post", f"/api/v1/lots/{lot.pk}/transition/", {"status": "closed", "reason": "x"}),
        ("post", f"/api/v1/lots/{lot.pk}/move/", {"storage_location": lot.storage_location_id}),
        ("get", f"/api/v1/organisations/{coop_id}/listings/", {}),
        ("post", f"/api/v1/organisations/{coop_id}/listings/",
         {"lot": lot.pk, "title": "T", "price": "1", "currency": "XOF", "quantity_kg": "1", "min_order_kg": "1",
          "delivery_terms": "ex_warehouse", "pickup_location": lot.storage_location_id,
          "available_from": today().isoformat(), "valid_until": (today() + datetime.timedelta(days=9)).isoformat()}),
        ("patch", f"/api/v1/listings/{listing.pk}/", {"title": "Taken over"}),
        ("post", f"/api/v1/listings/{listing.pk}/transition/", {"status": "paused"}),
        ("get", f"/api/v1/organisations/{supplier_id}/input-products/", {}),
        ("post", f"/api/v1/organisations/{supplier_id}/input-products/",
         {"kind": "tool", "name": "Hoe", "packaging": offer.product.packaging_id}),
        ("get", f"/api/v1/organisations/{supplier_id}/offers/", {}),
        ("post", f"/api/v1/organisations/{supplier_id}/offers/", offer_payload(offer.product_id)),
        ("patch", f"/api/v1/offers/{offer.pk}/", {"stock_packs": 1}),
        ("post", f"/api/v1/offers/{offer.pk}/transition/", {"status": "paused"}),
    ]  # fmt: skip


def _snapshot() -> tuple:
    return (
        Delivery.objects.count(), Lot.objects.count(), list(Lot.objects.values_list("status", flat=True)),
        Listing.objects.count(), list(Listing.objects.values_list("title", "status")), SupplierOffer.objects.count(),
        list(SupplierOffer.objects.values_list("stock_packs", "status")), Location.objects.count(),
    )  # fmt: skip


def test_other_organisations_get_404_and_change_nothing(api, world, coop, supplier, other_coop, member_of):
    stranger = member_of(other_coop, Role.ADMIN)
    other_supplier_admin = member_of(OrganisationFactory(kind="input_supplier"), Role.ADMIN)
    before = _snapshot()
    for user in (stranger, other_supplier_admin):
        client = api(user)
        for method, url, payload in scoped_endpoints(world, coop.pk, supplier.pk):
            response = getattr(client, method)(url, payload, format="json")
            assert response.status_code == 404, (user, method, url, response.json())
            assert error_of(response)["code"] == "not_found"
    assert _snapshot() == before


def test_viewers_read_but_cannot_write(api, world, coop, supplier, viewer, member_of):
    supplier_viewer = member_of(supplier, Role.VIEWER)
    before = _snapshot()
    for method, url, payload in scoped_endpoints(world, coop.pk, supplier.pk):
        user = supplier_viewer if f"/{supplier.pk}/" in url or "/offers/" in url else viewer
        response = getattr(api(user), method)(url, payload, format="json")
        expected = 200 if method == "get" else 403
        assert response.status_code == expected, (method, url, response.json())
    assert _snapshot() == before


def test_anonymous_callers_must_sign_in(api, world, coop, supplier):
    before = _snapshot()
    for method, url, payload in scoped_endpoints(world, coop.pk, supplier.pk):
        if method == "get" and url.startswith(("/api/v1/listings/", "/api/v1/offers/")):
            continue
        response = getattr(api(None), method)(url, payload, format="json")
        assert response.status_code == 401, (method, url)
    assert _snapshot() == before


def test_unlisted_lots_and_member_shares_are_invisible_to_others(api, world, outsider, member_of):
    buyer = member_of(OrganisationFactory(kind="buyer"), Role.ADMIN)
    for user in (outsider, buyer, None):
        client = api(user)
        assert client.get(f"/api/v1/lots/{world.unlisted_lot.pk}/").status_code in (401, 404)
        assert client.get(f"/api/v1/lots/{world.listed_lot.pk}/").status_code in (401, 404)
        body = client.get(f"/api/v1/listings/{world.listing.pk}/").json()
        assert "shares" not in str(body) and world.unlisted_lot.code not in str(body)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "The parts add up to 400 kg, but lot {code} holds 300 kg."),
        ("fr", "Les parties totalisent 400 kg, mais le lot {code} contient 300 kg."),
        ("sw", "Sehemu zinajumlisha 400 kg, lakini fungu {code} lina 300 kg."),
    ],
)
def test_a_split_conflict_is_told_in_the_language_asked_with_its_values(api, manager, world, language, expected):
    client = api(manager)
    response = client.post(
        f"/api/v1/lots/{world.unlisted_lot.pk}/split/",
        {"parts_kg": ["200", "200"]},
        format="json",
        headers={"Accept-Language": language},
    )
    assert response.status_code == 400
    assert error_of(response)["message"] == expected.format(code=world.unlisted_lot.code)
    assert response["Content-Language"] == language
