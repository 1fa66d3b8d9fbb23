"""NUL bytes, malformed encodings and pathological JSON get a 400 in the usual shape, never a 500."""

import json

import pytest
from django.test import Client

from marketplace.core.api.parsers import MAX_DEPTH
from marketplace.organisations.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_as(make_member):
    user = make_member(Role.MANAGER)
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def assert_error_shape(response, code="malformed_request"):
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/orders/%00/",
        "/api/v1/orders/a%00b/",
        "/api/v1/offers/%ff%fe/",
        "/api/v1/traceability/epcis/%c3%28/",
    ],
)
def test_nul_or_invalid_utf8_in_an_api_path_is_a_400(client_as, path):
    assert_error_shape(client_as.get(path))


@pytest.mark.parametrize(
    "query",
    ["search=a%00b", "search=%00", "since=%ff", "status=ok&%00=1", "x=%C3%28"],
)
def test_nul_or_invalid_utf8_in_a_query_is_a_400(client_as, query):
    body = assert_error_shape(client_as.get(f"/api/v1/orders/?{query}"))
    assert "query string" in body["error"]["fields"]


def test_a_page_gets_the_plain_400_page(client_as):
    response = client_as.get("/orders/?q=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    response = client_as.get("/catalogue/lots/%00/")
    assert response.status_code == 400


def test_nul_in_a_form_body_is_a_400(client_as):
    response = client_as.post(
        "/api/v1/auth/token/", data="email=a%00b&password=x", content_type="application/x-www-form-urlencoded"
    )
    assert_error_shape(response)


def test_invalid_utf8_in_a_json_body_is_a_400(client_as):
    response = client_as.post("/api/v1/auth/token/", data=b'{"email": "\xff\xfe"}', content_type="application/json")
    assert_error_shape(response)


def test_escaped_nul_in_json_is_a_400_from_the_parser(client_as, make_member):
    response = client_as.post(
        "/api/v1/auth/token/", data='{"email": "a\\u0000b", "password": "x"}', content_type="application/json"
    )
    body = assert_error_shape(response, code="parse_error")
    assert "NUL" in body["error"]["message"]


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 2_000, 100_000])
def test_deeply_nested_json_is_a_400(client_as, depth):
    payload = "[" * depth + "]" * depth
    response = client_as.post("/api/v1/auth/token/", data=payload, content_type="application/json")
    body = assert_error_shape(response, code="parse_error")
    assert "nested" in body["error"]["message"]


def test_nested_objects_beyond_the_limit_are_refused_in_an_offer_patch(client_as):
    payload = '{"tiers": ' + '{"a": ' * 2_000 + "{}" + "}" * 2_001
    response = client_as.patch("/api/v1/offers/1/", data=payload, content_type="application/json")
    assert_error_shape(response, code="parse_error")


def test_depth_within_the_limit_is_parsed(client_as):
    payload = {"email": "x@example.org", "password": "wrong", "extra": [[["ok"]]]}
    response = client_as.post("/api/v1/auth/token/", data=json.dumps(payload), content_type="application/json")
    assert response.status_code in (400, 401)
    assert response.json()["error"]["code"] != "parse_error"


def test_oversized_json_is_a_400(client_as, settings):
    settings.API_JSON_MAX_BYTES = 1_000
    payload = json.dumps({"email": "x" * 2_000, "password": "x"})
    response = client_as.post("/api/v1/auth/token/", data=payload, content_type="application/json")
    body = assert_error_shape(response, code="parse_error")
    assert "larger" in body["error"]["message"]


def test_giant_integer_literals_are_a_400_not_a_500(client_as):
    payload = '{"stock_packs": 1' + "0" * 5_000 + "}"
    response = client_as.patch("/api/v1/offers/1/", data=payload, content_type="application/json")
    assert_error_shape(response, code="parse_error")


def test_nul_in_a_multipart_patch_is_a_400(client_as):
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    body = encode_multipart(BOUNDARY, {"title": "a\x00b"})
    response = client_as.patch("/api/v1/listings/1/", data=body, content_type=MULTIPART_CONTENT)
    assert_error_shape(response, code="parse_error")
