"""The matching engine alone, with no database: `manage.py match_instance FILE [--method optimal|greedy]`."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from marketplace.matching import engine


class Command(BaseCommand):
    help = (
        "Solve a matching instance (JSON) and print {objective, seconds, allocations}. "
        "FILE '-' reads standard input. No database is used."
    )
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("file", help="the instance (JSON); '-' for standard input")
        parser.add_argument("--method", choices=["optimal", "greedy"], default="optimal")

    def handle(self, *args, **options):
        try:
            if options["file"] == "-":
                data = json.load(sys.stdin)
            else:
                with open(options["file"], encoding="utf-8") as handle:
                    data = json.load(handle)
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error.strerror}.") from None
        except json.JSONDecodeError as error:
            raise CommandError(f"{options['file']} is not JSON: {error}.") from None
        try:
            instance = engine.load_instance(data)
            result = engine.solve(instance, method=options["method"])
        except engine.InstanceError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(json.dumps(result.as_dict()))
