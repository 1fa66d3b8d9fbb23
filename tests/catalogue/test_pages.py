"""The catalogue's pages through Django's test client: each works for the right people without JavaScript,
refuses bad input with the form shown again (nothing written), and hides other organisations' records."""

import datetime
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile

from catalogue import services
from catalogue.models import Delivery, Listing, Lot, SupplierOffer
from catalogue.services import RegionInput, TierInput
from marketplace.core.money import Money
from marketplace.organisations.middleware import SESSION_KEY
from marketplace.organisations.roles import Role
from tests.catalogue.factories import LocationFactory, PackagingFactory
from tests.dates import today
from tests.factories import MembershipFactory, OrganisationFactory
from tests.formats import shown

pytestmark = pytest.mark.django_db
PAGE_BUDGET_BYTES = 60 * 1024


@pytest.fixture
def offer(supplier, supplier_manager, maize):
    product = services.input_product_create(
        actor=supplier_manager,
        organisation_id=supplier.pk,
        kind="seed",
        name="Maize H614D",
        crop_id=maize.pk,
        variety="H614D",
        packaging_id=PackagingFactory(net_mass_grams=10_000).pk,
    )
    return services.supplier_offer_create(
        actor=supplier_manager,
        organisation_id=supplier.pk,
        product_id=product.pk,
        currency="KES",
        stock_packs=800,
        tiers=[TierInput(1, Money(95_000, "KES"), 99), TierInput(100, Money(90_000, "KES"))],
        regions=[RegionInput("KE", "Trans Nzoia")],
        lead_time_days=3,
        valid_from=today(),
        valid_until=today() + datetime.timedelta(days=20),
    )


# --- The clerk's delivery form ------------------------------------------------------------


def test_delivery_entry_in_two_steps_without_javascript(
    login,
    clerk,
    farmer,
    plot,
    collection_point,
    cocoa,
    grade_1,
    jute_bag,
    sms_outbox,
    django_capture_on_commit_callbacks,
):
    client = login(clerk)
    first = client.get("/catalogue/deliveries/new/")
    assert first.status_code == 200 and b"<script" not in first.content
    step = {
        "member_number": farmer.member_number.lower(),
        "collection_point": collection_point.pk,
        "commodity": cocoa.pk,
    }
    second = client.get("/catalogue/deliveries/new/", step)
    assert second.status_code == 200
    html = second.content.decode()
    assert farmer.name in html and "Parcelle 1" in html and "Grade I (≤ 7.5 %)" in html
    reference = re.search(r'name="client_reference" value="([^"]+)"', html).group(1)
    form = {
        **step,
        "farmer": farmer.pk,
        "collection_point": collection_point.pk,
        "commodity": cocoa.pk,
        "client_reference": reference,
        "plot": plot.pk,
        "grade": grade_1.pk,
        "bags": 3,
        "packaging": jute_bag.pk,
        "net_kg": "",
        "gross_kg": "",
        "moisture": "7.1",
        "delivered_on": today().isoformat(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/catalogue/deliveries/new/", form, follow=True)
    assert done.status_code == 200
    delivery = Delivery.objects.get()
    assert delivery.net_grams == 187_500 and delivery.recorded_by == clerk
    assert delivery.receipt_number in done.content.decode()
    assert len(sms_outbox) == 1
    again = client.post("/catalogue/deliveries/new/", form)  # the same form sent twice (a bad connection)
    assert again.status_code == 302 and Delivery.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"net_kg": "0"}, "more than 0 kg"),
        ({"net_kg": "-5"}, "more than 0 kg"),
        ({"moisture": "100.1"}, "between 0 and 100"),
        ({"moisture": "8.2"}, "above the 7.5 % limit of Grade I"),
    ],
)
def test_delivery_form_shows_what_to_fix_and_records_nothing(
    login, clerk, farmer, plot, collection_point, cocoa, grade_1, changes, words
):
    form = {
        "member_number": farmer.member_number,
        "collection_point": collection_point.pk,
        "commodity": cocoa.pk,
        "farmer": farmer.pk,
        "client_reference": "6b0c3c1e-3a4f-4c55-9a3c-0b2a8e0f9d11",
        "plot": plot.pk,
        "grade": grade_1.pk,
        "net_kg": "100",
        "moisture": "7",
        "delivered_on": today().isoformat(),
        **changes,
    }
    response = login(clerk).post("/catalogue/deliveries/new/", form)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert Delivery.objects.count() == 0


def test_an_unknown_member_number_is_explained(login, clerk, collection_point, cocoa):
    response = login(clerk).get(
        "/catalogue/deliveries/new/",
        {"member_number": "NAW-9999", "collection_point": collection_point.pk, "commodity": cocoa.pk},
    )
    assert response.status_code == 400 and "no member number NAW-9999" in response.content.decode()


def _page_weight(client, url: str) -> int:
    """Bytes of the page and of every stylesheet, script and icon it loads."""
    response = client.get(url)
    total = len(response.content)
    for asset in re.findall(r'(?:href|src)="/static/([^"]+)"', response.content.decode()):
        total += Path(finders.find(asset)).stat().st_size
    return total


def test_the_delivery_form_stays_under_60_kb(login, clerk, farmer, plot, collection_point, cocoa, coop):
    for _ in range(3):
        LocationFactory(organisation=coop)
    client = login(clerk)
    assert _page_weight(client, "/catalogue/deliveries/new/") < PAGE_BUDGET_BYTES
    step2 = (
        f"/catalogue/deliveries/new/?member_number={farmer.member_number}&collection_point={collection_point.pk}"
        f"&commodity={cocoa.pk}"
    )
    assert _page_weight(client, step2) < PAGE_BUDGET_BYTES


def test_viewers_and_outsiders_cannot_record(login, viewer, outsider, supplier_manager, collection_point, reference):
    assert login(viewer).get("/catalogue/deliveries/new/").status_code == 403
    assert login(outsider).get(
        f"/catalogue/deliveries/new/?member_number=X&collection_point={collection_point.pk}"
    ).status_code in (400, 200)
    assert login(supplier_manager).get("/catalogue/deliveries/new/").status_code == 404


def test_delivery_list_detail_and_reversal(login, clerk, record, farmer, plot):
    delivery = record(farmer)
    client = login(clerk)
    listing = client.get("/catalogue/deliveries/")
    assert listing.status_code == 200 and delivery.receipt_number in listing.content.decode()
    detail = client.get(f"/catalogue/deliveries/{delivery.pk}/")
    assert "Reverse this delivery" in detail.content.decode()
    refused = client.post(f"/catalogue/deliveries/{delivery.pk}/reverse/", {"reason": ""})
    assert refused.status_code == 400 and not Delivery.objects.filter(kind="reversal").exists()
    done = client.post(f"/catalogue/deliveries/{delivery.pk}/reverse/", {"reason": "Wrong member"})
    assert done.status_code == 302
    assert Delivery.objects.filter(kind="reversal", reverses=delivery).exists()


# --- Lots ---------------------------------------------------------------------------------


def test_bulk_split_merge_pages(login, manager, record, farmers, warehouse):
    deliveries = [record(farmers[i], net_grams=100_000 * (i + 1)) for i in range(3)]
    client = login(manager)
    assert client.get("/catalogue/lots/bulk/").status_code == 200
    response = client.post(
        "/catalogue/lots/bulk/", {"deliveries": [d.pk for d in deliveries], "storage_location": warehouse.pk}
    )
    assert response.status_code == 302
    lot = Lot.objects.get()
    detail = client.get(f"/catalogue/lots/{lot.pk}/").content.decode()
    assert "Member shares" in detail and farmers[2].name in detail and "600" in detail
    too_much = client.post(f"/catalogue/lots/{lot.pk}/split/", {"parts_kg": "400, 300"})
    assert too_much.status_code == 400 and "add up to 700 kg, but lot" in too_much.content.decode()
    assert client.post(f"/catalogue/lots/{lot.pk}/split/", {"parts_kg": "250"}).status_code == 302
    parts = list(Lot.objects.filter(status="open").order_by("pk"))
    assert [p.quantity_grams for p in parts] == [250_000, 350_000]
    merged = client.post("/catalogue/lots/merge/", {"lots": [p.pk for p in parts]})
    assert merged.status_code == 302 and Lot.objects.filter(status="open").get().quantity_grams == 600_000
    assert client.get("/catalogue/lots/").status_code == 200


def test_merging_different_grades_on_the_page(login, manager, make_lot, grade_2):
    first, second = make_lot((100_000,)), make_lot((100_000,), grade_id=grade_2.pk)
    response = login(manager).post("/catalogue/lots/merge/", {"lots": [first.pk, second.pk]})
    assert response.status_code == 400 and "same grade" in response.content.decode()
    assert Lot.objects.filter(status="open").count() == 2


def test_lot_status_buttons(login, manager, make_lot):
    lot = make_lot((100_000,))
    client = login(manager)
    response = client.post(f"/catalogue/lots/{lot.pk}/transition/", {"to_status": "closed"}, follow=True)
    assert "why" in response.content.decode()
    client.post(f"/catalogue/lots/{lot.pk}/transition/", {"to_status": "closed", "reason": "Spoiled"})
    lot.refresh_from_db()
    assert lot.status == "closed"


# --- Listings -----------------------------------------------------------------------------


def test_create_a_listing_on_the_page(login, manager, make_lot, warehouse, fairtrade):
    lot = make_lot((400_000,))
    client = login(manager)
    assert client.get(f"/catalogue/my-listings/new/?lot={lot.pk}").status_code == 200
    form = {
        "lot": lot.pk,
        "title": "Cocoa Grade I",
        "price": "1450",
        "price_unit": "KGM",
        "quantity_kg": "300",
        "min_order_kg": "50",
        "delivery_terms": "ex_warehouse",
        "pickup_location": warehouse.pk,
        "available_from": today().isoformat(),
        "valid_until": (today() + datetime.timedelta(days=30)).isoformat(),
        "certifications": [fairtrade.pk],
        "eudr_acknowledged": "on",  # the lot's plots have no geometry: not EUDR-ready
        "photo": SimpleUploadedFile("lot.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, content_type="image/png"),
    }
    response = client.post("/catalogue/my-listings/new/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    listing = Listing.objects.get()
    assert listing.quantity_offered_grams == 300_000 and listing.price == Money(1450, "XOF")
    mine = client.get("/catalogue/my-listings/").content.decode()
    assert "Cocoa Grade I" in mine and "Pause" in mine


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"quantity_kg": "500"}, "at most 400 kg"),
        ({"price": "1450.5"}, "whole numbers"),
        ({"min_order_kg": "0"}, "more than 0 kg"),
    ],
)
def test_listing_form_refuses_bad_input(login, manager, make_lot, warehouse, changes, words):
    lot = make_lot((400_000,))
    form = {
        "lot": lot.pk,
        "title": "Cocoa",
        "price": "1450",
        "price_unit": "KGM",
        "quantity_kg": "300",
        "min_order_kg": "50",
        "delivery_terms": "ex_warehouse",
        "pickup_location": warehouse.pk,
        "available_from": today().isoformat(),
        "valid_until": (today() + datetime.timedelta(days=30)).isoformat(),
        "eudr_acknowledged": "on",  # the lot's plots have no geometry: not EUDR-ready
        **changes,
    }
    response = login(manager).post("/catalogue/my-listings/new/", form)
    assert response.status_code == 400 and words in response.content.decode()
    assert Listing.objects.count() == 0


def test_listing_transition_buttons(login, manager, make_lot, make_listing):
    listing = make_listing(make_lot((100_000,)))
    client = login(manager)
    client.post(f"/catalogue/my-listings/{listing.pk}/transition/", {"to_status": "paused"})
    listing.refresh_from_db()
    assert listing.status == "paused"


# --- The public catalogue -----------------------------------------------------------------


def test_public_catalogue_with_filters(client, make_lot, make_listing, reference, django_assert_max_num_queries):
    for _ in range(3):
        make_listing(make_lot((200_000,)))
    with django_assert_max_num_queries(8):
        response = client.get("/catalogue/")
    assert response.status_code == 200 and response.content.decode().count("Cocoa Grade I") == 3
    filtered = client.get("/catalogue/", {"commodity": "maize-white"})
    assert "No listing matches" in filtered.content.decode()
    with django_assert_max_num_queries(10):
        near = client.get(
            "/catalogue/",
            {
                "commodity": "cocoa-beans",
                "min_grade": "cocoa-beans:grade-1",
                "lat": "5.79",
                "lon": "-6.60",
                "radius_km": "20",
                "ordering": "distance",
                "max_price": "1500",
                "currency": "XOF",
                "min_quantity_kg": "100",
            },
        )
    assert near.status_code == 200 and near.content.decode().count("Cocoa Grade I") == 3
    bad = client.get("/catalogue/", {"lat": "5.79"})
    assert bad.status_code == 400 and "latitude, longitude and a distance" in bad.content.decode()
    no_currency = client.get("/catalogue/", {"max_price": "10"})
    assert no_currency.status_code == 400


def test_listing_detail_is_public_while_live(client, login, make_lot, make_listing, manager, outsider):
    listing = make_listing(make_lot((200_000,)))
    assert client.get(f"/catalogue/listings/{listing.pk}/").status_code == 200
    services.listing_status_transition(actor=manager, listing_id=listing.pk, to_status="withdrawn")
    assert client.get(f"/catalogue/listings/{listing.pk}/").status_code == 404
    assert login(outsider).get(f"/catalogue/listings/{listing.pk}/").status_code == 404
    assert login(manager).get(f"/catalogue/listings/{listing.pk}/").status_code == 200


# --- Supplier offers ----------------------------------------------------------------------


def test_public_offer_pages(client, offer):
    found = client.get("/catalogue/offers/", {"country": "KE", "quantity": "120"})
    assert found.status_code == 200 and "Maize H614D" in found.content.decode()
    detail = client.get(f"/catalogue/offers/{offer.pk}/", {"packs": "100"})
    assert f"100 packs at {shown(90_000, 'KES')} each: {shown(9_000_000, 'KES')}" in detail.content.decode()
    assert client.get(f"/catalogue/offers/{offer.pk}/", {"packs": "0"}).status_code == 400


def test_supplier_manages_offers(login, supplier, supplier_manager, offer, reference):
    client = login(supplier_manager)
    assert "Maize H614D" in client.get("/catalogue/supplier/offers/").content.decode()
    product = client.post(
        "/catalogue/supplier/products/new/",
        {"kind": "fertiliser", "name": "CAN 26", "packaging": PackagingFactory().pk, "npk": "26-0-0"},
    )
    assert product.status_code == 302
    product_id = int(product["Location"].rsplit("=", 1)[1])
    form = {
        "product": product_id,
        "currency": "KES",
        "stock_packs": 300,
        "lead_time_days": 4,
        "valid_from": today().isoformat(),
        "valid_until": (today() + datetime.timedelta(days=40)).isoformat(),
        "country": "KE",
        "regions": "Trans Nzoia, Bungoma",
        "tier_0_min": 1,
        "tier_0_max": 49,
        "tier_0_price": "3600",
        "tier_1_min": 50,
        "tier_1_max": "",
        "tier_1_price": "3400",
    }
    overlapping = client.post("/catalogue/supplier/offers/new/", {**form, "tier_1_min": 40})
    assert overlapping.status_code == 400 and "overlaps tier 1" in overlapping.content.decode()
    assert SupplierOffer.objects.count() == 1
    created = client.post("/catalogue/supplier/offers/new/", form)
    assert created.status_code == 302
    new_offer = SupplierOffer.objects.exclude(pk=offer.pk).get()
    assert sorted(new_offer.regions.values_list("region", flat=True)) == ["Bungoma", "Trans Nzoia"]
    edit = client.get(f"/catalogue/supplier/offers/{new_offer.pk}/")
    assert edit.status_code == 200 and 'value="3400.00"' in edit.content.decode()
    client.post(f"/catalogue/supplier/offers/{new_offer.pk}/transition/", {"to_status": "paused"})
    new_offer.refresh_from_db()
    assert new_offer.status == "paused"


# --- Isolation: every private page --------------------------------------------------------


def private_pages(record, make_lot, make_listing, farmers, offer) -> list[tuple[str, str, dict]]:
    delivery = record(farmers[0])
    lot = make_lot((100_000,))
    listed = make_lot((100_000,))
    listing = make_listing(listed)
    return [
        ("get", f"/catalogue/deliveries/{delivery.pk}/", {}),
        ("post", f"/catalogue/deliveries/{delivery.pk}/reverse/", {"reason": "x"}),
        ("get", f"/catalogue/lots/{lot.pk}/", {}),
        ("post", f"/catalogue/lots/{lot.pk}/split/", {"parts_kg": "10"}),
        ("post", f"/catalogue/lots/{lot.pk}/move/", {"storage_location": lot.storage_location_id}),
        ("post", f"/catalogue/lots/{lot.pk}/transition/", {"to_status": "closed", "reason": "x"}),
        ("post", f"/catalogue/my-listings/{listing.pk}/transition/", {"to_status": "paused"}),
        ("get", f"/catalogue/supplier/offers/{offer.pk}/", {}),
        ("post", f"/catalogue/supplier/offers/{offer.pk}/transition/", {"to_status": "paused"}),
    ]


def _state() -> tuple:
    return (
        Delivery.objects.count(),
        list(Lot.objects.order_by("pk").values_list("status", "storage_location")),
        list(Listing.objects.values_list("status", flat=True)),
        list(SupplierOffer.objects.values_list("status")),
    )


def test_other_organisations_see_and_change_nothing(
    login, record, make_lot, make_listing, farmers, offer, other_coop, member_of
):
    pages = private_pages(record, make_lot, make_listing, farmers, offer)
    before = _state()
    for organisation in (other_coop, OrganisationFactory(kind="input_supplier")):
        client = login(member_of(organisation, Role.ADMIN))
        for method, url, data in pages:
            response = getattr(client, method)(url, data)
            assert response.status_code == 404, (organisation.kind, method, url)
    assert _state() == before


def test_a_second_membership_does_not_open_the_first_organisations_pages(login, make_lot, manager, other_coop):
    """Acting for another organisation: the lot list shows that organisation's lots only."""
    lot = make_lot((100_000,))
    MembershipFactory(user=manager, organisation=other_coop, role=Role.MANAGER)
    client = login(manager)
    session = client.session
    session[SESSION_KEY] = other_coop.pk
    session.save()
    assert lot.code not in client.get("/catalogue/lots/").content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, record, make_lot, make_listing, farmers, offer):
    pages = private_pages(record, make_lot, make_listing, farmers, offer)
    pages += [
        ("get", url, {})
        for url in [
            "/catalogue/deliveries/",
            "/catalogue/deliveries/new/",
            "/catalogue/lots/",
            "/catalogue/lots/bulk/",
            "/catalogue/lots/merge/",
            "/catalogue/my-listings/",
            "/catalogue/my-listings/new/",
            "/catalogue/supplier/offers/",
            "/catalogue/supplier/offers/new/",
            "/catalogue/supplier/products/new/",
        ]
    ]
    before = _state()
    for method, url, data in pages:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert _state() == before


def test_role_limits_on_pages(login, viewer, clerk, make_lot, supplier, member_of, offer):
    lot = make_lot((100_000,))
    assert login(viewer).get("/catalogue/lots/").status_code == 200
    assert login(viewer).get("/catalogue/lots/bulk/").status_code == 403
    assert login(clerk).get("/catalogue/my-listings/new/").status_code == 403
    assert login(clerk).post(f"/catalogue/lots/{lot.pk}/split/", {"parts_kg": "10"}).status_code == 403
    supplier_clerk = member_of(supplier, Role.CLERK)
    assert login(supplier_clerk).get("/catalogue/supplier/offers/").status_code == 200
    assert login(supplier_clerk).get("/catalogue/supplier/offers/new/").status_code == 403
