"""``filrouge check-config``: load settings, catalog and rules exactly as ``run`` does.

Prints a summary and exits 0, or prints every problem found (file, line,
what, hint) and exits 1. With ``--online`` it then asks the server too
(``bot.cli.check_online``): the token, its scopes, the instance, the stream.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.catalog.config import Config
    from bot.settings import Settings
    from bot.text.render import Template


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog",
        type=Path,
        default=None,
        help="check this catalog instead of the configured one",
    )
    parser.add_argument(
        "--rules",
        type=Path,
        default=None,
        help="check this rules file instead of the configured one",
    )
    parser.add_argument(
        "--online",
        action="store_true",
        help="also ask the server: the token, its scopes, the instance's limits, the stream",
    )


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bot.catalog.load import load_config
    from bot.errors import ConfigError
    from bot.model.catalog import SPECIAL_TEMPLATES
    from bot.settings import Settings, env_file_lines, env_file_problems, unknown_environment

    overrides: dict[str, Path] = {}
    if args.catalog is not None:
        overrides["catalog_path"] = args.catalog
    if args.rules is not None:
        overrides["rules_path"] = args.rules
    known = Settings.variable_names()
    env_file: Path = args.env_file
    unread = [
        f"{env_file}:{line}: {message}" for line, message in env_file_problems(env_file, known)
    ]
    unread += [
        f"environment: {message}" for message in unknown_environment(dict(os.environ), known)
    ]
    try:
        settings = Settings.read(args.env_file, **overrides)
    except ValidationError as error:
        for message in unread:
            print(f"settings: {message}", file=sys.stderr)
        lines = env_file_lines(env_file)
        for item in error.errors():
            name = "FILROUGE_" + "_".join(str(part) for part in item["loc"]).upper()
            # The environment wins over the file: name the file only when it set it.
            where = (
                f"environment: {name}"
                if name in os.environ or name not in lines
                else f"{env_file}:{lines[name]}: {name}"
            )
            print(f"settings: {where}: {item['msg']}", file=sys.stderr)
        return 1
    if unread:
        # A misspelt key is a setting silently left at its default: run would
        # not do what the file says.
        for message in unread:
            print(f"settings: {message}", file=sys.stderr)
        print(f"{len(unread)} problem{'s' if len(unread) != 1 else ''} found", file=sys.stderr)
        return 1
    try:
        config = load_config(settings)
    except ConfigError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        count = len(error.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return 1

    catalog, rules = config.catalog, config.rules.rules
    print(f"catalog {settings.catalog_path}")
    print(
        f"  {len(catalog.essays)} essays, {len(catalog.quotes)} quotes,"
        f" {len(catalog.prompts)} prompts"
    )
    for essay in catalog.essays:
        print(
            f"  - {essay.id}: {len(essay.quotes)} quotes, {len(essay.prompts)} prompts"
            f" ({essay.language}) {essay.url}"
        )
    modes = Counter(rule.mode.value for rule in rules)
    print(f"rules {settings.rules_path}")
    print(f"  {len(rules)} rules (" + ", ".join(f"{n} {m}" for m, n in sorted(modes.items())) + ")")
    for rule in rules:
        languages = ",".join(
            sorted(lang for name, lang in config.rules.templates if name == rule.name)
        )
        if rule.name in SPECIAL_TEMPLATES and not rule.conditions.commands:
            print(f"  - {rule.name}: wording of a built-in reply [{languages}]")
            continue
        print(f"  - {rule.name}: {rule.action.value}, {rule.mode.value} [{languages}]")
    print(
        f"limits: {settings.max_characters} characters, URLs count"
        f" {settings.characters_per_url}, default language {settings.language},"
        f" default visibility {settings.default_visibility}"
    )
    for warning in warnings(settings, config):
        print(f"warning: {warning}")
    if args.online:
        from bot.cli.check_online import check_online

        if not check_online(settings, print):
            print("the bot would not run with these settings", file=sys.stderr)
            return 1
    print("ok")
    return 0


def warnings(settings: Settings, config: Config) -> list[str]:
    """Settings that load but would make replies look broken."""
    found = []
    if not settings.rules_url:
        users = sorted(
            {
                name
                for (name, _), template in config.rules.templates.items()
                if _dangling_rules_url(template)
            }
        )
        if users:
            found.append(
                f"FILROUGE_RULES_URL is empty, yet {{rules_url}} shares a line with other"
                f" placeholders in rule(s) {', '.join(users)}: those replies would show"
                " an empty link"
            )
    found += missing_fallbacks(config)
    found += never_matched_keywords(config)
    return found


#: At most this many keywords that match nothing are listed; then their number.
LISTED = 10


def never_matched_keywords(config: Config) -> list[str]:
    """The keywords, tags and concept terms that no post can ever match: one
    function word (« de », "the") or conversation word (« merci »), or no word
    at all. The loader keeps them; the curator is told where they are."""
    from bot.model.catalog import Prompt, Quote
    from bot.rank.phrases import never_matched

    catalog = config.catalog
    found = [
        (concept.line, f"concept {concept.id}", term)
        for concept in catalog.concepts.values()
        for language, terms in concept.terms.items()
        for term in terms
        if never_matched(term, language)
    ]
    for essay in catalog.essays:
        entries: list[Quote | Prompt] = [*essay.quotes, *essay.prompts]
        for entry in entries:
            kind = "quote" if isinstance(entry, Quote) else "prompt"
            found += [
                (entry.line, f"{kind} {entry.id}", word)
                for word in (*entry.keywords, *entry.tags)
                if never_matched(word, essay.language)
            ]
    lines = [
        f"{catalog.path}:{line}: {where}: {word!r} is never matched: a function or"
        " conversation word alone matches no post; write it in a phrase"
        ' (« faire sans », "before AI") or drop it'
        for line, where, word in found[:LISTED]
    ]
    if len(found) > LISTED:
        more = len(found) - LISTED
        lines.append(f"{more} more keywords, tags or concept terms are never matched")
    return lines


def missing_fallbacks(config: Config) -> list[str]:
    """What a rules file written before the bot learnt to abstain lacks: a rule
    for a mention that says nothing, and a fallback after the quote rules
    (without them a mention with no evidence gets no reply at all); one written
    before commands had to stand alone, ``alone`` on consent, take-back and
    why rules; and one written before it took replies back, a ``take_back``
    rule."""
    from bot.model.catalog import Action

    rules = [r for r in config.rules.rules if r.mode.value != "off"]
    found = []
    if not any(r.conditions.empty for r in rules):
        found.append(
            "no rule answers a mention that says nothing (only @-mentions or emoji):"
            " add a help rule with `[rules.when] empty = true` (see bot/data/rules.toml,"
            ' "aide-vide")'
        )
    defaults = [r for r in rules if not r.conditions.commands]
    quoting = [i for i, r in enumerate(defaults) if r.action is Action.QUOTE]
    if quoting and not any(
        r.action in (Action.PROMPT, Action.LINK) for r in defaults[quoting[0] + 1 :]
    ):
        found.append(
            "a quote rule without command words has no prompt or link rule after it: a"
            " mention whose words no quote shares gets no reply (see bot/data/rules.toml,"
            ' "question-par-defaut" and "lien-par-defaut")'
        )
    loose = [
        r.name
        for r in rules
        if r.conditions.commands
        and not r.conditions.alone
        and r.action in (Action.STOP, Action.START, Action.TAKE_BACK, Action.WHY)
    ]
    if loose:
        found.append(
            f"rule(s) {', '.join(loose)} act on a command word whatever follows it:"
            " « stop comparing posters to propaganda » would opt its writer out. Add"
            " `alone = true` under [rules.when] (see bot/data/rules.toml)"
        )
    if not any(r.action is Action.TAKE_BACK and r.conditions.commands for r in rules):
        found.append(
            "no rule takes back a reply: nobody can have one of the bot's posts removed"
            ' by answering it with "supprime" / "delete" (see bot/data/rules.toml, "supprime")'
        )
    return found


def _dangling_rules_url(template: Template) -> bool:
    """Whether an empty ``{rules_url}`` would leave a gap in a posted reply.

    ``bot.decide`` drops a line whose only placeholder is ``{rules_url}`` when
    it is empty; a line that also carries another placeholder is kept, with
    the link missing. A placeholder never spans lines (the loader refuses a
    line break inside braces), so each line parses on its own.
    """
    from bot.text.render import parse_template

    if "rules_url" not in template.fields:
        return False
    return any(
        "rules_url" in fields and len(fields) > 1
        for fields in (
            parse_template(line, template.language).fields for line in template.source.split("\n")
        )
    )
