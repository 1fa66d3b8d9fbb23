"""Which operations the fuzzer reached: per operation and person, whether any generated request got a 2xx.

The fuzz test appends one JSON line per request to a report (FUZZ_REPORT, or a file of its own for the run);
at the end of the session tests/fuzz/plugin.py prints the summary below and checks that every operation got a
2xx for someone, except those listed in UNREACHABLE with the reason. Also a script:

    .venv/bin/python -m tests.fuzz.reach /tmp/fuzz.jsonl            # the summary of a saved report
    .venv/bin/python -m tests.fuzz.reach /tmp/fuzz.jsonl --json     # the same as JSON
"""

import collections
import json
import sys

# Operations that got no 2xx from anyone in the suite's run (5 examples per operation and person), and why. Keys
# are "METHOD /path". MUST STAY: cannot succeed in this test setup whatever is generated. NOT BUILT: the fuzz world
# lacks the object in the needed state (other tests cover the 2xx). An operation NOT listed here that no one reaches
# fails the session (tests/fuzz/plugin.py).
MUST_STAY = "MUST STAY: "
NOT_BUILT = "NOT BUILT: "
UNREACHABLE = {
    "POST /api/v1/payments/{payment_id}/offline-pay/": MUST_STAY
    + "paying without moving money exists only with DEBUG on (the demo); the suite runs with DEBUG off, so 403",
    "POST /api/v1/payments/transfers/{transfer_id}/resend/": MUST_STAY
    + "only a transfer the payment provider (Stripe) refused can be re-sent; the in-process run calls no provider "
    "(tests/payments/test_transfer_resend.py covers it against localstripe)",
    "POST /api/v1/payout-batches/{id}/retry-failed/": NOT_BUILT
    + "a batch has failed payments only once the payout provider failed them at settlement; the world's offline "
    "provider pays at once (tests/payouts/test_settle.py covers it with failing providers)",
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
