"""The transition table: every (status, move, side and role) combination, allowed and forbidden; and proof that
an order's status changes nowhere but in order_transition."""

import datetime
import re
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from marketplace.core.errors import InvalidTransition, NotFound, PermissionDenied
from marketplace.core.models import AuditEvent
from marketplace.organisations.roles import ROLE_RANK
from orders.models import Order, OrderEvent
from orders.services import TRANSITIONS, order_transition
from tests.orders.factories import advance, place

STATUSES = [s.value for s in Order.Status]
ROLES = ["admin", "manager", "clerk", "viewer"]
ACTORS = [(side, role) for side in ("buyer", "seller", "operator") for role in ROLES] + [
    ("system", ""),
    ("stranger", "manager"),
]


class Rollback(Exception):
    pass


# The table as the product defines it, written out here rather than read from the code, so that a wrong entry in
# orders.services.transitions fails this test: (from, to) -> {side: the lowest role on that side that may move}.
MOVES: dict[tuple[str, str], dict[str, str]] = {
    ("placed", "accepted"): {"seller": "manager"},
    ("placed", "rejected"): {"seller": "manager"},
    ("placed", "cancelled"): {"buyer": "manager"},
    ("placed", "expired"): {"system": ""},
    ("accepted", "paid"): {"operator": "manager", "system": ""},
    ("accepted", "cancelled"): {"buyer": "manager", "seller": "manager"},
    ("paid", "cancelled"): {"seller": "manager", "operator": "manager"},
    ("paid", "dispatched"): {"seller": "clerk"},
    ("dispatched", "delivered"): {"buyer": "clerk"},
    ("delivered", "disputed"): {"buyer": "manager"},
    ("delivered", "completed"): {"buyer": "manager", "system": ""},
    ("disputed", "resolved"): {"operator": "manager"},
}


def expected(from_status: str, to_status: str, side: str, role: str) -> str:
    if side == "stranger":
        return "not_found"
    sides = MOVES.get((from_status, to_status))
    if sides is None:
        return "invalid"
    if side in sides and (side == "system" or ROLE_RANK[role] >= ROLE_RANK[sides[side]]):
        return "ok"
    return "forbidden"


def test_the_code_table_is_the_one_written_here():
    in_code = {pair: {rule.side: rule.min_role for rule in rules} for pair, rules in TRANSITIONS.items()}
    assert in_code == MOVES


def details_for(order: Order, to_status: str) -> dict:
    if to_status in ("rejected", "cancelled", "disputed", "resolved"):
        extra = {"reason": "Because the test says so"}
        if to_status == "resolved":
            extra.update(decision="release")
        return extra
    if to_status == "paid":
        return {"payment_reference": "BANK-1"}
    if to_status == "dispatched":
        return {"document_number": "WB-1"}
    if to_status == "delivered":
        return {"lines": {line.pk: {"quantity": line.quantity_dispatched or 0} for line in order.lines.all()}}
    return {}


def attempt(world, order: Order, to_status: str, side: str, role: str) -> str:
    actor = None if side == "system" else world.actor(side, role)
    try:
        with transaction.atomic():
            if to_status == "expired":
                Order.objects.filter(pk=order.pk).update(accept_by=timezone.now() - datetime.timedelta(minutes=1))
            if to_status == "completed" and side == "system" and order.dispute_until:
                Order.objects.filter(pk=order.pk).update(dispute_until=timezone.now() - datetime.timedelta(minutes=1))
            events = OrderEvent.objects.count()
            audits = AuditEvent.objects.filter(action=f"order.{to_status}").count()
            moved = order_transition(
                actor=actor, order_id=order.pk, to_status=to_status, **details_for(order, to_status)
            )
            assert moved.status == to_status
            assert Order.objects.get(pk=order.pk).status == to_status
            assert OrderEvent.objects.count() == events + 1
            assert AuditEvent.objects.filter(action=f"order.{to_status}").count() == audits + 1
            raise Rollback
    except Rollback:
        return "ok"
    except NotFound:
        return "not_found"
    except InvalidTransition:
        return "invalid"
    except PermissionDenied:
        return "forbidden"


@pytest.mark.parametrize("from_status", STATUSES)
def test_every_move_by_every_side_and_role_follows_the_table(world, from_status):
    order = place(world)
    if from_status != "placed":
        order = advance(world, order, from_status)
    assert order.status == from_status
    mismatches = []
    for to_status in STATUSES:
        for side, role in ACTORS:
            want = expected(from_status, to_status, side, role)
            got = attempt(world, order, to_status, side, role)
            if got != want:
                mismatches.append(f"{from_status}->{to_status} by {side}/{role}: expected {want}, got {got}")
            order.refresh_from_db()
            assert order.status == from_status
    assert not mismatches, "\n".join(mismatches)


def test_the_table_names_only_real_statuses_and_no_move_leaves_a_final_status():
    for (source, target), rules in TRANSITIONS.items():
        assert source in STATUSES and target in STATUSES and rules
    finals = {"rejected", "expired", "cancelled", "resolved", "completed"}
    assert not [key for key in TRANSITIONS if key[0] in finals]


def test_the_database_refuses_a_status_change_outside_the_transition_service(world):
    order = place(world)
    with pytest.raises(IntegrityError, match="only through order_transition"), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status="accepted")
    with pytest.raises(IntegrityError, match="only through order_transition"), transaction.atomic():
        order.status = "completed"
        order.save()
    with (
        pytest.raises(IntegrityError, match="only through order_transition"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE orders_order SET status = 'paid' WHERE id = %s", [order.pk])
    # The transition setting names one order: it does not unlock another.
    other = place(world, listing=world.listing)
    with pytest.raises(IntegrityError), transaction.atomic():
        order_transition(actor=world.seller.manager, order_id=order.pk, to_status="accepted")
        Order.objects.filter(pk=other.pk).update(status="accepted")
    order.refresh_from_db()
    assert order.status == "placed"


STATUS_WRITE = re.compile(r"\.status\s*=(?!=)|update\([^)]*\bstatus\s*=|setattr\([^)]*[\"']status[\"']")


def test_no_code_outside_the_transition_service_assigns_an_order_status():
    root = Path(__file__).resolve().parents[2] / "orders"
    allowed = {root / "services" / "transitions.py"}
    offenders = []
    for path in root.rglob("*.py"):
        if path in allowed or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if STATUS_WRITE.search(line):
                offenders.append(f"{path.relative_to(root.parent)}:{number}: {line.strip()}")
    assert not offenders, "Order status is assigned outside order_transition:\n" + "\n".join(offenders)
