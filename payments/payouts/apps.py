from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayoutsConfig(AppConfig):
    """Member payouts and statements: part of payments, with its own tables and migrations."""

    name = "payments.payouts"
    label = "payouts"
    verbose_name = _("Member payouts")
