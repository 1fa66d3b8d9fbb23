"""Many buyers at once through the API against the real PostgreSQL: each thread has its own connection and
commits for real.
The units sold never exceed the stock, every reservation is reflected exactly on the listing, and every refused
buyer gets a clear 409 or 400 and no partial order."""

import random
import threading
import time

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from catalogue.models import Listing
from marketplace.organisations.models import Organisation
from orders.models import Order, OrderLine, Purchase
from tests.factories import MembershipFactory, OrganisationFactory
from tests.orders.factories import TONNE, make_world

BUYERS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_at_once_never_oversell_a_listing():
    world = make_world(lot_grams=30 * TONNE)
    rng = random.Random(20261127)
    buyers = []
    for index in range(BUYERS):
        organisation = OrganisationFactory(legal_name=f"Buyer {index:02d}", kind=Organisation.Kind.BUYER)
        buyers.append((organisation, MembershipFactory(organisation=organisation).user, rng.randint(1, 3) * TONNE))
    demand = sum(grams for _, _, grams in buyers)
    assert demand > 30 * TONNE  # more asked for than there is

    start = threading.Barrier(BUYERS)
    results: dict[int, tuple[int, str]] = {}

    def buy(organisation, user, grams):
        try:
            client = APIClient()
            client.force_authenticate(user=user)
            payload = {"organisation": organisation.pk, "lines": [{"listing": world.listing.pk, "quantity": grams}]}
            start.wait()
            answer = client.post("/api/v1/purchases/", payload, format="json")
            body = answer.json()
            results[organisation.pk] = (
                answer.status_code,
                body["reference"] if answer.status_code == 201 else body["error"]["message"],
            )
        finally:
            connection.close()

    began = time.monotonic()
    threads = [threading.Thread(target=buy, args=buyer) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - began
    assert len(results) == BUYERS

    listing = Listing.objects.get(pk=world.listing.pk)
    placed = OrderLine.objects.filter(listing=listing).aggregate(total=Sum("quantity"))["total"] or 0
    accepted = [pk for pk, (status, _) in results.items() if status == 201]
    refused = {pk: outcome for pk, outcome in results.items() if outcome[0] != 201}
    assert accepted and refused
    # Never oversold, and every reservation is reflected exactly on the listing.
    assert placed <= 30 * TONNE
    assert listing.quantity_reserved_grams == placed
    assert listing.quantity_available_grams == 30 * TONNE - placed
    assert listing.quantity_offered_grams == 30 * TONNE
    # What was refused asked for more than remained when its turn came; nothing of it was written.
    smallest_refused = min(grams for org, _, grams in buyers if org.pk in refused)
    assert listing.quantity_available_grams < smallest_refused
    for organisation_pk, (status, message) in refused.items():
        assert status in (400, 409), message
        assert "available" in message
        assert not Purchase.objects.filter(buyer_id=organisation_pk).exists()
        assert not Order.objects.filter(buyer_id=organisation_pk).exists()
    for organisation, _, grams in buyers:
        if organisation.pk in accepted:
            order = Order.objects.get(buyer=organisation)
            assert order.lines.get().quantity == grams and order.status == "placed"
    assert elapsed < 30, f"{BUYERS} concurrent purchases took {elapsed:.1f} s"
