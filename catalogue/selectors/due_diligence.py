"""Who may read a due-diligence package (house rule 2): the members of the cooperative that holds the lot, and
the buyer of an order of it. Anyone else is told "not found", never that the lot or order exists."""

from django.utils.translation import gettext

from catalogue.due_diligence import Package, lot_package, order_package
from catalogue.eudr_statement import StatementSet, build_statements
from catalogue.models import Commodity, Lot
from catalogue.tracing import lot_identifier
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.organisations.models import Organisation, User
from traceability import identifiers
from traceability.models import StatementReference
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
            gettext(
                "%(names)s is not covered by the EU Deforestation Regulation; no due-diligence statement is needed."
            )
            % {"names": names},
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


def _operator_for(viewer: User, package: Package, sales: list[Sale] | None = None) -> Organisation:
    """The viewer's organisation that makes the statement: the selling cooperative, or else the buyer."""
    ids, _ = _viewer_parties(viewer)
    if package.cooperative.pk in ids:
        return package.cooperative
    for organisation in Organisation.objects.filter(pk__in=ids).order_by("pk"):
        if identifiers.organisation_uri(organisation) in {buyer for sale in sales or [] for buyer in sale.buyers}:
            return organisation
    raise NotFound("No such lot or order.")


def lot_statement(*, viewer: User, lot_id: int, **options) -> StatementSet:
    """The EU-format due-diligence statement of a lot, made by the viewer's organisation."""
    package = lot_due_diligence(viewer=viewer, lot_id=lot_id)
    lot = Lot.objects.get(pk=lot_id)
    operator = _operator_for(viewer, package, sales_in(lot_uri=lot_identifier(lot)))
    return build_statements(package, operator=operator, **options)


def order_statement(*, viewer: User, order_number: str, **options) -> StatementSet:
    """The EU-format due-diligence statement of an order, made by the viewer's organisation."""
    package = order_due_diligence(viewer=viewer, order_number=order_number)
    operator = _operator_for(viewer, package, sales_in(order_number=package.reference))
    return build_statements(package, operator=operator, **options)


def statement_references(*, viewer: User, order_number: str) -> tuple[Package, Organisation, list]:
    """The upstream statements the viewer's organisation recorded for an order (it must see the order)."""
    package = order_due_diligence(viewer=viewer, order_number=order_number)
    operator = _operator_for(viewer, package, sales_in(order_number=package.reference))
    references = list(StatementReference.objects.filter(organisation=operator, subject=package.identifier))
    return package, operator, references
