"""Order placement over HTTP with `wrk` as the load generator (Debian's `apt-get install wrk`), so the clients cost
the server almost no CPU: a Python client of 50 threads eats a good part of a 2-core machine by itself.

Run it through benchmarks/order_placement.py --client wrk (which makes and drops the database). Each wrk
connection has its own buyer organisation and API token (the Lua script numbers its connections), and every
request carries a unique Idempotency-Key. In the same run, the cheapest authenticated request (GET /api/v1/me/)
through the same stack is the baseline; the placement rate is printed as a share of it. Then nothing oversold is
checked against the order lines, as in the Python client's runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchmarks.order_placement_http import cpu_seconds, oversold, seeded, start_gunicorn, stop_gunicorn

LUA = r"""
local clients = %(clients)s
local listings = %(listings)s
local grams = %(grams)d
local mode = "%(mode)s"
local counter = 0
local threads = {}
local connection_base = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  ok, refused, other, n = 0, 0, 0, 0
  -- wrk opens its connections in turn; each request goes to the next connection of this thread, so numbering the
  -- requests modulo the thread's connections gives each connection (roughly) its own client.
  per = math.floor(%(connections)d / %(threads)d)
end

function request()
  n = n + 1
  local slot = (id * per + (n %% per)) %% #clients + 1
  local client = clients[slot]
  local headers = {
    ["Authorization"] = "Token " .. client[2],
    ["Content-Type"] = "application/json",
    ["X-Forwarded-Proto"] = "https",
    ["Idempotency-Key"] = string.format("bench-%%d-%%d-%%d", id, n, math.random(1, 2000000000)),
  }
  if mode == "me" then
    return wrk.format("GET", "/api/v1/me/", headers)
  end
  local listing = listings[(n + slot) %% #listings + 1]
  local body = string.format('{"organisation": %%d, "lines": [{"listing": %%d, "quantity": %%d}]}', client[1],
                             listing, grams)
  return wrk.format("POST", "/api/v1/purchases/", headers, body)
end

function response(status, headers, body)
  if status == 200 or status == 201 then ok = ok + 1
  elseif status == 409 or status == 400 then refused = refused + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local t_ok, t_refused, t_other = 0, 0, 0
  for _, thread in ipairs(threads) do
    t_ok = t_ok + thread:get("ok")
    t_refused = t_refused + thread:get("refused")
    t_other = t_other + thread:get("other")
  end
  io.write(string.format("RESULT ok=%%d refused=%%d other=%%d errors=%%d p50=%%.1f p95=%%.1f seconds=%%.3f\n",
    t_ok, t_refused, t_other,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.duration / 1e6))
end
"""

RESULT = re.compile(
    r"RESULT ok=(\d+) refused=(\d+) other=(\d+) errors=(\d+) p50=([\d.]+) p95=([\d.]+) seconds=([\d.]+)"
)


def wrk_run(args, data: dict, *, mode: str, listings: list[int], seconds: float, group: int = 0) -> dict:
    clients = "{" + ",".join(f"{{{org},'{token}'}}" for org, token in data["clients"]) + "}"
    script = LUA % {
        "clients": clients,
        "listings": "{" + ",".join(str(x) for x in listings or [0]) + "}",
        "grams": data["grams"],
        "mode": mode,
        "connections": args.clients,
        "threads": args.wrk_threads,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = [
        "wrk", "-t", str(args.wrk_threads), "-c", str(args.clients), "-d", f"{seconds:.0f}s", "--timeout", "30s",
        "-s", handle.name, f"http://127.0.0.1:{args.port}",
    ]  # fmt: skip
    before, client_before = cpu_seconds(group), _children_cpu()
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    after, client = cpu_seconds(group), _children_cpu() - client_before
    os.unlink(handle.name)
    found = RESULT.search(output)
    if found is None:
        raise SystemExit(f"wrk printed no result:\n{output}")
    ok, refused, other, errors = (int(x) for x in found.groups()[:4])
    p50, p95, elapsed = (float(x) for x in found.groups()[4:])
    done = max(1, ok + refused)
    cpu_ms = {side: (after[side] - before[side]) * 1000 / done for side in after} | {"client": client * 1000 / done}
    return {"ok": ok, "refused": refused, "other": other, "errors": errors + other, "p50": p50, "p95": p95,
            "elapsed": elapsed, "rate": ok / elapsed if elapsed else 0.0, "cpu_ms": cpu_ms}  # fmt: skip


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def run_wrk(args, url: str) -> None:
    from django.db import connections

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk).")
    # Enough stock for the timed runs: at most `--orders` per second for the run's length.
    args.orders = max(args.orders, int(args.seconds * 400))
    data = seeded(args, url.rsplit("/", 1)[-1])
    connections.close_all()
    print(f"gunicorn: {args.workers} gthread workers x {args.threads} threads; wrk: {args.wrk_threads} threads, "
          f"{args.clients} connections (one buyer and token each); machine: {os.cpu_count()} CPUs; "
          f"load average before: {load_average()}")  # fmt: skip
    process = start_gunicorn(args, url)
    rows = []
    try:
        group = process.pid  # gunicorn runs in its own session: its process group
        wrk_run(args, data, mode="me", listings=[], seconds=3)  # warm up every worker and connection
        baseline = wrk_run(args, data, mode="me", listings=[], seconds=args.seconds, group=group)
        baseline["label"] = "baseline GET /api/v1/me/"
        rows.append(baseline)
        for label, listing_ids in [
            ("placement, one hot listing", [data["hot"]]),
            (f"placement, spread over {len(data['spread'])} listings", data["spread"]),
        ]:
            row = wrk_run(args, data, mode="place", listings=listing_ids, seconds=args.seconds, group=group)
            row["label"] = label
            row["oversold"], row["mismatch"] = oversold(listing_ids)
            row["ratio"] = row["rate"] / baseline["rate"] if baseline["rate"] else 0.0
            rows.append(row)
        load = load_average()
    finally:
        stop_gunicorn(process)
        redis = os.environ.get("REDIS_URL", "")
        if redis:  # the notification tasks the run queued: no worker was meant to send them
            import redis as redis_client

            redis_client.Redis.from_url(redis).delete("celery")
    print(f"load average after: {load}")
    print()
    print("| Run | Done | Done/s | Share of baseline | p50 (ms) | p95 (ms) | Oversold (g) | Mismatch (g) | Errors "
          "| CPU ms per request: web / PostgreSQL / wrk |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        share = f"{row['ratio']:.0%}" if "ratio" in row else "–"
        cpu = " / ".join(f"{row['cpu_ms'][side]:.1f}" for side in ("web", "postgres", "client"))
        print(f"| {row['label']} | {row['ok']} | {row['rate']:.0f} | {share} | {row['p50']:.0f} | "
              f"{row['p95']:.0f} | {row.get('oversold', '–')} | {row.get('mismatch', '–')} | {row['errors']} "
              f"| {cpu} |")  # fmt: skip
    print(json.dumps([dict(row) for row in rows], default=str))
