"""Verify the ledger's invariants; exit non-zero naming every offender."""

from django.core.management.base import BaseCommand, CommandError

from payments.services.checks import ledger_check_run


class Command(BaseCommand):
    help = (
        "Check that every transaction balances, stored balances match the entries, no escrow or payable is "
        "negative, and each order's escrow equals what was paid minus what was released, refunded and charged back."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="Check only what changed since the last stored check (as the nightly task does); without it "
            "everything is checked. Either way the result is stored for the operator's ledger page.",
        )

    def handle(self, *args, incremental=False, **options):
        problems = ledger_check_run(full=not incremental)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"The ledger has {len(problems)} problem(s).")
        self.stdout.write(self.style.SUCCESS("The ledger is consistent."))
