"""Compare the ledger and our payment records with the provider's; report every difference."""

from django.core.management.base import BaseCommand, CommandError

from payments.services.reconcile import reconcile_differences


class Command(BaseCommand):
    help = "Compare payments, refunds and transfers with the provider's records and the ledger; exit 1 on differences."

    def add_arguments(self, parser):
        parser.add_argument("--provider", default="", help="Only this provider (stripe or offline).")

    def handle(self, *args, provider: str = "", **options):
        differences = reconcile_differences(provider_name=provider or None)
        if differences:
            for difference in differences:
                self.stdout.write(difference)
            raise CommandError(f"{len(differences)} difference(s) between the ledger and the provider.")
        self.stdout.write(self.style.SUCCESS("The ledger and the provider agree."))
