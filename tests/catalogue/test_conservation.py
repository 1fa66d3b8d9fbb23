"""Quantities are conserved: whatever sequence of bulk, split and merge operations runs, the total in open
lots and every member's total stay what the members delivered, and every lot's shares add up to it."""

from collections import defaultdict

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from catalogue import services
from catalogue.models import Lot, LotContribution
from catalogue.services.lots import split_shares
from marketplace.core.money import allocate_largest_remainder


@given(
    shares=st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=30),
    cuts=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8),
)
def test_split_shares_hands_out_every_share_and_fills_every_part_exactly(shares, cuts):
    total = sum(shares)
    if total < len(cuts):
        cuts = cuts[:total]
    parts = [p for p in allocate_largest_remainder(total, cuts) if p > 0]
    matrix = split_shares(shares, parts)
    assert [sum(row) for row in matrix] == parts
    assert [sum(column) for column in zip(*matrix, strict=True)] == shares
    assert all(cell >= 0 for row in matrix for cell in row)


def test_split_shares_is_deterministic_and_refuses_bad_input():
    assert split_shares([1, 1, 1], [2, 1]) == [[1, 1, 0], [0, 0, 1]]
    with pytest.raises(ValueError):
        split_shares([5], [3, 3])
    with pytest.raises(ValueError):
        split_shares([5, 0], [5])


OPERATION = st.one_of(
    st.tuples(st.just("bulk"), st.lists(st.integers(0, 30), min_size=1, max_size=5)),
    st.tuples(
        st.just("split"),
        st.integers(0, 30),
        st.lists(st.integers(1, 1000), min_size=2, max_size=4),
        st.booleans(),
    ),
    st.tuples(st.just("merge"), st.lists(st.integers(0, 30), min_size=2, max_size=4)),
)


def _open_lots(organisation) -> list[Lot]:
    return list(Lot.objects.filter(organisation=organisation, status=Lot.Status.OPEN).order_by("pk"))


def _totals_in_open_lots(organisation) -> tuple[int, dict[int, int]]:
    per_farmer: dict[int, int] = defaultdict(int)
    for contribution in LotContribution.objects.filter(lot__organisation=organisation).exclude(
        lot__status=Lot.Status.CLOSED
    ):
        per_farmer[contribution.farmer_id] += contribution.grams
    return sum(per_farmer.values()), dict(per_farmer)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    deliveries=st.lists(
        st.tuples(st.integers(0, 2), st.integers(min_value=1, max_value=400_000)), min_size=1, max_size=8
    ),
    operations=st.lists(OPERATION, max_size=12),
)
def test_bulk_split_and_merge_conserve_every_members_total(
    deliveries, operations, record, farmers, manager, coop, warehouse
):
    with transaction.atomic():
        recorded = [record(farmers[who], net_grams=grams) for who, grams in deliveries]
        unbulked = list(recorded)
        bulked_per_farmer: dict[int, int] = defaultdict(int)
        for operation in operations:
            kind = operation[0]
            if kind == "bulk" and unbulked:
                chosen = {unbulked[i % len(unbulked)] for i in operation[1]}
                services.lot_bulk(
                    actor=manager, organisation_id=coop.pk, delivery_ids=[d.pk for d in chosen],
                    storage_location_id=warehouse.pk,
                )  # fmt: skip
                event("bulk")
                for delivery in chosen:
                    unbulked.remove(delivery)
                    bulked_per_farmer[delivery.farmer_id] += delivery.net_grams
            elif kind == "split" and _open_lots(coop):
                lots = _open_lots(coop)
                lot = lots[operation[1] % len(lots)]
                if lot.quantity_grams < 2:
                    continue
                weights = operation[2][: lot.quantity_grams]
                parts = [p for p in allocate_largest_remainder(lot.quantity_grams, weights) if p > 0]
                if len(parts) < 2:
                    continue
                if operation[3]:
                    parts = parts[:-1]  # leave the rest to the service
                services.lot_split(actor=manager, lot_id=lot.pk, parts_grams=parts)
                event("split")
            elif kind == "merge":
                lots = _open_lots(coop)
                chosen_ids = {lots[i % len(lots)].pk for i in operation[1]} if lots else set()
                if len(chosen_ids) >= 2:
                    services.lot_merge(actor=manager, lot_ids=sorted(chosen_ids))
                    event("merge")

            total, per_farmer = _totals_in_open_lots(coop)
            assert total == sum(bulked_per_farmer.values())
            assert per_farmer == {k: v for k, v in bulked_per_farmer.items() if v}

        for lot in Lot.objects.filter(organisation=coop):
            assert sum(c.grams for c in lot.contributions.all()) == lot.quantity_grams
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run the database's deferred share checks now
        transaction.set_rollback(True)
