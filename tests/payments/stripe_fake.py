"""Helpers for tests against localstripe: start it (extended with Connect), read its events, and deliver them to
our webhook view signed with Stripe's scheme (Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "t.body">)."""

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

PLUGIN = Path(__file__).with_name("localstripe_connect.py")
SECRET_KEY = "sk_test_localstripe"
WEBHOOK_SECRET = "whsec_test_coopmarket"
WEBHOOK_URL = "/payments/webhooks/stripe/"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(workdir: Path) -> tuple[subprocess.Popen, str]:
    """localstripe with our plugin on a random 127.0.0.1 port, its pickle in `workdir`."""
    port = free_port()
    log = (workdir / "localstripe.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(PLUGIN), "--port", str(port)],
        cwd=workdir,
        env={"PATH": "/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": str(workdir)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"localstripe exited: {(workdir / 'localstripe.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("localstripe did not start")


def call(base: str, method: str, path: str, data: dict | None = None) -> dict:
    body = urllib.parse.urlencode(data or {}).encode() if method in ("POST", "DELETE") else None
    request = urllib.request.Request(  # noqa: S310 (a local test server)
        base + path, data=body, method=method, headers={"Authorization": f"Bearer {SECRET_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def events(base: str, event_type: str, object_id: str) -> list[dict]:
    """The events localstripe recorded of `event_type` about `object_id`, oldest first."""
    found = call(base, "GET", "/v1/events?" + urllib.parse.urlencode({"type": event_type, "limit": 100}))["data"]
    return sorted((e for e in found if e["data"]["object"]["id"] == object_id), key=lambda e: e["created"])


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver(client, event: dict, **sign_options):
    payload = json.dumps(event).encode()
    return client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload, **sign_options)
    )


def event_of(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    """An event localstripe does not send (e.g. charge.refunded), built as Stripe would send it."""
    return {
        "id": event_id or f"evt_{event_type.replace('.', '_')}_{obj['id']}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "api_version": "2024-06-20",
        "livemode": False,
        "data": {"object": obj},
    }
