"""A local HTTP server that plays a messaging provider: it records every request and answers
with the provider's real response formats, scripted per test (successes, error bodies, 429)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeProvider:
    base: str = ""
    requests: list[Seen] = field(default_factory=list)
    # (path prefix, status, JSON body, headers): the first matching answer is used once;
    # when none is scripted for a path, ``default`` answers it.
    script: deque[tuple[str, int, Any, dict[str, str]]] = field(default_factory=deque)
    default: dict[str, Any] = field(default_factory=dict)

    def answer(
        self, prefix: str, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        self.script.append((prefix, status, body, headers or {}))

    def pick(self, path: str) -> tuple[int, Any, dict[str, str]]:
        for item in list(self.script):
            if path.startswith(item[0]):
                self.script.remove(item)
                return item[1], item[2], item[3]
        for prefix, body in self.default.items():
            if path.startswith(prefix):
                return 200, body, {}
        return 404, {"error": "no such route"}, {}


def serve(provider: FakeProvider) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            provider.requests.append(Seen(
                method=self.command, path=url.path,
                query=dict(urllib.parse.parse_qsl(url.query)),
                headers={k: v for k, v in self.headers.items()},
                body=json.loads(raw) if raw else None,
            ))  # fmt: skip
            status, body, headers = provider.pick(url.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
