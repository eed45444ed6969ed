"""``filrouge preview``: the reply the bot would post to a mention, offline.

The mention is built from the text typed on the command line as if it had just
been posted (this is the only place the clock is read: ``decide`` is handed
``now``). Nothing is fetched: links are not resolved, the history is empty.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.model.post import VISIBILITY_ORDER

if TYPE_CHECKING:
    from bot.decide.trace import Inputs, Outcome
    from bot.settings import Settings

#: Who asks, when ``--from`` is not given.
DEFAULT_REQUESTER = "lecteur@example.org"
#: The bot's own handle in a preview; an ancestor by this account counts as the bot's post.
SELF_ACCT = "filrouge"


class UsageError(Exception):
    """Bad input on the command line or in a ``--thread`` file: exit 2."""


def configure(parser: argparse.ArgumentParser) -> None:
    add_mention_arguments(parser)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the text"
    )


def add_mention_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments that describe a mention, shared by ``preview`` and ``explain``."""
    parser.add_argument("text", metavar="TEXT", help="the text of the mention, as typed")
    parser.add_argument(
        "--lang", metavar="L", default=None, help="the mention's language code (e.g. fr, en)"
    )
    parser.add_argument(
        "--visibility",
        choices=VISIBILITY_ORDER,
        default="public",
        help="the mention's visibility (default: public)",
    )
    parser.add_argument("--cw", metavar="TEXT", default="", help="the mention's content warning")
    parser.add_argument(
        "--from",
        dest="requester",
        metavar="ACCT",
        default=DEFAULT_REQUESTER,
        help=f"who mentions the bot (default: {DEFAULT_REQUESTER})",
    )
    parser.add_argument(
        "--thread",
        metavar="FILE",
        type=Path,
        default=None,
        help="a JSON list of Mastodon status entities: the ancestors, oldest first",
    )


def build(args: argparse.Namespace) -> tuple[Inputs, Settings]:
    """Settings, admin data and the mention described by ``args``, as ``decide`` takes them.

    Raises ``ConfigError`` for broken admin files and ``UsageError`` for bad input.
    """
    from datetime import UTC, datetime

    from bot.app.asking import typed_inputs
    from bot.catalog.load import load_config
    from bot.model.post import Account
    from bot.record.store import peek_moderation
    from bot.settings import Settings

    settings = Settings.read(getattr(args, "env_file", None))
    config = load_config(settings)
    ancestors = _read_thread(args.thread) if args.thread else ()
    # The clock is read here, at the edge: the mention is posted "now".
    now = datetime.now(UTC)
    acct = args.requester.strip().lstrip("@")
    if not acct:
        raise UsageError("--from needs an account, e.g. lecteur@example.org")
    requester = Account(id=f"preview:{acct}", acct=acct, username=acct.split("@")[0])
    self_id = next(
        (post.account.id for post in ancestors if post.account.acct.split("@")[0] == SELF_ACCT),
        f"preview:{SELF_ACCT}",
    )
    inputs = typed_inputs(
        args.text,
        config=config,
        settings=settings,
        requester=requester,
        self_id=self_id,
        now=now,
        ancestors=ancestors,
        visibility=args.visibility,
        spoiler_text=args.cw,
        language=args.lang,
        # A pause or a mute in the bot's record shows here as it would live.
        moderation=peek_moderation(settings.db_path, ["preview", *(a.id for a in ancestors)]),
    )
    return inputs, settings


def _read_thread(path: Path) -> tuple[Any, ...]:
    from bot.understand.thread import post_from_status

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from error
    except json.JSONDecodeError as error:
        raise UsageError(f"{path}:{error.lineno}: not JSON: {error.msg}") from error
    if isinstance(data, dict) and isinstance(data.get("ancestors"), list):
        data = data["ancestors"]  # a saved status_context answer
    if not isinstance(data, list):
        raise UsageError(f"{path}: expected a JSON list of status entities")
    posts = []
    for number, status in enumerate(data, start=1):
        try:
            posts.append(post_from_status(status))
        except (ValueError, TypeError, KeyError) as error:
            raise UsageError(f"{path}: status #{number}: {error}") from error
    return tuple(posts)


def as_json(inputs: Inputs, outcome: Outcome) -> dict[str, Any]:
    """The decision as the one JSON object ``preview --json`` prints."""
    from bot.model.decision import Reply

    decision = outcome.decision
    essay = inputs.essay.essay
    if isinstance(decision, Reply):
        return {
            "action": "reply",
            "text": decision.text,
            "visibility": decision.visibility,
            "spoiler_text": decision.spoiler_text,
            "language": decision.language,
            "essay": decision.essay_id or (essay.id if essay else None),
            "quote": decision.quote_id,
            "prompt": decision.prompt_id,
            "rule": decision.rule,
            "reason": None,
        }
    return {
        "action": "skip",
        "text": None,
        "visibility": None,
        "spoiler_text": None,
        "language": None,
        "essay": essay.id if essay else None,
        "quote": None,
        "prompt": None,
        "rule": decision.rule,
        "reason": decision.reason.value,
    }


def decide_args(args: argparse.Namespace) -> tuple[Inputs, Outcome] | int:
    """Build and decide, or print what went wrong and return the exit code."""
    from bot.decide.decision import decide
    from bot.errors import ConfigError

    try:
        inputs, _ = build(args)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return 1
    except UsageError as error:
        print(f"filrouge: {error}", file=sys.stderr)
        return 2
    return inputs, decide(inputs)


def run(args: argparse.Namespace) -> int:
    from bot.model.decision import Reply
    from bot.text.render import status_length

    result = decide_args(args)
    if isinstance(result, int):
        return result
    inputs, outcome = result
    if args.json:
        print(json.dumps(as_json(inputs, outcome), ensure_ascii=False))
        return 0
    decision = outcome.decision
    if isinstance(decision, Reply):
        policy = inputs.policy
        length = status_length(decision.text, decision.spoiler_text, url_length=policy.url_length)
        if decision.spoiler_text:
            print(f"[CW: {decision.spoiler_text}]")
        print(decision.text)
        facts = [
            f"rule {decision.rule} ({decision.action.value})",
            f"{decision.visibility}",
            f"{decision.language}",
            f"{length}/{policy.max_characters} characters",
        ]
        if decision.quote_id:
            facts.insert(1, f"quote {decision.quote_id}")
        if decision.prompt_id:
            facts.insert(1, f"prompt {decision.prompt_id}")
        if decision.mode.value != "live":
            facts.append(f"mode {decision.mode.value}: would not be posted")
        print("— " + " · ".join(facts))
    else:
        detail = f": {decision.detail}" if decision.detail else ""
        print(f"skip ({decision.reason.value}){detail}")
    return 0
