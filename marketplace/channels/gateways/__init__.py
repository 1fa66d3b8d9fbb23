"""SMS gateways. `gateway()` is Africa's Talking when an API key is set, else the console (the demo)."""

from django.conf import settings

from marketplace.channels.gateways.base import (
    Gateway,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    SendResult,
)


def gateway() -> Gateway:
    if settings.AFRICASTALKING_API_KEY:
        from marketplace.channels.gateways.africastalking import AfricasTalkingGateway

        return AfricasTalkingGateway()
    from marketplace.channels.gateways.console import ConsoleGateway

    return ConsoleGateway()


__all__ = ["Gateway", "GatewayRejected", "GatewayTimeout", "GatewayUnavailable", "SendResult", "gateway"]
