"""Who may read a due-diligence package (house rule 2): the members of the cooperative that holds the lot, and
the buyer of an order of it. Anyone else is told "not found", never that the lot or order exists."""

from catalogue.due_diligence import Package, lot_package, order_package
from catalogue.models import Commodity, Lot
from catalogue.tracing import lot_identifier
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.organisations.models import Organisation, User
from traceability import identifiers
from traceability.selectors import Sale, sales_in, visible_organisation_ids


def _viewer_parties(viewer: User) -> tuple[set[int], set[str]]:
    """The organisations the viewer may see, by id and as the party URIs that sale events name."""
    ids = set(visible_organisation_ids(viewer=viewer))
    parties = {identifiers.organisation_uri(o) for o in Organisation.objects.filter(pk__in=ids)}
    return ids, parties


def _bought_by(sale: Sale, parties: set[str]) -> bool:
    return bool(parties.intersection(sale.buyers))


def _covered(commodities: list[Commodity]) -> None:
    if not any(commodity.eudr_relevant for commodity in commodities):
        names = ", ".join(sorted({commodity.name for commodity in commodities})) or "This produce"
        raise ValidationFailed(
            f"{names} is not covered by the EU Deforestation Regulation; no due-diligence statement is needed.",
            fields={"commodity": "Only cattle, cocoa, coffee, oil palm, rubber, soya and wood need one."},
        )


def lot_due_diligence(*, viewer: User, lot_id: int) -> Package:
    """The package of a lot, for its cooperative's members and the buyers of its orders."""
    lot = Lot.objects.select_related("commodity", "organisation").filter(pk=lot_id).first()
    if lot is None:
        raise NotFound("No such lot.")
    ids, parties = _viewer_parties(viewer)
    if lot.organisation_id not in ids:
        sales = sales_in(lot_uri=lot_identifier(lot))
        if not any(sale.seller_id == lot.organisation_id and _bought_by(sale, parties) for sale in sales):
            raise NotFound("No such lot.")
    _covered([lot.commodity])
    return lot_package(lot)


def order_due_diligence(*, viewer: User, order_number: str) -> Package:
    """The package of an order, for the selling cooperative's members and the buyer."""
    number = identifiers.parse_order(order_number) or str(order_number).strip()
    if not number:
        raise NotFound("No such order.")
    ids, parties = _viewer_parties(viewer)
    visible = [sale for sale in sales_in(order_number=number) if sale.seller_id in ids or _bought_by(sale, parties)]
    if not visible:
        raise NotFound("No sale of this order is recorded in your records.")
    package = order_package(visible[0])
    _covered([item.commodity for item in package.commodities])
    return package
