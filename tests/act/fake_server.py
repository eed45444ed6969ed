"""An in-memory server implementing ``bot.mastodon.port.MastodonPort``, for
the tests of ``bot.act``: statuses in a dict, threads by ``in_reply_to_id``,
an ``Idempotency-Key`` honoured or not, and failures on demand. Each POST
calls ``on_post`` first, so a test can look at the record at that moment.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.errors import Gone, TransientError
from bot.model.decision import Reply

SELF_ID = "1"


@dataclass
class FakeServer:
    honour_keys: bool = True
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    posted: list[dict[str, Any]] = field(default_factory=list)
    reports: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: Raised by the next POSTs, in order, after the status was created (a
    #: timeout the server did not see as one).
    fail_after_post: list[Exception] = field(default_factory=list)
    on_post: Callable[[], None] | None = None
    _keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1000))

    # -- building the world -----------------------------------------------------------

    def add(
        self,
        text: str,
        *,
        by: str = "alice",
        account_id: str = "10",
        in_reply_to_id: str | None = None,
        visibility: str = "public",
        language: str | None = "fr",
    ) -> dict[str, Any]:
        status_id = str(next(self._ids))
        status = {
            "id": status_id,
            "account": {"id": account_id, "acct": by, "username": by, "bot": False},
            "content": f"<p>{text}</p>",
            "created_at": datetime.now(UTC),
            "visibility": visibility,
            "spoiler_text": "",
            "language": language,
            "in_reply_to_id": in_reply_to_id,
            "mentions": [],
            "tags": [],
            "url": f"https://social.example/@{by}/{status_id}",
        }
        self.statuses[status_id] = status
        return status

    def replies_by_bot(self, status_id: str) -> list[dict[str, Any]]:
        return [
            s
            for s in self.statuses.values()
            if s["account"]["id"] == SELF_ID and s["in_reply_to_id"] == status_id
        ]

    # -- the port ---------------------------------------------------------------------------

    def status(self, status_id: str) -> Mapping[str, Any]:
        if status_id not in self.statuses:
            raise Gone(f"status {status_id} not found")
        return self.statuses[status_id]

    def status_context(self, status_id: str) -> Mapping[str, Any]:
        status = self.status(status_id)
        ancestors = []
        parent = status["in_reply_to_id"]
        while parent is not None and parent in self.statuses:
            ancestors.insert(0, self.statuses[parent])
            parent = self.statuses[parent]["in_reply_to_id"]
        descendants, frontier = [], [status_id]
        while frontier:
            current = frontier.pop(0)
            children = [s for s in self.statuses.values() if s["in_reply_to_id"] == current]
            descendants += children
            frontier += [c["id"] for c in children]
        return {"ancestors": ancestors, "descendants": descendants}

    def delete_status(self, status_id: str) -> None:
        if status_id not in self.statuses:
            raise Gone(f"status {status_id} not found")
        del self.statuses[status_id]
        self.deleted.append(status_id)

    def post_reply(self, reply: Reply, *, idempotency_key: str) -> Mapping[str, Any]:
        return self._post(
            reply.text,
            in_reply_to_id=reply.in_reply_to_id,
            visibility=reply.visibility,
            key=idempotency_key,
        )

    def post_direct(
        self,
        text: str,
        *,
        in_reply_to_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Mapping[str, Any]:
        return self._post(
            text, in_reply_to_id=in_reply_to_id, visibility="direct", key=idempotency_key
        )

    def report(self, account_id: str, status_ids: Sequence[str], comment: str) -> None:
        self.reports.append((account_id, tuple(status_ids), comment))

    def _post(
        self, text: str, *, in_reply_to_id: str | None, visibility: str, key: str | None
    ) -> Mapping[str, Any]:
        if self.on_post is not None:
            self.on_post()
        if self.honour_keys and key is not None and key in self._keys:
            return self._keys[key]
        status = self.add(
            text,
            by="filrouge",
            account_id=SELF_ID,
            in_reply_to_id=in_reply_to_id,
            visibility=visibility,
        )
        self.posted.append({**status, "idempotency_key": key})
        if key is not None:
            self._keys[key] = status
        if self.fail_after_post:
            raise self.fail_after_post.pop(0)
        return status


def timeout() -> TransientError:
    return TransientError("read timed out", kind="timeout")
