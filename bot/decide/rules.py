"""Matching a rule's conditions against the facts of a mention."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from bot.decide.policy import Policy
from bot.decide.trace import NO_CONDITIONS
from bot.model.catalog import Action, Mode, Rule
from bot.model.post import Visibility
from bot.text.fold import fold
from bot.text.language import language_code
from bot.understand.request import command_alone, command_in, compiled, phrase_in

# -- rules --------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
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
    #: Whether the mention answers one of the bot's own posts: a command word
    #: opening it is then addressed to the bot, whatever follows (``alone``).
    answers_bot: bool = False

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


def match_rule(rule: Rule, facts: Facts, policy: Policy) -> tuple[bool, str, list[Condition]]:
    """Whether every condition of ``rule`` holds; a sentence saying which one
    failed or what matched; and what matched, as data (for ``why``)."""
    c = rule.conditions
    matched: list[Condition] = []
    if c.commands:
        command = command_in(facts.body, c.commands)
        if command is None:
            first = facts.body.split(maxsplit=1)[0] if facts.body else ""
            return False, f"no command word first ({'/'.join(c.commands)}; got {first!r})", []
        if c.alone and not facts.answers_bot and not command_alone(facts.body, command):
            return False, f"{command!r} opens a sentence, not a request on its own", []
        matched.append(("command", command))
    if c.keywords:
        keyword = phrase_in(facts.folded, c.keywords)
        if keyword is None:
            return False, "no keyword in the mention", []
        matched.append(("keyword", keyword))
    if c.thread_keywords:
        keyword = next(
            (k for text in facts.thread_folded if (k := phrase_in(text, c.thread_keywords))),
            None,
        )
        if keyword is None:
            return False, "no thread keyword", []
        matched.append(("thread_keyword", keyword))
    if c.regex:
        pattern = next((p for p in c.regex if compiled(p).search(facts.text)), None)
        if pattern is None:
            return False, "no regex matches the mention", []
        matched.append(("regex", pattern))
    if c.thread_regex:
        pattern = next(
            (p for p in c.thread_regex if any(compiled(p).search(t) for t in facts.thread_texts)),
            None,
        )
        if pattern is None:
            return False, "no thread regex matches", []
        matched.append(("thread_regex", pattern))
    if c.not_keywords:
        veto = phrase_in(facts.folded, c.not_keywords)
        if veto is not None:
            return False, f"vetoed by {veto!r}", []
    if c.languages:
        wanted = {language_code(code) for code in c.languages}
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
    if c.empty is not None:
        empty = says_nothing(facts.body)
        if empty != c.empty:
            return (
                False,
                "the mention says something" if c.empty else "the mention says nothing",
                [],
            )
        matched.append(("empty", "yes" if empty else "no"))
    detail = ", ".join(_condition_detail(condition) for condition in matched)
    return True, detail or NO_CONDITIONS, matched


def says_nothing(body: str) -> bool:
    """Whether a mention's body (after its @-mentions) has no letter or digit:
    empty, punctuation, emoji."""
    return not any(char.isalnum() for char in body)


def command_rule(rules: Iterable[Rule], text_body: str, answers_bot: bool) -> Rule | None:
    """The first live or observed rule whose command word opens the mention
    (alone, where the rule says so and the mention answers no post of the bot's)."""
    return next(
        (
            rule
            for rule in rules
            if rule.mode != Mode.OFF
            and rule.conditions.commands
            and (command := command_in(text_body, rule.conditions.commands)) is not None
            and (not rule.conditions.alone or answers_bot or command_alone(text_body, command))
        ),
        None,
    )
