"""The OpenAPI schema states what the server enforces, and says where every id in a path comes from."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _walk(node, components, seen=()):
    """Every sub-schema of a request schema, following $refs once."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                yield from _walk(components[name], components, (*seen, name))
            return
        yield node
        for value in node.values():
            yield from _walk(value, components, seen)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, components, seen)


def test_every_integer_a_request_can_send_has_a_minimum_and_a_maximum(schema):
    components = schema["components"]["schemas"]
    unbounded = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            inputs = [p.get("schema", {}) for p in operation.get("parameters", [])]
            inputs += [c["schema"] for c in operation.get("requestBody", {}).get("content", {}).values()]
            for sub in _walk(inputs, components):
                bounded = "minimum" in sub and "maximum" in sub
                if sub.get("type") == "integer" and not sub.get("readOnly") and not bounded:
                    unbounded.append(f"{method.upper()} {path}: {sub}")
    assert not unbounded, "\n".join(unbounded)


def test_every_operation_with_an_id_in_its_path_is_the_target_of_a_link(schema):
    linked = {
        link["operationId"]
        for operations in schema["paths"].values()
        for operation in operations.values()
        for response in operation.get("responses", {}).values()
        for link in response.get("links", {}).values()
    }
    with_ids = {
        operation["operationId"]
        for path, operations in schema["paths"].items()
        if "{" in path
        for operation in operations.values()
    }
    assert with_ids and with_ids <= linked, sorted(with_ids - linked)


def test_the_offer_id_comes_from_the_offer_just_published(schema):
    created = schema["paths"]["/api/v1/organisations/{organisation_id}/offers/"]["post"]["responses"]["201"]
    link = next(link for link in created["links"].values() if link["operationId"] == "v1_offers_partial_update")
    assert link["parameters"] == {"id": "$response.body#/id"}
