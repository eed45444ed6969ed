"""What the admin desk says, in French and English, and how a long answer is
split over several statuses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bot.errors import Problem
from bot.text.render import neutralise_mentions, status_length

if TYPE_CHECKING:
    pass


# -- answers ---------------------------------------------------------------------------------

TEXTS: Mapping[str, Mapping[str, str]] = {
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
        "mute <lien ou id d’un message>, unmute <…>, optout <compte user@domaine> ; en "
        "réponse à l’un de mes messages : mieux <id>, aucune.",
        "corrected": "Noté : pour cette mention, « {item} » aurait mieux convenu que "
        "« {chosen} ». « filrouge catalog learned » liste ce que suggèrent les corrections.",
        "corrected_none": "Noté : aucun passage ne convenait à cette mention. "
        "« filrouge catalog learned » liste ce que suggèrent les corrections.",
        "not_a_reply": "Répondez à l’un de mes messages pour le corriger.",
        "unknown_item": "Je ne connais pas « {item} » : ni citation ni question du catalogue.",
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
        "mute <status URL or id>, unmute <…>, optout <account user@domain>; in reply to one "
        "of my posts: better <id>, none.",
        "corrected": "Noted: for that mention, “{item}” would have fitted better than "
        "“{chosen}”. “filrouge catalog learned” lists what the corrections suggest.",
        "corrected_none": "Noted: no passage fitted that mention. “filrouge catalog learned” "
        "lists what the corrections suggest.",
        "not_a_reply": "Reply to one of my posts to correct it.",
        "unknown_item": "I do not know “{item}”: neither a quote nor a prompt of the catalog.",
    },
}


def say(language: str, key: str, **values: object) -> str:
    # Values come from people (arguments) and files (reload errors): never a mention.
    safe = {k: neutralise_mentions(str(v)) for k, v in values.items()}
    return TEXTS[language][key].format(**safe)


def duration(seconds: float) -> str:
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
    lines = [say(language, "reload_refused", count=len(problems))]
    lines += [f"- {neutralise_mentions(_problem_text(problem))}" for problem in problems]
    return tuple(lines)


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _problem_text(problem: Problem | str) -> str:
    """A reload problem for a direct message: the file's name, not its full path."""
    if isinstance(problem, Problem):
        from pathlib import PurePath

        name = PurePath(str(problem.path)).name or str(problem.path)
        location = f"{name}:{problem.line}" if problem.line else name
        text = f"{location}: {problem.where}: {problem.message}"
        return f"{text} ({problem.hint})" if problem.hint else text
    return str(problem)
