"""Create the platform operator and its first admin on a new deployment."""

import getpass
import os

from django.core.management.base import BaseCommand, CommandError

from marketplace.core.errors import DomainError
from marketplace.organisations.services import operator_bootstrap


class Command(BaseCommand):
    help = "Create the platform operator organisation and its first admin (once per deployment)."

    def add_arguments(self, parser):
        parser.add_argument("--legal-name", required=True)
        parser.add_argument("--country", required=True, help="ISO 3166 alpha-2, e.g. KE")
        parser.add_argument("--registration-number", required=True)
        parser.add_argument("--currency", required=True, help="ISO 4217, e.g. EUR")
        parser.add_argument("--email", required=True, help="the first admin's email")
        parser.add_argument("--full-name", default="")

    def handle(self, *args, **options):
        password = os.environ.get("OPERATOR_ADMIN_PASSWORD") or self._ask_password()
        try:
            membership = operator_bootstrap(
                legal_name=options["legal_name"],
                country=options["country"].upper(),
                registration_number=options["registration_number"],
                currency=options["currency"].upper(),
                admin_email=options["email"],
                admin_password=password,
                admin_full_name=options["full_name"],
            )
        except DomainError as error:
            details = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in error.fields.items())
            raise CommandError(f"{error.message} {details}".strip()) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created {membership.organisation} with {membership.user.email} as its admin.")
        )

    def _ask_password(self) -> str:
        if not os.isatty(0):
            raise CommandError("Set OPERATOR_ADMIN_PASSWORD, or run this command in a terminal to be asked.")
        first = getpass.getpass("Password for the admin: ")
        if first != getpass.getpass("Password again: "):
            raise CommandError("The passwords differ.")
        return first
