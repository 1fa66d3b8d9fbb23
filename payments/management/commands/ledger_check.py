"""Verify the ledger's invariants; exit non-zero naming every offender."""

from django.core.management.base import BaseCommand, CommandError

from payments.selectors import ledger_problems


class Command(BaseCommand):
    help = (
        "Check that every transaction balances, stored balances match the entries, no escrow or payable is "
        "negative, and each order's escrow equals what was paid minus what was released, refunded and charged back."
    )

    def handle(self, *args, **options):
        problems = ledger_problems()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"The ledger has {len(problems)} problem(s).")
        self.stdout.write(self.style.SUCCESS("The ledger is consistent."))
