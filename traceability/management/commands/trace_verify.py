from django.core.management.base import BaseCommand, CommandError

from traceability.chain import chains_verify


class Command(BaseCommand):
    help = (
        "Recompute every organisation's event hash chain and report the first broken link of each. "
        "Exits with status 1 if any chain is broken."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--organisation", type=int, action="append", dest="organisations", help="Check only this organisation."
        )

    def handle(self, *args, organisations=None, **options):
        report = chains_verify(organisation_ids=organisations)
        for chain_break in report.breaks:
            self.stderr.write(f"BROKEN {chain_break}")
        summary = f"{report.chains} chain(s), {report.events} event(s) checked"
        if not report.ok:
            raise CommandError(f"{len(report.breaks)} broken chain(s); {summary}.")
        self.stdout.write(self.style.SUCCESS(f"OK: {summary}; every link holds."))
