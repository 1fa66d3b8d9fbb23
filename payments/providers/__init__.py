"""Payment providers: `provider_get()` gives Stripe when a secret key is set, else the offline provider."""

from django.conf import settings

from payments.providers.base import (
    InvalidWebhook,
    NormalisedEvent,
    PaymentProvider,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
)

__all__ = [
    "InvalidWebhook",
    "NormalisedEvent",
    "PaymentProvider",
    "ProviderError",
    "ProviderRefused",
    "ProviderUnavailable",
    "provider_get",
    "provider_named",
]


def provider_named(name: str, *, emit=None) -> PaymentProvider:
    if name == "stripe":
        from payments.providers.stripe import StripeProvider

        return StripeProvider()
    if name == "offline":
        from payments.providers.offline import OfflineProvider

        return OfflineProvider(emit=emit)
    raise ValueError(f"unknown payment provider {name!r}")


def provider_get(*, emit=None) -> PaymentProvider:
    """The provider new payments use."""
    return provider_named("stripe" if settings.STRIPE_SECRET_KEY else "offline", emit=emit)
