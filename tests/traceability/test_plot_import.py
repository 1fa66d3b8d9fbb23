"""Bulk plot import from GeoJSON and KML: all or nothing, every bad feature named with what to fix, bounds,
safe XML, roles and isolation, through the API and the page."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from marketplace.organisations.models import Plot
from marketplace.organisations.roles import Role
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db
BASE_LON, BASE_LAT = -6.6012345, 5.7801234


def ring(lon: float, lat: float, size: float = 0.001) -> list:
    corners = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size), (lon, lat)]
    return [[round(x, 7), round(y, 7)] for x, y in corners]


def polygon(i: int = 0) -> dict:
    return {"type": "Polygon", "coordinates": [ring(BASE_LON + i * 0.002, BASE_LAT)]}


def feature(geometry, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features, **extra) -> bytes:
    return json.dumps({"type": "FeatureCollection", **extra, "features": list(features)}).encode()


@pytest.fixture
def coop():
    return OrganisationFactory(country="CI")


@pytest.fixture
def members(coop):
    return [MemberFarmerFactory(organisation=coop, member_number=f"NAW-{i:03d}") for i in range(1, 4)]


@pytest.fixture
def clerk(coop):
    return MembershipFactory(organisation=coop, role=Role.CLERK).user


@pytest.fixture
def upload(as_user, clerk, coop):
    def send(data: bytes, name: str = "plots.geojson", user=None, organisation=None):
        client = as_user(user or clerk)
        body = {"file": SimpleUploadedFile(name, data), "organisation": (organisation or coop).pk}
        return client.post(reverse("plots-import"), body, format="multipart")

    return send


def test_a_geojson_file_creates_every_plot(upload, coop, members):
    data = collection(
        feature(polygon(0), member_number="NAW-001", name="Parcelle A", established_on="2012-03-01"),
        feature(polygon(1), member_number="NAW-002", ProductionPlace="Parcelle B", Area=1.2256, country="ci"),
        feature(
            {"type": "Point", "coordinates": [-6.5812345, 5.7901234]},
            member_number="NAW-003",
            name="Jardin",
            area_hectares="0.8",
        ),
    )
    response = upload(data)
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 3
    plots = {plot.name: plot for plot in Plot.objects.filter(organisation=coop)}
    assert [plots[name].pk for name in ("Parcelle A", "Parcelle B", "Jardin")] == response.json()["plots"]
    a = plots["Parcelle A"]
    assert a.farmer == members[0] and a.established_on == datetime.date(2012, 3, 1)
    assert a.area_hectares == pytest.approx(Decimal("1.2256"), abs=Decimal("0.002"))  # measured on the ellipsoid
    assert a.geometry == polygon(0) and str(a.country) == "CI"
    assert plots["Parcelle B"].area_hectares == Decimal("1.2256")
    assert plots["Jardin"].geometry["type"] == "Point" and plots["Jardin"].area_hectares == Decimal("0.8000")


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <Placemark><name>Parcelle K1</name>
    <ExtendedData><Data name="member_number"><value>NAW-001</value></Data></ExtendedData>
    <Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon>
  </Placemark>
  <Placemark><name>Parcelle K2</name>
    <ExtendedData><SchemaData schemaUrl="#plots"><SimpleData name="member_number">NAW-002</SimpleData>
      <SimpleData name="area_hectares">0.5</SimpleData></SchemaData></ExtendedData>
    <Point><coordinates>-6.5712345,5.7701234,0</coordinates></Point>
  </Placemark>
</Document></kml>"""


def kml_ring(i: int = 0) -> str:
    return " ".join(f"{x},{y},0" for x, y in ring(BASE_LON + i * 0.002, BASE_LAT))


def test_a_kml_file_creates_every_plot(upload, coop, members):
    response = upload(KML.format(ring=kml_ring()).encode(), name="plots.kml")
    assert response.status_code == 201, response.json()
    plots = {plot.name: plot for plot in Plot.objects.filter(organisation=coop)}
    assert set(plots) == {"Parcelle K1", "Parcelle K2"}
    assert plots["Parcelle K1"].farmer == members[0] and plots["Parcelle K1"].geometry == polygon(0)
    assert plots["Parcelle K2"].geometry == {"type": "Point", "coordinates": [-6.5712345, 5.7701234]}


BOWTIE = {"type": "Polygon", "coordinates": [[[-6.6012345, 5.7801234], [-6.5992345, 5.7821234],
                                              [-6.5992345, 5.7801234], [-6.6012345, 5.7821234],
                                              [-6.6012345, 5.7801234]]]}  # fmt: skip
UTM = {"type": "Polygon", "coordinates": [[[500000.5, 640000.5], [500100.5, 640000.5], [500100.5, 640100.5],
                                           [500000.5, 640000.5]]]}  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            feature(
                {"type": "LineString", "coordinates": ring(BASE_LON, BASE_LAT)}, member_number="NAW-002", name="Line"
            ),
            "GEOMETRY_TYPE",
        ),
        (feature(BOWTIE, member_number="NAW-002", name="Bowtie"), "POLYGON_SELF_INTERSECTION"),
        (feature(UTM, member_number="NAW-002", name="Projected"), "COORDINATE_OUT_OF_RANGE"),
        (
            feature(
                {"type": "Polygon", "coordinates": [ring(BASE_LON, BASE_LAT)[:-1]]},
                member_number="NAW-002",
                name="Open",
            ),
            "POLYGON_NOT_CLOSED",
        ),
        (feature(polygon(3), member_number="NAW-999", name="Nobody's"), "has the member number 'NAW-999'"),
        (feature(polygon(3), name="Whose"), "member_number property is missing"),
        (feature(polygon(3), member_number="NAW-002"), "name property is missing"),
        (
            feature({"type": "Point", "coordinates": [-6.5712345, 5.7701234]}, member_number="NAW-002", name="P"),
            "A point needs its area",
        ),
        (feature(polygon(3), member_number="NAW-002", name="Late", established_on="01/02/2015"), "YYYY-MM-DD"),
        (feature(polygon(3), member_number="NAW-002", name="Where", country="Ivory Coast"), "ISO 3166-1"),
        (feature(polygon(0), member_number="NAW-002", name="Copy"), "exactly the same geometry"),
        (feature(polygon(3), member_number="NAW-001", name="Parcelle A"), "already gives member NAW-001"),
        ({"type": "Polygon", "coordinates": []}, "not a GeoJSON Feature"),
    ],
)
def test_one_bad_feature_rejects_the_whole_file_and_is_named(upload, coop, members, bad, expected):
    good = feature(polygon(0), member_number="NAW-001", name="Parcelle A")
    response = upload(collection(good, bad))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_features"
    assert [item["feature"] for item in error["features"]] == [1]
    assert any(expected in message for message in error["features"][0]["errors"]), error
    assert error["message"].startswith("1 feature of the file has errors, so no plot was imported.")
    assert not Plot.objects.filter(organisation=coop).exists()


def test_a_plot_the_member_already_has_is_a_duplicate(upload, coop, members):
    assert upload(collection(feature(polygon(0), member_number="NAW-001", name="Parcelle A"))).status_code == 201
    response = upload(collection(feature(polygon(1), member_number="NAW-001", name="Parcelle A")))
    assert response.status_code == 400
    assert "already has a plot named 'Parcelle A'" in response.json()["error"]["features"][0]["errors"][0]
    assert Plot.objects.filter(organisation=coop).count() == 1


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&secret;</name></Placemark></kml>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<kml><Placemark><name>&lol2;</name></Placemark></kml>"""


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b'{"type": "FeatureCollection", "features": [', "plots.geojson", "not valid JSON"),
        (b'{"type": "FeatureCollection", "features": [{"a": NaN}]}', "plots.geojson", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "plots.geojson", "not UTF-8"),
        (b'{"type": "Feature"}', "plots.geojson", "must be a GeoJSON FeatureCollection"),
        (b'{"type": "FeatureCollection", "features": []}', "plots.geojson", "holds no feature"),
        (b"<kml><Placemark><name>open", "plots.kml", "not well-formed XML"),
        (b"<gpx></gpx>", "plots.kml", "root element must be <kml>"),
        (XXE, "plots.kml", "DTD"),
        (LAUGHS, "plots.kml", "DTD"),
        (b"   ", "plots.geojson", "empty"),
        (
            collection(
                feature(polygon(0), member_number="NAW-001", name="A"),
                crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32630"}},
            ),
            "plots.geojson",
            "EPSG::32630; plots need WGS84",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_message(upload, coop, members, data, name, expected):
    response = upload(data, name=name)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_file", error
    assert expected in json.dumps(error), error
    assert not Plot.objects.filter(organisation=coop).exists()


def test_size_and_feature_count_are_bounded(upload, settings, coop, members):
    settings.PLOT_IMPORT_MAX_FEATURES = 2
    features = [feature(polygon(i), member_number="NAW-001", name=f"P{i}") for i in range(3)]
    response = upload(collection(*features))
    assert response.status_code == 400 and "at most 2 per file" in response.json()["error"]["message"]
    assert upload(collection(*features[:2])).status_code == 201
    settings.PLOT_IMPORT_MAX_BYTES = 1000
    response = upload(collection(feature(polygon(5), member_number="NAW-001", name="Big", note="x" * 2000)))
    assert response.status_code == 400 and "at most 1,000 are accepted" in response.json()["error"]["message"]
    assert Plot.objects.filter(organisation=coop).count() == 2


def test_roles_and_isolation(upload, coop, members):
    viewer = MembershipFactory(organisation=coop, role=Role.VIEWER).user
    data = collection(feature(polygon(0), member_number="NAW-001", name="Parcelle A"))
    assert upload(data, user=viewer).status_code == 403
    other = OrganisationFactory(country="CI")
    stranger = MembershipFactory(organisation=other, role=Role.MANAGER).user
    assert upload(data, user=stranger).status_code == 404  # names the first cooperative
    # The other cooperative's own import cannot reach our members by their numbers.
    response = upload(data, user=stranger, organisation=other)
    assert response.status_code == 400 and "has the member number 'NAW-001'" in json.dumps(response.json())
    assert not Plot.objects.exists()


def test_the_page_imports_a_file_and_lists_the_features_to_correct(client, clerk, coop, members):
    client.force_login(clerk)
    url = reverse("plot-import")
    assert client.get(url).status_code == 200
    bad = collection(feature(polygon(0), member_number="NAW-001", name="Parcelle A"),
                     feature(BOWTIE, member_number="NAW-002", name="Bowtie"))  # fmt: skip
    response = client.post(url, {"file": SimpleUploadedFile("plots.geojson", bad)})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-feature="1"' in page and "POLYGON_SELF_INTERSECTION" in page and "Bowtie" in page
    assert not Plot.objects.exists()
    good = collection(feature(polygon(0), member_number="NAW-001", name="Parcelle A"))
    response = client.post(url, {"file": SimpleUploadedFile("plots.geojson", good)})
    assert response.status_code == 302 and response.url == reverse("member-list")
    assert Plot.objects.filter(organisation=coop).count() == 1
    viewer = MembershipFactory(organisation=coop, role=Role.VIEWER).user
    client.force_login(viewer)
    assert client.get(url).status_code == 403
