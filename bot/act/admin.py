"""Admin commands by direct message, and the pause and mute that they set.

An account listed in ``FILROUGE_ADMINS`` steers the running bot by sending it a
direct message whose first word (after the @-mentions) is a command:

    pause                  stop answering mentions (they are still recorded)
    resume                 answer again
    status                 uptime, stream, counts by outcome, last error
    reload                 load the catalog and rules again (like SIGHUP)
    mute <status>          skip every mention in that status's thread
    unmute <status>        lift it
    optout <account>       opt an account out, as if it had said "stop"

``<status>`` is a status URL or id; ``<account>`` an account id, ``user@domain``
or profile URL (write it without a leading @: an @-mention in a direct message
makes that account a recipient of it). French words work too (``reprendre``,
``statut``/``état``, ``recharger``, ``sourdine``); accents and case are ignored.
The answer goes back by direct message to the admin alone, split over several
statuses when it is long (every reload error is listed).

What a moderator can expect:

- Only **direct** messages carry admin commands. A public or followers-only
  mention that starts with ``pause`` is an ordinary mention.
- A well-formed command by direct message from anyone else is **not obeyed and
  not answered** (an answer would tell a stranger the command exists): it is
  recorded as skipped ``not_admin``, logged as a warning and counted in
  ``filrouge_admin_commands_total{outcome="refused"}``.
- While paused, every mention still gets its outcome: skipped ``paused``, with
  what the bot would have done in its trace (``filrouge log --outcome skipped``
  lists them). None is kept for later: after ``resume`` the bot does not flood
  threads with answers to questions asked hours before. ``stop`` and ``start``
  still take effect while paused (consent always holds) but are not confirmed.
  The pause outlives a restart.
- A muted thread works the same way (skipped ``muted``), for mentions below the
  named status or anywhere under the root of its thread. Mutes outlive restarts.
- ``optout`` can be undone by the account itself with ``start``; to refuse an
  account for good use ``FILROUGE_BLOCKED``.

Admins are matched by account id when the setting gives one or when the
handle can be looked up at the first command, else by ``user@domain`` (a
local account may be written ``user``; the instance's domain is added).

Resolving a status URL of another server, or an account the instance does not
know yet, uses ``search_v2(resolve=True)``, which needs the ``read:search``
scope; URLs of the bot's own instance and ids need none.

Since Mastodon 4.3 a server filters private mentions from accounts the bot
does not follow, and filtered ones never reach it (see ``bot.runner``): let
the bot account follow its admins, or accept private mentions from anyone.

An answer is posted with idempotency keys derived from the command's
notification, so a retry after a crash gets the same statuses back; the
commands themselves can run twice harmlessly (pausing a paused bot, muting a
muted thread and reloading change nothing more).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.act.notify import safe_link
from bot.errors import FilRougeError, Gone, PermanentError, Problem
from bot.mastodon.client import idempotency_key
from bot.model.catalog import Action
from bot.model.decision import Reply, Skip, SkipReason
from bot.model.post import Account, Mention, Post, Thread
from bot.record.store import ADMIN_RULE_PREFIX
from bot.text.html import fold
from bot.text.render import neutralise_mentions, status_length

if TYPE_CHECKING:
    from bot.act.actor import Actor, Result
    from bot.mastodon.client import Client
    from bot.ops.metrics import Health

log = logging.getLogger(__name__)


# -- reading a command (pure) -----------------------------------------------------------


class Verb(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    STATUS = "status"
    RELOAD = "reload"
    MUTE = "mute"
    UNMUTE = "unmute"
    OPTOUT = "optout"


#: Command words, folded (accents and case removed), to the command.
WORDS: Mapping[str, Verb] = {
    "pause": Verb.PAUSE,
    "resume": Verb.RESUME,
    "reprendre": Verb.RESUME,
    "reprise": Verb.RESUME,
    "status": Verb.STATUS,
    "statut": Verb.STATUS,
    "etat": Verb.STATUS,
    "reload": Verb.RELOAD,
    "recharger": Verb.RELOAD,
    "mute": Verb.MUTE,
    "sourdine": Verb.MUTE,
    "unmute": Verb.UNMUTE,
    "optout": Verb.OPTOUT,
    "opt-out": Verb.OPTOUT,
}

#: Commands that take exactly one argument; the others take none.
WITH_ARGUMENT = frozenset({Verb.MUTE, Verb.UNMUTE, Verb.OPTOUT})

# The @-mentions a composer puts in front of a message (as in ``bot.decide``).
_LEADING_MENTIONS = re.compile(r"^\s*(?:@[\w.-]+(?:@[\w.-]+)?[\s,:;]*)*")
_PUNCTUATION = ".,;:!?…"


@dataclass(frozen=True, slots=True)
class Command:
    verb: Verb
    argument: str = ""
    #: Set when the first word is a command but the rest does not fit it.
    problem: str = ""

    @property
    def well_formed(self) -> bool:
        return not self.problem


def parse(text: str) -> Command | None:
    """The admin command ``text`` (a status's plain text) opens with, if any.

    The argument keeps its case (status ids of other servers are case-sensitive).
    """
    rest = _LEADING_MENTIONS.sub("", text, count=1)
    words = [w for w in rest.split() if w.strip(_PUNCTUATION)]
    if not words:
        return None
    verb = WORDS.get(fold(words[0]).strip(_PUNCTUATION))
    if verb is None:
        return None
    arguments = [w.rstrip(_PUNCTUATION) if not _is_url(w) else w for w in words[1:]]
    if verb in WITH_ARGUMENT:
        if len(arguments) != 1:
            what = "an account" if verb is Verb.OPTOUT else "a status URL or id"
            return Command(verb, problem=f"{verb} takes {what}")
        return Command(verb, arguments[0])
    if arguments:
        return Command(verb, problem=f"{verb} takes nothing after it")
    return Command(verb)


def _is_url(word: str) -> bool:
    return word.startswith(("https://", "http://"))


# -- who is an admin ---------------------------------------------------------------------


def normal_handle(acct: str, local_domain: str) -> str:
    """``user@domain`` in lower case; a local ``user`` gets the instance's domain."""
    acct = acct.strip().lstrip("@").lower()
    user, _, domain = acct.partition("@")
    return f"{user}@{domain or local_domain.lower()}"


@dataclass(frozen=True)
class Admins:
    """The accounts of ``FILROUGE_ADMINS``, by id and by handle."""

    ids: frozenset[str]
    handles: frozenset[str]
    local_domain: str
    #: A handle to mention each admin with, in the order of the setting.
    mentions: tuple[str, ...] = ()

    @classmethod
    def parse(cls, entries: Sequence[str], local_domain: str) -> Admins:
        """From the setting alone, without asking the server."""
        ids = frozenset(e.strip() for e in entries if e.strip().isdigit())
        handles = frozenset(
            normal_handle(e, local_domain) for e in entries if e.strip() and not e.strip().isdigit()
        )
        return cls(ids=ids, handles=handles, local_domain=local_domain.lower())

    def __contains__(self, account: object) -> bool:
        if not isinstance(account, Account):
            return False
        if account.id in self.ids:
            return True
        return normal_handle(account.acct, self.local_domain) in self.handles


def resolve_admins(entries: Sequence[str], client: Client, local_domain: str) -> Admins:
    """``Admins`` with each handle also looked up to its id and each id to a handle
    to mention, where the server knows them. A lookup that fails leaves the
    entry matched by handle (or, for an id, mentioned by nothing: logged)."""
    admins = Admins.parse(entries, local_domain)
    ids = set(admins.ids)
    mentions: list[str] = []
    for entry in (e.strip().lstrip("@") for e in entries if e.strip()):
        try:
            if entry.isdigit():
                account = client.account(entry)
                mentions.append(str(account.get("acct") or account.get("username") or ""))
            else:
                account = lookup_account(client, entry, local_domain)
                ids.add(str(account["id"]))
                mentions.append(entry)
        except FilRougeError as error:
            log.warning(
                "admin %s could not be looked up (%s); matched by handle only",
                entry,
                error,
                extra={"event": "admin", "kind": getattr(error, "kind", "error")},
            )
            if not entry.isdigit():
                mentions.append(entry)
    return Admins(
        ids=frozenset(ids),
        handles=admins.handles,
        local_domain=admins.local_domain,
        mentions=tuple(m for m in mentions if m),
    )


def lookup_account(client: Client, acct: str, local_domain: str) -> Mapping[str, Any]:
    """The account ``acct`` (``user`` or ``user@domain``) as the instance knows it.
    A local account is asked for by its bare username, which every server accepts."""
    user, _, domain = acct.strip().lstrip("@").partition("@")
    if not domain or domain.lower() == local_domain.lower():
        acct = user
    found: Mapping[str, Any] = client.read(
        lambda: client.api.account_lookup(acct), what="account lookup"
    )
    return found


def instance_domain(client: Client) -> str:
    """The instance's own domain (``LOCAL_DOMAIN``), which may differ from the
    host of its API (``WEB_DOMAIN``); the API host when the server does not say."""
    fallback = urlsplit(client.base_url).hostname or ""
    try:
        data: Mapping[str, Any] = client.read(client.api.instance_v2, what="instance (v2)")
    except FilRougeError:
        return fallback
    domain = data.get("domain") if isinstance(data, Mapping) else None
    return str(domain) if isinstance(domain, str) and domain else fallback


# -- answers ---------------------------------------------------------------------------------

_TEXTS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "paused": "En pause : je ne réponds plus aux mentions. Elles restent enregistrées "
        "(ignorées, raison « paused ») et ne seront pas rattrapées. « resume » pour reprendre.",
        "already_paused": "Déjà en pause depuis le {since}.",
        "resumed": "Je reprends : je réponds de nouveau aux mentions. Celles reçues pendant la "
        "pause restent ignorées (filrouge log --outcome skipped).",
        "not_paused": "Je n’étais pas en pause.",
        "state_running": "État : en service.",
        "state_paused": "État : en pause depuis le {since}.",
        "uptime": "Démarré il y a {uptime}. Flux : {stream}.",
        "connected": "connecté",
        "polling": "coupé, relevé périodique",
        "down": "coupé",
        "counts": "Mentions : {replied} répondues, {skipped} ignorées, {failed} en échec, "
        "{pending} en attente.",
        "muted_count": "Fils en sourdine : {count}.",
        "last_error": "Dernière erreur : {error}",
        "no_error": "Aucune erreur.",
        "reloaded": "Rechargé : {essays} texte(s), {rules} règle(s).",
        "reload_refused": "Rechargement refusé : je garde le catalogue et les règles en cours. "
        "{count} problème(s) :",
        "muted": "Fil en sourdine : message {status_id} (fil {thread_id}) {link}\n"
        "Les mentions dans ce fil sont ignorées "
        "(raison « muted ») ; « unmute » pour lever.",
        "already_muted": "Ce fil était déjà en sourdine.",
        "unmuted": "Sourdine levée : {target}.",
        "not_muted": "Ce fil n’était pas en sourdine.",
        "opted_out": "{account} est retiré : je ne lui répondrai plus (« start » de sa part "
        "l’annule ; pour refuser un compte, FILROUGE_BLOCKED).",
        "already_opted_out": "{account} était déjà retiré.",
        "no_status": "Message introuvable : {target} ({error}).",
        "no_account": "Compte introuvable : {target} ({error}).",
        "usage": "Je n’ai pas compris ({problem}). Commandes : pause, resume, status, reload, "
        "mute <lien ou id d’un message>, unmute <…>, optout <compte user@domaine>.",
    },
    "en": {
        "paused": "Paused: I no longer answer mentions. They are still recorded (skipped, "
        "reason “paused”) and will not be caught up on. “resume” to resume.",
        "already_paused": "Already paused since {since}.",
        "resumed": "Resumed: I answer mentions again. Those received while paused stay "
        "skipped (filrouge log --outcome skipped).",
        "not_paused": "I was not paused.",
        "state_running": "State: running.",
        "state_paused": "State: paused since {since}.",
        "uptime": "Up for {uptime}. Stream: {stream}.",
        "connected": "connected",
        "polling": "down, polling",
        "down": "down",
        "counts": "Mentions: {replied} replied, {skipped} skipped, {failed} failed, "
        "{pending} pending.",
        "muted_count": "Muted threads: {count}.",
        "last_error": "Last error: {error}",
        "no_error": "No error.",
        "reloaded": "Reloaded: {essays} essay(s), {rules} rule(s).",
        "reload_refused": "Reload refused: I keep the catalog and rules in use. "
        "{count} problem(s):",
        "muted": "Thread muted: status {status_id} (thread {thread_id}) {link}\n"
        "Mentions in this thread are skipped "
        "(reason “muted”); “unmute” to lift it.",
        "already_muted": "This thread was already muted.",
        "unmuted": "Unmuted: {target}.",
        "not_muted": "This thread was not muted.",
        "opted_out": "{account} is opted out: I will no longer answer it (it can say “start” "
        "to undo that; to refuse an account, FILROUGE_BLOCKED).",
        "already_opted_out": "{account} was already opted out.",
        "no_status": "Status not found: {target} ({error}).",
        "no_account": "Account not found: {target} ({error}).",
        "usage": "I did not understand ({problem}). Commands: pause, resume, status, reload, "
        "mute <status URL or id>, unmute <…>, optout <account user@domain>.",
    },
}


def _say(language: str, key: str, **values: object) -> str:
    # Values come from people (arguments) and files (reload errors): never a mention.
    safe = {k: neutralise_mentions(str(v)) for k, v in values.items()}
    return _TEXTS[language][key].format(**safe)


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}"
    return f"{minutes}m{seconds:02d}s"


def split_answer(
    head: str, lines: Sequence[str], *, max_characters: int, url_length: int
) -> list[str]:
    """The answer as statuses of at most ``max_characters`` each: every status
    starts with ``head`` (the admin's @handle) and holds whole lines where it
    can; a line longer than a status is cut at word boundaries."""
    budget = max_characters - status_length(head + "\n", url_length=url_length)
    pieces: list[str] = []
    for line in lines:
        while status_length(line, url_length=url_length) > budget:
            room = budget - 2  # for the " …" that says it goes on
            cut = line[:room]
            space = cut.rfind(" ")
            cut = cut[:space] if space > room // 2 else cut
            # URLs count for a fixed length, graphemes for one: measure, then shrink.
            while len(cut) > 1 and status_length(cut + " …", url_length=url_length) > budget:
                cut = cut[: len(cut) * 9 // 10]
            pieces.append(cut.rstrip() + " …")
            line = "… " + line[len(cut) :].lstrip()
        pieces.append(line)
    statuses: list[str] = []
    current: list[str] = []
    for piece in pieces:
        candidate = "\n".join([*current, piece])
        if current and status_length(candidate, url_length=url_length) > budget:
            statuses.append(f"{head}\n" + "\n".join(current))
            current = [piece]
        else:
            current.append(piece)
    if current or not statuses:
        statuses.append(f"{head}\n" + "\n".join(current))
    return statuses


def reload_refused_lines(language: str, problems: Sequence[Problem | str]) -> tuple[str, ...]:
    """A refused reload, for a direct message: one line to say so, one per problem."""
    lines = [_say(language, "reload_refused", count=len(problems))]
    lines += [f"- {neutralise_mentions(_problem_text(problem))}" for problem in problems]
    return tuple(lines)


# -- the admin desk ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Answer:
    lines: tuple[str, ...]
    outcome: str = "done"


class Admin:
    """Admin commands and the pause/mute gate, for one running bot.

    Used from the worker thread only (through ``Actor``), like everything
    that talks to the server; the pause and the mutes live in the record.
    """

    def __init__(
        self,
        *,
        actor: Actor,
        health: Health,
        reload: Callable[[], Sequence[Problem]],
        wall_clock: Callable[[], float],
    ) -> None:
        self.actor = actor
        self.health = health
        self.reload = reload
        self.wall_clock = wall_clock
        self._admins: Admins | None = None
        self._domain: str | None = None
        self._show_paused(actor.store.paused() is not None)

    def _show_paused(self, paused: bool) -> None:
        """In /healthz (reported, not a fault) and in /metrics (``filrouge_paused``)."""
        self.health.update(paused=paused)
        self.actor.metrics.paused.set(1 if paused else 0)

    # -- set up on first use (a start must not depend on lookups) --------------------------

    @property
    def domain(self) -> str:
        if self._domain is None:
            self._domain = instance_domain(self.actor.client)
        return self._domain

    @property
    def admins(self) -> Admins:
        if self._admins is None:
            self._admins = resolve_admins(
                self.actor.settings.admins, self.actor.client, self.domain
            )
        return self._admins

    # -- telling the admins, unasked ---------------------------------------------------------

    def report_reload(self, problems: Sequence[Problem], at: datetime) -> str | None:
        """Send every problem of a reload refused at ``at`` (SIGHUP) to the admins by
        direct message, in the bot's language; the id of the first status, or None
        when nothing was sent (no admin account to write to, or a dry run)."""
        language = self._language(None)
        lines = reload_refused_lines(language, problems)
        # Keyed by what was refused and when: the worker's retry after a
        # failure posts nothing twice, a later refused reload is a new message.
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]
        return self.tell_admins(lines, key=f"reload:{at.isoformat()}:{digest}", what="reload")

    def tell_admins(self, lines: Sequence[str], *, key: str, what: str) -> str | None:
        """``lines`` by direct message mentioning the admins and nobody else, split
        over several statuses when long (each continues the one before). ``key``
        names the message: one idempotency key per status is derived from it.
        The id of the first status; None when no admin account could be found or
        in a dry run (logged). Worker thread only; raises ``FilRougeError``."""
        actor = self.actor
        mentions = self.admins.mentions
        if not mentions:
            log.warning(
                "no admin account could be found to write to (%s): %s",
                what,
                " / ".join(lines),
                extra={"event": "admin", "command": what},
            )
            return None
        if actor.settings.dry_run:
            log.info(
                "to the admins (dry run, not sent): %s",
                " / ".join(lines),
                extra={"event": "admin", "command": what},
            )
            return None
        head = " ".join(f"@{handle.lstrip('@')}" for handle in mentions)
        statuses = split_answer(
            head,
            lines,
            max_characters=actor.policy.max_characters,
            url_length=actor.policy.url_length,
        )
        first_id: str | None = None
        parent: str | None = None
        for index, text in enumerate(statuses):
            status = actor.client.post_direct(
                text,
                in_reply_to_id=parent,
                idempotency_key=idempotency_key(actor.self_id, f"{key}:{index}"),
            )
            parent = str(status["id"])
            first_id = first_id or parent
        log.info(
            "told the admins (%s) in %d status(es)",
            what,
            len(statuses),
            extra={"event": "admin", "command": what, "reply_id": first_id},
        )
        return first_id

    # -- the gate ---------------------------------------------------------------------------

    def hold(self, reply: Reply, post: Post, thread: Thread) -> Skip | None:
        """A ``Skip`` when the bot is paused or the thread muted, else None.

        Consent still takes effect: ``stop`` opts out even while paused."""
        store = self.actor.store
        paused = store.paused()
        muted = None
        if paused is None:
            muted = store.muted([post.id, *(ancestor.id for ancestor in thread.ancestors)])
            if muted is None:
                return None
        if reply.action is Action.STOP:
            store.opt_out(post.account.id, self.actor.clock())
        elif reply.action is Action.START:
            store.opt_in(post.account.id)
        would = f"would have replied by rule {reply.rule!r}"
        if paused is not None:
            since = paused.since.strftime("%Y-%m-%d %H:%M UTC")
            return Skip(SkipReason.PAUSED, f"paused by an admin since {since}; {would}", reply.rule)
        return Skip(SkipReason.MUTED, f"thread muted by an admin ({muted}); {would}", reply.rule)

    # -- commands ---------------------------------------------------------------------------

    def command(self, mention: Mention) -> Result | None:
        """Handle ``mention`` if it is an admin command by direct message; None if
        it is an ordinary mention for the rest of the pipeline."""
        post = mention.post
        if post.visibility != "direct":
            return None
        command = parse(post.text)
        if command is None:
            return None
        if post.account not in self.admins:
            if not command.well_formed:
                return None  # "pause café ?" from anyone else: an ordinary message
            return self._refuse(mention, command)
        language = self._language(post)
        try:
            answer = self._execute(command, post, language)
        except PermanentError as error:
            # Refused or gone: the admin hears why; transient errors go up and retry.
            answer = _Answer((f"{command.verb}: {neutralise_mentions(str(error))}",), "error")
        return self._answer(mention, command, answer, language)

    def _language(self, post: Post | None) -> str:
        for code in (post.language if post else None, self.actor.settings.language):
            code = (code or "").split("-")[0].lower()
            if code in _TEXTS:
                return code
        return "en"

    def _refuse(self, mention: Mention, command: Command) -> Result:
        post = mention.post
        self.actor.metrics.admin_commands.labels(
            command=command.verb.value, outcome="refused"
        ).inc()
        log.warning(
            "admin command %r by direct message from @%s, who is not an admin: ignored",
            command.verb.value,
            post.account.acct,
            extra={"event": "admin", "command": command.verb.value, "account_id": post.account.id},
        )
        trace = {
            "steps": [
                {
                    "kind": "admin",
                    "name": command.verb.value,
                    "ok": False,
                    "detail": f"@{post.account.acct} is not in FILROUGE_ADMINS",
                    "data": {},
                }
            ],
            "summary": f"admin command {command.verb.value} from a non-admin",
        }
        return self.actor._skip(
            mention.notification_id,
            SkipReason.NOT_ADMIN,
            f"{command.verb.value} from @{post.account.acct}, not an admin",
            None,
            trace,
        )

    def _execute(self, command: Command, post: Post, language: str) -> _Answer:
        if not command.well_formed:
            return _Answer((_say(language, "usage", problem=command.problem),), "error")
        store = self.actor.store
        now = self.actor.clock()
        verb = command.verb
        if verb is Verb.PAUSE:
            if store.pause(by=post.account.id, now=now):
                self._show_paused(True)
                log.warning(
                    "paused by @%s", post.account.acct, extra={"event": "admin", "command": "pause"}
                )
                return _Answer((_say(language, "paused"),))
            paused = store.paused()
            since = _when(paused.since if paused else now)
            return _Answer((_say(language, "already_paused", since=since),))
        if verb is Verb.RESUME:
            resumed = store.resume()
            self._show_paused(False)
            if resumed:
                log.warning(
                    "resumed by @%s",
                    post.account.acct,
                    extra={"event": "admin", "command": "resume"},
                )
            return _Answer((_say(language, "resumed" if resumed else "not_paused"),))
        if verb is Verb.STATUS:
            return _Answer(self._status(language))
        if verb is Verb.RELOAD:
            return self._reload(language)
        if verb is Verb.MUTE:
            return self._mute(command.argument, post, language, now)
        if verb is Verb.UNMUTE:
            return self._unmute(command.argument, language)
        return self._optout(command.argument, post, language, now)

    def _status(self, language: str) -> tuple[str, ...]:
        store = self.actor.store
        health = self.health.snapshot()
        paused = store.paused()
        started = health.get("started_at")
        uptime = self.wall_clock() - started if isinstance(started, int | float) else 0.0
        stream = (
            "connected"
            if health.get("stream_connected")
            else "polling"
            if health.get("polling")
            else "down"
        )
        counts = store.counts()["outcome"]
        error = health.get("last_error")
        return (
            _say(language, "state_paused", since=_when(paused.since))
            if paused
            else _say(language, "state_running"),
            _say(language, "uptime", uptime=_duration(uptime), stream=_TEXTS[language][stream]),
            _say(language, "counts", **counts),
            _say(language, "muted_count", count=len(store.muted_threads())),
            _say(language, "last_error", error=error) if error else _say(language, "no_error"),
        )

    def _reload(self, language: str) -> _Answer:
        problems = list(self.reload())
        if not problems:
            config = self.actor.config
            return _Answer(
                (
                    _say(
                        language,
                        "reloaded",
                        essays=len(config.catalog.essays),
                        rules=len(config.rules.rules),
                    ),
                )
            )
        return _Answer(reload_refused_lines(language, problems), "error")

    def _mute(self, target: str, post: Post, language: str, now: datetime) -> _Answer:
        try:
            status = self.find_status(target)
        except PermanentError as error:
            shown = _last_segment(target)
            return _Answer((_say(language, "no_status", target=shown, error=error),), "error")
        status_id = str(status["id"])
        context = self.actor.client.status_context(status_id)
        ancestors = context.get("ancestors") or []
        root = str(ancestors[0]["id"]) if ancestors else status_id
        url = str(status.get("url") or status.get("uri") or "")
        if self.actor.store.mute(status_id, thread_id=root, by=post.account.id, url=url, now=now):
            log.warning(
                "thread %s muted by @%s",
                root,
                post.account.acct,
                extra={"event": "admin", "command": "mute", "thread_id": root},
            )
            return _Answer(
                (_say(language, "muted", status_id=status_id, thread_id=root, link=safe_link(url)),)
            )
        return _Answer((_say(language, "already_muted"),))

    def _unmute(self, target: str, language: str) -> _Answer:
        ids = [_last_segment(target)]
        try:
            status = self.find_status(target)
            ids.append(str(status["id"]))
            ancestors = self.actor.client.status_context(str(status["id"])).get("ancestors") or []
            if ancestors:
                ids.append(str(ancestors[0]["id"]))
        except PermanentError:
            pass  # a deleted status can still be unmuted by its id
        if self.actor.store.unmute([i for i in dict.fromkeys(ids) if i]):
            return _Answer((_say(language, "unmuted", target=", ".join(dict.fromkeys(ids))),))
        return _Answer((_say(language, "not_muted"),))

    def _optout(self, target: str, post: Post, language: str, now: datetime) -> _Answer:
        try:
            account_id, acct = self.find_account(target, post)
        except PermanentError as error:
            shown = safe_link(target) if _is_url(target) else target
            return _Answer((_say(language, "no_account", target=shown, error=error),), "error")
        store = self.actor.store
        if store.is_opted_out(account_id):
            return _Answer((_say(language, "already_opted_out", account=acct),))
        store.opt_out(account_id, now)
        log.warning(
            "account %s opted out by @%s",
            acct,
            post.account.acct,
            extra={"event": "admin", "command": "optout", "account_id": account_id},
        )
        return _Answer((_say(language, "opted_out", account=acct),))

    # -- finding what an argument names ---------------------------------------------------------

    def _is_local(self, host: str | None) -> bool:
        host = (host or "").lower()
        api_host = (urlsplit(self.actor.client.base_url).hostname or "").lower()
        return bool(host) and host in {self.domain.lower(), api_host}

    def find_status(self, target: str) -> Mapping[str, Any]:
        """The status a URL or id names. A URL of this instance carries its id
        as the last path segment (``/@user/ID``, ``/users/user/statuses/ID``,
        also for remote posts seen here); other URLs are resolved by search,
        which needs the ``read:search`` scope. Raises ``PermanentError``."""
        client = self.actor.client
        if not _is_url(target):
            return client.status(target.strip())
        parts = urlsplit(target)
        if self._is_local(parts.hostname):
            return client.status(_last_segment(target))
        found = client.read(
            lambda: client.api.search_v2(target, resolve=True, result_type="statuses"),
            what="search",
        )
        # Only the status at that address: some servers answer a search with
        # every status that merely contains the text (the admin's own message).
        wanted = _same_url(target)
        for status in found.get("statuses") or []:
            if wanted in (
                _same_url(str(status.get("url") or "")),
                _same_url(str(status.get("uri") or "")),
            ):
                result: Mapping[str, Any] = status
                return result
        raise Gone("the instance could not resolve it")

    def find_account(self, target: str, post: Post) -> tuple[str, str]:
        """(account id, ``user@domain``) of an id, handle or profile URL."""
        client = self.actor.client
        target = target.strip()
        if target.isdigit():
            account = client.account(target)
            return str(account["id"]), str(account.get("acct") or target)
        if _is_url(target):
            parts = urlsplit(target)
            user = _last_segment(target).lstrip("@")
            host = parts.hostname or ""
            target = user if self._is_local(host) or "@" in user else f"{user}@{host}"
        handle = target.lstrip("@")
        # An @-mention of the account in the command itself: the server told us its id.
        for ref in post.content.mentions:
            if ref.account_id and normal_handle(ref.acct, self.domain) == normal_handle(
                handle, self.domain
            ):
                return ref.account_id, ref.acct
        try:
            account = lookup_account(client, handle, self.domain)
        except Gone:
            found = client.read(
                lambda: client.api.search_v2(handle, resolve=True, result_type="accounts"),
                what="search",
            )
            wanted = normal_handle(handle, self.domain)
            matches = [
                a
                for a in found.get("accounts") or []
                if normal_handle(str(a.get("acct", "")), self.domain) == wanted
            ]
            if not matches:
                raise Gone("the instance does not know it") from None
            account = matches[0]
        return str(account["id"]), str(account.get("acct") or handle)

    # -- answering ---------------------------------------------------------------------------

    def _answer(self, mention: Mention, command: Command, answer: _Answer, language: str) -> Result:
        from bot.act.actor import Result

        actor = self.actor
        post = mention.post
        notification_id = mention.notification_id
        verb = command.verb.value
        head = f"@{post.account.acct}"
        statuses = split_answer(
            head,
            answer.lines,
            max_characters=actor.policy.max_characters,
            url_length=actor.policy.url_length,
        )
        rule = f"{ADMIN_RULE_PREFIX}{verb}"

        def reply(text: str, in_reply_to_id: str) -> Reply:
            return Reply(
                text=text,
                visibility="direct",
                spoiler_text="",
                language=language,
                in_reply_to_id=in_reply_to_id,
                rule=rule,
                action=Action.HELP,
            )

        summary = f"admin command {verb} ({answer.outcome})"
        trace = {
            "steps": [
                {
                    "kind": "admin",
                    "name": verb,
                    "ok": answer.outcome == "done",
                    "detail": " / ".join(answer.lines),
                    "data": {"argument": command.argument} if command.argument else {},
                }
            ],
            "summary": summary,
        }
        whole = reply("\n\n".join(statuses), post.id)
        actor.metrics.admin_commands.labels(command=verb, outcome=answer.outcome).inc()
        now = actor.clock()
        if actor.settings.dry_run:
            actor.store.mark_replied(
                notification_id,
                reply_id=None,
                reply=whole,
                thread_id=post.id,
                account_id=post.account.id,
                trace=trace,
                now=now,
            )
            log.info(
                "admin command %s from @%s (dry run, not answered): %s",
                verb,
                post.account.acct,
                " / ".join(answer.lines),
                extra={"event": "admin", "command": verb, "outcome": answer.outcome},
            )
            return Result(notification_id, "replied", "dry_run")
        first_key = idempotency_key(actor.self_id, notification_id)
        actor.store.mark_posting(notification_id, first_key, now)
        first_id: str | None = None
        parent = post.id
        for index, text in enumerate(statuses):
            # One key per status, derived from the command: a retry after a
            # crash or a timeout gets the same statuses back, not new ones.
            key = (
                first_key
                if index == 0
                else idempotency_key(actor.self_id, f"{notification_id}:{index}")
            )
            status = actor.client.post_reply(reply(text, parent), idempotency_key=key)
            parent = str(status["id"])
            first_id = first_id or parent
        actor.store.mark_replied(
            notification_id,
            reply_id=first_id,
            reply=whole,
            thread_id=post.id,
            account_id=post.account.id,
            trace=trace,
            now=actor.clock(),
        )
        log.info(
            "admin command %s from @%s: %s",
            verb,
            post.account.acct,
            answer.outcome,
            extra={
                "event": "admin",
                "command": verb,
                "outcome": answer.outcome,
                "notification_id": notification_id,
                "reply_id": first_id,
            },
        )
        return Result(notification_id, "replied", "admin", reply_id=first_id)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _same_url(url: str) -> str:
    """A URL in a form two spellings of one address share (host case, trailing slash)."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}{parts.path.rstrip('/')}"


def _last_segment(target: str) -> str:
    path = urlsplit(target).path if _is_url(target) else target
    return path.rstrip("/").rsplit("/", 1)[-1].strip()


def _problem_text(problem: Problem | str) -> str:
    """A reload problem for a direct message: the file's name, not its full path."""
    if isinstance(problem, Problem):
        from pathlib import PurePath

        name = PurePath(str(problem.path)).name or str(problem.path)
        location = f"{name}:{problem.line}" if problem.line else name
        text = f"{location}: {problem.where}: {problem.message}"
        return f"{text} ({problem.hint})" if problem.hint else text
    return str(problem)
