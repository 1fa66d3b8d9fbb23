"""Alerts for the platform operator: a row on the ledger page and an email to the operator's managers."""

from django.core.mail import send_mail
from django.db import transaction

from marketplace.organisations.models import Membership, Organisation
from marketplace.organisations.roles import Role
from orders.models import Order
from payments.models import OperatorAlert


def operator_alert(*, kind: str, message: str, order_id: int | None = None) -> OperatorAlert:
    if order_id is not None and not Order.objects.filter(pk=order_id).exists():
        order_id = None
    alert = OperatorAlert.objects.create(kind=kind, message=message, order_id=order_id)
    recipients = list(
        Membership.objects.filter(
            organisation__kind=Organisation.Kind.OPERATOR, role__in=[Role.ADMIN, Role.MANAGER]
        ).values_list("user__email", flat=True)
    )
    if recipients:
        transaction.on_commit(
            lambda: send_mail(f"CoopMarket payments: {kind}", message, None, recipients, fail_silently=True)
        )
    return alert
