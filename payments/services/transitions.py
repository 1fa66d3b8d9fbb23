"""The status changes of payments, refunds, transfers and chargebacks (house rule 3): one table and one
`*_transition` service each. Every change locks the row, checks the table, saves and writes an audit record
(`<table>.<to status>`) in one transaction; nothing else in payments assigns these statuses.

    payment:  pending → succeeded | failed;   failed → succeeded (the buyer retried with another card)
    refund:   pending → unknown | succeeded | failed;   unknown → pending | succeeded | failed;
              succeeded → failed (the provider can fail a refund it first reported succeeded)
    transfer: pending → unknown | paid;   unknown → paid | failed;   paid → reversed;
              failed → pending (the operator re-sends a refused transfer: a new send with a new key)
    chargeback: open → won | lost

"unknown" is a call to the provider that got no definite answer (a timeout, a 5xx): the money stays posted as
sent until a retry or reconciliation settles it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from marketplace.core.transitions import TransitionTable, transition, transition_locked
from payments.models import ChargeDispute, Payment, Refund, Transfer

PAYMENT_TABLE = TransitionTable(
    "payment", {"pending": {"succeeded", "failed"}, "failed": {"succeeded"}, "succeeded": set()}
)
REFUND_TABLE = TransitionTable(
    "refund",
    {
        "pending": {"unknown", "succeeded", "failed"},
        "unknown": {"pending", "succeeded", "failed"},
        "succeeded": {"failed"},
        "failed": set(),
    },
)
TRANSFER_TABLE = TransitionTable(
    "transfer",
    {
        "pending": {"unknown", "paid"},
        "unknown": {"paid", "failed"},
        "paid": {"reversed"},
        "failed": {"pending"},
        "reversed": set(),
    },
)
CHARGE_DISPUTE_TABLE = TransitionTable("chargeback", {"open": {"won", "lost"}, "won": set(), "lost": set()})


def _organisation(obj: models.Model) -> int | None:
    order = getattr(obj, "order", None)
    return getattr(obj, "organisation_id", None) or (order.buyer_id if order is not None else None)


def _move(
    *,
    model: type[models.Model],
    table: TransitionTable,
    obj: models.Model | None,
    pk: int | None,
    to_status: str,
    actor,
    reason: str,
    data: dict[str, Any] | None,
    apply: Callable[[Any], dict | None] | None,
):
    if obj is not None:
        return transition_locked(
            obj=obj, table=table, to_status=to_status, actor=actor, reason=reason,
            organisation_id=getattr(obj, "organisation_id", None), data=data or {}, apply=apply,
        )  # fmt: skip
    return transition(
        model=model, pk=pk, table=table, to_status=to_status, actor=actor, reason=reason, organisation_id=None,
        data=data or {}, apply=apply,
    )  # fmt: skip


def payment_transition(
    *, payment: Payment | None = None, payment_id: int | None = None, to_status: str, actor=None, reason: str = "",
    data: dict | None = None, apply=None,
) -> Payment:  # fmt: skip
    """Move a payment (pass the row already locked, or its id)."""
    return _move(
        model=Payment, table=PAYMENT_TABLE, obj=payment, pk=payment_id, to_status=to_status, actor=actor,
        reason=reason, data=data, apply=apply,
    )  # fmt: skip


def refund_transition(
    *, refund: Refund | None = None, refund_id: int | None = None, to_status: str, actor=None, reason: str = "",
    data: dict | None = None, apply=None,
) -> Refund:  # fmt: skip
    return _move(
        model=Refund, table=REFUND_TABLE, obj=refund, pk=refund_id, to_status=to_status, actor=actor,
        reason=reason, data=data, apply=apply,
    )  # fmt: skip


def transfer_transition(
    *, transfer: Transfer | None = None, transfer_id: int | None = None, to_status: str, actor=None,
    reason: str = "", data: dict | None = None, apply=None,
) -> Transfer:  # fmt: skip
    return _move(
        model=Transfer, table=TRANSFER_TABLE, obj=transfer, pk=transfer_id, to_status=to_status, actor=actor,
        reason=reason, data=data, apply=apply,
    )  # fmt: skip


def charge_dispute_transition(
    *, dispute: ChargeDispute | None = None, dispute_id: int | None = None, to_status: str, actor=None,
    reason: str = "", data: dict | None = None, apply=None,
) -> ChargeDispute:  # fmt: skip
    return _move(
        model=ChargeDispute, table=CHARGE_DISPUTE_TABLE, obj=dispute, pk=dispute_id, to_status=to_status,
        actor=actor, reason=reason, data=data, apply=apply,
    )  # fmt: skip
