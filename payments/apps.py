from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # Register the tasks that orders publishes its events to (settings.ORDER_EVENT_SUBSCRIBERS).
        from payments import tasks  # noqa: F401
