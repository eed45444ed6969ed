"""What ``decide`` takes and returns: its inputs, and the trace of the steps it
went through (what ``explain`` prints and the record keeps for ``why``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.decide.heat import Heat
from bot.decide.policy import Policy
from bot.model.decision import Decision, Moderation
from bot.model.post import Mention

if TYPE_CHECKING:
    from bot.catalog.config import Config
    from bot.model.catalog import EssayMatch
    from bot.model.decision import History
    from bot.model.post import Thread


# -- inputs and outcome -------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    mention: Mention
    thread: Thread
    essay: EssayMatch
    config: Config
    history: History
    policy: Policy
    now: datetime
    #: The pause and mutes the admins set (the record's, read before deciding).
    moderation: Moderation = field(default_factory=Moderation)


@dataclass(frozen=True)
class Step:
    """One line of the trace: a guard, a rule tried, the candidates, the fit…"""

    #: ``guard``, ``heat``, ``essay``, ``rule``, ``language``, ``candidates``, ``fit``,
    #: ``why`` or ``decision``.
    kind: str
    name: str
    #: Whether this step let the mention through (None: informational).
    ok: bool | None
    detail: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "ok": self.ok,
            "detail": self.detail,
            "data": _jsonable(self.data),
        }

    def to_text(self) -> str:
        mark = {True: "+", False: "-", None: "·"}[self.ok]
        head = f"{mark} {self.kind} {self.name}"
        return f"{head}: {self.detail}" if self.detail else head


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [_jsonable(v) for v in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def marked(words: Iterable[str], common: Iterable[str]) -> str:
    """Shared words for a trace, those that are only common words of the
    passage's text (``bot.rank.query.Scored.incidental``) marked so."""
    said = set(common)
    return ", ".join(f"{word} (common)" if word in said else word for word in words)


class Trace(tuple[Step, ...]):
    """The steps ``decide`` went through, in order; what ``explain`` prints and
    the record keeps for ``why``."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "steps": [step.to_json() for step in self],
            "summary": self.summary(),
            "why": self.why(),
        }

    def to_text(self) -> str:
        lines: list[str] = []
        for step in self:
            lines.append(step.to_text())
            for key, value in step.data.items():
                if key == "candidates":
                    for rank, cand in enumerate(value, start=1):
                        terms = marked(cand.get("matched", ()), cand.get("common", ()))
                        terms = terms or "no shared terms"
                        used = cand.get("last_used") or "never used"
                        used = used.isoformat() if isinstance(used, datetime) else used
                        lines.append(
                            f"    {rank}. {cand['id']}  score {cand['score']:.3f}"
                            f"  ({terms}; {used})"
                        )
                elif key == "tried" and value and (step.ok is False or len(value) > 1):
                    more = step.data.get("count", len(value)) - len(value)
                    extra = f" (+{more} more)" if more > 0 else ""
                    lines.append(f"    tried: {'; '.join(value)}{extra}")
                elif key == "signals":
                    signals = ", ".join(f"{k} {v:.2f}" for k, v in value.items())
                    lines.append(f"    signals: {signals}")
        return "\n".join(lines)

    def why(self) -> dict[str, Any]:
        """Why, as data: the rule that answered, the conditions it matched, the
        quote or prompt chosen and the words it shared with the thread; or the
        reason for a skip. ``why_text`` words it in the asker's language."""
        data: dict[str, Any] = {}
        candidates: list[Mapping[str, Any]] = []
        for step in self:
            if step.kind == "rule" and step.ok:
                # A later rule that answers replaces one that fell through.
                data = {
                    "rule": step.name,
                    "conditions": [list(c) for c in step.data.get("conditions", ())],
                }
            elif step.kind == "candidates" and step.ok:
                candidates = list(step.data.get("candidates", ()))
            elif step.kind == "fit" and step.ok and step.data.get("chosen"):
                chosen = step.data["chosen"]
                terms = next(
                    (c.get("matched", ()) for c in candidates if c.get("id") == chosen), ()
                )
                data.update(kind=step.data.get("kind", "quote"), id=chosen, terms=list(terms))
            elif step.kind == "guard" and step.ok is False:
                data = {"skip": step.name, "detail": step.detail}
            elif step.kind == "decision" and not data:
                data = {"detail": step.detail}
        return data

    def summary(self) -> str:
        """``why()`` as one line of JSON: what the record keeps with each reply
        and hands back (``Explained.summary``) when someone asks ``why``."""
        return json.dumps(self.why(), ensure_ascii=False, sort_keys=True)


#: What a rule with no conditions matched on.
NO_CONDITIONS = "no conditions"


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    trace: Trace
    #: The heat of the mention and its thread (also in the trace).
    heat: Heat | None = None
