"""Loading the rules (``rules.toml``): conditions, actions, templates, and
the references to the catalog they make.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.catalog.checks import (
    ID_HINT,
    ID_PATTERN,
    LANGUAGE,
    WORD,
    Checker,
    kind_of,
    read_toml,
    suggest,
)
from bot.catalog.config import Catalog, RuleSet
from bot.catalog.essays import language_table
from bot.catalog.fit import Lengths, check_candidates, check_fit
from bot.catalog.lines import TablePath
from bot.errors import ConfigError, Problem
from bot.model.catalog import Action, Conditions, Mode, Rule
from bot.model.post import VISIBILITY_ORDER, Visibility
from bot.text.render import (
    Template,
    parse_template,
)

if TYPE_CHECKING:
    pass


# -- the rules ------------------------------------------------------------------

_RULE_KEYS = (
    "name",
    "action",
    "mode",
    "when",
    "templates",
    "quotes",
    "prompts",
    "tags",
    "notify_moderators",
    "min_evidence",
)
_LIST_CONDITIONS = (
    "commands",
    "keywords",
    "thread_keywords",
    "regex",
    "thread_regex",
    "not_keywords",
    "languages",
    "essays",
    "visibilities",
)
_BOUND_CONDITIONS = ("min_depth", "max_depth", "min_heat", "max_heat")


_E = TypeVar("_E", Action, Mode)

#: What a rule's action needs its templates to say, or the post makes no sense.
_ACTION_NEEDS = {
    Action.QUOTE: "quote",
    Action.PROMPT: "prompt",
    Action.LINK: "essay_url",
}


def load_rules(
    path: Path,
    catalog: Catalog,
    *,
    max_characters: int,
    url_length: int = 23,
    language: str = "fr",
) -> RuleSet:
    """Load and check a rules file against ``catalog``; raise ``ConfigError``
    listing every problem.

    ``language`` is the default reply language: every rule needs a template
    in it. ``max_characters`` and ``url_length`` are the instance's limits: a
    template that cannot fit them even with the shortest candidate is an error.
    """
    rules, problems = read_rules(
        path, catalog, max_characters=max_characters, url_length=url_length, language=language
    )
    if problems or rules is None:
        raise ConfigError(problems)
    return rules


def read_rules(
    path: Path,
    catalog: Catalog | None,
    *,
    max_characters: int,
    url_length: int,
    language: str,
) -> tuple[RuleSet | None, list[Problem]]:
    read, problems = read_toml(path, "rules", "FILROUGE_RULES_PATH")
    if read is None:
        return None, problems
    data, lines = read
    check = Checker(path, lines)
    check.table(data, (), "rules", ("rules",))
    raw_rules = check.tables(data, "rules", (), "rules")
    if not raw_rules and "rules" not in data:
        check.add((), None, "rules", "no rules", "add a [[rules]] table")

    rules: list[Rule] = []
    templates: dict[tuple[str, str], Template] = {}
    first_line: dict[str, int] = {}
    lengths = Lengths(url_length)
    for index, raw in enumerate(raw_rules):
        at: TablePath = (("rules", index),)
        label = raw.get("name") if isinstance(raw.get("name"), str) else f"#{index + 1}"
        where = f'rule "{label}"'
        line = check.lines.line(at)
        check.table(raw, at, where, _RULE_KEYS)
        name = check.string(raw, "name", at, where, pattern=ID_PATTERN, hint=ID_HINT)
        if name is not None:
            if name in first_line:
                check.add(
                    at,
                    "name",
                    where,
                    f'duplicate rule name "{name}" (first defined on line {first_line[name]})',
                    "every rule needs its own name: the record and explain refer to it",
                )
            else:
                first_line[name] = line
        action = _enum(check, raw, "action", at, where, Action, required=True)
        mode = _enum(check, raw, "mode", at, where, Mode, required=False) or Mode.LIVE
        conditions = _load_conditions(check, raw, at, where, catalog)
        sources = language_table(check, raw, "templates", at, where, "rules.templates")
        parsed = _parse_templates(check, sources, at, where, language, action)
        quotes = _references(check, raw, "quotes", at, where, catalog, "quote")
        prompts = _references(check, raw, "prompts", at, where, catalog, "prompt")
        tags = check.strings(raw, "tags", at, where)
        notify = check.boolean(raw, "notify_moderators", at, where)
        min_evidence = check.number(raw, "min_evidence", at, where, integer=False)
        if name is None or action is None or not parsed:
            continue
        rule = Rule(
            name=name,
            action=action,
            conditions=conditions,
            templates={lang: template.source for lang, template in parsed.items()},
            quotes=quotes,
            prompts=prompts,
            tags=tags,
            mode=mode,
            notify_moderators=notify,
            min_evidence=min_evidence,
            line=line,
        )
        if catalog is not None:
            check_candidates(check, rule, parsed, at, where, catalog)
            check_fit(check, rule, parsed, at, where, catalog, max_characters, lengths)
        rules.append(rule)
        for lang, template in parsed.items():
            templates[(name, lang)] = template
    return RuleSet(rules=tuple(rules), path=path, templates=templates), check.sorted_problems()


def _enum(
    check: Checker,
    raw: Mapping[str, Any],
    key: str,
    at: TablePath,
    where: str,
    kind: type[_E],
    *,
    required: bool,
) -> _E | None:
    choices = ", ".join(member.value for member in kind)
    value = check.string(raw, key, at, where, required=required, hint=f"one of {choices}")
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        close = difflib.get_close_matches(value, [member.value for member in kind], n=1)
        check.add(
            at,
            key,
            where,
            f"unknown {key} {value!r}",
            (f"did you mean {close[0]!r}? " if close else "") + f"one of {choices}",
        )
        return None


def _load_conditions(
    check: Checker,
    raw: Mapping[str, Any],
    at: TablePath,
    where: str,
    catalog: Catalog | None,
) -> Conditions:
    value = raw.get("when", {})
    if not isinstance(value, dict):
        check.add(
            at,
            "when",
            where,
            f"'when' must be a table, not {kind_of(value)}",
            "write the conditions under a [rules.when] header",
        )
        return Conditions()
    sub: TablePath = (*at, ("when", None))
    check.table(value, sub, where, (*_LIST_CONDITIONS, *_BOUND_CONDITIONS, "empty", "alone"))
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LIST_CONDITIONS:
        lists[key] = check.strings(
            value,
            key,
            sub,
            where,
            pattern={"commands": WORD, "languages": LANGUAGE}.get(key),
            hint={
                "commands": 'a command is one word, e.g. "source"; add each language\'s word',
                "languages": 'ISO 639-1 codes such as "fr"',
            }.get(key, ""),
        )
    for key in ("regex", "thread_regex"):
        for pattern in lists[key]:
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as error:
                check.add(
                    sub,
                    key,
                    where,
                    f"regex {pattern!r} does not compile: {error.msg} at position {error.pos}",
                    "escape special characters with a backslash, or write the pattern as a"
                    " TOML literal string '…' so backslashes need no doubling",
                )
    for visibility in lists["visibilities"]:
        if visibility not in VISIBILITY_ORDER:
            check.add(
                sub,
                "visibilities",
                where,
                f"unknown visibility {visibility!r}",
                f"one of {', '.join(VISIBILITY_ORDER)}",
            )
    if catalog is not None:
        for essay_id in lists["essays"]:
            if catalog.essay(essay_id) is None:
                check.add(
                    sub,
                    "essays",
                    where,
                    f'unknown essay id "{essay_id}"',
                    suggest(essay_id, [essay.id for essay in catalog.essays], "essays"),
                )
    bounds = {
        key: check.number(value, key, sub, where, integer=key.endswith("depth"))
        for key in _BOUND_CONDITIONS
    }
    for low, high in (("min_depth", "max_depth"), ("min_heat", "max_heat")):
        low_value, high_value = bounds[low], bounds[high]
        if low_value is not None and high_value is not None and low_value > high_value:
            check.add(sub, low, where, f"{low} is greater than {high}: the rule can never match")
    visibilities: tuple[Visibility, ...] = tuple(
        v for v in VISIBILITY_ORDER if v in lists["visibilities"]
    )
    min_depth, max_depth = bounds["min_depth"], bounds["max_depth"]
    return Conditions(
        commands=lists["commands"],
        keywords=lists["keywords"],
        thread_keywords=lists["thread_keywords"],
        regex=lists["regex"],
        thread_regex=lists["thread_regex"],
        not_keywords=lists["not_keywords"],
        languages=lists["languages"],
        essays=lists["essays"],
        visibilities=visibilities,
        min_depth=None if min_depth is None else int(min_depth),
        max_depth=None if max_depth is None else int(max_depth),
        min_heat=bounds["min_heat"],
        max_heat=bounds["max_heat"],
        empty=check.boolean(value, "empty", sub, where) if "empty" in value else None,
        alone=_alone(check, value, sub, where, lists["commands"]),
    )


def _alone(
    check: Checker, value: Mapping[str, Any], at: TablePath, where: str, commands: tuple[str, ...]
) -> bool:
    """``alone = true``: the command must be the whole request; it needs commands."""
    if "alone" not in value:
        return False
    alone = bool(check.boolean(value, "alone", at, where))
    if alone and not commands:
        check.add(
            at,
            "alone",
            where,
            "'alone' applies to a command word, and the rule has none",
            'add commands = ["…"], or remove alone',
        )
    return alone


def _references(
    check: Checker,
    raw: Mapping[str, Any],
    key: str,
    at: TablePath,
    where: str,
    catalog: Catalog | None,
    kind: str,
) -> tuple[str, ...]:
    ids = check.strings(raw, key, at, where)
    if catalog is None:
        return ids
    for item_id in ids:
        found = catalog.quote(item_id) if kind == "quote" else catalog.prompt(item_id)
        if found is not None:
            continue
        other = "prompt" if kind == "quote" else "quote"
        other_found = catalog.prompt(item_id) if kind == "quote" else catalog.quote(item_id)
        if other_found is not None:
            hint = f'"{item_id}" is a {other}: list it under {other}s'
        else:
            known = [item.id for item in (catalog.quotes if kind == "quote" else catalog.prompts)]
            hint = suggest(item_id, known, f"{kind}s")
        check.add(at, key, where, f'unknown {kind} id "{item_id}"', hint)
    return ids


def _parse_templates(
    check: Checker,
    sources: Mapping[str, str],
    at: TablePath,
    where: str,
    default_language: str,
    action: Action | None,
) -> dict[str, Template]:
    sub: TablePath = (*at, ("templates", None))
    parsed: dict[str, Template] = {}
    for lang, source in sources.items():
        try:
            template = parse_template(source, lang)
        except ValueError as error:
            check.add(
                sub,
                lang,
                where,
                f"template {lang!r}: {error}",
                "write {{ and }} for literal braces" if "brace" in str(error) else "",
            )
            continue
        if "requester" not in template.fields:
            check.add(
                sub,
                lang,
                where,
                f"template {lang!r} does not mention {{requester}}",
                "start it with {requester} so the person who asked is notified",
            )
        needed = _ACTION_NEEDS.get(action) if action is not None else None
        if needed is not None and needed not in template.fields:
            check.add(
                sub,
                lang,
                where,
                f"template {lang!r} of a {action} rule does not use {{{needed}}}",
                f"add {{{needed}}}, or change the action",
            )
        parsed[lang] = template
    if sources and default_language not in sources:
        check.add(
            at,
            "templates",
            where,
            f"no template for the default language {default_language!r}",
            f'add {default_language} = "…" under [rules.templates]: it is used whenever'
            " the mention's language has no template",
        )
    return parsed
