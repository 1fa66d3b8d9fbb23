from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "marketplace.channels"
    label = "channels"
    verbose_name = _("Farmers' channel (SMS and USSD)")

    def ready(self) -> None:
        # The built-in menu entries register themselves; see marketplace/channels/menu.py.
        from marketplace.channels import entries, inputs, price_alerts, votes  # noqa: F401
