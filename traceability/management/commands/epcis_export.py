import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketplace.core.errors import DomainError
from traceability.epcis import epcis_document, epcis_document_errors
from traceability.selectors import epcis_events_in, parse_since


class Command(BaseCommand):
    help = (
        "Write a GS1 EPCIS 2.0 JSON-LD document: a lot's or an order's history back to the member deliveries, "
        "or every event recorded since a date."
    )

    def add_arguments(self, parser):
        choice = parser.add_mutually_exclusive_group(required=True)
        choice.add_argument("--lot", help="The lot's URI, or its code when only one lot has it.")
        choice.add_argument("--order", help="The order number (or order:<number>).")
        choice.add_argument("--since", help="A date (YYYY-MM-DD) or date-time: events recorded from then on.")
        parser.add_argument("--output", required=True, help="The file to write ('-' for standard output).")
        parser.add_argument(
            "--organisation",
            type=int,
            action="append",
            dest="organisations",
            help="Export only this organisation's events (repeatable); default: all organisations.",
        )
        parser.add_argument("--schema", help="Also validate against this EPCIS 2.0 JSON Schema file.")

    def handle(self, *args, lot=None, order=None, since=None, output, organisations=None, schema=None, **options):
        try:
            events = epcis_events_in(
                organisation_ids=organisations,
                lot=lot,
                order=order,
                since=parse_since(since) if since else None,
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        document = epcis_document(events)
        if schema:
            errors = epcis_document_errors(document, schema_path=schema)
            if errors:
                raise CommandError("The document does not validate:\n" + "\n".join(errors[:20]))
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if output == "-":
            self.stdout.write(text, ending="")
        else:
            Path(output).write_text(text, encoding="utf-8")
            self.stdout.write(
                self.style.SUCCESS(f"Wrote {len(document['epcisBody']['eventList'])} event(s) to {output}.")
            )
