from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DecisionsConfig(AppConfig):
    name = "marketplace.decisions"
    label = "decisions"
    verbose_name = _("Member decisions")
