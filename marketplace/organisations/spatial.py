"""Plot geometry at scale: PostGIS when the database has it, shapely in Python when not.

The GeoJSON in `Plot.geometry` stays the source of truth. When the `postgis` extension is available,
`spatial_setup` (run by migration 0005 and by `manage.py plots_spatial_setup`) adds a `geom geometry(Geometry, 4326)`
column to the plot table, a trigger that fills it from the GeoJSON on every insert and update (made valid; NULL when
the GeoJSON cannot be read), and a GiST index on it. Django never reads or writes that column (it is not a model
field, so GeoDjango and GDAL are not needed); the overlap query below uses it with `ST_Intersects` and `ST_Area`.
Without PostGIS (the embedded demo server from `pgserver`), or with `PLOT_SPATIAL_BACKEND = "shapely"`, the same
rules run in Python over an STRtree.

Overlap rules (the same on both paths), between plots of DIFFERENT members of the SAME cooperative (plots of other
cooperatives are not compared: a cooperative may not see another's members' land):

* two polygons overlap when the shared area is more than `PLOT_OVERLAP_MIN_SHARE` (1 % by default) of the smaller
  plot's area, so plots that only touch along an edge or at a corner, or that differ by a digitising sliver, are
  not flagged;
* a point (the EUDR allows a point for a plot under 4 ha) overlaps a polygon it lies in or on;
* two points overlap when they are within `PLOT_POINT_MIN_METRES` (10 m) of each other: the same place declared
  by two members.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from pyproj import Geod
from shapely import STRtree
from shapely.geometry import shape
from shapely.validation import make_valid

_GEOD = Geod(ellps="WGS84")
TABLE = "organisations_plot"

SETUP_SQL = [
    "CREATE EXTENSION IF NOT EXISTS postgis",
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS geom geometry(Geometry, 4326)",
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_geom_sync() RETURNS trigger AS $$
    DECLARE
        g jsonb := NEW.geometry;
        shaped geometry;
    BEGIN
        IF g IS NOT NULL AND jsonb_typeof(g) = 'object' AND g->>'type' = 'Feature' THEN
            g := g->'geometry';
        END IF;
        IF g IS NULL OR jsonb_typeof(g) <> 'object' THEN
            NEW.geom := NULL;
            RETURN NEW;
        END IF;
        BEGIN
            shaped := ST_MakeValid(ST_SetSRID(ST_GeomFromGeoJSON(g::text), 4326));
            IF ST_Dimension(shaped) = 2 OR GeometryType(shaped) = 'GEOMETRYCOLLECTION' THEN
                shaped := ST_CollectionExtract(shaped, 3);
            END IF;
            NEW.geom := shaped;
        EXCEPTION WHEN OTHERS THEN
            NEW.geom := NULL;
        END;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    f"DROP TRIGGER IF EXISTS {TABLE}_geom_sync ON {TABLE}",
    f"""CREATE TRIGGER {TABLE}_geom_sync BEFORE INSERT OR UPDATE OF geometry ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_geom_sync()""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_geom_gist ON {TABLE} USING gist (geom)",
    # Fill the column for the plots that existed before (the trigger fires on UPDATE OF geometry).
    f"UPDATE {TABLE} SET geometry = geometry WHERE geometry IS NOT NULL",  # noqa: S608 - a constant table name
]


def postgis_available(cursor) -> bool:
    """Whether the server can install the postgis extension (the packages are there)."""
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')")
    return bool(cursor.fetchone()[0])


def spatial_setup(cursor) -> bool:
    """Create the extension, the geometry column, its trigger and index, when the server has PostGIS.
    Idempotent. Returns whether the spatial column is in place."""
    if not postgis_available(cursor):
        return False
    for statement in SETUP_SQL:
        cursor.execute(statement)
    return True


def _column_present() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND column_name = 'geom')",
            [TABLE],
        )
        return bool(cursor.fetchone()[0])


_PRESENT: dict[str, bool] = {}


def backend() -> str:
    """ "postgis" when the plot table has its spatial column and the setting allows it, else "shapely"."""
    if getattr(settings, "PLOT_SPATIAL_BACKEND", "auto") == "shapely":
        return "shapely"
    name = connection.settings_dict["NAME"]
    if name not in _PRESENT:
        _PRESENT[name] = _column_present()
    return "postgis" if _PRESENT[name] else "shapely"


def forget_backend() -> None:
    """Forget what `backend` found (after `spatial_setup` ran on a live database)."""
    _PRESENT.clear()


@dataclass(frozen=True)
class Overlap:
    """One plot overlapping another member's plot. `kind` is "area" (two polygons share more than the tolerance),
    "point_in_plot" (a point lies in another member's polygon) or "same_point" (two members' points within the
    distance); `share` is the shared area over the smaller plot's area (1 for points); `hectares` the shared area."""

    plot_id: int
    other_plot_id: int
    other_farmer_id: int
    kind: str
    share: float
    hectares: float


def _geometry_of(value):
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict):
        return None
    try:
        figure = make_valid(shape(value))
    except Exception:
        return None
    if figure.is_empty:
        return None
    if figure.geom_type == "GeometryCollection":
        polygons = [part for part in figure.geoms if part.geom_type in ("Polygon", "MultiPolygon")]
        if not polygons:
            return None
        from shapely.ops import unary_union

        figure = unary_union(polygons)
    return figure


def _is_area(figure) -> bool:
    return figure.geom_type in ("Polygon", "MultiPolygon")


def _geodesic_hectares(figure) -> float:
    if figure is None or figure.is_empty or not _is_area(figure):
        return 0.0
    area, _ = _GEOD.geometry_area_perimeter(figure)
    return abs(area) / 10_000


def _points_within(a, b, metres: float) -> bool:
    for p in getattr(a, "geoms", [a]):
        for q in getattr(b, "geoms", [b]):
            _, _, distance = _GEOD.inv(p.x, p.y, q.x, q.y)
            if distance <= metres:
                return True
    return False


def _pair(a, b, share_min: float, metres: float) -> tuple[str, float, float] | None:
    """(kind, share, hectares) when two figures overlap by the rules above, else None."""
    if _is_area(a) and _is_area(b):
        shared = a.intersection(b)
        smaller = min(a.area, b.area)
        if smaller <= 0 or shared.is_empty:
            return None
        share = shared.area / smaller
        if share <= share_min:
            return None
        return "area", share, _geodesic_hectares(shared)
    if _is_area(a) or _is_area(b):
        return ("point_in_plot", 1.0, 0.0) if a.intersects(b) else None
    return ("same_point", 1.0, 0.0) if _points_within(a, b, metres) else None


def _overlaps_shapely(organisation_id: int, plot_ids: list[int] | None) -> list[Overlap]:
    from marketplace.organisations.models import Plot

    rows = list(
        Plot.objects.filter(organisation_id=organisation_id, geometry__isnull=False).values_list(
            "pk", "farmer_id", "geometry"
        )
    )
    items = [(pk, farmer, figure) for pk, farmer, geometry in rows if (figure := _geometry_of(geometry)) is not None]
    if not items:
        return []
    tree = STRtree([figure for _, _, figure in items])
    wanted = None if plot_ids is None else set(plot_ids)
    share_min, metres = _settings()
    # A margin in degrees around points, wide enough for the distance rule at any latitude under 80 degrees.
    margin = metres / 111_320 / math.cos(math.radians(80))
    found: list[Overlap] = []
    for index, (pk, farmer, figure) in enumerate(items):
        if wanted is not None and pk not in wanted:
            continue
        probe = figure if _is_area(figure) else figure.buffer(margin)
        for other in tree.query(probe, predicate="intersects"):
            other_pk, other_farmer, other_figure = items[int(other)]
            if int(other) == index or other_farmer == farmer:
                continue
            result = _pair(figure, other_figure, share_min, metres)
            if result is not None:
                found.append(Overlap(pk, other_pk, other_farmer, *result))
    return sorted(found, key=lambda o: (o.plot_id, o.other_plot_id))


_POSTGIS_SQL = f"""
SELECT a.id, b.id, b.farmer_id,
       ST_Dimension(a.geom) = 2 AND ST_Dimension(b.geom) = 2 AS areas,
       CASE WHEN ST_Dimension(a.geom) = 2 AND ST_Dimension(b.geom) = 2
            THEN ST_Area(ST_Intersection(a.geom, b.geom)) / NULLIF(LEAST(ST_Area(a.geom), ST_Area(b.geom)), 0)
       END AS share,
       CASE WHEN ST_Dimension(a.geom) = 2 AND ST_Dimension(b.geom) = 2
            THEN ST_Area(ST_Intersection(a.geom, b.geom)::geography) / 10000
       END AS hectares,
       ST_Dimension(a.geom) = 0 AND ST_Dimension(b.geom) = 0 AS points,
       ST_Intersects(a.geom, b.geom) AS touching
FROM {TABLE} a
JOIN {TABLE} b
  ON b.organisation_id = a.organisation_id AND b.farmer_id <> a.farmer_id AND b.id <> a.id
 AND b.geom && ST_Expand(a.geom, %(margin)s)
WHERE a.organisation_id = %(organisation)s AND a.geom IS NOT NULL
  AND (%(all)s OR a.id = ANY(%(plots)s::bigint[]))
  AND (
        (ST_Dimension(a.geom) = 2 AND ST_Dimension(b.geom) = 2 AND ST_Intersects(a.geom, b.geom))
     OR (ST_Dimension(a.geom) + ST_Dimension(b.geom) = 2 AND ST_Intersects(a.geom, b.geom))
     OR (ST_Dimension(a.geom) = 0 AND ST_Dimension(b.geom) = 0
         AND ST_DWithin(a.geom::geography, b.geom::geography, %(metres)s))
  )
ORDER BY a.id, b.id
"""  # noqa: S608 - the table name is a constant


def _overlaps_postgis(organisation_id: int, plot_ids: list[int] | None) -> list[Overlap]:
    share_min, metres = _settings()
    params = {
        "organisation": organisation_id,
        "all": plot_ids is None,
        "plots": list(plot_ids or []),
        "metres": metres,
        "margin": metres / 111_320 / math.cos(math.radians(80)),
    }
    with connection.cursor() as cursor:
        cursor.execute(_POSTGIS_SQL, params)
        rows = cursor.fetchall()
    found = []
    for pk, other, other_farmer, areas, share, hectares, points, _touching in rows:
        if areas:
            if share is None or share <= share_min:
                continue
            found.append(Overlap(pk, other, other_farmer, "area", float(share), float(hectares or 0)))
        else:
            found.append(Overlap(pk, other, other_farmer, "same_point" if points else "point_in_plot", 1.0, 0.0))
    return found


def _settings() -> tuple[float, float]:
    return (
        float(getattr(settings, "PLOT_OVERLAP_MIN_SHARE", 0.01)),
        float(getattr(settings, "PLOT_POINT_MIN_METRES", 10.0)),
    )


def plot_overlaps(*, organisation_id: int, plot_ids: Iterable[int] | None = None) -> list[Overlap]:
    """Overlaps of the cooperative's plots (or only of `plot_ids`) with other members' plots of the cooperative,
    each pair listed from both sides when both plots are asked for. No viewer check: callers are selectors."""
    ids = None if plot_ids is None else sorted(set(plot_ids))
    if ids is not None and not ids:
        return []
    if backend() == "postgis":
        return _overlaps_postgis(organisation_id, ids)
    return _overlaps_shapely(organisation_id, ids)
