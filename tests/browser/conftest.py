"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Nothing is downloaded: the browser is the system's (`apt-get install chromium`), found at
$CHROMIUM_PATH. Test modules here mark their tests `browser` and put them in the xdist group
"browser", so that one worker runs them all against one browser process.
"""

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def browser_page(chromium, live_server, transactional_db):
    """A fresh browser context (no cookies) on a phone-sized screen, pointed at the live server."""
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 412, "height": 860}, locale="en-GB", service_workers="block"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
