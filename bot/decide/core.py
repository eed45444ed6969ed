"""The decision: one mention in, one ``Reply`` or ``Skip`` out, with a trace.

``decide(inputs)`` is a pure function. It reads the values it is handed (the
mention, its thread, the essay ``understand`` found, the compiled catalog and
rules, what the record knows, the policy and ``now``) and never the clock, the
network, the database or a random source. Everything the bot does on purpose
is decided here, so this is where the tests point.

The order, and why:

1. **Guards** (``Skip``): itself; bot accounts not allowlisted; ``#nobot`` and
   friends in the profile; opted out (``start`` still goes through, so anyone
   can opt back in; ``stop`` again gets silence, which is what was asked);
   blocked account or domain; too old; a re-mention that carries no command
   (composers pre-fill every participant, so that is conversation, not a
   request): in reply to the bot's own post, or — once the bot has replied in
   the thread — in reply to someone else's post that mentioned the bot, with
   the bot's handle in the leading block of mentions (the first request of a
   thread is never held to this, nor a mention that names the bot after its
   first words, nor a reply to a post that did not mention it); the
   thread's reply limit and cooldown; the account's cooldown. ``stop`` and
   ``start`` skip the limit and cooldowns: consent must always work.
   ``help`` and ``why`` do not, they are requests like any other.
2. **Rules** in file order; ``off`` rules are skipped (and traced); the first
   whose conditions all hold answers. A command word counts only as the first
   word after the leading @-mentions ("@filrouge source", not "j'ai cherché
   le lien"). A rule left with nothing to post (every quote already in this
   thread, nothing fits) hands over to the next matching rule, which is how
   the rules file chains its fallbacks.
3. **Essay**: quote, prompt, link and de-escalation replies need one. Without
   it the bot lists the essays it knows (``unknown_essay = "list"``) or stays
   silent.
4. **Candidates**: the essay's quotes (or prompts) the rule allows, minus those
   already posted in this thread, ranked by relevance; ties go to the least
   recently used, then to the id.
5. **Render and fit**: the template in the mention's language when the rule has
   one, else the default; every value that came from a person or the catalog
   has its ``@`` neutralised, so the only mention is the requester. The first
   candidate whose whole status fits ``max_characters`` wins; failing that a
   quote is cut at a sentence end with "…"; failing that, ``Skip``.
6. **Reply**: visibility never wider than the mention's (capped by the
   default), the content warning kept, ``in_reply_to_id`` the mention.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from bot.decide.heat import Heat, heat
from bot.model.catalog import Action, Essay, Mode, Prompt, Quote, Rule
from bot.model.decision import Decision, Reply, Skip, SkipReason
from bot.model.post import Account, Mention, Visibility, narrowest
from bot.text.html import fold
from bot.text.render import (
    PLACEHOLDERS,
    Template,
    neutralise_mentions,
    parse_template,
    render,
    shorten_at_sentence,
    status_length,
)

if TYPE_CHECKING:
    from bot.catalog.config import Catalog, Config
    from bot.model.catalog import EssayMatch
    from bot.model.decision import Explained, History
    from bot.model.post import Thread
    from bot.rank.index import Scored
    from bot.settings import Settings

# -- policy -------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """What ``decide`` needs from the settings and the instance, as plain values."""

    #: The bot's own account id on its instance.
    self_id: str
    default_visibility: Visibility = "unlisted"
    default_language: str = "fr"
    #: The instance's limit (``configuration.statuses.max_characters``).
    max_characters: int = 500
    #: What the instance counts per URL (``characters_reserved_per_url``).
    url_length: int = 23
    max_mention_age: timedelta = timedelta(hours=24)
    #: Replies the bot may post in one thread; 0 means none (consent commands aside).
    thread_reply_limit: int = 3
    thread_cooldown: timedelta = timedelta(minutes=10)
    account_cooldown: timedelta = timedelta(minutes=2)
    #: Bot accounts answered anyway: account ids, ``user@domain`` or ``user``
    #: (a local account).
    bot_allowlist: frozenset[str] = frozenset()
    #: Account ids, ``user@domain``, ``user`` (local) and domains never answered.
    blocked: frozenset[str] = frozenset()
    #: Hashtags in a profile that mean "no bots here" (without ``#``).
    nobot_tags: tuple[str, ...] = ("nobot", "nobots", "noai", "nollm")
    #: Heat from which a ``deescalate`` rule with no ``min_heat`` of its own applies.
    heat_threshold: float = 0.6
    unknown_essay: Literal["list", "skip"] = "list"
    rules_url: str = ""
    admins: tuple[str, ...] = ()
    #: The bot's instance (host of ``FILROUGE_INSTANCE_URL``): the server
    #: writes a local account ``user`` where an admin writes ``user@domain``.
    instance_domain: str = ""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        self_id: str,
        max_characters: int | None = None,
        url_length: int | None = None,
    ) -> Policy:
        """The policy for ``settings``; the instance's own limits win when given."""
        return cls(
            self_id=self_id,
            default_visibility=settings.default_visibility,
            default_language=settings.language,
            max_characters=max_characters or settings.max_characters,
            url_length=url_length or settings.characters_per_url,
            max_mention_age=settings.max_mention_age,
            thread_reply_limit=settings.thread_reply_limit,
            thread_cooldown=settings.thread_cooldown,
            account_cooldown=settings.account_cooldown,
            bot_allowlist=frozenset(_handle(item) for item in settings.bot_allowlist),
            blocked=frozenset(_handle(item) for item in settings.blocked),
            nobot_tags=tuple(fold(tag).lstrip("#") for tag in settings.nobot_tags),
            heat_threshold=settings.heat_threshold,
            unknown_essay=settings.unknown_essay,
            rules_url=settings.rules_url,
            admins=tuple(settings.admins),
            instance_domain=_host(settings.instance_url),
        )


def _host(url: str) -> str:
    """The host of ``url`` (``https://`` assumed when it has no scheme), lower case."""
    url = url.strip()
    if not url:
        return ""
    return (urlsplit(url if "://" in url else "https://" + url).hostname or "").lower()


def _handle(item: str) -> str:
    """Account ids, ``@user@domain``, ``user@domain`` and domains, compared alike."""
    return item.strip().lstrip("@").lower()


@lru_cache(maxsize=64)
def _listed(items: frozenset[str], domain: str) -> frozenset[str]:
    """The keys a list of ids, handles and domains stands for: as written, and
    a bare ``user`` (which may also be an id) as ``user@domain`` too."""
    keys: set[str] = set()
    for item in items:
        key = _handle(item)
        keys.add(key)
        if domain and "@" not in key and "." not in key:
            keys.add(f"{key}@{domain}")
    return frozenset(keys)


def _account_keys(account: Account, domain: str, *, with_domain: bool) -> list[str]:
    """The id, the handle (also with the instance's domain when the server left
    it out) and, if asked, the domain of ``account``, in that order."""
    acct = account.acct.strip().lstrip("@").lower()
    keys = [account.id.lower(), acct]
    if "@" not in acct and domain:
        keys.append(f"{acct}@{domain}")
    own = account.domain or domain
    if with_domain and own:
        keys.append(own)
    return keys


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
                        terms = ", ".join(cand.get("matched", ())) or "no shared terms"
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


# -- reading the mention ------------------------------------------------------

# The @-mentions a composer puts in front of a reply, then separators.
_LEADING_MENTIONS = re.compile(r"^\s*(?:@[\w.-]+(?:@[\w.-]+)?[\s,:;]*)*")
# Opening quotation marks too: the bot's own replies say « mentionnez-moi avec
# le mot « start » » / "the word “stop”", and people copy the word with its quotes.
_LEADING_PUNCT = re.compile(r"^[\s,:;.!?\-–—«“„‹\"]+")


def body(text: str) -> str:
    """The mention's words after the leading @-mentions, folded."""
    rest = _LEADING_MENTIONS.sub("", text, count=1)
    return _LEADING_PUNCT.sub("", fold(rest)).strip()


def request_words(text: str, commands: Iterable[str]) -> str:
    """The mention's words without the leading @-mentions and the command word
    that opens them, folded: what the request is about rather than who it
    addresses or what it asks for."""
    rest = body(text)
    command = command_in(rest, commands)
    if command is not None:
        rest = _LEADING_PUNCT.sub("", rest[len(fold(command).strip()) :])
    return rest


@lru_cache(maxsize=1024)
def _command_re(command: str) -> re.Pattern[str]:
    # A command is the first word (or words) of the body; what follows must not
    # continue the word: "sources" is not "source", "lien" mid-sentence is nothing.
    return re.compile(r"^" + re.escape(fold(command).strip()) + r"(?![\w'’-])")


@lru_cache(maxsize=4096)
def _phrase_re(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w])" + re.escape(fold(phrase).strip()) + r"(?![\w])")


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    # Validated at load time; compiled once per process.
    return re.compile(pattern)


def command_in(text_body: str, commands: Iterable[str]) -> str | None:
    """The first of ``commands`` that opens ``text_body`` (already folded), if any."""
    for command in commands:
        if command.strip() and _command_re(command).match(text_body):
            return command
    return None


def _phrase_in(folded: str, phrases: Iterable[str]) -> str | None:
    for phrase in phrases:
        if phrase.strip() and _phrase_re(phrase).search(folded):
            return phrase
    return None


def _language(code: str | None) -> str | None:
    if not code:
        return None
    return code.strip().lower().replace("_", "-").split("-")[0] or None


# -- guards -------------------------------------------------------------------


def _nobot_tag(account: Account, tags: Sequence[str]) -> str | None:
    profile = fold(account.profile_text)
    for tag in tags:
        name = fold(tag).lstrip("#")
        if name and re.search(r"(?<![\w#])#" + re.escape(name) + r"(?![\w])", profile):
            return name
    return None


def _blocked(account: Account, policy: Policy) -> str | None:
    blocked = _listed(policy.blocked, policy.instance_domain)
    keys = _account_keys(account, policy.instance_domain, with_domain=True)
    return next((key for key in keys if key in blocked), None)


def _allowlisted(account: Account, policy: Policy) -> bool:
    allowed = _listed(policy.bot_allowlist, policy.instance_domain)
    # The allowlist names accounts, not domains: a whole server's bots are
    # not let in by one entry.
    keys = _account_keys(account, policy.instance_domain, with_domain=False)
    return any(key in allowed for key in keys)


def _replies_to_self(inputs: Inputs) -> bool:
    """Whether the mention answers one of the bot's own posts."""
    parent = inputs.mention.post.in_reply_to_id
    if parent is None:
        return False
    explained = inputs.history.explained
    if explained is not None and explained.status_id == parent:
        return True
    return any(
        post.id == parent and post.account.id == inputs.policy.self_id
        for post in inputs.thread.ancestors
    )


_HANDLE = re.compile(r"@([\w.-]+(?:@[\w.-]+)?)")


def _full(handle: str, domain: str) -> str:
    handle = handle.strip().lstrip("@").lower()
    return handle if "@" in handle or not domain else f"{handle}@{domain}"


def _bot_handles(inputs: Inputs) -> set[str]:
    """The bot's handles as the server wrote them in the mentions of this post
    and its thread, or on the bot's own posts there; empty when none says."""
    self_id = inputs.policy.self_id
    posts = (*inputs.thread.ancestors, inputs.mention.post)
    handles = {ref.acct for p in posts for ref in p.content.mentions if ref.account_id == self_id}
    handles.update(p.account.acct for p in posts if p.account.id == self_id)
    return {h.lstrip("@").lower() for h in handles if h}


def _prefilled(inputs: Inputs) -> bool:
    """Whether the bot is mentioned only because the composer pre-filled it:
    the mention replies to someone else's post that mentioned the bot (a reply
    pre-fills everyone the post it answers mentioned), in a thread the bot has
    already answered, and the bot's handle sits in the leading block of
    mentions. The caller has checked there is no command."""
    post = inputs.mention.post
    if post.in_reply_to_id is None or not inputs.history.thread_replies:
        return False
    parent = next((p for p in inputs.thread.ancestors if p.id == post.in_reply_to_id), None)
    bot = _bot_handles(inputs)
    if parent is None or not bot:
        return False
    domain = inputs.policy.instance_domain
    full = {_full(handle, domain) for handle in bot}
    # Without the instance's domain, a bare handle meets a full one by its user part.
    users = {handle.split("@")[0] for handle in bot} if not domain else set()

    def is_bot(handle: str) -> bool:
        return _full(handle, domain) in full or handle.lower().split("@")[0] in users

    parent_mentions = any(
        ref.account_id == inputs.policy.self_id or is_bot(ref.acct)
        for ref in parent.content.mentions
    ) or any(is_bot(handle) for handle in _HANDLE.findall(parent.text))
    block = _LEADING_MENTIONS.match(post.text)
    leading = _HANDLE.findall(block.group(0)) if block else []
    return parent_mentions and any(is_bot(handle) for handle in leading)


def _not_addressed(inputs: Inputs) -> str | None:
    """Why a mention without a command is conversation rather than a request."""
    if _replies_to_self(inputs):
        return "a reply to the bot's own post without a command"
    if _prefilled(inputs):
        return (
            "the bot's handle pre-filled by the composer in a thread it answered, without a command"
        )
    return None


def _recent(times: Iterable[datetime], now: datetime, window: timedelta) -> datetime | None:
    """The latest of ``times`` within ``window`` before ``now``, if any."""
    inside = [t for t in times if now - t < window]
    return max(inside) if inside else None


def _guards(inputs: Inputs, command: Rule | None, steps: list[Step]) -> Skip | None:
    post = inputs.mention.post
    account = post.account
    policy = inputs.policy
    history = inputs.history
    action = command.action if command else None
    consent = action in (Action.STOP, Action.START)

    def check(name: str, failed: str | None, reason: SkipReason, ok_detail: str) -> Skip | None:
        steps.append(Step("guard", name, failed is None, failed or ok_detail))
        return None if failed is None else Skip(reason, failed)

    allowlisted = _allowlisted(account, policy)
    tag = _nobot_tag(account, policy.nobot_tags)
    blocked = _blocked(account, policy)
    age = inputs.now - post.created_at
    latest_thread = _recent(history.thread_replies, inputs.now, policy.thread_cooldown)
    latest_account = _recent(history.account_replies, inputs.now, policy.account_cooldown)
    checks: list[tuple[str, str | None, SkipReason, str]] = [
        (
            "self",
            "the mention is the bot's own post" if account.id == policy.self_id else None,
            SkipReason.SELF,
            "not the bot's own post",
        ),
        (
            "bot",
            f"@{account.acct} is a bot account" if account.bot and not allowlisted else None,
            SkipReason.BOT_ACCOUNT,
            "allowlisted bot" if account.bot else "not a bot account",
        ),
        (
            "nobot",
            f"#{tag} in @{account.acct}'s profile" if tag else None,
            SkipReason.NOBOT,
            "no opt-out tag in the profile",
        ),
        (
            "opted_out",
            f"@{account.acct} opted out" if history.opted_out and action != Action.START else None,
            SkipReason.OPTED_OUT,
            "opting back in" if history.opted_out else "not opted out",
        ),
        (
            "blocked",
            f"{blocked} is blocked" if blocked else None,
            SkipReason.BLOCKED,
            "not blocked",
        ),
        (
            "age",
            f"posted {_duration(age)} ago, more than {_duration(policy.max_mention_age)}"
            if age > policy.max_mention_age
            else None,
            SkipReason.TOO_OLD,
            f"posted {_duration(age)} ago",
        ),
        (
            "addressed",
            _not_addressed(inputs) if command is None else None,
            SkipReason.NOT_ADDRESSED,
            f"command {command.name!r}" if command else "a new request",
        ),
    ]
    if not consent:
        count = len(history.thread_replies)
        checks += [
            (
                "thread_limit",
                f"{count} replies already in this thread (limit {policy.thread_reply_limit})"
                if count >= policy.thread_reply_limit
                else None,
                SkipReason.THREAD_LIMIT,
                f"{count} of {policy.thread_reply_limit} replies in this thread",
            ),
            (
                "thread_cooldown",
                f"replied in this thread {_duration(inputs.now - latest_thread)} ago"
                f" (cooldown {_duration(policy.thread_cooldown)})"
                if latest_thread
                else None,
                SkipReason.THREAD_COOLDOWN,
                "no recent reply in this thread",
            ),
            (
                "account_cooldown",
                f"replied to @{account.acct} {_duration(inputs.now - latest_account)} ago"
                f" (cooldown {_duration(policy.account_cooldown)})"
                if latest_account
                else None,
                SkipReason.ACCOUNT_COOLDOWN,
                "no recent reply to this account",
            ),
        ]
    for name, failed, reason, ok_detail in checks:
        skip = check(name, failed, reason, ok_detail)
        if skip is not None:
            return skip
    if consent:
        steps.append(
            Step("guard", "limits", True, f"{action} bypasses the thread limit and cooldowns")
        )
    return None


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if abs(seconds) < 120:
        return f"{seconds}s"
    if abs(seconds) < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


# -- rules --------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """What the conditions look at, computed once per mention."""

    text: str
    body: str
    folded: str
    #: The ancestors' texts, oldest first, then the mention's.
    thread_texts: tuple[str, ...]
    language: str | None
    essay_id: str | None
    visibility: Visibility
    depth: int
    heat: float

    @cached_property
    def thread_folded(self) -> tuple[str, ...]:
        # Folded on first use only: most rules never look at the thread, and a
        # long thread would cost more to fold than the rest of the decision.
        return tuple(fold(text) for text in self.thread_texts)


#: A condition that held, as data: its kind and value(s), e.g.
#: ``("command", "source")`` or ``("min_heat", "0.72", "0.60")``.
Condition = tuple[str, ...]


def _condition_detail(condition: Condition) -> str:
    """The trace's wording of a condition that held (English, for admins)."""
    kind, *values = condition
    if kind in ("min_heat", "max_heat"):
        return f"heat {values[0]} {'≥' if kind == 'min_heat' else '≤'} {values[1]}"
    if kind in ("command", "keyword", "thread_keyword", "regex", "thread_regex"):
        return f"{kind.replace('_', ' ')} {values[0]!r}"
    return f"{kind} {values[0]}"


def _match(rule: Rule, facts: _Facts, policy: Policy) -> tuple[bool, str, list[Condition]]:
    """Whether every condition of ``rule`` holds; a sentence saying which one
    failed or what matched; and what matched, as data (for ``why``)."""
    c = rule.conditions
    matched: list[Condition] = []
    if c.commands:
        command = command_in(facts.body, c.commands)
        if command is None:
            first = facts.body.split(maxsplit=1)[0] if facts.body else ""
            return False, f"no command word first ({'/'.join(c.commands)}; got {first!r})", []
        matched.append(("command", command))
    if c.keywords:
        keyword = _phrase_in(facts.folded, c.keywords)
        if keyword is None:
            return False, "no keyword in the mention", []
        matched.append(("keyword", keyword))
    if c.thread_keywords:
        keyword = next(
            (k for text in facts.thread_folded if (k := _phrase_in(text, c.thread_keywords))),
            None,
        )
        if keyword is None:
            return False, "no thread keyword", []
        matched.append(("thread_keyword", keyword))
    if c.regex:
        pattern = next((p for p in c.regex if _regex(p).search(facts.text)), None)
        if pattern is None:
            return False, "no regex matches the mention", []
        matched.append(("regex", pattern))
    if c.thread_regex:
        pattern = next(
            (p for p in c.thread_regex if any(_regex(p).search(t) for t in facts.thread_texts)),
            None,
        )
        if pattern is None:
            return False, "no thread regex matches", []
        matched.append(("thread_regex", pattern))
    if c.not_keywords:
        veto = _phrase_in(facts.folded, c.not_keywords)
        if veto is not None:
            return False, f"vetoed by {veto!r}", []
    if c.languages:
        wanted = {_language(code) for code in c.languages}
        if facts.language not in wanted:
            return False, f"language {facts.language or 'unknown'} not in {list(c.languages)}", []
        matched.append(("language", facts.language or ""))
    if c.essays:
        if facts.essay_id not in c.essays:
            return False, f"essay {facts.essay_id or 'unknown'} not in {list(c.essays)}", []
        matched.append(("essay", facts.essay_id or ""))
    if c.visibilities:
        if facts.visibility not in c.visibilities:
            return False, f"visibility {facts.visibility} not in {list(c.visibilities)}", []
        matched.append(("visibility", facts.visibility))
    if c.min_depth is not None and facts.depth < c.min_depth:
        return False, f"thread depth {facts.depth} < {c.min_depth}", []
    if c.max_depth is not None and facts.depth > c.max_depth:
        return False, f"thread depth {facts.depth} > {c.max_depth}", []
    min_heat = c.min_heat
    if min_heat is None and rule.action == Action.DEESCALATE:
        min_heat = policy.heat_threshold
    if min_heat is not None:
        if facts.heat < min_heat:
            return False, f"heat {facts.heat:.2f} < {min_heat:.2f}", []
        matched.append(("min_heat", f"{facts.heat:.2f}", f"{min_heat:.2f}"))
    if c.max_heat is not None:
        if facts.heat > c.max_heat:
            return False, f"heat {facts.heat:.2f} > {c.max_heat:.2f}", []
        matched.append(("max_heat", f"{facts.heat:.2f}", f"{c.max_heat:.2f}"))
    detail = ", ".join(_condition_detail(condition) for condition in matched)
    return True, detail or NO_CONDITIONS, matched


def _command_rule(rules: Iterable[Rule], text_body: str) -> Rule | None:
    """The first live or observed rule whose command word opens the mention."""
    return next(
        (
            rule
            for rule in rules
            if rule.mode != Mode.OFF
            and rule.conditions.commands
            and command_in(text_body, rule.conditions.commands)
        ),
        None,
    )


# -- templates ----------------------------------------------------------------

#: Skips after which the next matching rule gets its turn.
FALL_THROUGH = frozenset({SkipReason.NO_CANDIDATE, SkipReason.DOES_NOT_FIT})
#: Names of the replies no rule asks for; a rule of that name only supplies wording.
SPECIAL_TEMPLATES = frozenset({"unknown_essay", "why_nothing"})

#: Used when the rules file has no ``unknown_essay`` / ``why_nothing`` rule
#: carrying its own wording (see ``_special_template``).
BUILTIN_TEMPLATES: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("unknown_essay", "fr"): (
            "{requester} Je ne sais pas de quel texte parle ce fil. Ceux que je connais :\n{essays}"
        ),
        ("unknown_essay", "en"): (
            "{requester} I can't tell which essay this thread is about. The ones I know:\n{essays}"
        ),
        ("why_nothing", "fr"): (
            "{requester} Il n'y a rien à expliquer ici : réponds « pourquoi » à l'un de mes"
            " messages et je te dirai pourquoi je l'ai écrit."
        ),
        ("why_nothing", "en"): (
            '{requester} There is nothing to explain here: reply "why" to one of my posts'
            " and I will tell you why I wrote it."
        ),
    }
)


#: How a title is set in quotation marks, per reply language (French puts a
#: non-breaking space inside « »; other languages get English quotes).
TITLE_QUOTES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {"fr": ("«\u00a0", "\u00a0»"), "en": ("“", "”")}
)


def _templates_of(config: Config, rule_name: str, raw: Mapping[str, str]) -> dict[str, Template]:
    found = {
        language: template
        for (name, language), template in config.rules.templates.items()
        if name == rule_name
    }
    for language, source in raw.items():
        if language not in found:
            found[language] = parse_template(source, language)
    return found


def _pick_language(available: Iterable[str], wanted: str | None, default: str) -> str | None:
    languages = sorted(set(available))
    if wanted in languages:
        return wanted
    if default in languages:
        return default
    return languages[0] if languages else None


def _special_template(
    config: Config, name: str, wanted: str | None, default: str
) -> tuple[str, Template]:
    """The wording of a reply no rule asks for (no essay known, nothing to
    explain): a rule of that name in the rules file wins over the built-in one."""
    rule = next((r for r in config.rules.rules if r.name == name), None)
    templates = _templates_of(config, name, rule.templates if rule else {})
    if not templates:
        templates = {
            language: parse_template(source, language)
            for (key, language), source in BUILTIN_TEMPLATES.items()
            if key == name
        }
    language = _pick_language(templates, wanted, default)
    assert language is not None  # the built-in table has both languages
    return language, templates[language]


# -- candidates ---------------------------------------------------------------

Candidate = Quote | Prompt


@dataclass(frozen=True)
class _Ranked:
    item: Candidate
    score: float
    matched: tuple[str, ...]
    last_used: datetime | None


@dataclass(frozen=True)
class _Allowed:
    """The quotes (or prompts) of an essay that a rule may post, by id, in order."""

    ids: tuple[str, ...]
    by_id: Mapping[str, Candidate]


#: ``_Allowed`` per essay pool and rule filter, by the pool's identity (a
#: catalog's tuples live as long as it is loaded; the pool is kept with its
#: entry, so its id cannot be reused): going through thousands of quotes at
#: every mention would cost more than ranking them. It holds one catalog's
#: pools: another catalog (a reload) starts it afresh, so that the old one
#: is not kept alive; so does reaching the bound.
_ALLOWED: dict[
    tuple[int, tuple[str, ...], tuple[str, ...]], tuple[Sequence[Candidate], _Allowed]
] = {}
_ALLOWED_OF: list[object] = [None]
ALLOWED_MEMO = 256


def _allowed(
    catalog: object, pool: Sequence[Candidate], allowed: tuple[str, ...], tags: tuple[str, ...]
) -> _Allowed:
    if _ALLOWED_OF[0] is not catalog:
        _ALLOWED.clear()
        _ALLOWED_OF[0] = catalog
    key = (id(pool), allowed, tags)
    hit = _ALLOWED.get(key)
    if hit is not None and hit[0] is pool:
        return hit[1]
    items = pool
    if allowed:
        items = [item for item in items if item.id in allowed]
    folded = {_fold_tag(tag) for tag in tags}
    if folded:
        items = [item for item in items if any(_fold_tag(tag) in folded for tag in item.tags)]
    by_id = {item.id: item for item in items}
    result = _Allowed(tuple(by_id), by_id)
    if isinstance(pool, tuple):
        if len(_ALLOWED) >= ALLOWED_MEMO:
            _ALLOWED.clear()
        _ALLOWED[key] = (pool, result)
    return result


@dataclass(frozen=True)
class _Pool:
    """The candidates of a rule: what it allows of the essay's quotes (or
    prompts), less those already posted in this thread."""

    allowed: _Allowed
    #: Allowed, but already posted in this thread: not candidates.
    used: frozenset[str]

    def __len__(self) -> int:
        return len(self.allowed.by_id) - len(self.used)


def _candidates(rule: Rule, essay: Essay, kind: str, inputs: Inputs) -> _Pool:
    pool: Sequence[Candidate] = essay.quotes if kind == "quote" else essay.prompts
    allowed = _allowed(
        inputs.config.catalog, pool, rule.quotes if kind == "quote" else rule.prompts, rule.tags
    )
    used = inputs.history.thread_quote_ids if kind == "quote" else inputs.history.thread_prompt_ids
    return _Pool(allowed, frozenset(doc_id for doc_id in used if doc_id in allowed.by_id))


@lru_cache(maxsize=8192)
def _fold_tag(tag: str) -> str:
    # Tags repeat across thousands of quotes: fold each once per process.
    return fold(tag).lstrip("#")


#: How many ranked candidates the index is asked for first; four times more
#: each time the caller gets past them (nothing fits, or a run of equal scores).
#: A few more than the trace lists (``TRACE_CANDIDATES``): the index finds the
#: words each one shares with the thread, which costs per candidate.
RANK_FIRST = 16


def _rank(items: _Pool, inputs: Inputs, language: str) -> Iterator[_Ranked]:
    """The candidates, most relevant first; equal scores go to the least recently
    used (never used first), then to the id.

    Lazy: the index is asked for the first ``RANK_FIRST`` only, and for more
    when the caller gets that far (with thousands of quotes the first one
    usually fits, and listing them all would cost more than the rest of the
    decision). The candidates used before are few: they are scored apart and
    merged in, after the never-used ones of equal score, which the index
    lists by id as the tie-break wants (it rounds scores as this does).
    """
    from bot.rank.index import SCORE_DIGITS, Query

    query = Query(
        mention=inputs.mention.post.text,
        thread=tuple(post.text for post in inputs.thread.ancestors),
        language=language,
    )
    by_id = items.allowed.by_id
    index = inputs.config.index
    last_used = inputs.history.last_used
    again = [i for i in last_used if i in by_id and i not in items.used]
    skip = items.used.union(again)

    def fresh() -> Iterator[tuple[tuple[float, int, float, str], Scored]]:
        limit, done = RANK_FIRST, 0
        while True:
            # The index's list with a limit is the head of its full list, so
            # a longer one goes on where the shorter stopped.
            scored = index.score(items.allowed.ids, query, limit=limit, exclude=skip)
            for s in scored[done:]:
                yield (-round(s.score, SCORE_DIGITS), 0, 0.0, s.id), s
            if len(scored) < limit:
                return
            done, limit = len(scored), limit * 4

    # Scores are rounded so float noise cannot beat the least-recently-used rule.
    used = sorted(
        ((-round(s.score, SCORE_DIGITS), 1, last_used[s.id].timestamp(), s.id), s)
        for s in (index.score(again, query) if again else ())
    )
    for _, s in heapq.merge(fresh(), used, key=lambda keyed: keyed[0]):
        yield _Ranked(by_id[s.id], s.score, tuple(s.matched), last_used.get(s.id))


def _prompt_text(prompt: Prompt, language: str, default: str) -> str:
    for code in (language, default):
        if code in prompt.texts:
            return prompt.texts[code]
    return next(iter(prompt.texts.values()), "")


# -- rendering and fitting ----------------------------------------------------


#: The placeholder whose line is left out when its value is empty (see
#: ``_optional_lines``).
OPTIONAL_LINE_FIELDS = frozenset({"rules_url"})


@lru_cache(maxsize=256)
def _without_lines_of(template: Template, name: str) -> Template:
    """``template`` without the lines whose only placeholder is ``{name}``.

    A placeholder cannot span lines (the loader rejects a field with a line
    break in it), so each line parses on its own and what is left is as valid
    as the whole.
    """
    kept = [
        line
        for line in template.source.split("\n")
        if parse_template(line, template.language).fields != (name,)
    ]
    return parse_template("\n".join(kept), template.language)


def _optional_lines(template: Template, values: Mapping[str, str]) -> Template:
    """The template without the lines of optional placeholders left empty: with
    no ``FILROUGE_RULES_URL``, "Pensez aux règles de l'instance : {rules_url}"
    goes rather than dangling. A line that also carries other placeholders stays."""
    for name in OPTIONAL_LINE_FIELDS:
        if name in template.fields and not values.get(name):
            template = _without_lines_of(template, name)
    return template


def _tidy(text: str) -> str:
    """The rendered text without trailing spaces, runs of blank lines or blank
    ends: what an empty value or a dropped line leaves behind."""
    lines: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip()


def _render(template: Template, values: Mapping[str, str]) -> str:
    return _tidy(render(template, values))


def _fits(text: str, policy: Policy, spoiler_text: str) -> tuple[bool, int]:
    length = status_length(text, spoiler_text, url_length=policy.url_length)
    return length <= policy.max_characters, length


@dataclass(frozen=True)
class _Fitted:
    text: str
    item: Candidate | None
    length: int
    shortened: bool = False


#: How many candidates, in rank order, may be cut at a sentence end when none fits whole.
SHORTEN_TRIES = 20
#: How many fitting attempts, and how many ranked candidates, the trace lists.
TRACE_TRIES = 10
TRACE_CANDIDATES = 10


def _fit(
    template: Template,
    base: Mapping[str, str],
    variants: Iterable[tuple[Candidate | None, Mapping[str, str]]],
    shorten_field: str | None,
    raw_of: Callable[[Candidate], str] | None,
    inputs: Inputs,
    steps: list[Step],
) -> _Fitted | None:
    """The first variant whose whole status fits; else one cut at a sentence end.

    ``variants`` is consumed lazily, in preference order: a shorter candidate
    further down is preferred to cutting the best one (invariant 8).
    """
    policy = inputs.policy
    spoiler = inputs.mention.post.spoiler_text
    template = _optional_lines(template, base)
    tried: list[str] = []
    kept: list[tuple[Candidate, Mapping[str, str]]] = []
    count = 0

    def note(entry: str) -> None:
        if len(tried) < TRACE_TRIES:
            tried.append(entry)

    def done(fitted: _Fitted, how: str) -> _Fitted:
        detail = f"{fitted.length}/{policy.max_characters} characters"
        if fitted.item is not None:
            detail += f" with {fitted.item.id}{how}"
        data = {"tried": tried, "count": count, **_chosen(fitted.item)}
        steps.append(Step("fit", "length", True, detail, data))
        return fitted

    for item, extra in variants:
        count += 1
        text = _render(template, {**base, **extra})
        ok, length = _fits(text, policy, spoiler)
        note(f"{item.id if item else 'text'}: {length}")
        if ok:
            return done(_Fitted(text, item, length), "")
        if item is not None and len(kept) < SHORTEN_TRIES:
            kept.append((item, extra))
    if shorten_field is not None and raw_of is not None:
        for item, extra in kept:
            fitted = _shorten(template, {**base, **extra}, shorten_field, raw_of(item), inputs)
            if fitted is not None:
                return done(dataclasses.replace(fitted, item=item), " cut at a sentence end")
            note(f"{item.id}: cannot be cut short enough")
    steps.append(
        Step(
            "fit",
            "length",
            False,
            f"nothing fits {policy.max_characters} characters",
            {"tried": tried, "count": count},
        )
    )
    return None


def _shorten(
    template: Template, values: Mapping[str, str], name: str, raw: str, inputs: Inputs
) -> _Fitted | None:
    """``values[name]`` replaced by ``raw`` cut at a sentence end so the status fits."""
    policy = inputs.policy
    spoiler = inputs.mention.post.spoiler_text
    _, overhead = _fits(_render(template, {**values, name: ""}), policy, spoiler)
    budget = policy.max_characters - overhead
    # status_length is not additive (graphemes merge, URLs weigh a fixed
    # amount, the neutralising zero-width spaces count), so the whole status is
    # measured again and the budget tightened by the overshoot.
    for _ in range(5):
        short = shorten_at_sentence(raw, budget, url_length=policy.url_length)
        if short is None:
            return None
        text = _render(template, {**values, name: neutralise_mentions(short)})
        ok, length = _fits(text, policy, spoiler)
        if ok:
            return _Fitted(text, None, length, shortened=True)
        budget -= length - policy.max_characters
    return None


def _chosen(item: Candidate | None) -> dict[str, str]:
    if item is None:
        return {}
    return {"chosen": item.id, "kind": "quote" if isinstance(item, Quote) else "prompt"}


def _base_values(inputs: Inputs, rule_name: str, score: float) -> dict[str, str]:
    values = dict.fromkeys(PLACEHOLDERS, "")
    values.update(
        requester="@" + inputs.mention.post.account.acct,
        rules_url=neutralise_mentions(inputs.policy.rules_url),
        rule=rule_name,
        heat=f"{score:.2f}",
    )
    return values


def _essay_values(essay: Essay) -> dict[str, str]:
    return {
        "author": neutralise_mentions(essay.author),
        "essay_title": neutralise_mentions(essay.title),
        "essay_url": neutralise_mentions(essay.url),
        "quote_url": neutralise_mentions(essay.url),
    }


def _candidate_values(item: Candidate, language: str, default: str) -> tuple[str, dict[str, str]]:
    """The raw text of a candidate and the values it fills."""
    if isinstance(item, Quote):
        extra = {"quote": neutralise_mentions(item.text)}
        if item.anchor_url:
            extra["quote_url"] = neutralise_mentions(item.anchor_url)
        return item.text, extra
    text = _prompt_text(item, language, default)
    return text, {"prompt": neutralise_mentions(text)}


# -- the decision -------------------------------------------------------------


def _reply(
    inputs: Inputs,
    rule: Rule,
    language: str,
    text: str,
    *,
    action: Action | None = None,
    essay: Essay | None = None,
    item: Candidate | None = None,
) -> Reply:
    post = inputs.mention.post
    action = action or rule.action
    visibility = narrowest(post.visibility, inputs.policy.default_visibility)
    if action in (Action.STOP, Action.START):
        # Consent is between the person and the bot: confirmed by a direct
        # message whatever the mention's visibility (never wider than it).
        visibility = "direct"
    return Reply(
        text=text,
        visibility=visibility,
        # The content warning the person chose stays on the answer (invariant 5).
        spoiler_text=post.spoiler_text,
        language=language,
        in_reply_to_id=post.id,
        rule=rule.name,
        action=action,
        essay_id=essay.id if essay else None,
        quote_id=item.id if isinstance(item, Quote) else None,
        prompt_id=item.id if isinstance(item, Prompt) else None,
        mode=rule.mode,
        notify_moderators=rule.notify_moderators,
    )


def decide(inputs: Inputs) -> Outcome:
    """Reply or skip, and why. Pure: see the module docstring for the order.

    A mention without a command is a request unless it is conversation: a
    reply to the bot's own post, or a later reply in a thread the bot has
    answered, to a post that mentioned the bot, whose leading @-mentions
    carry the bot only because the composer pre-filled them
    (``Skip(NOT_ADDRESSED)``).
    """
    steps: list[Step] = []
    temperature = heat(inputs.mention.post, inputs.thread, inputs.now)
    decision = _decide(inputs, temperature, steps)
    if isinstance(decision, Reply):
        detail = f"reply ({decision.action}) by rule {decision.rule!r}"
        if decision.mode != Mode.LIVE:
            detail += f" in {decision.mode} mode"
    else:
        detail = f"skip: {decision.reason} {decision.detail}".rstrip()
    steps.append(Step("decision", "outcome", isinstance(decision, Reply), detail))
    return Outcome(decision=decision, trace=Trace(steps), heat=temperature)


def _decide(inputs: Inputs, temperature: Heat, steps: list[Step]) -> Decision:
    post = inputs.mention.post
    policy = inputs.policy
    rules = inputs.config.rules.rules
    text_body = body(post.text)
    command = _command_rule(rules, text_body)

    skip = _guards(inputs, command, steps)
    if skip is not None:
        return skip

    steps.append(
        Step(
            "heat",
            "score",
            None,
            f"{temperature.score:.2f}"
            + (f" ({', '.join(temperature.matched)})" if temperature.matched else ""),
            {"signals": dict(temperature.signals)},
        )
    )
    essay = inputs.essay.essay
    steps.append(
        Step(
            "essay",
            essay.id if essay else "none",
            essay is not None,
            f"{inputs.essay.how}: {inputs.essay.evidence}"
            if inputs.essay.evidence
            else inputs.essay.how,
        )
    )

    facts = _Facts(
        text=post.text,
        body=text_body,
        folded=fold(post.text),
        thread_texts=(*(p.text for p in inputs.thread.ancestors), post.text),
        language=_language(post.language),
        essay_id=essay.id if essay else None,
        visibility=post.visibility,
        depth=inputs.thread.depth,
        heat=temperature.score,
    )
    off_match: Rule | None = None
    fell_through: Skip | None = None
    for rule in rules:
        if rule.name in SPECIAL_TEMPLATES and not rule.conditions.commands:
            continue  # wording for a built-in reply, not a rule to match
        matched, why, conditions = _match(rule, facts, policy)
        if rule.mode == Mode.OFF:
            steps.append(
                Step("rule", rule.name, False, f"off ({'would match: ' if matched else ''}{why})")
            )
            off_match = off_match or (rule if matched else None)
            continue
        steps.append(
            Step("rule", rule.name, matched, why, {"conditions": conditions} if matched else {})
        )
        if not matched:
            continue
        decision = _answer(inputs, rule, temperature, steps)
        if isinstance(decision, Skip) and decision.reason in FALL_THROUGH:
            # A rule with nothing left to post (every quote already in this
            # thread, nothing fits) lets the next rule answer: the rules file
            # lists its fallbacks (quote, then prompt, then link) in order.
            steps.append(Step("rule", rule.name, False, f"{decision.detail}; trying the next rule"))
            fell_through = fell_through or decision
            continue
        return decision
    if fell_through is not None:
        return fell_through
    if off_match is not None:
        return Skip(SkipReason.RULE_OFF, f"rule {off_match.name!r} is off", off_match.name)
    return Skip(SkipReason.NO_RULE, "no rule matches")


def _answer(inputs: Inputs, rule: Rule, temperature: Heat, steps: list[Step]) -> Decision:
    policy = inputs.policy
    config = inputs.config
    wanted = _language(inputs.mention.post.language)
    templates = _templates_of(config, rule.name, rule.templates)
    language = _pick_language(templates, wanted, policy.default_language)
    if language is None:
        return Skip(SkipReason.NO_RULE, f"rule {rule.name!r} has no template", rule.name)
    template = templates[language]
    steps.append(
        Step(
            "language",
            language,
            None,
            f"mention in {wanted or 'an unknown language'}"
            + ("" if wanted == language else f", no template: {language}"),
        )
    )
    base = _base_values(inputs, rule.name, temperature.score)
    fields = set(template.fields)
    essay = inputs.essay.essay

    if rule.action == Action.WHY:
        return _why(inputs, rule, language, template, base, steps)

    needs_essay = rule.action in (Action.QUOTE, Action.PROMPT, Action.LINK, Action.DEESCALATE)
    needs_essay = needs_essay or bool(
        fields & {"author", "essay_title", "essay_url", "quote_url", "quote", "prompt"}
    )
    if needs_essay and essay is None:
        return _unknown_essay(inputs, rule, wanted, base, steps)
    if essay is not None:
        base.update(_essay_values(essay))

    kind: str | None = None
    if rule.action == Action.QUOTE:
        kind = "quote"
    elif rule.action == Action.PROMPT or "prompt" in fields:
        kind = "prompt"
    elif "quote" in fields:
        kind = "quote"
    if kind is None or essay is None:
        fitted = _fit(template, base, [(None, {})], None, None, inputs, steps)
        if fitted is None:
            return Skip(SkipReason.DOES_NOT_FIT, "the template does not fit", rule.name)
        return _reply(inputs, rule, language, fitted.text, essay=essay)

    items = _candidates(rule, essay, kind, inputs)
    if not items:
        used = inputs.history.thread_quote_ids | inputs.history.thread_prompt_ids
        steps.append(
            Step("candidates", kind, False, f"no {kind} left ({len(used)} already in this thread)")
        )
        return Skip(SkipReason.NO_CANDIDATE, f"no {kind} left for this thread", rule.name)
    ranking = _rank(items, inputs, wanted or policy.default_language)
    head = list(itertools.islice(ranking, TRACE_CANDIDATES))
    steps.append(
        Step(
            "candidates",
            kind,
            True,
            f"{kind} {head[0].item.id} ranked first of {len(items)}",
            {
                "candidates": [
                    {
                        "id": r.item.id,
                        "score": round(r.score, 4),
                        "matched": list(r.matched),
                        "last_used": r.last_used,
                    }
                    for r in head
                ]
            },
        )
    )
    default = policy.default_language

    def variants() -> Iterator[tuple[Candidate | None, Mapping[str, str]]]:
        for r in itertools.chain(head, ranking):
            yield r.item, _candidate_values(r.item, language, default)[1]

    def raw_of(item: Candidate) -> str:
        return _candidate_values(item, language, default)[0]

    fitted = _fit(template, base, variants(), kind, raw_of, inputs, steps)
    if fitted is None:
        return Skip(SkipReason.DOES_NOT_FIT, f"no {kind} fits the template", rule.name)
    return _reply(inputs, rule, language, fitted.text, essay=essay, item=fitted.item)


def _unknown_essay(
    inputs: Inputs, rule: Rule, wanted: str | None, base: dict[str, str], steps: list[Step]
) -> Decision:
    policy = inputs.policy
    if policy.unknown_essay != "list":
        return Skip(SkipReason.NO_ESSAY, "no essay could be told apart", rule.name)
    language, template = _special_template(
        inputs.config, "unknown_essay", wanted, policy.default_language
    )
    essays = inputs.config.catalog.essays
    opening, closing = TITLE_QUOTES.get(language, TITLE_QUOTES["en"])
    lines = [
        f"{opening}{neutralise_mentions(e.title)}{closing} {neutralise_mentions(e.url)}"
        for e in essays
    ]
    # As many essays as fit, catalog order; a long archive lists its first ones.
    variants: list[tuple[Candidate | None, Mapping[str, str]]] = [
        (None, {"essays": "\n".join(lines[:n])}) for n in range(len(lines), 0, -1)
    ]
    fitted = _fit(template, base, variants, None, None, inputs, steps)
    if fitted is None:
        return Skip(SkipReason.NO_ESSAY, "no essay could be told apart", rule.name)
    return _reply(inputs, rule, language, fitted.text, action=Action.HELP)


# -- why, in the asker's language ----------------------------------------------------

_NB = "\u00a0"  # French typography: a no-break space inside « » and before : ; ! ?

#: How ``why`` words each part of the explanation, per reply language; a
#: language not listed gets English. ``{0}``/``{1}`` are the condition's values.
WHY_WORDING: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "fr": MappingProxyType(
            {
                "rule": f"J’ai suivi la règle «{_NB}{{rule}}{_NB}»",
                "because": ", car {conditions}",
                "always": ", qui répond à toute mention",
                "and": " et ",
                "quote": f". J’ai choisi la citation «{_NB}{{id}}{_NB}»",
                "prompt": f". J’ai choisi la question «{_NB}{{id}}{_NB}»",
                "terms": f", pour les mots qu’elle partage avec le fil{_NB}: {{terms}}",
                "command": f"la mention commence par «{_NB}{{0}}{_NB}»",
                "keyword": f"la mention contient «{_NB}{{0}}{_NB}»",
                "thread_keyword": f"le fil contient «{_NB}{{0}}{_NB}»",
                "regex": f"la mention correspond au motif «{_NB}{{0}}{_NB}»",
                "thread_regex": f"le fil correspond au motif «{_NB}{{0}}{_NB}»",
                "language": "la mention est en {0}",
                "essay": f"le fil parle de «{_NB}{{0}}{_NB}»",
                "visibility": "la mention est en visibilité {0}",
                "min_heat": "le ton monte (chaleur {0} ≥ {1})",
                "max_heat": "le ton reste calme (chaleur {0} ≤ {1})",
            }
        ),
        "en": MappingProxyType(
            {
                "rule": "I followed the rule “{rule}”",
                "because": ", because {conditions}",
                "always": ", which answers any mention",
                "and": " and ",
                "quote": ". I chose the quote “{id}”",
                "prompt": ". I chose the question “{id}”",
                "terms": " for the words it shares with the thread: {terms}",
                "command": "the mention starts with “{0}”",
                "keyword": "the mention contains “{0}”",
                "thread_keyword": "the thread contains “{0}”",
                "regex": "the mention matches the pattern “{0}”",
                "thread_regex": "the thread matches the pattern “{0}”",
                "language": "the mention is in {0}",
                "essay": "the thread is about “{0}”",
                "visibility": "the mention is {0}",
                "min_heat": "things are heating up (heat {0} ≥ {1})",
                "max_heat": "things are calm (heat {0} ≤ {1})",
            }
        ),
    }
)
#: The shared words ``why`` lists at most.
WHY_TERMS = 5


def _why_data(summary: str) -> dict[str, Any]:
    """The structured ``why`` a reply was recorded with; {} for a summary
    written as prose (replies recorded before the summary became data)."""
    try:
        data = json.loads(summary)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def why_text(explained: Explained, language: str, catalog: Catalog | None = None) -> str:
    """Why the bot posted ``explained``, in ``language`` (French or English),
    from the data recorded with it: the rule, the conditions that held, the
    quote or prompt and the words it shared with the thread."""
    words = WHY_WORDING.get(language, WHY_WORDING["en"])
    data = _why_data(explained.summary)
    rule = str(data.get("rule") or explained.rule)
    text = words["rule"].format(rule=rule)
    conditions = [c for c in data.get("conditions", ()) if c and c[0] in words]
    if conditions:
        parts = []
        for kind, *values in conditions:
            if kind == "essay" and catalog is not None and (essay := catalog.essay(values[0])):
                values = [essay.title]
            if kind in ("min_heat", "max_heat") and language == "fr":
                values = [v.replace(".", ",") for v in values]
            parts.append(words[kind].format(*values, ""))
        text += words["because"].format(conditions=words["and"].join(parts))
    elif "conditions" in data:
        text += words["always"]
    kind = data.get("kind") or (
        "quote" if explained.quote_id else "prompt" if explained.prompt_id else None
    )
    item = data.get("id") or explained.quote_id or explained.prompt_id
    if kind in ("quote", "prompt") and item:
        text += words[kind].format(id=item)
        terms = [str(t) for t in data.get("terms", ())][:WHY_TERMS]
        if terms:
            text += words["terms"].format(terms=", ".join(terms))
    return text + "."


def _why(
    inputs: Inputs,
    rule: Rule,
    language: str,
    template: Template,
    base: dict[str, str],
    steps: list[Step],
) -> Decision:
    policy = inputs.policy
    explained = inputs.history.explained
    if explained is None:
        steps.append(Step("why", "explained", False, "not a reply to one of the bot's posts"))
        wanted = _language(inputs.mention.post.language)
        language, template = _special_template(
            inputs.config, "why_nothing", wanted, policy.default_language
        )
        fitted = _fit(template, base, [(None, {})], None, None, inputs, steps)
        if fitted is None:
            return Skip(SkipReason.DOES_NOT_FIT, "the template does not fit", rule.name)
        return _reply(inputs, rule, language, fitted.text)
    catalog = inputs.config.catalog
    steps.append(Step("why", explained.status_id, True, f"explaining rule {explained.rule!r}"))
    essay = catalog.essay(explained.essay_id) if explained.essay_id else None
    if essay is not None:
        base.update(_essay_values(essay))
    base.update(
        rule=explained.rule, why=neutralise_mentions(why_text(explained, language, catalog))
    )
    item: Candidate | None = None
    if explained.quote_id:
        item = catalog.quote(explained.quote_id)
    elif explained.prompt_id:
        item = catalog.prompt(explained.prompt_id)
    variants: list[tuple[Candidate | None, Mapping[str, str]]] = [(None, {})]
    shorten: str | None = None
    if item is not None:
        extra = _candidate_values(item, language, policy.default_language)[1]
        if isinstance(item, Prompt):
            # A template written for quotes still shows the prompt.
            extra["quote"] = extra["prompt"]
        variants = [(item, extra)]
        shorten = "quote" if "quote" in template.fields else "prompt"

    def raw_of(candidate: Candidate) -> str:
        return _candidate_values(candidate, language, policy.default_language)[0]

    fitted = _fit(template, base, variants, shorten, raw_of, inputs, steps)
    if fitted is None:
        return Skip(SkipReason.DOES_NOT_FIT, "the explanation does not fit", rule.name)
    return _reply(inputs, rule, language, fitted.text, essay=essay)
