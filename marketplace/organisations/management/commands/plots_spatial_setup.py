"""Add the PostGIS geometry column, its trigger and GiST index to the plot table once PostGIS is installed."""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from marketplace.organisations.spatial import backend, forget_backend, spatial_setup


class Command(BaseCommand):
    help = "Set up PostGIS for plots (idempotent); without PostGIS the overlap checks keep running in Python."

    def handle(self, *args, **options):
        with transaction.atomic(), connection.cursor() as cursor:
            done = spatial_setup(cursor)
        forget_backend()
        if done:
            self.stdout.write(f"PostGIS is set up for plots; overlap checks use {backend()}.")
        else:
            self.stdout.write("This PostgreSQL server has no PostGIS; overlap checks run in Python (shapely).")
