"""EPCIS events of group input orders (house rule: every physical step is an event).

The inputs of one group order line are named as a lot of the supplier's, `<group order>-<line>` (a URI under the
deployment's domain, never an invented GS1 number), so a bag of fertiliser can be followed from the supplier's
shipping to the cooperative's receiving and to the member farmer who collected it:

- dispatch: ObjectEvent OBSERVE `shipping` by the supplier, in transit to the cooperative;
- receipt: ObjectEvent OBSERVE `receiving` by the cooperative, from the supplier (the packs that arrived);
- hand-over: ObjectEvent OBSERVE `dispensing` by the cooperative, the member farmer as the destination party.

Quantities are grams when the packaging has a net mass; otherwise the event names the lot without a quantity.
"""

from __future__ import annotations

from traceability import identifiers
from traceability import services as trace
from traceability.services import Action, EventType


def line_lot_uri(line) -> str:
    return identifiers.lot_uri(
        organisation=line.group_order.supplier, lot_code=f"{line.group_order.reference}-{line.pk}"
    )


def _grams(line, packs: int) -> int | None:
    mass = line.product.packaging.net_mass_grams
    return packs * mass if mass and packs else None


def _lots(group_order, attribute: str) -> list[tuple[str, int | None]]:
    lots = []
    for line in group_order.lines.select_related("product__packaging", "group_order__supplier").order_by("pk"):
        packs = getattr(line, attribute) or 0
        if packs:
            lots.append((line_lot_uri(line), _grams(line, packs)))
    return lots


def shipping_recorded(*, actor, group_order, dispatched: dict[int, int]) -> None:
    lots = []
    for line in group_order.lines.select_related("product__packaging", "group_order__supplier").order_by("pk"):
        packs = dispatched.get(line.pk, 0)
        if packs:
            lots.append((line_lot_uri(line), _grams(line, packs)))
    if lots:
        trace.dispatch_recorded(actor=actor, organisation=group_order.supplier, order_number=group_order.order.number,
                                lots=lots, destination=group_order.buyer)  # fmt: skip


def receiving_recorded(*, actor, group_order) -> None:
    lots = _lots(group_order, "packs_received")
    if lots:
        trace.receipt_recorded(actor=actor, organisation=group_order.buyer, order_number=group_order.order.number,
                               lots=lots, source=group_order.supplier,
                               receipt_number=f"{group_order.reference}-R")  # fmt: skip


def hand_over_recorded(*, actor, allocation) -> None:
    line = allocation.line
    mass = line.product.packaging.net_mass_grams
    coop = allocation.group_order.buyer
    location = identifiers.location_uri(coop)
    trace.event_record(
        actor=actor, organisation=coop, event_type=EventType.OBJECT, action=Action.OBSERVE, biz_step="dispensing",
        read_point=location, biz_location=location,
        lots=[(line_lot_uri(line), allocation.quantity if mass and allocation.quantity else None)],
        biz_transactions=[("po", identifiers.order_uri(allocation.group_order.order.number)),
                          ("recadv", identifiers.receipt_uri(allocation.receipt_number))],
        sources=[("owning_party", identifiers.organisation_uri(coop))],
        destinations=[("owning_party", identifiers.farmer_uri(allocation.farmer))],
    )  # fmt: skip
