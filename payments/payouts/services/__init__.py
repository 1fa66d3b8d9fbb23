"""Writes for member payouts (house rule 1)."""

from payments.payouts.services.batches import (
    PAYOUT_BATCH_TABLE,
    PAYOUT_TRANSITIONS,
    levy_bp_for,
    payout_batch_approve,
    payout_batch_cancel,
    payout_batch_execute,
    payout_batch_propose,
    payout_batch_propose_for_order,
    payout_batch_send,
    payout_batch_settle,
    payout_batch_transition,
    payout_lines_retry,
    payout_policy_set,
    payouts_settle_due,
    released_unbatched,
)
from payments.payouts.services.lines import PAYOUT_LINE_TABLE, payout_line_transition
from payments.payouts.services.sms import payout_sms_send
from payments.payouts.services.split import split_proceeds

__all__ = [
    "PAYOUT_BATCH_TABLE",
    "PAYOUT_LINE_TABLE",
    "PAYOUT_TRANSITIONS",
    "levy_bp_for",
    "payout_batch_approve",
    "payout_batch_cancel",
    "payout_batch_execute",
    "payout_batch_propose",
    "payout_batch_propose_for_order",
    "payout_batch_send",
    "payout_batch_settle",
    "payout_batch_transition",
    "payout_line_transition",
    "payout_lines_retry",
    "payout_policy_set",
    "payout_sms_send",
    "payouts_settle_due",
    "released_unbatched",
    "split_proceeds",
]
