"""Side effects of catalogue writes, scheduled on commit. Tasks take ids and are safe to run twice."""

from celery import shared_task


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def send_delivery_receipt_sms(self, delivery_id: int) -> bool:
    """Send the member's SMS receipt for a delivery or a reversal; a second run sends nothing."""
    from catalogue.services import delivery_receipt_sms_send

    return delivery_receipt_sms_send(delivery_id=delivery_id)
