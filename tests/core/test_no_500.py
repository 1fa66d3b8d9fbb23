"""Issue 19: every class of input that once answered 500 now answers a 4xx that says what to fix, on the API and on
the pages that take the same input. One test per class, each on an example of the class."""

import datetime

import pytest
from django.test import Client
from rest_framework.test import APIClient

from catalogue.models import SupplierOffer
from marketplace.core.bounds import BIGINT, MAX_PACKS, int_bounds
from orders.models import Order
from tests.dates import today
from tests.orders.factories import advance, make_world, place

BIG = 10**30


@pytest.fixture
def world(db):
    return make_world()


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def page_as(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def error_of(response, status=400) -> dict:
    assert response.status_code == status, response.content[:500]
    return response.json()["error"]


# --- The one helper -------------------------------------------------------------------------------


def test_bounds_come_from_the_column_and_the_domain():
    stock = SupplierOffer._meta.get_field("stock_packs")  # BigIntegerField
    lead_time = SupplierOffer._meta.get_field("lead_time_days")  # PositiveSmallIntegerField
    assert int_bounds(column=stock) == (-(2**63), 2**63 - 1)
    assert int_bounds(column=stock, domain="packs") == (0, MAX_PACKS)
    assert int_bounds(column=lead_time) == (0, 32_767)
    assert int_bounds(column=lead_time, domain="days", max_value=365) == (0, 365)
    assert int_bounds(domain="id") == (1, BIGINT[1])


# --- 1. Integers past the column's range -----------------------------------------------------------


@pytest.mark.parametrize("value", [2**63, BIG, -(2**63) - 1, MAX_PACKS + 1])
def test_offer_stock_past_the_range_is_a_400(world, value):
    supplier = api_as(world.supplier.manager)
    error = error_of(supplier.patch(f"/api/v1/offers/{world.offer.pk}/", {"stock_packs": value}, format="json"))
    assert "stock_packs" in error["fields"]
    world.offer.refresh_from_db()
    assert world.offer.stock_packs == 500


def test_a_tier_of_ten_to_the_thirty_packs_is_a_400(world):
    supplier = api_as(world.supplier.manager)
    tiers = [{"min_packs": 1, "unit_price": "100"}, {"min_packs": BIG, "unit_price": "90"}]
    error = error_of(supplier.patch(f"/api/v1/offers/{world.offer.pk}/", {"tiers": tiers}, format="json"))
    assert "tiers.1.min_packs" in error["fields"]
    payload = {
        "product": world.offer.product_id, "currency": "XOF", "stock_packs": 10, "lead_time_days": 3,
        "tiers": [{"min_packs": 1, "max_packs": BIG, "unit_price": "100"}], "regions": [{"country": "CI"}],
        "valid_from": today().isoformat(), "valid_until": (today() + datetime.timedelta(days=9)).isoformat(),
    }  # fmt: skip
    url = f"/api/v1/organisations/{world.supplier.organisation.pk}/offers/"
    assert "tiers.0.max_packs" in error_of(supplier.post(url, payload, format="json"))["fields"]


def test_a_price_past_the_domain_cap_is_a_400(world):
    supplier = api_as(world.supplier.manager)
    tiers = [{"min_packs": 1, "unit_price": str(BIG)}]
    error = error_of(supplier.patch(f"/api/v1/offers/{world.offer.pk}/", {"tiers": tiers}, format="json"))
    assert "tiers.0.unit_price" in error["fields"]


def test_a_grade_price_of_ten_to_the_thirty_is_a_400(world):
    buyer = api_as(world.buyer.manager)
    line = {"listing": world.listing.pk, "quantity": 2_000_000, "grade_prices": {str(world.grade_2.pk): BIG}}
    payload = {"organisation": world.buyer.organisation.pk, "lines": [line]}
    error = error_of(buyer.post("/api/v1/purchases/", payload, format="json"))
    assert f"lines.0.grade_prices.{world.grade_2.pk}" in error["fields"]
    assert not Order.objects.exists()


def test_a_grade_price_of_ten_to_the_thirty_on_accept_is_a_400(world):
    order = place(world)
    line = order.lines.get()
    seller = api_as(world.seller.manager)
    body = {"grade_prices": {str(line.pk): {str(world.grade_2.pk): BIG}}}
    error = error_of(seller.post(f"/api/v1/orders/{order.number}/accept/", body, format="json"))
    assert f"grade_prices.{line.pk}.{world.grade_2.pk}" in error["fields"]
    assert Order.objects.get(pk=order.pk).status == "placed"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/farmers/?organisation={big}", "organisation"),
        ("/api/v1/orders/?organisation={big}", "organisation"),
        ("/api/v1/payout-candidates/?organisation={big}", "organisation"),
        ("/api/v1/organisations/{coop}/deliveries/?farmer={big}", "farmer"),
        ("/api/v1/offers/?quantity={big}", "quantity"),
        ("/api/v1/offers/{offer}/quote/?packs={big}", "packs"),
        ("/api/v1/traceability/trace/forward/?plot={big}", "plot"),
    ],
)
def test_query_numbers_past_the_range_are_a_400(world, url, name):
    operator = api_as(world.operator.admin)
    coop = world.seller.organisation.pk
    client = operator if "payout" not in url and "deliveries" not in url else api_as(world.seller.manager)
    error = error_of(client.get(url.format(big=BIG, coop=coop, offer=world.offer.pk)))
    assert name in error["fields"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/organisations/{big}/lots/", "/api/v1/offers/{big}/", "/api/v1/farmers/{big}/plots/"],
)
def test_ids_past_the_range_in_a_path_are_a_404(world, path):
    error_of(api_as(world.seller.manager).get(path.format(big=BIG)), 404)


# --- 2. Missing keys in nested objects -------------------------------------------------------------


def test_an_empty_tier_is_a_400_that_names_the_missing_fields(world):
    supplier = api_as(world.supplier.manager)
    error = error_of(supplier.patch(f"/api/v1/offers/{world.offer.pk}/", {"tiers": [{}]}, format="json"))
    assert {"tiers.0.min_packs", "tiers.0.unit_price"} <= set(error["fields"])
    error = error_of(supplier.patch(f"/api/v1/offers/{world.offer.pk}/", {"regions": [{}]}, format="json"))
    assert "regions.0.country" in error["fields"]


@pytest.mark.parametrize("key", ["", "abc", "-1", "0", str(BIG)])
def test_a_grade_price_key_that_is_not_an_id_is_a_400(world, key):
    buyer = api_as(world.buyer.manager)
    line = {"listing": world.listing.pk, "quantity": 2_000_000, "grade_prices": {key: 1500}}
    payload = {"organisation": world.buyer.organisation.pk, "lines": [line]}
    error = error_of(buyer.post("/api/v1/purchases/", payload, format="json"))
    assert any(name.startswith("lines.0.grade_prices") for name in error["fields"])
    order = place(world)
    seller = api_as(world.seller.manager)
    error = error_of(seller.post(f"/api/v1/orders/{order.number}/accept/", {"grade_prices": {key: {}}}, format="json"))
    assert any(name.startswith("grade_prices") for name in error["fields"])


def test_lines_without_their_keys_are_a_400(world):
    buyer = api_as(world.buyer.manager)
    error = error_of(buyer.post("/api/v1/purchases/", {"organisation": world.buyer.organisation.pk,
                                                       "lines": [{}]}, format="json"))  # fmt: skip
    assert "lines.0.quantity" in error["fields"]
    order = advance(world, place(world), "dispatched")
    error = error_of(buyer.post(f"/api/v1/orders/{order.number}/receipt/", {"lines": [{}]}, format="json"))
    assert {"lines.0.line", "lines.0.quantity"} <= set(error["fields"])


# --- 3. Impossible dates and odd query values ------------------------------------------------------


@pytest.mark.parametrize(
    "since", ["9999-99-99", "2026-02-30", "2026-13-01T00:00:00", "0001-01-01T00:00:00+14:00", "yesterday", "x" * 41]
)
def test_impossible_dates_on_epcis_are_a_400(world, since):
    error = error_of(api_as(world.seller.manager).get("/api/v1/traceability/epcis/", {"since": since}))
    assert "since" in error["fields"]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/organisations/{coop}/lots/?status=melted", "status"),
        ("/api/v1/organisations/{coop}/deliveries/?bulkable=perhaps", "bulkable"),
        ("/api/v1/organisations/{coop}/listings/?page_size=0", "page_size"),
        ("/api/v1/orders/?side=sideways", "side"),
        ("/api/v1/input-products/?kind=magic", "kind"),
    ],
)
def test_odd_query_values_are_a_400(world, url, name):
    error = error_of(api_as(world.seller.manager).get(url.format(coop=world.seller.organisation.pk)))
    assert name in error["fields"]


def test_an_impossible_dispatch_date_on_the_order_page_is_a_4xx_with_the_page(world):
    order = advance(world, place(world), "paid")
    seller = page_as(world.seller.manager)
    response = seller.post(f"/orders/{order.number}/move/dispatched/", {"dispatched_on": "9999-99-99",
                                                                        "document_number": "WB-1"})  # fmt: skip
    assert response.status_code == 400
    assert "dispatched_on" in response.content.decode() or "not a date" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_a_grade_id_past_the_range_on_the_receipt_page_is_a_4xx(world):
    order = advance(world, place(world), "dispatched")
    line = order.lines.get()
    buyer = page_as(world.buyer.manager)
    response = buyer.post(f"/orders/{order.number}/move/delivered/", {f"line-{line.pk}": "2000",
                                                                      f"grade-{line.pk}": str(BIG)})  # fmt: skip
    assert response.status_code == 400
    assert Order.objects.get(pk=order.pk).status == "dispatched"


def test_a_quantity_past_the_range_on_the_receipt_page_is_a_4xx(world):
    order = advance(world, place(world), "dispatched")
    line = order.lines.get()
    buyer = page_as(world.buyer.manager)
    response = buyer.post(f"/orders/{order.number}/move/delivered/", {f"line-{line.pk}": "1e30"})
    assert response.status_code == 400
    assert Order.objects.get(pk=order.pk).status == "dispatched"


# --- The offer page takes the same numbers as the offer API ------------------------------------------


def offer_post(**overrides) -> dict:
    data = {"stock_packs": "500", "lead_time_days": "7", "valid_until": (today() + datetime.timedelta(days=60)),
            "country": "CI", "regions": "", "notes": "", "tier_0_min": "1", "tier_0_max": "",
            "tier_0_price": "18000"}  # fmt: skip
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stock_packs", str(2**63)),
        ("stock_packs", str(BIG)),
        ("tier_0_min", str(BIG)),
        ("tier_0_max", str(BIG)),
        ("tier_0_price", str(BIG)),
        ("lead_time_days", "40000"),
        ("valid_until", "9999-99-99"),
    ],
)
def test_the_offer_page_re_renders_the_form_with_the_error(world, field, value):
    supplier = page_as(world.supplier.manager)
    response = supplier.post(f"/catalogue/supplier/offers/{world.offer.pk}/", offer_post(**{field: value}))
    assert response.status_code == 400
    assert response.context["form"].errors.get(field)
    world.offer.refresh_from_db()
    assert world.offer.stock_packs == 500


def test_the_offer_page_with_no_tier_says_so(world):
    supplier = page_as(world.supplier.manager)
    response = supplier.post(f"/catalogue/supplier/offers/{world.offer.pk}/", offer_post(tier_0_min="",
                                                                                         tier_0_price=""))  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors


# --- 4 and 5: NUL bytes and deep JSON (tests/core/test_malformed_input.py covers the middleware itself) -----


def test_nul_bytes_in_an_order_path_or_search_are_a_400(world):
    buyer = api_as(world.buyer.manager)
    assert error_of(buyer.get("/api/v1/orders/%00/"))["code"] == "malformed_request"
    assert error_of(buyer.get("/api/v1/orders/?search=PO%00"))["code"] == "malformed_request"
    page = page_as(world.buyer.manager)
    assert page.get("/orders/%00/").status_code == 400
    assert page.get("/orders/?q=%00").status_code == 400


def test_a_2000_level_json_body_on_a_purchase_is_a_400(world):
    buyer = api_as(world.buyer.manager)
    body = '{"organisation": 1, "lines": ' + "[" * 2_000 + "]" * 2_000 + "}"
    response = buyer.post("/api/v1/purchases/", body, content_type="application/json")
    assert error_of(response)["code"] == "parse_error"
    assert not Order.objects.exists()


@pytest.mark.parametrize("levy", ["inf", "1e400", "nan", "abc", "-5"])
def test_an_impossible_levy_on_the_payout_page_is_a_4xx(world, levy):
    response = page_as(world.seller.admin).post("/payouts/policy/", {"levy_percent": levy})
    assert response.status_code == 400
