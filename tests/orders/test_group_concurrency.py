"""50 clerks record requests into one window at once: nothing is lost."""

import threading

import pytest
from django.db import connection

from orders.group_models import MemberRequest, RequestChange
from tests.orders.group_factories import ask, make_group_world

CLERKS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_clerks_at_once_lose_nothing():
    world = make_group_world(farmers=25)
    product = world.products[0]
    barrier = threading.Barrier(CLERKS)
    errors = []

    def clerk(n: int):
        try:
            barrier.wait(timeout=30)
            # two clerks per member: both add to the same request row
            ask(world, world.farmers[n % 25], product, 1_000 + n, n % 3)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk, args=(n,)) for n in range(CLERKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert RequestChange.objects.count() == CLERKS
    assert MemberRequest.objects.count() == 25
    total_q = sum(r.quantity for r in MemberRequest.objects.all())
    total_t = sum(r.tolerance for r in MemberRequest.objects.all())
    assert total_q == sum(1_000 + n for n in range(CLERKS))
    assert total_t == sum(n % 3 for n in range(CLERKS))
    for request in MemberRequest.objects.all():
        changes = RequestChange.objects.filter(request=request)
        assert request.quantity == sum(c.quantity_delta for c in changes)
