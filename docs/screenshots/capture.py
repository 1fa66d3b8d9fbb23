"""Capture the README screenshots from a running demo (`make demo` in another terminal).

    .venv/bin/python docs/screenshots/capture.py [--base-url http://127.0.0.1:8000]

Uses Debian's Chromium ($CHROMIUM_PATH, default /usr/bin/chromium) through Playwright; downloads nothing.
"""

import argparse
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
PASSWORD = "harvest-2026"  # noqa: S105 (the published demo password)
# (file name, account, path, viewport width)
SHOTS = [
    ("dashboard.png", "manager@cocoa-nawa.demo", "/", 412),
    ("members.png", "manager@cocoa-nawa.demo", "/members/", 412),
    ("delivery.png", "clerk@cocoa-nawa.demo", "/catalogue/deliveries/new/", 412),
    ("lots.png", "manager@cocoa-nawa.demo", "/catalogue/lots/", 1100),
    ("catalogue.png", "manager@amstel-origins.demo", "/catalogue/", 1100),
    ("orders.png", "manager@amstel-origins.demo", "/orders/", 1100),
    ("payouts.png", "manager@cocoa-nawa.demo", "/payouts/", 1100),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        for name, email, path, width in SHOTS:
            context = browser.new_context(base_url=args.base_url, viewport={"width": width, "height": 900})
            page = context.new_page()
            page.goto("/accounts/login/")
            page.fill("input[name=username]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.goto(path)
            page.screenshot(path=str(HERE / name), full_page=False)
            print(f"{name}: {email} {path}")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
