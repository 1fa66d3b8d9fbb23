"""Writes of the farmers' channel."""

from marketplace.channels.services.conversations import sms_inbound_receive, ussd_answer
from marketplace.channels.services.messages import (
    MESSAGE_TRANSITIONS,
    delivery_report_receive,
    message_send,
    message_transition,
    sms_enqueue,
)
from marketplace.channels.services.pins import PinVerdict, farmer_channel_update, farmer_pin_verify

__all__ = [
    "MESSAGE_TRANSITIONS",
    "PinVerdict",
    "delivery_report_receive",
    "farmer_channel_update",
    "farmer_pin_verify",
    "message_send",
    "message_transition",
    "sms_enqueue",
    "sms_inbound_receive",
    "ussd_answer",
]
