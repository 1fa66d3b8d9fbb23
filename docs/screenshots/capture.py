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


def main() -> int:
    extra = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else []
    env = {**os.environ, "COOPMARKET_SCREENSHOTS": str(HERE)}
    command = [sys.executable, "-m", "pytest", "-n", "0", "-q", "-p", "no:randomly",
               "tests/browser/test_journeys.py", "-k", "not fr", *extra]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603 (our own test run)
    for shot in sorted(HERE.glob("*-phone.png")) + sorted(HERE.glob("*-laptop.png")):
        print(shot.relative_to(ROOT))
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
