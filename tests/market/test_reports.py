"""Reports: CSV and XLSX for managers of the current organisation only, over a date range; bad input is a 400."""

import csv
from io import BytesIO, StringIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.dates import today
from tests.orders.factories import TONNE, advance, make_side, place
from tests.pages.conftest import LOGIN_BACKEND

pytestmark = pytest.mark.django_db


def full_range():
    return {"from": "2024-01-01", "to": today().isoformat()}


def download(client, user, kind, fmt="csv", params=None):
    client.force_login(user, backend=LOGIN_BACKEND)
    return client.get(reverse("market:report", args=[kind, fmt]), params if params is not None else full_range())


def rows_of(response):
    return list(csv.reader(StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("kind", ["deliveries", "lots", "orders", "members"])
def test_a_manager_exports_the_cooperatives_own_rows(client, world, kind, django_assert_max_num_queries):
    place(world, TONNE)
    client.force_login(world.seller.manager, backend=LOGIN_BACKEND)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("market:report", args=[kind, "csv"]), full_range())
        assert response.status_code == 200, response.content
        rows = rows_of(response)
    assert response["Content-Type"].startswith("text/csv")
    _header, *data = rows
    assert data, kind
    expected = {"deliveries": 3, "lots": 1, "orders": 1, "members": 3}[kind]
    assert len(data) == expected
    # another cooperative's manager gets its own (empty) report, never these rows
    other = make_side(legal_name="Other Coop", currency="XOF", country="CI")
    assert rows_of(download(client, other.manager, kind))[1:] == []


def test_the_orders_report_for_the_buyer_and_in_excel(client, world):
    order = advance(world, place(world, 2 * TONNE), "accepted")
    response = download(client, world.buyer.manager, "orders", "xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert values[0][:4] == ("number", "placed", "side", "status")
    assert values[1][0] == order.number and values[1][2] == "buying" and values[1][3] == "accepted"


def test_the_date_range_filters_and_bad_ranges_are_refused(client, world):
    place(world, TONNE)
    assert rows_of(download(client, world.seller.manager, "orders", params={"from": "2020-01-01",
                                                                           "to": "2020-12-31"}))[1:] == []  # fmt: skip
    bad = download(client, world.seller.manager, "orders", params={"from": "yesterday", "to": today().isoformat()})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.content.decode()
    backwards = {"from": today().isoformat(), "to": "2025-01-01"}
    assert download(client, world.seller.manager, "orders", params=backwards).status_code == 400
    assert download(client, world.seller.manager, "orders", params={}).status_code == 400
    assert download(client, world.seller.manager, "everything").status_code == 404
    assert download(client, world.seller.manager, "orders", "pdf").status_code == 404


def test_clerks_and_viewers_are_refused(client, world):
    assert download(client, world.seller.clerk, "deliveries").status_code == 403
    assert download(client, world.seller.viewer, "members").status_code == 403
    client.logout()
    assert client.get(reverse("market:report", args=["members", "csv"]), full_range()).status_code == 302
    client.force_login(world.seller.manager, backend=LOGIN_BACKEND)
    assert client.get(reverse("market:reports")).status_code == 200
