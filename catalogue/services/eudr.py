"""EUDR writes of the catalogue: an organisation records the upstream statements it received for an order."""

from django.utils.translation import gettext

from catalogue.selectors.due_diligence import statement_references
from marketplace.core.errors import PermissionDenied
from marketplace.organisations.models import User
from marketplace.organisations.roles import ROLE_RANK, Role
from marketplace.organisations.selectors import role_in
from traceability import services as trace_services
from traceability.models import StatementReference


def order_statement_reference_add(
    *, actor: User, order_number: str, reference_number: str, verification_number: str
) -> StatementReference:
    """Record, for the actor's organisation (the order's buyer or seller), an upstream statement it received for the
    order; the statements it then exports for the order name it. A clerk or above may record one."""
    package, operator, _ = statement_references(viewer=actor, order_number=order_number)
    role = role_in(viewer=actor, organisation_id=operator.pk)
    if role is None or ROLE_RANK[role] < ROLE_RANK[Role.CLERK]:
        raise PermissionDenied(gettext("Only a clerk, manager or admin of your organisation may record statements."))
    return trace_services.statement_reference_add(
        actor=actor,
        organisation_id=operator.pk,
        subject=package.identifier,
        reference_number=reference_number,
        verification_number=verification_number,
    )
