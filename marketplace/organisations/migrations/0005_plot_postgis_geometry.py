"""Plot geometry in PostGIS when the server has it: a `geom` column kept in step with the GeoJSON by a trigger,
and a GiST index (see `marketplace.organisations.spatial`). Without PostGIS this does nothing and the overlap
checks run in Python; `manage.py plots_spatial_setup` adds the column later once PostGIS is installed."""

from django.db import migrations


def forward(apps, schema_editor):
    from marketplace.organisations.spatial import forget_backend, spatial_setup

    with schema_editor.connection.cursor() as cursor:
        spatial_setup(cursor)
    forget_backend()


def backward(apps, schema_editor):
    from marketplace.organisations.spatial import TABLE, forget_backend

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_geom_sync ON {TABLE}")
        cursor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_geom_sync()")
        cursor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS geom")
    forget_backend()


class Migration(migrations.Migration):
    dependencies = [("organisations", "0004_memberfarmer_language")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
