"""The console's preview box: a mention typed by a moderator, decided by the
pure ``decide`` as the bot would decide it now, and nothing posted.

A thread URL already in the record (a mention the bot kept the text of) puts
that post above the typed one, so "what would it say *here*" can be asked.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.app.asking import typed_inputs
from bot.decide.decision import decide
from bot.model.decision import Reply
from bot.model.post import Account, Post
from bot.text.plain import plain_to_text

if TYPE_CHECKING:
    from bot.catalog.config import Config
    from bot.settings import Settings

VISIBILITIES = ("public", "unlisted", "private", "direct")


def _recorded_post(db: sqlite3.Connection, url: str, now: datetime) -> Post | None:
    row = db.execute(
        "SELECT status_id, account_id, acct, text, visibility FROM mention_texts"
        " WHERE url = ? ORDER BY kept_at DESC LIMIT 1",
        (url.strip(),),
    ).fetchone()
    if row is None:
        return None
    acct = str(row["acct"])
    return Post(
        id=str(row["status_id"]),
        account=Account(id=str(row["account_id"]), acct=acct, username=acct.split("@")[0]),
        content=plain_to_text(str(row["text"])),
        created_at=now,
        visibility=row["visibility"],
        url=url.strip(),
    )


def preview(
    form: Mapping[str, str],
    *,
    config: Config,
    settings: Settings,
    self_id: str,
    now: datetime,
    db: sqlite3.Connection | None = None,
) -> dict[str, Any]:
    """What the bot would answer to ``form["text"]``, and why."""
    text = form.get("text", "").strip()
    if not text:
        return {"error": "type a mention first"}
    visibility = form.get("visibility", "public")
    if visibility not in VISIBILITIES:
        visibility = "public"
    url = form.get("thread", "").strip()
    ancestors: tuple[Post, ...] = ()
    if url and db is not None:
        parent = _recorded_post(db, url, now)
        if parent is None:
            return {"error": "that URL is not a mention the record kept"}
        ancestors = (parent,)
    requester = Account(id="preview:requester", acct="lecteur", username="lecteur")
    inputs = typed_inputs(
        text,
        config=config,
        settings=settings,
        requester=requester,
        self_id=self_id,
        now=now,
        ancestors=ancestors,
        visibility=visibility,  # type: ignore[arg-type]
        language=form.get("language") or settings.language,
    )
    essay = inputs.essay
    outcome = decide(inputs)
    decision = outcome.decision
    steps = outcome.trace.to_json().get("steps", [])
    result: dict[str, Any] = {
        "steps": [
            {
                "kind": s.get("kind"),
                "name": s.get("name"),
                "ok": s.get("ok"),
                "detail": s.get("detail"),
            }
            for s in steps
        ],
        "essay": essay.essay.id if essay.essay else None,
    }
    if isinstance(decision, Reply):
        result.update(
            reply=decision.text,
            rule=decision.rule,
            quote=decision.quote_id,
            prompt=decision.prompt_id,
            visibility=decision.visibility,
        )
    else:
        result.update(skip=decision.reason.value, detail=decision.detail, rule=decision.rule)
    return result
