"""The demo shows an order in every status, a settled dispute with its evidence and a completed order with its
documents; seeding again adds nothing."""

from io import StringIO

from django.core.management import call_command

from orders.models import Order
from orders.selectors import order_document


def test_the_demo_has_an_order_in_every_status_and_seeding_twice_adds_nothing(db):
    call_command("seed_demo", allow_production=True, stdout=StringIO())
    demo = Order.objects.filter(purchase__note__startswith="Demo order (")  # the market demo adds maize trades
    statuses = sorted(demo.values_list("status", flat=True))
    assert statuses == sorted(Order.Status.values)
    resolved = demo.get(status="resolved")
    assert resolved.dispute.decision == "partial_refund" and resolved.dispute.evidence.count() == 1
    completed = demo.get(status="completed")
    for kind in ("purchase-order", "delivery-note", "invoice"):
        assert order_document(viewer=completed.placed_by, number=completed.number, kind=kind)[1].startswith(b"%PDF")
    output = StringIO()
    call_command("seed_demo", allow_production=True, stdout=output)
    assert "orders: nothing new" in output.getvalue()
    assert demo.count() == len(Order.Status.values)
