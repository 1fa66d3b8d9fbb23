"""How many queries one placement runs, as in production (the API's requests are not wrapped in a transaction,
so the service's own transaction adds no savepoint): at most 10 for one line, the same for a basket of three
lines from one seller, and every guarantee kept (audit records, notifications, reservations)."""

import pytest

from catalogue.models import Listing
from marketplace.core.models import AuditEvent
from orders.models import Notification, Order
from orders.services import LineInput, purchase_place
from tests.orders.factories import TONNE, make_listing, make_lot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def broker(monkeypatch) -> list[int]:
    """The notification task is handed to a broker on commit (a worker runs it later), not run here."""
    from orders import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.send_order_notifications, "apply_async", lambda args, **_: queued.append(args[0]))
    return queued


# The placement's own transaction takes 10 statements (BEGIN and COMMIT included) plus the INSERT of its outbox row;
# handing that row to the broker after the commit takes 2 more (claim it, mark it sent).
ONE_LINE = 10 + 1 + 2


def test_one_line_placement_runs_at_most_ten_queries_and_its_outbox(world, broker, django_assert_max_num_queries):
    buyer = world.buyer
    with django_assert_max_num_queries(ONE_LINE):
        purchase = purchase_place(actor=buyer.manager, buyer_id=buyer.organisation.pk,
                                  lines=[LineInput(quantity=TONNE, listing_id=world.listing.pk)])  # fmt: skip
    order = Order.objects.get(purchase=purchase)
    listing = Listing.objects.get(pk=world.listing.pk)
    assert listing.quantity_reserved_grams == TONNE
    actions = set(
        AuditEvent.objects.filter(action__in=["order.placed", "listing.reserved"]).values_list("action", "subject_id")
    )
    assert actions == {("order.placed", str(order.pk)), ("listing.reserved", str(listing.pk))}
    recipients = set(Notification.objects.filter(order=order).values_list("channel", "recipient"))
    sides = (world.buyer, world.seller)
    emails = {("email", m.user.email) for side in sides for m in side.organisation.memberships.all()}
    assert emails <= recipients
    assert broker == [order.events.get().pk]


def test_three_lines_from_one_seller_run_as_many_queries_plus_one_update_each(world, django_assert_max_num_queries):
    listings = []
    for _ in range(3):
        lot = make_lot(world.seller, grams=5 * TONNE, grade=world.grade_1, warehouse=world.warehouse,
                       collection_point=world.extra["collection_point"])  # fmt: skip
        listings.append(make_listing(world.seller, lot, world.warehouse))
    with django_assert_max_num_queries(ONE_LINE + 2):
        purchase = purchase_place(actor=world.buyer.manager, buyer_id=world.buyer.organisation.pk,
                                  lines=[LineInput(quantity=TONNE, listing_id=x.pk) for x in listings])  # fmt: skip
    assert purchase.orders.get().lines.count() == 3
    assert [Listing.objects.get(pk=x.pk).quantity_reserved_grams for x in listings] == [TONNE] * 3


def test_numbers_come_back_from_the_insert_and_outgrow_six_digits(world, broker):
    from django.db import connection
    from django.utils import timezone

    year = timezone.now().year
    purchase = purchase_place(actor=world.buyer.manager, buyer_id=world.buyer.organisation.pk,
                              lines=[LineInput(quantity=TONNE, listing_id=world.listing.pk)])  # fmt: skip
    order = purchase.orders.get()
    assert purchase.reference.startswith(f"PU-{year}-") and len(purchase.reference) == len("PU-2026-000001")
    audit = AuditEvent.objects.get(action="order.placed", subject_id=str(order.pk))
    assert audit.data["number"] == order.number and audit.data["purchase"] == purchase.reference
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('orders_order_number_seq', 1234566)")
    second = purchase_place(actor=world.buyer.manager, buyer_id=world.buyer.organisation.pk,
                            lines=[LineInput(quantity=TONNE, listing_id=world.listing.pk)])  # fmt: skip
    assert second.orders.get().number == f"PO-{year}-1234567"


def test_the_api_answers_a_placement_as_it_reads_the_purchase_back(world, broker, as_user):
    other = make_lot(world.seller, grams=5 * TONNE, grade=world.grade_1, warehouse=world.warehouse,
                     collection_point=world.extra["collection_point"])  # fmt: skip
    second = make_listing(world.seller, other, world.warehouse)
    buyer = as_user(world.buyer.manager)
    lines = [{"listing": world.listing.pk, "quantity": TONNE}, {"listing": second.pk, "quantity": TONNE},
             {"offer": world.offer.pk, "quantity": 10}]  # fmt: skip
    answer = buyer.post("/api/v1/purchases/", {"organisation": world.buyer.organisation.pk, "lines": lines},
                        format="json")  # fmt: skip
    assert answer.status_code == 201, answer.content
    placed = answer.json()
    assert placed == buyer.get(f"/api/v1/purchases/{placed['reference']}/").json()
    assert [o["line_count"] for o in placed["orders"]] == [2, 1]
