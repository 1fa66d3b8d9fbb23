"""The Stripe webhook endpoint: verify the signature against the raw body, store the event (unique on its id),
answer 2xx at once, and process it in a Celery task (exactly once, see payments.services.events)."""

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.core import outbox
from payments.providers import InvalidWebhook
from payments.providers.stripe import StripeProvider
from payments.services.events import provider_event_receive

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    signature = request.headers.get("Stripe-Signature", "")
    try:
        raw = StripeProvider().verify_webhook(payload=request.body, signature=signature)
    except InvalidWebhook as error:
        logger.warning("Refused a Stripe webhook: %s", error)
        return JsonResponse({"error": {"code": "invalid_webhook", "message": str(error), "fields": {}}}, status=400)
    event, created = provider_event_receive(provider="stripe", raw=raw)
    if event.processed_at is None:
        from payments.tasks import provider_event_process

        outbox.enqueue(provider_event_process, args=[event.pk], key=f"provider-event:{event.pk}")
    return JsonResponse({"received": event.event_id, "duplicate": not created})
