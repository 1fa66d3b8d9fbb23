import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalogue.due_diligence import lot_package, order_package
from catalogue.models import Lot
from traceability import identifiers
from traceability.selectors import sales_in


class Command(BaseCommand):
    help = (
        "Write the EUDR due-diligence package of a lot or an order: commodity and HS code, net mass, countries "
        "and period of production, and the GeoJSON of every contributing plot. The file is written either way; "
        "the command exits with status 1, naming each missing plot geometry and the rule it breaks, when the "
        "package is not EUDR-ready."
    )

    def add_arguments(self, parser):
        choice = parser.add_mutually_exclusive_group(required=True)
        choice.add_argument("--lot", help="The lot's id or its code.")
        choice.add_argument("--order", help="The order number (or order:<number>).")
        parser.add_argument("--output", required=True, help="The file to write ('-' for standard output).")

    def handle(self, *args, lot=None, order=None, output, **options):
        if lot is not None:
            found = Lot.objects.select_related("commodity", "organisation")
            found = (found.filter(pk=int(lot)) if lot.isdigit() else found.filter(code=lot)).first()
            if found is None:
                raise CommandError(f"No lot with id or code {lot!r}.")
            package = lot_package(found)
        else:
            number = identifiers.parse_order(order) or order.strip()
            sales = sales_in(order_number=number)
            if not sales:
                raise CommandError(f"No sale of order {number!r} is recorded (an order is traced once it is paid).")
            package = order_package(sales[0])
        if not package.covered:
            names = ", ".join(item.commodity.name for item in package.commodities) or "This produce"
            raise CommandError(f"{names} is not covered by the EU Deforestation Regulation; no package is needed.")
        text = json.dumps(package.as_json(), indent=2, ensure_ascii=False) + "\n"
        if output == "-":
            self.stdout.write(text, ending="")
        else:
            Path(output).write_text(text, encoding="utf-8")
        subject = f"{package.kind} {package.reference}"
        if not package.ready:
            for item in package.missing:
                where = f"plot {item.plot_id} ({item.plot_name}, member {item.farmer})" if item.plot_id else ""
                where = where or (f"delivery {item.delivery}" if item.delivery else subject)
                self.stderr.write(f"{where}: {item.rule}: {item.message}")
            raise CommandError(f"The {subject} is not EUDR-ready: {len(package.missing)} problem(s) to fix.")
        if output != "-":
            self.stdout.write(
                self.style.SUCCESS(
                    f"Wrote the EUDR package of {subject} ({len(package.plots)} plot(s)) to {output}; it is ready."
                )
            )
