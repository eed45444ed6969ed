"""systemd's notify protocol: readiness, stopping, and the watchdog.

Under ``Type=notify`` systemd passes ``NOTIFY_SOCKET`` (a datagram socket,
``@``-prefixed when abstract) and, with ``WatchdogSec=``, ``WATCHDOG_USEC``
(and ``WATCHDOG_PID``): the service sends ``READY=1`` once it serves,
``WATCHDOG=1`` at least every ``WATCHDOG_USEC``, ``STOPPING=1`` when it
shuts down (sd_notify(3)). Outside systemd every call is a no-op.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.address = env.get("NOTIFY_SOCKET") or ""
        interval = 0.0
        pid = env.get("WATCHDOG_PID")
        if env.get("WATCHDOG_USEC", "").isdigit() and (pid is None or pid == str(os.getpid())):
            interval = int(env["WATCHDOG_USEC"]) / 1_000_000
        #: Seconds between two watchdog pings systemd expects at most (0: no watchdog).
        self.watchdog_interval = interval
        self._last_ping = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def send(self, message: str) -> bool:
        """Send one notification; False when there is no socket or it failed."""
        if not self.address:
            return False
        address = self.address
        if address.startswith("@"):
            address = "\0" + address[1:]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(address)
                sock.sendall(message.encode())
        except OSError:
            return False
        return True

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def watchdog(self, now: float | None = None) -> None:
        """Ping the watchdog if half its interval has passed (cheap to call often)."""
        if not self.watchdog_interval or not self.address:
            return
        now = time.monotonic() if now is None else now
        if now - self._last_ping >= self.watchdog_interval / 2:
            self._last_ping = now
            self.send("WATCHDOG=1")
