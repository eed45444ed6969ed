"""Prometheus metrics and the health state that ``/healthz`` reads.

One ``Metrics`` object per running bot (tests make their own), so counters are
never shared through a global registry.
"""

from __future__ import annotations

import platform
import threading
from dataclasses import dataclass, field

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from bot import __version__

# The ``*_created`` series double every counter for a timestamp nobody
# graphs; the process start time is in ``/healthz`` already.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        Info("filrouge_build", "The running version.", registry=self.registry).info(
            {"version": __version__, "python": platform.python_version()}
        )
        self.mentions = Counter(
            "filrouge_mentions_total", "Mention notifications received.", registry=self.registry
        )
        self.replies = Counter(
            "filrouge_replies_total",
            "Replies decided, by rule and mode (live, observe, dry_run).",
            ["rule", "mode"],
            registry=self.registry,
        )
        self.skips = Counter(
            "filrouge_skips_total",
            "Mentions skipped, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.errors = Counter(
            "filrouge_errors_total", "Errors, by kind.", ["kind"], registry=self.registry
        )
        self.admin_commands = Counter(
            "filrouge_admin_commands_total",
            "Admin commands received by direct message, by command and outcome"
            " (done, refused: not from an admin, error).",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.moderator_notices = Counter(
            "filrouge_moderator_notices_total",
            "Threads handed to the moderators, by how (dm, report) and outcome (sent, failed).",
            ["how", "outcome"],
            registry=self.registry,
        )
        self.taken_back = Counter(
            "filrouge_taken_back_total",
            "Replies the bot deleted, by how (request: someone with a say asked;"
            " mention_deleted: the mention it answered is gone).",
            ["how"],
            registry=self.registry,
        )
        self.deletion_checks = Counter(
            "filrouge_deletion_checks_total",
            "Mentions looked up to see whether their author deleted them.",
            registry=self.registry,
        )
        self.paused = Gauge(
            "filrouge_paused", "1 while an admin has paused the bot.", registry=self.registry
        )
        self.reconnects = Counter(
            "filrouge_reconnects_total", "Stream reconnections.", registry=self.registry
        )
        self.stream_connected = Gauge(
            "filrouge_stream_connected", "1 while the stream is connected.", registry=self.registry
        )
        self.latency = Histogram(
            "filrouge_reply_latency_seconds",
            "From the mention's creation to the reply being posted.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )


@dataclass
class Health:
    """What the listener and the worker report about themselves.

    Written by the bot's threads, read by ``/healthz``; one lock guards it.
    """

    stream_connected: bool = False
    polling: bool = False
    #: POSIX time of the last stream event or heartbeat, or of the last poll.
    last_event_at: float | None = None
    last_error: str | None = None
    started_at: float | None = None
    paused: bool = False
    #: "off" (a setting), "connecting", "up", "down" or "unsupported" (the server does not stream).
    streaming: str = "connecting"
    #: POSIX time until which the worker waits out a rate limit (None: not limited).
    rate_limited_until: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, **changes: object) -> None:
        with self._lock:
            for name, value in changes.items():
                if name.startswith("_") or not hasattr(self, name):
                    raise AttributeError(name)
                setattr(self, name, value)

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "stream_connected": self.stream_connected,
                "polling": self.polling,
                "last_event_at": self.last_event_at,
                "last_error": self.last_error,
                "started_at": self.started_at,
                "paused": self.paused,
                "streaming": self.streaming,
                "rate_limited_until": self.rate_limited_until,
            }
