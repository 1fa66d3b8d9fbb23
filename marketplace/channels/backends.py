"""The SMS backend of `marketplace.core.sms` (setting SMS_BACKEND): the product's outbound SMS (delivery receipts,
statements, order notices) go into the message log and are sent through the gateway by a task after commit, so no
HTTP call is made while the caller holds its row locks."""

from marketplace.core.sms import SmsMessage


class GatewaySmsBackend:
    def send(self, message: SmsMessage) -> None:
        from marketplace.channels.selectors import callers_for_phone
        from marketplace.channels.services import sms_enqueue

        farmers = callers_for_phone(phone=message.to)
        farmer = farmers[0] if len(farmers) == 1 else None
        sms_enqueue(
            to=message.to,
            body=message.body,
            farmer_id=farmer.pk if farmer else None,
            organisation_id=farmer.organisation_id if farmer else None,
            key=message.key,
        )
