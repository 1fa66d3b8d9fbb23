import random
import time

import pytest

from orders.services.group_plan import (
    Need,
    OfferInput,
    SupplierTerms,
    plan_brute_force,
    plan_exact,
    plan_greedy,
    plan_single_supplier,
)


def _instance(rng: random.Random):
    n_products = rng.randint(1, 6)
    n_suppliers = rng.randint(1, 4)
    needs = []
    for p in range(1, n_products + 1):
        unit = rng.choice([1, 4, 10, 25])
        needs.append(Need(p, rng.randint(0, 12) * unit + rng.randint(0, unit), rng.randint(0, unit), unit))
    offers, oid = [], 0
    for s in range(1, n_suppliers + 1):
        for p in range(1, n_products + 1):
            if rng.random() < 0.7:
                oid += 1
                breaks = sorted(rng.sample(range(1, 15), rng.randint(1, 4)))
                price = rng.randint(500, 1000)
                tiers = []
                for b in breaks:
                    tiers.append((b, price))
                    price -= rng.randint(0, 120)
                offers.append(OfferInput(oid, p, s, tuple(tiers), rng.choice([None, rng.randint(3, 20)]),
                                         rng.choice([0, 0, rng.randint(100, 2000)])))  # fmt: skip
    terms = {s: SupplierTerms(rng.choice([0, rng.randint(100, 3000)]), rng.choice([0, 0, rng.randint(1000, 20000)]))
             for s in range(1, n_suppliers + 1)}  # fmt: skip
    return needs, offers, terms


@pytest.mark.parametrize("seed", range(60))
def test_exact_plan_equals_brute_force(seed):
    needs, offers, terms = _instance(random.Random(seed))
    exact = plan_exact(needs, offers, terms)
    brute = plan_brute_force(needs, offers, terms)
    assert (len(exact.unserved), exact.cost) == (len(brute.unserved), brute.cost)
    greedy = plan_greedy(needs, offers, terms)
    assert (len(exact.unserved), exact.cost) <= (len(greedy.unserved), greedy.cost)


def test_exact_beats_a_single_supplier_when_splitting_pays():
    needs = [Need(1, 40, 0, 4), Need(2, 40, 0, 4)]
    offers = [
        OfferInput(1, 1, 10, ((1, 100),)),
        OfferInput(2, 2, 10, ((1, 300),)),
        OfferInput(3, 1, 20, ((1, 300),)),
        OfferInput(4, 2, 20, ((1, 100),)),
    ]
    terms = {10: SupplierTerms(delivery_cost=50), 20: SupplierTerms(delivery_cost=50)}
    exact = plan_exact(needs, offers, terms)
    single = plan_single_supplier(needs, offers, terms)
    assert {p: c.offer_id for p, c in exact.lines.items()} == {1: 1, 2: 4}
    assert exact.cost == 10 * 100 + 10 * 100 + 100
    assert single.cost == 10 * 100 + 10 * 300 + 50
    assert exact.goods == 2000 and exact.delivery == 100


def test_supplier_minimum_and_stock_are_respected():
    needs = [Need(1, 8, 0, 4)]  # 2 packs
    offers = [OfferInput(1, 1, 10, ((1, 10),)), OfferInput(2, 1, 20, ((1, 50),)), OfferInput(3, 1, 30, ((1, 1),), 1)]
    terms = {10: SupplierTerms(min_order_amount=1000)}
    plan = plan_exact(needs, offers, terms)
    assert plan.lines[1].offer_id == 2  # 10's minimum is not met, 30 has one pack in stock
    assert plan_exact([Need(1, 8, 0, 4)], [], {}).unserved == [1]


def test_tier_reached_by_the_rounded_total():
    needs = [Need(1, 39, 1, 4)]  # 10 packs thanks to the tolerance
    offers = [OfferInput(1, 1, 10, ((1, 100), (10, 80))), OfferInput(2, 1, 20, ((1, 90),))]
    plan = plan_exact(needs, offers)
    assert (plan.lines[1].offer_id, plan.lines[1].packs, plan.lines[1].unit_price) == (1, 10, 80)


def test_exact_plan_is_fast_on_benchmark_size():
    from benchmarks.input_plan import build_instance

    needs, offers, terms = build_instance(random.Random(7))
    started = time.perf_counter()
    exact = plan_exact(needs, offers, terms)
    elapsed = time.perf_counter() - started
    greedy = plan_greedy(needs, offers, terms)
    assert elapsed < 10
    assert (len(exact.unserved), exact.cost) <= (len(greedy.unserved), greedy.cost)
