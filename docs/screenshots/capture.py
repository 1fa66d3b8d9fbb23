"""Regenerate the README screenshots from the browser journeys (tests/browser/test_journeys.py).

    .venv/bin/python docs/screenshots/capture.py

Runs the English journeys with COOPMARKET_SCREENSHOTS set, so each journey saves its main pages twice: on a
360 px phone (`<page>-phone.png`) and on a 1280 px laptop (`<page>-laptop.png`), into docs/screenshots/. The
journeys build their own data in the test database, so no demo server is needed; they drive Debian's Chromium
($CHROMIUM_PATH, default /usr/bin/chromium) through Playwright and download nothing. Pass pytest options after
`--`, e.g. `capture.py -- -k buyer`.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
JOURNEYS = "tests/browser/test_journeys.py"
ENGLISH = [
    "test_the_buyer_goes_from_search_to_confirmed_receipt",
    "test_the_clerk_registers_edits_a_member_records_a_delivery_and_opens_a_lot",
    "test_the_manager_lists_a_lot_accepts_an_order_and_pays_members_in_cash",
    "test_the_supplier_finds_its_offers_group_orders_and_money",
]

# The dashboard and the market pages, from the demo data (seed_demo).
MARKET = "tests/browser/test_market_screens.py::test_the_dashboard_and_the_market_page_from_the_demo"


def main() -> int:
    extra = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    env = {**os.environ, "COOPMARKET_SCREENSHOTS": str(HERE)}
    journeys = [f"{JOURNEYS}::{name}[en]" for name in ENGLISH] + [MARKET]
    command = [sys.executable, "-m", "pytest", "-n", "0", "-q", "-p", "no:randomly", *journeys, *extra]
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603 (our own test run)
    for shot in sorted(HERE.glob("*-phone.png")) + sorted(HERE.glob("*-laptop.png")):
        print(shot.relative_to(ROOT))
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
