import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from marketplace.core.errors import ValidationFailed
from tests.factories import MemberFarmerFactory, PlotFactory
from traceability.eudr import (
    due_diligence_feature_collection,
    feature_collection_check,
    geodesic_area_hectares,
    geometry_check,
    plot_geometry_check,
)

DOCS = os.environ.get("EUDR_DOCS_DIR", "")
needs_docs = pytest.mark.skipif(
    not DOCS, reason="EUDR_DOCS_DIR is unset: point it at the Commission's EUDR documents (CI does)"
)

# About 1.2 ha near Soubré, Côte d'Ivoire: 0.001 degrees of longitude by 0.001 of latitude.
SQUARE = [
    [-6.600123, 5.780456],
    [-6.599123, 5.780456],
    [-6.599123, 5.781456],
    [-6.600123, 5.781456],
    [-6.600123, 5.780456],
]
POLYGON = {"type": "Polygon", "coordinates": [SQUARE]}


def rules(issues) -> list[str]:
    return [issue[0] if isinstance(issue, tuple) else issue.rule for issue in issues]


def feature(geometry, **properties):
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def test_a_good_polygon_and_a_good_point_pass():
    area = geodesic_area_hectares(POLYGON)
    assert 1.0 < area < 1.3
    assert geometry_check(POLYGON, area=round(area, 2)) == []
    assert geometry_check({"type": "Point", "coordinates": [-6.612345, 5.781234]}, area=2.5) == []
    assert geometry_check({"type": "Point", "coordinates": [-6.612345, 5.781234]}) == []  # the EU assumes 4 ha
    assert geometry_check({"type": "MultiPoint", "coordinates": [[-6.612345, 5.781234], [-6.612346, 5.781236]]}) == []


def test_a_self_intersecting_polygon_is_refused():
    bow_tie = [
        [-6.600123, 5.780456],
        [-6.599123, 5.781456],
        [-6.599123, 5.780456],
        [-6.600123, 5.781456],
        [-6.600123, 5.780456],
    ]
    assert rules(geometry_check({"type": "Polygon", "coordinates": [bow_tie]})) == ["POLYGON_SELF_INTERSECTION"]


def test_a_twelve_hectare_point_is_refused_except_for_cattle():
    point = {"type": "Point", "coordinates": [-6.612345, 5.781234]}
    assert rules(geometry_check(point, area=12)) == ["POINT_AREA_OVER_4HA"]
    assert geometry_check(point, area=12, cattle=True) == []
    assert rules(geometry_check(point, area=0.00001)) == ["POINT_AREA_TOO_SMALL"]
    assert geometry_check(point, area=0.0001) == []


def test_an_area_given_as_a_string_is_refused():
    point = {"type": "Point", "coordinates": [-6.612345, 5.781234]}
    assert rules(geometry_check(point, area="3")) == ["AREA_NOT_A_NUMBER"]
    issues = feature_collection_check(collection(feature(point, Area="3", ProducerCountry="CI")))
    assert rules(issues) == ["AREA_NOT_A_NUMBER"]
    assert issues[0].feature == 0


def test_swapped_latitude_and_longitude_are_detected():
    # Written as [lat, lon] for a place in Indonesia (lon 112.7) the "latitude" is out of range.
    assert rules(geometry_check({"type": "Point", "coordinates": [-7.250445, 112.768845]})) == ["LAT_LON_SWAPPED"]
    assert rules(geometry_check({"type": "Point", "coordinates": [200.000001, 5.000001]})) == [
        "COORDINATE_OUT_OF_RANGE"
    ]


def test_a_linestring_is_refused():
    line = {"type": "LineString", "coordinates": [[-6.600123, 5.780456], [-6.599123, 5.781456]]}
    assert rules(geometry_check(line)) == ["GEOMETRY_TYPE"]
    assert rules(geometry_check({"type": "GeometryCollection", "geometries": []})) == ["GEOMETRY_TYPE"]


def test_a_polygon_with_a_hole_is_refused():
    hole = [[-6.599923, 5.780656], [-6.599523, 5.780656], [-6.599523, 5.780956], [-6.599923, 5.780656]]
    assert rules(geometry_check({"type": "Polygon", "coordinates": [SQUARE, hole]})) == ["POLYGON_HAS_HOLE"]


@pytest.mark.parametrize(
    ("geometry", "rule"),
    [
        ({"type": "Polygon", "coordinates": [SQUARE[:-1]]}, "POLYGON_NOT_CLOSED"),
        ({"type": "Polygon", "coordinates": [[SQUARE[0], SQUARE[1], SQUARE[0]]]}, "POLYGON_TOO_FEW_POSITIONS"),
        ({"type": "Point", "coordinates": [[-6.612345, 5.781234]]}, "COORDINATES_MALFORMED"),
        ({"type": "Point", "coordinates": ["-6.612345", "5.781234"]}, "COORDINATES_MALFORMED"),
        ({"type": "Point", "coordinates": [-6.61, 5.78]}, "COORDINATE_PRECISION"),
        (None, "GEOMETRY_MISSING"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[-6.600123, 5.780456], [-6.599123, 5.780456], [-6.598123, 5.780456], [-6.600123, 5.780456]]
                ],
            },
            "POLYGON_INVALID",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [
                        [-6.6001231, 5.780456],
                        [-6.6001239, 5.780456],
                        [-6.599123, 5.780456],
                        [-6.599123, 5.781456],
                        [-6.6001231, 5.780456],
                    ]
                ],
            },
            "DUPLICATE_VERTEX",
        ),
        ({"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE]]}, "POLYGON_INVALID"),
    ],
)
def test_other_rules(geometry, rule):
    assert rule in rules(geometry_check(geometry))


def test_declared_area_must_agree_with_the_geodesic_area():
    measured = geodesic_area_hectares(POLYGON)
    assert geometry_check(POLYGON, area=round(measured * 1.05, 4)) == []
    assert rules(geometry_check(POLYGON, area=round(measured * 1.5, 4))) == ["AREA_MISMATCH"]
    assert rules(geometry_check(POLYGON, area=round(measured * 1.05, 4), area_tolerance=0.01)) == ["AREA_MISMATCH"]


def test_trailing_zeros_kept_by_decimal_parsing_count_as_decimals():
    text = '{"type": "Point", "coordinates": [-6.610000, 5.780000]}'
    assert geometry_check(json.loads(text, parse_float=Decimal)) == []
    assert rules(geometry_check(json.loads(text))) == ["COORDINATE_PRECISION"]


def test_property_names_and_country_are_checked():
    point = {"type": "Point", "coordinates": [-6.612345, 5.781234]}
    issues = feature_collection_check(collection(feature(point, productionplace="Farm", ProducerCountry="XX")))
    assert rules(issues) == ["PROPERTY_NAME", "PRODUCER_COUNTRY"]
    assert rules(feature_collection_check({"type": "FeatureCollection", "features": []})) == ["NOT_FEATURE_COLLECTION"]
    assert rules(feature_collection_check(POLYGON)) == ["NOT_FEATURE_COLLECTION"]


@needs_docs
def test_the_commissions_example_file_passes():
    path = Path(DOCS) / "ec-example-polygons.geojson"
    data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    assert feature_collection_check(data) == []
    call_command("eudr_validate", str(path))


def test_eudr_validate_prints_one_line_per_invalid_feature(tmp_path, capsys):
    bad_point = feature({"type": "Point", "coordinates": [-6.612345, 5.781234]}, Area="12", ProductionPlace="Bad one")
    line = feature({"type": "LineString", "coordinates": [[-6.600123, 5.780456], [-6.599123, 5.781456]]})
    good = feature(POLYGON, ProducerCountry="CI")
    line["id"] = "plot-7"
    path = tmp_path / "plots.geojson"
    path.write_text(json.dumps(collection(good, bad_point, line)))
    with pytest.raises(CommandError, match="2 of 3 feature"):
        call_command("eudr_validate", str(path))
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2
    assert out[0].startswith("feature 1 (id Bad one): AREA_NOT_A_NUMBER")
    assert out[1].startswith("feature 2 (id plot-7): GEOMETRY_TYPE")
    path.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("eudr_validate", str(path))


@pytest.mark.django_db
def test_plot_geometry_check_and_the_due_diligence_collection(coop, farmer):
    measured = round(geodesic_area_hectares(POLYGON), 4)
    polygon_plot = PlotFactory(farmer=farmer, name="Bas-fond", area_hectares=str(measured), geometry=POLYGON)
    point_plot = PlotFactory(
        farmer=farmer, name="Colline", area_hectares="2.5000", geometry={"type": "Point", "coordinates": [-6.61, 5.78]}
    )
    big_point = PlotFactory(
        farmer=MemberFarmerFactory(organisation=coop),
        area_hectares="12.0000",
        geometry={"type": "Point", "coordinates": [-6.612345, 5.781234]},
    )
    assert plot_geometry_check(polygon_plot) == []
    assert rules(plot_geometry_check(point_plot)) == ["COORDINATE_PRECISION"]
    assert rules(plot_geometry_check(big_point)) == ["POINT_AREA_OVER_4HA"]
    assert rules(plot_geometry_check(PlotFactory(farmer=farmer, geometry=None))) == ["GEOMETRY_MISSING"]

    document = due_diligence_feature_collection([polygon_plot])
    assert document == {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "ProducerName": farmer.name,
                    "ProducerCountry": "CI",
                    "ProductionPlace": "Bas-fond",
                    "Area": measured,
                },
                "geometry": POLYGON,
            }
        ],
    }
    assert feature_collection_check(document) == []
    with pytest.raises(ValidationFailed) as error:
        due_diligence_feature_collection([polygon_plot, big_point, point_plot])
    assert set(error.value.fields) == {f"plot {big_point.pk} ({big_point.name})", f"plot {point_plot.pk} (Colline)"}
