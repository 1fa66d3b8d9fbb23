"""The EU Information System's field rules for a due-diligence statement, and the split to its limits."""

import base64
import json

import pytest

from traceability import dds

POINT = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-6.612345, 5.781234]}}
]}  # fmt: skip


def statement(**changes) -> dict:
    producer = {"position": 1, "country": "CI", "name": "Awa Koné", "geometryGeojson": dds.encode_geojson(POINT)}
    commodity = {
        "position": 1,
        "descriptors": {"descriptionOfGoods": "Cocoa beans, lot L-1", "goodsMeasure": {"netWeight": "750.000"}},
        "hsHeading": "180100",
        "producers": [producer],
    }
    body = {
        "internalReferenceNumber": "L-NAWA-0001",
        "activityType": "EXPORT",
        "commodities": [commodity],
        "geoLocationConfidential": True,
    }
    request = {"operatorRole": "OPERATOR", "statement": body}
    for path, value in changes.items():
        node = request
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if key.isdigit() else node[key]
        if value is KeyError:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return request


def test_a_complete_statement_passes():
    assert dds.statement_errors(statement()) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"operatorRole": "TRADER"}, "$.operatorRole: must be one of"),
        ({"statement.activityType": KeyError}, "$.statement.activityType: is required"),
        ({"statement.activityType": "SELL"}, "must be one of DOMESTIC, EXPORT, IMPORT"),
        ({"statement.geoLocationConfidential": "yes"}, "geoLocationConfidential: is required (true or false)"),
        ({"statement.internalReferenceNumber": "X" * 36}, "must be 1 to 35 characters long (it has 36)"),
        ({"statement.countryOfActivity": "CI"}, "countryOfActivity: must be one of"),
        ({"statement.commodities": []}, "needs at least one commodity"),
        ({"statement.commodities.0.hsHeading": "1801.00"}, "hsHeading: must be 2 to 6 digits"),
        ({"statement.commodities.0.hsHeading": "1"}, "hsHeading: must be 2 to 6 digits"),
        ({"statement.commodities.0.descriptors.descriptionOfGoods": "x" * 151}, "1 to 150 characters"),
        ({"statement.commodities.0.descriptors.goodsMeasure.netWeight": KeyError}, "required for IMPORT and EXPORT"),
        ({"statement.commodities.0.descriptors.goodsMeasure.netWeight": "1.1234567"}, "6 after the point"),
        ({"statement.commodities.0.descriptors.goodsMeasure.netWeight": "-5"}, "6 after the point"),
        ({"statement.commodities.0.producers.0.country": "CIV"}, "an ISO 3166-1 alpha-2 code"),
        ({"statement.commodities.0.producers.0.geometryGeojson": "not base64!"}, "is not base64-encoded JSON"),
        ({"statement.commodities.0.producers.0.geometryGeojson": KeyError}, "geometryGeojson: is required"),
        ({"statement.commodities.0.producers.0.name": "n" * 501}, "1 to 500 characters"),
        (
            {"statement.groupedDeclarations": [{"referenceNumber": "25FRXVV3VOAB", "verificationNumber": "ab"}]},
            "verificationNumber: must be 5 to 35 characters",
        ),
        ({"operatorRole": "REPRESENTATIVE_OPERATOR"}, "representedOperator: is required"),
    ],
)
def test_each_field_rule_is_enforced_with_its_path(change, complaint):
    errors = dds.statement_errors(statement(**change))
    assert any(complaint in error for error in errors), errors


def test_netweight_is_optional_for_domestic_activity():
    request = statement(**{"statement.activityType": "DOMESTIC"})
    del request["statement"]["commodities"][0]["descriptors"]["goodsMeasure"]["netWeight"]
    assert dds.statement_errors(request) == []


def test_a_geometry_of_another_type_is_refused():
    line = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    encoded = base64.b64encode(json.dumps(line).encode()).decode()
    errors = dds.statement_errors(statement(**{"statement.commodities.0.producers.0.geometryGeojson": encoded}))
    assert any("not one of Point, MultiPoint" in error for error in errors)


def test_the_producer_limits_are_enforced():
    request = statement()
    producer = request["statement"]["commodities"][0]["producers"][0]
    request["statement"]["commodities"][0]["producers"] = [producer] * (dds.MAX_PRODUCERS_PER_COMMODITY + 1)
    assert any("at most 1000" in error for error in dds.statement_errors(request))


def test_operator_rules():
    assert dds.operator_errors({"operatorName": "Nawa Cacao"}) == []
    errors = dds.operator_errors(
        {"operatorName": "", "operatorEmail": "nope", "operatorReferenceNumber": {"identifierType": "ssn"}}
    )
    assert any("operatorName: is required" in e for e in errors)
    assert any("operatorEmail: must be an e-mail address" in e for e in errors)
    assert any("identifierType: must be one of" in e for e in errors)
    assert any("identifierValue: is required" in e for e in errors)


def test_producers_are_split_to_the_limit_and_keep_their_order():
    producers = [dds.Producer("CI", f"Member {i}", POINT) for i in range(2_345)]
    parts = dds.split_producers(producers)
    assert [len(part) for part in parts] == [1000, 1000, 345]
    assert [p.name for part in parts for p in part] == [p.name for p in producers]


def test_producers_are_split_by_size_too():
    producers = [dds.Producer("CI", f"Member {i}", POINT) for i in range(10)]
    one = len(producers[0].encoded())
    parts = dds.split_producers(producers, max_bytes=one * 3)
    assert [len(part) for part in parts] == [3, 3, 3, 1]
    with pytest.raises(ValueError, match="alone exceeds"):
        dds.split_producers(producers, max_bytes=one - 1)
