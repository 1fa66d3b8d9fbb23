"""Sending SMS. Tasks take ids and are safe to run twice: a message already sent is not sent again."""

from celery import shared_task

from marketplace.channels.gateways import GatewayTimeout, GatewayUnavailable


@shared_task(bind=True, max_retries=6, default_retry_delay=30)
def sms_send(self, message_id: int) -> str:
    """Send one recorded SMS. No answer (timeout) or no connection: retried with back-off, same idempotency key."""
    from marketplace.channels.services import message_send

    try:
        message = message_send(message_id=message_id)
    except (GatewayTimeout, GatewayUnavailable) as error:
        raise self.retry(exc=error, countdown=min(30 * 2**self.request.retries, 3600)) from None
    return message.status if message is not None else "missing"


@shared_task(name="marketplace.channels.tasks.sms_sweep_stuck")
def sms_sweep_stuck() -> dict:
    """Beat: messages left `sending` by a worker that died are sent again with the same idempotency key."""
    from marketplace.channels.services.messages import messages_sweep_stuck

    return messages_sweep_stuck()
