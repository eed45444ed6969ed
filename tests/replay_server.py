"""A loopback HTTP server that answers like a recorded fediverse server.

``ReplayServer(name).start()`` serves ``tests/data/servers/<name>.json``: its
routes exactly as recorded (any other path is a 404, like an endpoint the
server does not have), and its notifications paged the way Mastodon pages
them (``min_id``: the items immediately after it; ``max_id``: the newest
before it; newest first, ``limit``). ``notifications`` is a list the test may
change while the bot runs, to play a server that commits one late.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.model.ids import id_key, is_newer

SERVERS = Path(__file__).parent / "data" / "servers"


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SERVERS / f"{name}.json").read_text(encoding="utf-8"))
    return data


class ReplayServer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.data = recorded(name)
        self.routes: dict[str, dict[str, Any]] = self.data["routes"]
        self.notifications: list[dict[str, Any]] = list(self.data.get("notifications", []))
        #: Every request as "METHOD path?query", in order.
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> ReplayServer:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                replay.requests.append(f"GET {self.path}")
                status, body = replay.answer("GET", self.path)
                self._send(status, body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                replay.requests.append(f"POST {self.path}")
                status, body = replay.answer("POST", self.path)
                self._send(status, body)

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answer(self, method: str, target: str) -> tuple[int, Any]:
        parts = urlsplit(target)
        route = self.routes.get(f"{method} {parts.path}")
        if route is not None:
            return int(route["status"]), route.get("body", {})
        if method == "GET" and parts.path == "/api/v1/notifications":
            return 200, self._page(parse_qs(parts.query))
        return 404, {"error": "Record not found"}

    def _page(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        limit = int(query.get("limit", ["40"])[0])
        items = sorted(self.notifications, key=lambda n: id_key(n["id"]))
        if "min_id" in query:
            after = [n for n in items if is_newer(n["id"], query["min_id"][0])]
            page = after[:limit]
        else:
            if "max_id" in query:
                items = [n for n in items if is_newer(query["max_id"][0], n["id"])]
            page = items[-limit:]
        return list(reversed(page))
