"""Which operations the fuzzer reached: per operation and person, whether any generated request got a 2xx.

The fuzz test appends one JSON line per request to a report (FUZZ_REPORT, or a file of its own for the run);
at the end of the session tests/fuzz/conftest.py prints the summary below and checks that every operation got a
2xx for someone, except those listed in UNREACHABLE with the reason. Also a script:

    .venv/bin/python -m tests.fuzz.reach /tmp/fuzz.jsonl            # the summary of a saved report
    .venv/bin/python -m tests.fuzz.reach /tmp/fuzz.jsonl --json     # the same as JSON
"""

import collections
import json
import sys

# Operations that got no 2xx from anyone in the suite's run (5 examples per operation and person), and why. Keys
# are "METHOD /path". MUST STAY: cannot succeed in this test setup whatever is generated. NOT BUILT: the fuzz world
# lacks the object in the needed state (other tests cover the 2xx). sampled: the person allowed to do it gets a
# 2xx only when the draw hits the one valid status or combination of fields, which 5 examples rarely do (a longer
# run, FUZZ_EXAMPLES=50 or FUZZ_COVERAGE=1, draws more). An operation NOT listed here that no one reaches fails
# the session (tests/fuzz/plugin.py).
MUST_STAY = "MUST STAY: "
NOT_BUILT = "NOT BUILT: "
SAMPLED = "sampled: "
UNREACHABLE = {
    # Must stay, or not built into the fuzz world.
    "POST /api/v1/group/allocations/{allocation_id}/hand-over/": NOT_BUILT
    + "an allocation exists once a group order is paid, dispatched, received and distributed; the fuzz world stops "
    "at a placed group order (the group order tests cover hand-over)",
    "POST /api/v1/payments/{payment_id}/offline-pay/": MUST_STAY
    + "paying without moving money exists only with DEBUG on (the demo); the suite runs with DEBUG off, so 403",
    "POST /api/v1/payments/organisations/{organisation_id}/payout-onboarding/": MUST_STAY
    + "onboarding opens an account at the payment provider (Stripe), which the in-process fuzz run does not reach",
    "GET /api/v1/lots/{id}/eudr-statement/": NOT_BUILT
    + "the world's plots have no geometry, so every lot answers 409 not_eudr_ready (tests/catalogue cover the 200)",
    "GET /api/v1/orders/{number}/eudr-statement/": NOT_BUILT + "as for lots: no plot geometry in the world, 409",
    # One valid value among many: an enum of statuses of which one is allowed from the fixture's state, a date
    # string among any strings, an optional field that must be given.
    "POST /api/v1/group/orders/{group_order_id}/move/": SAMPLED + "2 of 12 statuses are allowed from draft",
    "POST /api/v1/group/windows/{window_id}/move/": SAMPLED + "2 of 6 statuses from open; cancelled needs a reason",
    "POST /api/v1/lots/{id}/transition/": SAMPLED + "2 of the statuses are allowed from open",
    "POST /api/v1/organisations/{id}/verification/": SAMPLED + "verified or rejected from pending, by the operator",
    "POST /api/v1/orders/{number}/cancel/": SAMPLED + "the buyer's manager only; reason optional",
    "POST /api/v1/orders/{number}/mark-paid/": SAMPLED + "the operator only, one person in four",
    "POST /api/v1/orders/{number}/resolve/": SAMPLED
    + "the operator only; a refund decision needs a refund_amount up to what was paid",
    "POST /api/v1/orders/{number}/receipt/": SAMPLED
    + "the buyer only; each line's quantity at most what was dispatched",
    "GET /api/v1/traceability/epcis/": SAMPLED
    + "exactly one of lot, order or since (a date), stated in the description; OpenAPI 3.0 has no oneOf for parameters",
    "POST /api/v1/matching/proposals/{id}/counter/": SAMPLED
    + "the optional part must be given, and grams within bounds",
    "POST /api/v1/matching/requests/": SAMPLED
    + "latitude and longitude are decimal strings whose range a pattern cannot state; the buyer only",
    "PUT /api/v1/matching/requests/{request_id}/": SAMPLED + "as for POST /api/v1/matching/requests/",
    "POST /api/v1/decisions/": SAMPLED
    + "options must differ, a gated kind needs a subject such as proposal_part:12, an assembly a date weeks ahead",
    "POST /api/v1/decisions/{id}/hands/": SAMPLED + "counts per option may not exceed the members who may vote",
    "POST /api/v1/group/windows/{window_id}/requests/": SAMPLED
    + "a quantity or tolerance change that is not zero, and the product and member of the window",
    "POST /api/v1/lots/{id}/move/": SAMPLED + "the other warehouse (moving to where the lot is is a 400)",
    "POST /api/v1/lots/{id}/split/": SAMPLED + "the parts must add up to at most the lot's weight",
    "POST /api/v1/organisations/": SAMPLED
    + "a 13-digit GLN with its check digit, an ISO 4217 currency and ISO 639-1 language together",
    "POST /api/v1/organisations/{organisation_id}/deliveries/": SAMPLED
    + "moisture, weights and grade must agree (net at most gross), decimals within range",
    "POST /api/v1/organisations/{organisation_id}/input-products/": SAMPLED + "the supplier only; an NPK formula",
    "POST /api/v1/organisations/{organisation_id}/listings/": SAMPLED
    + "price, quantity and minimum order within the lot's stock, a currency the cooperative uses",
    "POST /api/v1/organisations/{organisation_id}/offers/": SAMPLED
    + "the supplier only; tiers in increasing order and a region list",
    "POST /api/v1/payments/orders/{number}/refunds/": SAMPLED
    + "the operator only, an amount up to what was paid and an Idempotency-Key",
    "POST /api/v1/purchases/": SAMPLED + "at least one line (a listing or an offer) with a quantity the stock holds",
    "POST /api/v1/farmers/{farmer_id}/plots/": SAMPLED + "reached in one of two runs: area and GeoJSON must agree",
    "POST /api/v1/payments/": SAMPLED + "reached in one of two runs: the buyer only, with the order's total",
}


def load(path: str) -> list[dict]:
    with open(path) as report:
        return [json.loads(line) for line in report if line.strip()]


def summarise(rows: list[dict]) -> dict:
    """{operations, roles, requests, reached: {op: [roles with a 2xx]}, unreached_by_role: {role: [ops]},
    unreached: [ops no one reached]}."""
    seen: dict[str, dict[str, bool]] = collections.defaultdict(dict)
    for row in rows:
        ok = 200 <= row["status"] < 300
        seen[row["operation"]][row["role"]] = seen[row["operation"]].get(row["role"], False) or ok
    roles = sorted({row["role"] for row in rows})
    reached = {op: sorted(r for r, ok in by_role.items() if ok) for op, by_role in seen.items()}
    return {
        "operations": len(seen),
        "roles": roles,
        "requests": len(rows),
        "reached": dict(sorted(reached.items())),
        "unreached_by_role": {
            role: sorted(op for op, by_role in seen.items() if not by_role.get(role)) for role in roles
        },
        "unreached": sorted(op for op, who in reached.items() if not who),
    }


def text(summary: dict) -> str:
    lines = [f"fuzz reach: {summary['requests']} requests over {summary['operations']} operations"]
    for role, ops in summary["unreached_by_role"].items():
        lines.append(f"  {role}: {len(ops)} of {summary['operations']} operations got no 2xx")
    lines.append(f"  no one: {len(summary['unreached'])} operations got no 2xx")
    for op in summary["unreached"]:
        reason = UNREACHABLE.get(op)
        lines.append(f"    {op}" + (f"  ({reason})" if reason else "  (NOT LISTED in tests/fuzz/reach.py)"))
    return "\n".join(lines)


if __name__ == "__main__":
    result = summarise(load(sys.argv[1]))
    print(json.dumps(result, indent=1) if "--json" in sys.argv else text(result))
