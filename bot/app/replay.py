"""Replay: what the current catalog and rules would do with saved threads.

The way to try a rule change before it goes live. A replay file holds JSON
lines; each line is one thread as a JSON array of Mastodon status entities,
oldest first, the last one being the mention that asked the bot (a
``mention`` notification entity is accepted there too). Each line goes
through the same code as a live mention — ``bot.understand`` then
``bot.decide.decide`` — with what a replay cannot know fixed:

- no link is resolved (``resolved={}``: no network);
- the history is empty (no cooldown, no quote already posted);
- ``now`` is the mention's own ``created_at``, so age limits never skip it.

A line that cannot be read is reported with its number and counted under
``unreadable``; it never stops the replay.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.model.catalog import EssayMatch
from bot.model.decision import History, Moderation, Reply, Skip, SkipReason
from bot.model.post import Mention, Thread
from bot.understand.language import with_language
from bot.understand.thread import mention_from_notification, post_from_status, thread_from_context

if TYPE_CHECKING:
    from bot.catalog.config import Config
    from bot.decide.policy import Policy
    from bot.decide.trace import Outcome

#: The bot's handle when none is given: an account of that name in a thread
#: is the bot itself (its own posts, the mention addressed to it).
DEFAULT_SELF = "filrouge"


@dataclass(frozen=True)
class Result:
    """One line of the replay: the decision, or why the line could not be read."""

    line: int
    mention: Mention | None = None
    thread: Thread | None = None
    essay: EssayMatch | None = None
    outcome: Outcome | None = None
    #: Set when the line could not be read (or, a bug, could not be decided).
    error: str | None = None
    #: True when ``decide`` itself failed: a bug to report, not bad input.
    crashed: bool = False

    @property
    def rule(self) -> str | None:
        if self.outcome is None:
            return None
        return self.outcome.decision.rule

    @property
    def reason(self) -> str | None:
        """The skip reason; ``unreadable`` for a line that could not be read."""
        if self.outcome is None:
            return SkipReason.UNREADABLE.value
        decision = self.outcome.decision
        return decision.reason.value if isinstance(decision, Skip) else None


def parse_line(text: str, *, detect: bool = True) -> tuple[Mention, Thread]:
    """The mention and its thread from one replay line (the mention's language
    read from its text unless not ``detect``); ``ValueError`` saying what is
    wrong otherwise."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error.msg} (column {error.colno})") from error
    if not isinstance(data, list):
        raise ValueError(
            f"expected a JSON array of status entities, oldest first, not {type(data).__name__}"
        )
    if not data:
        raise ValueError("empty thread: the last status must be the mention")
    last = data[-1]
    if not isinstance(last, Mapping):
        raise ValueError(f"the mention (item {len(data)}) is not a JSON object")
    if last.get("type") == "mention" and isinstance(last.get("status"), Mapping):
        mention = mention_from_notification(last)
    else:
        post = post_from_status(last)
        # A saved status has no notification; its own id stands in.
        mention = Mention(notification_id=post.id, post=post)
    # The live bot drops an ancestor it cannot read and goes on; so does the replay.
    thread = thread_from_context({"ancestors": data[:-1]})
    return replace(mention, post=with_language(mention.post, detect=detect)), thread


def self_id(mention: Mention, thread: Thread, handle: str) -> str:
    """The bot's account id, as far as the thread tells: an author or a
    mentioned account whose handle is ``handle`` (``user`` or ``user@domain``)."""
    user, _, domain = handle.strip().lstrip("@").lower().partition("@")

    def same(acct: str, url: str | None) -> bool:
        their_user, _, their_domain = acct.strip().lstrip("@").lower().partition("@")
        if their_user != user:
            return False
        if not domain or their_domain == domain:
            return True
        # A local account's acct has no domain; its profile URL has.
        return not their_domain and urlsplit(url or "").hostname == domain

    for post in (*thread.ancestors, mention.post):
        if same(post.account.acct, post.url):
            return post.account.id
    for ref in mention.post.content.mentions:
        if ref.account_id and same(ref.acct, ref.url):
            return ref.account_id
    return f"replay:{handle.strip().lstrip('@').lower()}"


def replay_lines(
    lines: Iterable[str],
    config: Config,
    policy: Policy,
    *,
    threshold: float,
    handle: str = DEFAULT_SELF,
    moderation: Callable[[Sequence[str]], Moderation] | None = None,
    detect_language: bool = True,
) -> Iterator[Result]:
    """A :class:`Result` per non-blank line, in order. ``policy.self_id`` is
    replaced, line by line, by the id :func:`self_id` finds for ``handle``.
    ``moderation`` reads the pause and the mutes for a mention and its
    ancestors' ids (the record's, as the bot would see them now)."""
    from bot.decide.decision import decide
    from bot.decide.trace import Inputs
    from bot.understand.thread import find_essay

    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            mention, thread = parse_line(text, detect=detect_language)
        except (ValueError, TypeError, KeyError) as error:
            yield Result(number, error=str(error) or type(error).__name__)
            continue
        try:
            essay = find_essay(mention, thread, config, resolved={}, threshold=threshold)
            inputs = Inputs(
                mention=mention,
                thread=thread,
                essay=essay,
                config=config,
                history=History(),
                policy=replace(policy, self_id=self_id(mention, thread, handle)),
                now=mention.post.created_at,
                moderation=moderation([mention.post.id, *(a.id for a in thread.ancestors)])
                if moderation is not None
                else Moderation(),
            )
            outcome = decide(inputs)
        except Exception as error:  # a bug in the bot: reported, the replay goes on
            yield Result(
                number,
                mention=mention,
                thread=thread,
                error=f"{type(error).__name__}: {error}",
                crashed=True,
            )
            continue
        yield Result(number, mention=mention, thread=thread, essay=essay, outcome=outcome)


# -- the summary ------------------------------------------------------------------


@dataclass
class Summary:
    lines: int = 0
    replies: int = 0
    skips: int = 0
    unreadable: int = 0
    crashed: int = 0
    #: Decisions per rule (replies, and skips a rule gave); "(no rule)" for guards.
    by_rule: Counter[str] = field(default_factory=Counter)
    #: Skips per reason, ``unreadable`` lines included.
    by_reason: Counter[str] = field(default_factory=Counter)
    #: Replies per (rule, mode) when the mode is not live.
    not_live: Counter[str] = field(default_factory=Counter)

    def add(self, result: Result) -> None:
        self.lines += 1
        if result.outcome is None:
            if result.crashed:
                self.crashed += 1
            else:
                self.unreadable += 1
            self.by_reason[result.reason or SkipReason.UNREADABLE.value] += 1
            return
        decision = result.outcome.decision
        self.by_rule[decision.rule or "(no rule)"] += 1
        if isinstance(decision, Reply):
            self.replies += 1
            if decision.mode.value != "live":
                self.not_live[f"{decision.rule} ({decision.mode.value})"] += 1
        else:
            self.skips += 1
            self.by_reason[decision.reason.value] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "replies": self.replies,
            "skips": self.skips,
            "unreadable": self.unreadable,
            "errors": self.crashed,
            "by_rule": dict(sorted(self.by_rule.items(), key=_count_order)),
            "by_reason": dict(sorted(self.by_reason.items(), key=_count_order)),
        }

    def to_text(self) -> str:
        head = (
            f"{self.lines} threads: {self.replies} replies, {self.skips} skips,"
            f" {self.unreadable} unreadable"
        )
        if self.crashed:
            head += f", {self.crashed} errors"
        lines = [head]
        for title, counts in (("by rule", self.by_rule), ("by skip reason", self.by_reason)):
            if not counts:
                continue
            lines.append(f"{title}:")
            width = max(len(name) for name in counts)
            for name, count in sorted(counts.items(), key=_count_order):
                lines.append(f"  {name.ljust(width)}  {count}")
        if self.not_live:
            lines.append("replies that would not be posted (rule mode):")
            for name, count in sorted(self.not_live.items(), key=_count_order):
                lines.append(f"  {name}  {count}")
        return "\n".join(lines)


def _count_order(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


# -- showing one result -------------------------------------------------------------


def _requester(mention: Mention) -> str:
    return "@" + mention.post.account.acct


def result_json(result: Result, *, url_length: int = 23) -> dict[str, Any]:
    from bot.text.render import status_length

    out: dict[str, Any] = {"line": result.line}
    if result.mention is not None:
        out["mention"] = result.mention.post.id
        out["requester"] = _requester(result.mention)
        out["depth"] = result.thread.depth if result.thread else 0
    if result.outcome is None:
        out.update(action="error" if result.crashed else "unreadable", error=result.error)
        return out
    essay = result.essay
    out["essay"] = essay.essay.id if essay and essay.essay else None
    out["essay_how"] = essay.how if essay else None
    out["essay_evidence"] = essay.evidence if essay else None
    decision = result.outcome.decision
    if isinstance(decision, Reply):
        out.update(
            action="reply",
            rule=decision.rule,
            kind=decision.action.value,
            mode=decision.mode.value,
            quote=decision.quote_id,
            prompt=decision.prompt_id,
            visibility=decision.visibility,
            language=decision.language,
            spoiler_text=decision.spoiler_text,
            text=decision.text,
            length=status_length(decision.text, decision.spoiler_text, url_length=url_length),
        )
    else:
        out.update(
            action="skip", rule=decision.rule, reason=decision.reason.value, detail=decision.detail
        )
    return out


def result_text(result: Result, *, max_characters: int = 500, url_length: int = 23) -> str:
    from bot.text.render import status_length

    if result.mention is None or result.outcome is None:
        label = "error" if result.crashed else "unreadable"
        who = f" {_requester(result.mention)}" if result.mention else ""
        return f"line {result.line}{who}: {label}: {result.error}"
    mention = result.mention
    depth = result.thread.depth if result.thread else 0
    lines = [
        f"line {result.line} · {_requester(mention)} · status {mention.post.id}"
        f" · {depth} post{'s' if depth != 1 else ''} above"
    ]
    essay = result.essay
    if essay is not None and essay.essay is not None:
        evidence = f": {essay.evidence}" if essay.evidence else ""
        lines.append(f"  essay {essay.essay.id} (by {essay.how}{evidence})")
    else:
        lines.append("  essay: none found")
    decision = result.outcome.decision
    if isinstance(decision, Reply):
        length = status_length(decision.text, decision.spoiler_text, url_length=url_length)
        facts = [f"reply by rule {decision.rule} ({decision.action.value})"]
        if decision.quote_id:
            facts.append(f"quote {decision.quote_id}")
        if decision.prompt_id:
            facts.append(f"prompt {decision.prompt_id}")
        facts += [decision.visibility, decision.language, f"{length}/{max_characters}"]
        if decision.mode.value != "live":
            facts.append(f"mode {decision.mode.value}: would not be posted")
        lines.append("  " + " · ".join(facts))
        if decision.spoiler_text:
            lines.append(f"  │ [CW: {decision.spoiler_text}]")
        lines += [f"  │ {row}" for row in decision.text.splitlines()]
    else:
        rule = f" by rule {decision.rule}" if decision.rule else ""
        detail = f": {decision.detail}" if decision.detail else ""
        lines.append(f"  skip ({decision.reason.value}){rule}{detail}")
    return "\n".join(lines)
