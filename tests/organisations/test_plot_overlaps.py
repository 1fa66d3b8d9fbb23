"""Overlapping plots of different members of a cooperative: PostGIS (the `geom` column, its trigger and GiST index)
and the shapely fallback give the same answers; touching is not overlapping; points; pages, API and isolation."""

import os
import random

import pytest
from django.db import connection
from django.urls import reverse

from marketplace.organisations import spatial
from marketplace.organisations.roles import Role
from marketplace.organisations.selectors import plot_overlap_list
from tests.factories import MemberFarmerFactory, MembershipFactory, OrganisationFactory, PlotFactory

pytestmark = pytest.mark.django_db
CELL = 0.001  # about 111 m: a square of 1.2 ha near the equator


def square(lon: float, lat: float, size: float = CELL) -> dict:
    corners = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size), (lon, lat)]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in corners]]}


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}


@pytest.fixture(params=["postgis", "shapely"])
def backend(request, settings):
    """Each test runs on both paths. The PostGIS run needs the extension; CI sets REQUIRE_POSTGIS=1 so a missing
    PostGIS fails instead of skipping."""
    spatial.forget_backend()
    if request.param == "shapely":
        settings.PLOT_SPATIAL_BACKEND = "shapely"
    else:
        settings.PLOT_SPATIAL_BACKEND = "auto"
        if spatial.backend() != "postgis":
            if os.environ.get("REQUIRE_POSTGIS") == "1":
                pytest.fail("PostGIS is required (REQUIRE_POSTGIS=1) but the plot table has no geom column.")
            pytest.skip("this PostgreSQL has no PostGIS")
    assert spatial.backend() == request.param
    yield request.param
    spatial.forget_backend()


@pytest.fixture
def coop():
    return OrganisationFactory()


@pytest.fixture
def ama(coop):
    return MemberFarmerFactory(organisation=coop, member_number="M-001", name="Ama")


@pytest.fixture
def kofi(coop):
    return MemberFarmerFactory(organisation=coop, member_number="M-002", name="Kofi")


def pairs(coop, plot_ids=None):
    return {
        (o.plot_id, o.other_plot_id, o.kind) for o in spatial.plot_overlaps(organisation_id=coop.pk, plot_ids=plot_ids)
    }


def test_overlapping_polygons_of_two_members_are_flagged_from_both_sides(backend, coop, ama, kofi):
    a = PlotFactory(farmer=ama, geometry=square(-6.6, 5.78))
    b = PlotFactory(farmer=kofi, geometry=square(-6.6 + CELL / 2, 5.78))  # half of each square is shared
    far = PlotFactory(farmer=kofi, geometry=square(-6.5, 5.78))
    assert pairs(coop) == {(a.pk, b.pk, "area"), (b.pk, a.pk, "area")}
    found = spatial.plot_overlaps(organisation_id=coop.pk, plot_ids=[a.pk])
    assert [(o.plot_id, o.other_plot_id, o.other_farmer_id) for o in found] == [(a.pk, b.pk, kofi.pk)]
    assert found[0].share == pytest.approx(0.5, rel=1e-3)
    assert found[0].hectares == pytest.approx(0.6125, rel=0.01)  # half of 111 m x 110 m at 5.78 N
    assert pairs(coop, [far.pk]) == set()


def test_touching_plots_and_slivers_under_the_tolerance_are_not_flagged(backend, coop, ama, kofi):
    PlotFactory(farmer=ama, geometry=square(-6.6, 5.78))
    PlotFactory(farmer=kofi, geometry=square(-6.6 + CELL, 5.78))  # shares the east edge
    PlotFactory(farmer=kofi, geometry=square(-6.6 + CELL, 5.78 + CELL))  # touches at one corner
    sliver = PlotFactory(farmer=kofi, geometry=square(-6.6 - CELL + CELL * 0.005, 5.78 - CELL * 0.5))
    assert pairs(coop) == set()
    # A wider overlap of the same neighbour is flagged: the tolerance, not the geometry, kept the sliver out.
    type(sliver).objects.filter(pk=sliver.pk).update(geometry=square(-6.6 - CELL + CELL * 0.05, 5.78 - CELL * 0.5))
    assert {kind for *_, kind in pairs(coop)} == {"area"}


def test_plots_of_the_same_member_and_of_another_cooperative_are_not_compared(backend, coop, ama):
    PlotFactory(farmer=ama, geometry=square(-6.6, 5.78))
    PlotFactory(farmer=ama, geometry=square(-6.6, 5.78))
    elsewhere = MemberFarmerFactory(organisation=OrganisationFactory())
    foreign = PlotFactory(farmer=elsewhere, geometry=square(-6.6, 5.78))
    assert pairs(coop) == set()
    assert pairs(foreign.organisation) == set()


def test_points_inside_a_polygon_or_at_the_same_place_are_flagged(backend, coop, ama, kofi):
    field = PlotFactory(farmer=ama, geometry=square(-6.6, 5.78))
    inside = PlotFactory(farmer=kofi, geometry=point(-6.6 + CELL / 2, 5.78 + CELL / 2), area_hectares="0.5")
    outside = PlotFactory(farmer=kofi, geometry=point(-6.59, 5.79), area_hectares="0.5")
    twin = PlotFactory(farmer=ama, geometry=point(-6.59 + 0.00003, 5.79), area_hectares="0.5")  # about 3 m away
    PlotFactory(farmer=ama, geometry=point(-6.58, 5.79), area_hectares="0.5")  # 1 km from any other
    assert pairs(coop) == {
        (field.pk, inside.pk, "point_in_plot"),
        (inside.pk, field.pk, "point_in_plot"),
        (outside.pk, twin.pk, "same_point"),
        (twin.pk, outside.pk, "same_point"),
    }


def test_features_bad_geometry_and_multipolygons(backend, coop, ama, kofi):
    a = PlotFactory(farmer=ama, geometry={"type": "Feature", "properties": {}, "geometry": square(-6.6, 5.78)})
    parts = [square(-6.7, 5.78)["coordinates"], square(-6.6 + CELL / 2, 5.78)["coordinates"]]
    b = PlotFactory(farmer=kofi, geometry={"type": "MultiPolygon", "coordinates": parts})
    PlotFactory(farmer=kofi, geometry={"type": "Polygon", "coordinates": "not numbers"})
    PlotFactory(farmer=kofi, geometry=None)
    assert pairs(coop) == {(a.pk, b.pk, "area"), (b.pk, a.pk, "area")}


def require_postgis():
    spatial.forget_backend()
    if spatial.backend() != "postgis":
        if os.environ.get("REQUIRE_POSTGIS") == "1":
            pytest.fail("PostGIS is required (REQUIRE_POSTGIS=1) but the plot table has no geom column.")
        pytest.skip("this PostgreSQL has no PostGIS")


def test_the_geometry_column_follows_every_change_of_the_geojson(coop, ama, kofi):
    require_postgis()
    a = PlotFactory(farmer=ama, geometry=square(-6.6, 5.78))
    b = PlotFactory(farmer=kofi, geometry=square(-6.6, 5.78))
    assert len(pairs(coop)) == 2
    type(b).objects.filter(pk=b.pk).update(geometry=square(-6.0, 5.78))  # moved away: the trigger follows
    assert pairs(coop) == set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom)) FROM organisations_plot WHERE id = %s",
                       [b.pk])  # fmt: skip
        assert cursor.fetchone() == (pytest.approx(-5.9995), pytest.approx(5.7805))
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'organisations_plot_geom_gist'")
        assert "gist (geom)" in cursor.fetchone()[0]
    type(a).objects.filter(pk=a.pk).update(geometry=None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT geom IS NULL FROM organisations_plot WHERE id = %s", [a.pk])
        assert cursor.fetchone()[0] is True


def test_both_paths_agree_on_a_random_field_of_plots(settings, coop):
    require_postgis()
    rng = random.Random(15)
    members = [MemberFarmerFactory(organisation=coop) for _ in range(8)]
    for _ in range(120):
        lon, lat = -6.6 + rng.random() * 0.02, 5.78 + rng.random() * 0.02
        if rng.random() < 0.3:
            PlotFactory(farmer=rng.choice(members), geometry=point(lon, lat), area_hectares="0.5")
        else:
            PlotFactory(farmer=rng.choice(members), geometry=square(lon, lat, CELL * rng.uniform(0.5, 2)))
    with_postgis = spatial.plot_overlaps(organisation_id=coop.pk)
    settings.PLOT_SPATIAL_BACKEND = "shapely"
    with_shapely = spatial.plot_overlaps(organisation_id=coop.pk)
    assert [(o.plot_id, o.other_plot_id, o.kind) for o in with_postgis] == [
        (o.plot_id, o.other_plot_id, o.kind) for o in with_shapely
    ]
    assert len(with_postgis) > 10
    for left, right in zip(with_postgis, with_shapely, strict=True):
        assert left.share == pytest.approx(right.share, rel=1e-6)
        assert left.hectares == pytest.approx(right.hectares, rel=0.01)


# --- Pages and API ---------------------------------------------------------------------------


@pytest.fixture
def overlapping(coop, ama, kofi):
    a = PlotFactory(farmer=ama, name="Parcelle Ama", geometry=square(-6.6, 5.78))
    b = PlotFactory(farmer=kofi, name="Parcelle Kofi", geometry=square(-6.6 + CELL / 2, 5.78))
    return a, b


def test_the_api_lists_overlaps_of_a_plot_and_of_a_cooperative(backend, as_user, coop, overlapping):
    a, b = overlapping
    clerk = MembershipFactory(organisation=coop, role=Role.CLERK).user
    client = as_user(clerk)
    response = client.get(reverse("api-plot-overlaps", args=[a.pk]))
    assert response.status_code == 200
    assert response.json() == [
        {
            "plot": a.pk,
            "plot_name": "Parcelle Ama",
            "member_number": "M-001",
            "other_plot": b.pk,
            "other_plot_name": "Parcelle Kofi",
            "other_member_number": "M-002",
            "other_member_name": "Kofi",
            "kind": "area",
            "share": pytest.approx(0.5, rel=1e-3),
            "hectares": pytest.approx(0.6125, rel=0.01),
        }
    ]
    listing = client.get(reverse("api-organisation-plot-overlaps", args=[coop.pk]))
    assert listing.status_code == 200
    assert {(row["plot"], row["other_plot"]) for row in listing.json()} == {(a.pk, b.pk), (b.pk, a.pk)}


def test_another_cooperative_sees_none_of_it(backend, as_user, coop, overlapping, django_assert_max_num_queries):
    a, _ = overlapping
    stranger = MembershipFactory(organisation=OrganisationFactory(), role=Role.MANAGER).user
    client = as_user(stranger)
    assert client.get(reverse("api-plot-overlaps", args=[a.pk])).status_code == 404
    assert client.get(reverse("api-organisation-plot-overlaps", args=[coop.pk])).status_code == 404
    manager = MembershipFactory(organisation=coop, role=Role.MANAGER).user
    with django_assert_max_num_queries(6):
        rows = plot_overlap_list(viewer=manager, organisation_id=coop.pk)
    assert len(rows) == 2


def test_the_member_and_plot_pages_show_the_overlap(backend, client, coop, ama, overlapping):
    a, b = overlapping
    manager = MembershipFactory(organisation=coop, role=Role.MANAGER).user
    client.force_login(manager)
    page = client.get(reverse("member-detail", args=[ama.pk])).content.decode()
    assert "Overlaps with other members&#x27; plots" in page or "Overlaps with other members' plots" in page
    assert "Parcelle Ama overlaps Parcelle Kofi of member M-002 Kofi" in page
    assert "50 % of the smaller plot" in page
    edit = client.get(reverse("plot-edit", args=[ama.pk, a.pk])).content.decode()
    assert f'data-overlap="{a.pk}-{b.pk}"' in edit
    client.cookies.load({"django_language": "fr"})
    french = client.get(reverse("member-detail", args=[ama.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "chevauche" in french
