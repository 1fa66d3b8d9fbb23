"""How many queries one placement runs, as in production (the API's requests are not wrapped in a transaction,
so the service's own transaction adds no savepoint): 8 for one line with its outbox message and that message's
hand-over to the broker, 9 for the whole HTTP request with its token lookup, 2 more for a basket of three lines
from one seller; and every guarantee kept (audit records, notifications, reservations, the outbox row)."""

import pytest

from catalogue.models import Listing
from marketplace.core.models import AuditEvent, OutboxMessage
from orders.models import Notification, Order, Purchase
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


# BEGIN; the membership; the listing; the purchase, its order and line (one statement); the reservation's
# conditional UPDATE; the order event, its notifications, its outbox message and the audit records (one statement);
# COMMIT; and after the commit, the message handed to the broker and marked sent (one UPDATE).
ONE_LINE = 8


def test_one_line_placement_runs_eight_queries_with_its_outbox(world, broker, django_assert_max_num_queries):
    buyer = world.buyer
    with django_assert_max_num_queries(ONE_LINE):
        purchase = purchase_place(actor=buyer.manager, buyer_id=buyer.organisation.pk,
                                  lines=[LineInput(quantity=TONNE, listing_id=world.listing.pk)])  # fmt: skip
    _assert_placed_with_every_guarantee(world, purchase, broker)


def _assert_placed_with_every_guarantee(world, purchase, broker) -> None:
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
    message = OutboxMessage.objects.get(key=f"order-notifications:{order.events.get().pk}")
    assert message.args == [order.events.get().pk] and message.sent_at is not None and message.attempts == 1


def test_the_whole_http_request_runs_nine_queries_token_lookup_included(world, broker, django_assert_max_num_queries):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world.buyer.manager).key}")
    body = {"organisation": world.buyer.organisation.pk, "lines": [{"listing": world.listing.pk, "quantity": TONNE}]}
    with django_assert_max_num_queries(ONE_LINE + 1):  # and the token lookup (with its user)
        answer = client.post("/api/v1/purchases/", body, format="json")
    assert answer.status_code == 201, answer.content
    purchase = Purchase.objects.get(reference=answer.json()["reference"])
    assert answer.json()["orders"][0]["number"] == purchase.orders.get().number
    _assert_placed_with_every_guarantee(world, purchase, broker)


def test_three_lines_from_one_seller_run_as_many_queries_plus_one_update_each(world, django_assert_max_num_queries):
    listings = []
    for _ in range(3):
        lot = make_lot(world.seller, grams=5 * TONNE, grade=world.grade_1, warehouse=world.warehouse,
                       collection_point=world.extra["collection_point"])  # fmt: skip
        listings.append(make_listing(world.seller, lot, world.warehouse))
    with django_assert_max_num_queries(ONE_LINE + 2):
        purchase = purchase_place(actor=world.buyer.manager, buyer_id=world.buyer.organisation.pk,
                                  lines=[LineInput(quantity=TONNE, listing_id=x.pk) for x in listings])  # fmt: skip
    order = purchase.orders.get()
    assert list(order.lines.order_by("position").values_list("position", "listing_id")) == [
        (i, x.pk) for i, x in enumerate(listings, start=1)
    ]
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


def test_an_idempotency_key_adds_four_statements_and_its_replay_places_nothing(
    world, broker, django_assert_max_num_queries
):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=world.buyer.manager).key}")
    body = {"organisation": world.buyer.organisation.pk, "lines": [{"listing": world.listing.pk, "quantity": TONNE}]}
    # and the key's INSERT ... ON CONFLICT, its answer's UPDATE, and the savepoint the service's own transaction
    # now takes inside the request's (SAVEPOINT, RELEASE)
    with django_assert_max_num_queries(ONE_LINE + 1 + 4):
        answer = client.post("/api/v1/purchases/", body, format="json", headers={"Idempotency-Key": "k-1"})
    assert answer.status_code == 201, answer.content
    # the token, BEGIN, the INSERT that conflicts, the stored answer, COMMIT
    with django_assert_max_num_queries(5):
        again = client.post("/api/v1/purchases/", body, format="json", headers={"Idempotency-Key": "k-1"})
    assert again.json() == answer.json() and again.headers["Idempotent-Replayed"] == "true"
    purchase = Purchase.objects.get(reference=answer.json()["reference"])
    assert Purchase.objects.count() == 1
    _assert_placed_with_every_guarantee(world, purchase, broker)
