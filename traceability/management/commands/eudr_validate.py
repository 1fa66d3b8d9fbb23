import json
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from traceability.eudr import MAX_FILE_BYTES, feature_collection_check, issues_by_feature


class Command(BaseCommand):
    help = (
        "Check a GeoJSON file against the European Commission's EUDR geolocation rules. Prints one line per "
        "invalid feature (its index, id and the rules it breaks) and exits with status 1 if any is invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A GeoJSON FeatureCollection.")
        parser.add_argument("--cattle", action="store_true", help="The commodity is cattle (points over 4 ha allowed).")

    def handle(self, *args, file, cattle=False, **options):
        path = Path(file)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        if len(raw) > MAX_FILE_BYTES:
            raise CommandError(f"FILE_TOO_LARGE: the file is over {MAX_FILE_BYTES // (1024 * 1024)} MB.")
        try:
            # Decimals keep the digits as written, trailing zeros included, for the 6-decimal rule.
            data = json.loads(raw.decode("utf-8-sig"), parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"NOT_FEATURE_COLLECTION: {file} is not JSON ({error}).") from None
        issues = feature_collection_check(data, cattle=cattle)
        grouped = issues_by_feature(issues)
        for index, feature_issues in sorted(grouped.items(), key=lambda item: -1 if item[0] is None else item[0]):
            where = "file" if index is None else f"feature {index}"
            feature_id = feature_issues[0].feature_id
            if feature_id:
                where += f" (id {feature_id})"
            rules = "; ".join(f"{issue.rule}: {issue.message}" for issue in feature_issues)
            self.stdout.write(f"{where}: {rules}")
        total = (
            len(data.get("features", [])) if isinstance(data, dict) and data.get("type") == "FeatureCollection" else 1
        )
        if grouped:
            raise CommandError(f"{len(grouped)} of {total} feature(s) would be refused.")
        self.stdout.write(self.style.SUCCESS(f"OK: all {total} feature(s) pass the EUDR geolocation rules."))
