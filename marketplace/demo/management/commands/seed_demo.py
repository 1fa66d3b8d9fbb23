"""Fill the database with the demo: organisations, accounts, member farmers, plots and whatever later apps add.

Each app's demo data lives in `marketplace/demo/<app>.py` as a `seed(*, stdout)` function. They run in layer
order, each in its own transaction, and each is idempotent: a second run finds everything and adds nothing.
"""

import importlib
import importlib.util

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# Lowest layer first: a seeder may rely on the data of the seeders before it.
SEEDERS = [
    "marketplace.demo.organisations",
    "marketplace.demo.traceability",
    "marketplace.demo.catalogue",
    "marketplace.demo.orders",
    "marketplace.demo.payments",
    "marketplace.demo.group_orders",
    # before payouts: its completed maize orders are released on commit, and the payouts demo pays them out once
    "marketplace.demo.market",
    "marketplace.demo.payouts",
    "marketplace.demo.matching",
    "marketplace.demo.decisions",
    "marketplace.demo.channels",
]


def available_seeders() -> list[str]:
    """The seeder modules that exist in this checkout (later apps add theirs as they land)."""
    return [name for name in SEEDERS if importlib.util.find_spec(name) is not None]


class Command(BaseCommand):
    help = "Create the demo data (idempotent: running it again changes nothing). Every demo password is in README.md."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even though DEBUG is off. The demo accounts share one published password.",
        )

    def handle(self, *args, allow_production: bool = False, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "DEBUG is off, so this looks like a production database. The demo accounts share a published "
                "password; pass --allow-production if you really want them here."
            )
        for name in available_seeders():
            module = importlib.import_module(name)
            with transaction.atomic():
                module.seed(stdout=self.stdout)

        from marketplace.demo.organisations import demo_accounts

        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in with any of these accounts:"))
        rows = demo_accounts()
        width = max(len(row["email"]) for row in rows)
        for row in rows:
            self.stdout.write(f"  {row['email']:<{width}}  {row['password']}  {row['organisation']} ({row['role']})")
