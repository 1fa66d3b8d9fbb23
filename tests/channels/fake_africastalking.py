"""A small fake of Africa's Talking's SMS API (POST /version1/messaging), served by a real HTTP server thread on
127.0.0.1. Like the real service it checks the apiKey header and answers JSON with per-recipient status codes; it
sends a message once per Idempotency-Key (a repeat gets the first answer), and can be told to be slow."""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

API_KEY = "atsk_test_key"


class FakeAfricasTalking:
    def __init__(self) -> None:
        self.requests: list[dict] = []  # every request received
        self.sent: list[dict] = []  # every message actually sent
        self.answers: dict[str, tuple[int, dict]] = {}
        self.delays: list[float] = []  # seconds to wait before answering the 1st, 2nd, ... request
        self.status_code = 101  # recipient status code to answer
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                status, payload = fake.handle(self.path, dict(self.headers), form)
                body = json.dumps(payload).encode() if isinstance(payload, dict) else payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if isinstance(payload, dict) else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeAfricasTalking:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, path: str, headers: dict, form: dict):
        with self._lock:
            number = len(self.requests)
            self.requests.append({"path": path, "headers": headers, "form": form})
            delay = self.delays[number] if number < len(self.delays) else 0
        answer = self.answer(path, headers, form)
        if delay:
            time.sleep(delay)  # the message is sent; the answer comes late
        return answer

    def answer(self, path: str, headers: dict, form: dict):
        if path != "/version1/messaging":
            return 404, "Not found"
        if headers.get("apiKey") != API_KEY or form.get("username") != "coopmarket":
            return 401, "The supplied authentication is invalid"
        key = headers.get("Idempotency-Key", "")
        with self._lock:  # one send per idempotency key, even when the retry arrives while the first is running
            if key and key in self.answers:
                return self.answers[key]
            code = self.status_code
            recipient = {"statusCode": code, "number": form["to"]}
            if code in (100, 101, 102):
                message_id = f"ATXid_{next(self._ids):06d}"
                self.sent.append({"id": message_id, **form})
                recipient.update(status="Success", cost="KES 0.8000", messageId=message_id)
            else:
                recipient.update(status={403: "InvalidPhoneNumber", 500: "InternalServerError"}.get(code, "Failed"),
                                 cost="0", messageId="None")  # fmt: skip
            answer = (201, {"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [recipient]}})
            if key:
                self.answers[key] = answer
            return answer
