"""The organisations API documents itself without a single schema warning."""

from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

PATTERNS = [path("api/v1/", include("marketplace.organisations.api.urls"))]


def build_schema() -> dict:
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=PATTERNS).get_schema(request=None, public=True)
    return schema


def test_the_schema_is_valid_and_has_no_warnings():
    schema = build_schema()
    validate_schema(schema)
    assert not GENERATOR_STATS, dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)


def test_every_operation_is_documented_with_its_errors():
    schema = build_schema()
    expected = {
        ("/api/v1/auth/token/", "post"),
        ("/api/v1/me/", "get"),
        ("/api/v1/organisations/", "get"),
        ("/api/v1/organisations/", "post"),
        ("/api/v1/organisations/{id}/", "get"),
        ("/api/v1/organisations/{id}/", "patch"),
        ("/api/v1/organisations/{id}/verification/", "post"),
        ("/api/v1/organisations/{organisation_id}/memberships/", "get"),
        ("/api/v1/organisations/{organisation_id}/invitations/", "get"),
        ("/api/v1/organisations/{organisation_id}/invitations/", "post"),
        ("/api/v1/memberships/{id}/", "patch"),
        ("/api/v1/memberships/{id}/", "delete"),
        ("/api/v1/invitations/{id}/revoke/", "post"),
        ("/api/v1/invitations/accept/", "post"),
        ("/api/v1/farmers/", "get"),
        ("/api/v1/farmers/", "post"),
        ("/api/v1/farmers/import/", "post"),
        ("/api/v1/farmers/{id}/", "get"),
        ("/api/v1/farmers/{id}/", "patch"),
        ("/api/v1/farmers/{id}/status/", "post"),
        ("/api/v1/farmers/{farmer_id}/plots/", "get"),
        ("/api/v1/farmers/{farmer_id}/plots/", "post"),
        ("/api/v1/plots/{id}/", "get"),
        ("/api/v1/plots/{id}/", "patch"),
        ("/api/v1/plots/{id}/overlaps/", "get"),
        ("/api/v1/organisations/{organisation_id}/plot-overlaps/", "get"),
    }
    operations = {(p, m): op for p, item in schema["paths"].items() for m, op in item.items() if m != "parameters"}
    assert set(operations) == expected
    for (path_, method), operation in operations.items():
        if path_ == "/api/v1/auth/token/":
            continue
        assert operation.get("summary"), (path_, method)
        if method != "get" or "{" in path_:
            assert any(code.startswith("4") for code in operation["responses"]), (path_, method)


def test_the_import_is_multipart_and_documents_its_row_errors():
    operation = build_schema()["paths"]["/api/v1/farmers/import/"]["post"]
    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    assert "invalid_rows" in operation["description"]
    assert operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("MemberImportError")


def test_list_endpoints_are_paginated_and_filterable():
    paths = build_schema()["paths"]
    farmers = {p["name"] for p in paths["/api/v1/farmers/"]["get"]["parameters"]}
    assert farmers >= {"organisation", "status", "gender", "search", "ordering", "page", "page_size"}
    organisations = {p["name"] for p in paths["/api/v1/organisations/"]["get"]["parameters"]}
    assert organisations >= {"kind", "country", "verification_status", "search", "page"}
