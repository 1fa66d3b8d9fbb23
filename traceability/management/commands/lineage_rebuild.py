"""Compute the precomputed lineage of every lot a transformation made and of every order (after an upgrade, or to
check it): the event services keep it current from then on."""

from django.core.management.base import BaseCommand
from django.db import transaction

from traceability import identifiers
from traceability.lineage import lineage_refresh
from traceability.models import ChainHead, Event, EventLot, EventType, LotRole


class Command(BaseCommand):
    help = "Rebuild the precomputed lineage of every transformed lot and every order, per organisation."

    def add_arguments(self, parser):
        parser.add_argument("--organisation", type=int, help="Only this organisation (its id).")

    def handle(self, *args, **options):
        organisations = ChainHead.objects.values_list("organisation_id", flat=True)
        if options.get("organisation"):
            organisations = organisations.filter(organisation_id=options["organisation"])
        total = 0
        for organisation_id in organisations:
            with transaction.atomic():
                ChainHead.objects.select_for_update().filter(organisation_id=organisation_id).first()
                lots = set(
                    EventLot.objects.filter(
                        event__organisation_id=organisation_id,
                        event__event_type=EventType.TRANSFORMATION,
                        role=LotRole.OUTPUT,
                    ).values_list("lot_uri", flat=True)
                )
                orders = set()
                for items in (
                    Event.objects.filter(organisation_id=organisation_id)
                    .exclude(biz_transaction_list=[])
                    .values_list("biz_transaction_list", flat=True)
                ):
                    for item in items:
                        number = identifiers.parse_order(str(item.get("bizTransaction", "")))
                        if item.get("type") == "po" and number is not None:
                            orders.add(f"{identifiers.ORDER_PREFIX}{number}")
                total += lineage_refresh(organisation_id=organisation_id, subjects=lots | orders)
        self.stdout.write(f"{total} lineages computed.")
