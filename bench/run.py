"""fil-rouge benchmark: how fast the bot decides, how much memory it takes, how
soon it answers.

    python bench/run.py            # full run, under five minutes on two cores
    python bench/run.py --quick    # under a minute

Measured in one run, on this machine, and printed as one markdown report:

- ``decide`` per mention for synthetic catalogs of 10, 1,000 and 10,000 quotes
  and threads of 1, 50 and 200 posts: p50/p99 latency and decisions per
  second. All the quotes sit in one essay, so every one is a candidate of the
  default quote rule: the worst case for ranking (an archive of many small
  essays only ranks the quotes of the thread's essay).
- next to it, in the same cells, a naive baseline that scores every quote by
  token overlap with the mention and its thread, without an index (each quote
  tokenised per decision), and the same with the quotes' token sets computed
  once at load ("naive, cached"). The machine is shared and noisy, so speed is
  given as a ratio to the baseline measured in the same run.
- peak memory with the 10,000-quote catalog loaded and deciding (in a child
  process: ``ru_maxrss`` of the whole process, and the ``tracemalloc`` peak of
  what loading and deciding allocate);
- the start-up time of ``filrouge check-config`` (median of several runs);
- mention-to-reply latency end to end: the real ``Bot`` against mastodon-mock
  on 127.0.0.1 (in its own process, as a real server would be), streaming and
  polling.

The synthetic text is drawn by a seeded random generator from the words of
the bundled catalog (the seed essay's passages and prompts): bench data that
looks like French and English to the analyser, never posted anywhere.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.settings import DATA_DIR, Settings  # noqa: E402
from bot.text.fold import fold  # noqa: E402
from bot.text.plain import plain_to_text  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from console_pages import ConsoleBench, measure_console  # noqa: E402
from console_pages import rows as console_rows  # noqa: E402
from relevance import Relevance, measure_relevance, relevance_rows  # noqa: E402

if TYPE_CHECKING:
    from mastodon import Mastodon

    from bot.catalog.config import Config
    from bot.decide.policy import Policy
    from bot.decide.trace import Inputs
    from bot.model.catalog import Essay, Quote
    from bot.model.post import Post

SEED = 20261126
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
QUOTE_COUNTS = (10, 1_000, 10_000)
THREAD_SIZES = (1, 50, 200)
#: The cell the targets are read at.
TARGET_QUOTES = 10_000
TARGET_THREAD = 50
#: Distinct words of the synthetic French and English (see ``Vocabulary.grow``).
FR_WORDS = 30_000
EN_WORDS = 20_000

TARGET_P99_MS = 5.0
TARGET_RATIO = 10.0
TARGET_MEMORY_MB = 100.0
TARGET_REPLY_P99_MS = 300.0
#: What the vocabulary bridge may add: to decide's p99 there, and to peak memory.
TARGET_EXPANSION_MS = 1.0
TARGET_LEXICON_MB = 15.0

#: Command words of the bundled rules: a synthetic mention must not open with one.
COMMAND_WORDS = frozenset(
    (
        *("stop", "start", "aide", "help", "pourquoi", "why", "source", "lien", "link"),
        *("question", "prompt", "citation", "quote", "extrait"),
    )
)


@dataclass(frozen=True)
class Plan:
    """How much to measure: the full run or ``--quick``."""

    decisions: int
    #: Seconds a cell may spend on decide samples, then on each baseline.
    decide_budget: float
    naive_budget: float
    #: Calls timed in a cell even past its budget.
    minimum_runs: int
    #: Decisions made in the memory measure, after loading.
    memory_decisions: int
    check_config_runs: int
    e2e_streaming: int
    e2e_polling: int
    poll_interval: float
    #: The steady load: mentions per second, for how long.
    load_rate: float = 1.7
    load_seconds: float = 60.0

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(
                decisions=30,
                decide_budget=1.0,
                naive_budget=0.5,
                minimum_runs=3,
                memory_decisions=10,
                check_config_runs=3,
                e2e_streaming=15,
                e2e_polling=5,
                poll_interval=0.5,
                load_seconds=15.0,
            )
        return cls(
            decisions=500,
            decide_budget=6.0,
            naive_budget=3.0,
            minimum_runs=5,
            memory_decisions=20,
            check_config_runs=7,
            e2e_streaming=100,
            e2e_polling=20,
            poll_interval=0.5,
        )


# -- synthetic text -------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True)
class Vocabulary:
    """Words and their cumulative Zipf weights, for ``random.choices``."""

    words: tuple[str, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def grow(cls, tokens: Sequence[str], size: int, seed: int) -> Vocabulary:
        """The essay's words, most frequent first, then made-up words spliced
        from their beginnings and endings (``affi`` + ``tion``) up to ``size``,
        weighted by Zipf's law (1 / (rank + 2.7)).

        The essay alone has a few hundred distinct words: ten thousand quotes
        drawn from them would share nearly every term, which no real archive
        does and which would make every posting list of an index as long as
        the catalog. The made-up tail gives the rare words real text has.
        """
        ranked = [word for word, _ in Counter(tokens).most_common()]
        seen = set(ranked)
        stems = sorted(word for word in seen if word.isalpha() and len(word) >= 4)
        rng = random.Random(seed)
        words = list(ranked)
        while len(words) < size:
            head, tail = rng.choice(stems), rng.choice(stems)
            word = head[: rng.randint(2, 4)] + tail[-rng.randint(3, 5) :]
            if word not in seen:
                seen.add(word)
                words.append(word)
        weights = accumulate(1.0 / (rank + 2.7) for rank in range(len(words)))
        return cls(tuple(words), tuple(weights))

    def draw(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=count)


@dataclass(frozen=True)
class Words:
    """Vocabularies grown from the bundled catalog (the seed essay's passages
    and prompts), and the tags it uses."""

    fr: Vocabulary
    en: Vocabulary
    #: Tags of the bundled prompts, one tuple per prompt, and of the quotes:
    #: the bundled rules name some of them, so a synthetic catalog carries them too.
    prompt_tags: tuple[tuple[str, ...], ...] = ()
    quote_tags: tuple[str, ...] = ()

    @classmethod
    def from_catalog(cls, path: Path = DATA_DIR / "catalog.toml") -> Words:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        fr: list[str] = []
        en: list[str] = []
        prompt_tags: list[tuple[str, ...]] = []
        quote_tags: dict[str, None] = {}
        for essay in data["essays"]:
            fr += _WORD.findall(essay["title"])
            for quote in essay.get("quotes", ()):
                fr += _WORD.findall(quote["text"])
                quote_tags.update(dict.fromkeys(quote.get("tags", ())))
            for prompt in essay.get("prompts", ()):
                fr += _WORD.findall(prompt["text"].get("fr", ""))
                en += _WORD.findall(prompt["text"].get("en", ""))
                prompt_tags.append(tuple(prompt.get("tags", ())))
        return cls(
            Vocabulary.grow([w.lower() for w in fr], FR_WORDS, SEED),
            Vocabulary.grow([w.lower() for w in en], EN_WORDS, SEED + 1),
            tuple(prompt_tags),
            tuple(quote_tags),
        )

    def of(self, language: str) -> Vocabulary:
        return self.en if language == "en" else self.fr


def sentence(rng: random.Random, words: Vocabulary, low: int, high: int) -> str:
    """A sentence-like run of ``low``..``high`` words, with commas and a full stop."""
    picked = words.draw(rng, rng.randint(low, high))
    out: list[str] = []
    for index, word in enumerate(picked):
        if index and rng.random() < 0.08:
            out[-1] += ","
        out.append(word)
    out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out) + rng.choice((".", ".", ".", " ?", " !", "…"))


def text_of(rng: random.Random, words: Vocabulary, low: int, high: int) -> str:
    """One to three sentences of ``low``..``high`` words in all."""
    parts: list[str] = []
    remaining = rng.randint(low, high)
    while remaining > 0:
        size = min(remaining, rng.randint(6, 18))
        parts.append(sentence(rng, words, size, size))
        remaining -= size
    return " ".join(parts)


def toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)


def write_catalog(path: Path, quotes: int, words: Words, seed: int = SEED) -> None:
    """A catalog of one essay with ``quotes`` quotes (tags, keywords, anchors)
    and ten reading prompts, as an admin would write it."""
    rng = random.Random(seed + quotes)
    tags = [*words.quote_tags, *(f"theme{n:02d}" for n in range(40))]
    lines = [
        "[[essays]]",
        'id = "bench"',
        'title = "Un essai de banc d’essai"',
        'author = "Banc d’essai"',
        'url = "https://example.org/essais/banc/"',
        'language = "fr"',
        'hashtags = ["bancdessai"]',
        "",
    ]
    for number in range(quotes):
        text = text_of(rng, words.fr, 14, 40)
        drawn = [
            " ".join((words.fr if rng.random() < 0.7 else words.en).draw(rng, rng.randint(1, 2)))
            for _ in range(rng.randint(3, 10))
        ]
        # The loader refuses a keyword listed twice (compared folded).
        keywords = list({fold(k): k for k in reversed(drawn)}.values())
        lines += [
            "[[essays.quotes]]",
            f'id = "q{number:05d}"',
            f"text = {toml_string(text)}",
            f"tags = [{', '.join(toml_string(t) for t in rng.sample(tags, rng.randint(1, 3)))}]",
            f"keywords = [{', '.join(toml_string(k) for k in keywords)}]",
            f'anchor_url = "https://example.org/essais/banc/#q{number:05d}"',
            "",
        ]
    for number, prompt_tags in enumerate(words.prompt_tags or ((),) * 10):
        lines += [
            "[[essays.prompts]]",
            f'id = "p{number:02d}"',
            f"tags = [{', '.join(toml_string(t) for t in prompt_tags)}]",
            "[essays.prompts.text]",
            f"fr = {toml_string(text_of(rng, words.fr, 12, 30))}",
            f"en = {toml_string(text_of(rng, words.en, 12, 30))}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")


def bench_settings(**overrides: Any) -> Settings:
    """Settings from nothing but the defaults and ``overrides``: no ``.env``."""
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


def build_config(catalog: Path, *, lexicon: bool = True) -> Config:
    """What ``load_config`` returns for ``catalog``, without its fit check.

    ``load_config`` checks every template against every quote it may carry,
    counting graphemes as the server does; at ten thousand quotes that check
    takes about half a second (measured apart, with ``check-config``). It
    changes nothing ``decide`` reads, so the decide cells skip it: the rules
    are the bundled ones, checked against the bundled catalog (they name no
    quote), and the index is built on the synthetic catalog as ``load_config``
    builds it, with the shipped lexicon unless ``lexicon`` is false.
    """
    from bot.catalog.config import Config
    from bot.catalog.essays import load_catalog
    from bot.catalog.lexicon import load_lexicon
    from bot.catalog.rules import load_rules
    from bot.rank.index import Index

    settings = bench_settings()
    rules = load_rules(
        settings.rules_path,
        load_catalog(settings.catalog_path),
        max_characters=settings.max_characters,
        url_length=settings.characters_per_url,
        language=settings.language,
    )
    loaded = load_catalog(catalog)
    bridge = load_lexicon() if lexicon else None
    return Config(catalog=loaded, rules=rules, index=Index.build(loaded.essays, bridge))


# -- mentions and threads ------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One mention with its thread, as ``decide`` and the baseline read them."""

    post: Post
    ancestors: tuple[Post, ...]


def make_post(
    number: int, text: str, language: str, acct: str, parent: str | None, age: timedelta
) -> Post:
    from bot.model.post import Account, Post

    return Post(
        id=str(number),
        account=Account(id=f"bench:{acct}", acct=f"{acct}@example.org", username=acct),
        content=plain_to_text(text),
        created_at=NOW - age,
        language=language,
        in_reply_to_id=parent,
    )


def mention_text(rng: random.Random, words: Vocabulary) -> str:
    body = text_of(rng, words, 8, 40)
    while body.split()[0].lower().strip(",.?!…") in COMMAND_WORDS:
        body = text_of(rng, words, 8, 40)
    return "@filrouge " + body


def make_cases(count: int, thread_size: int, words: Words, seed: int) -> list[Case]:
    """``count`` mentions, each at the end of its own thread of ``thread_size``
    posts (the mention's ancestors): every text is new, so no cache of the
    analyser is warm from one decision to the next."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for case in range(count):
        language = "en" if rng.random() < 0.3 else "fr"
        base = case * (thread_size + 1)
        ancestors: list[Post] = []
        for index in range(thread_size - 1):
            lang = language if rng.random() < 0.8 else ("fr" if language == "en" else "en")
            text = f"@p{(index + 1) % 7} " + text_of(rng, words.of(lang), 6, 60)
            ancestors.append(
                make_post(
                    base + index,
                    text,
                    lang,
                    f"p{index % 7}",
                    ancestors[-1].id if ancestors else None,
                    timedelta(minutes=5 * (thread_size - index)),
                )
            )
        post = make_post(
            base + thread_size,
            mention_text(rng, words.of(language)),
            language,
            "lecteur",
            ancestors[-1].id if ancestors else None,
            timedelta(seconds=30),
        )
        cases.append(Case(post, tuple(ancestors)))
    return cases


# -- decide and the baseline -----------------------------------------------------------


def inputs_of(case: Case, config: Config, essay: Essay, policy: Policy) -> Inputs:
    from bot.decide.trace import Inputs
    from bot.model.catalog import EssayMatch
    from bot.model.decision import History
    from bot.model.post import Mention, Thread

    return Inputs(
        mention=Mention(notification_id=case.post.id, post=case.post),
        thread=Thread(case.ancestors),
        # The single essay of the synthetic catalog, as find_essay returns it.
        essay=EssayMatch(essay=essay, how="default"),
        config=config,
        history=History(),
        policy=policy,
        now=NOW,
    )


_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> set[str]:
    """Folded words of three letters or more: no stop words, stems or weights."""
    return {word for word in _TOKEN.findall(fold(text)) if len(word) >= 3}


def quote_tokens(quote: Quote) -> set[str]:
    return tokens(" ".join((quote.text, *quote.tags, *quote.keywords)))


def naive_choose(case: Case, quotes: Sequence[Quote]) -> str:
    """No index: every quote is tokenised and compared with the query, every time."""
    query = tokens(" ".join((*(p.text for p in case.ancestors), case.post.text)))
    best, best_score = "", -1
    for quote in quotes:
        score = len(query & quote_tokens(quote))
        if score > best_score:
            best, best_score = quote.id, score
    return best


def naive_cached_choose(case: Case, quotes: Sequence[Quote], token_sets: Sequence[set[str]]) -> str:
    """The same overlap, with each quote's tokens computed once at load."""
    query = tokens(" ".join((*(p.text for p in case.ancestors), case.post.text)))
    best, best_score = "", -1
    for quote, quote_set in zip(quotes, token_sets, strict=True):
        score = len(query & quote_set)
        if score > best_score:
            best, best_score = quote.id, score
    return best


@dataclass
class Timings:
    """Per-call latencies in seconds: wall-clock time and the calling
    thread's CPU time (on a shared machine, the wall time also counts the
    time spent waiting for a core)."""

    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.samples)

    @staticmethod
    def _quantile(values: Sequence[float], q: float) -> float:
        ordered = sorted(values)
        if not ordered:
            return float("nan")
        # Nearest rank: the p99 of 100 samples is the 99th, not an interpolation.
        rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
        return ordered[rank - 1]

    def quantile(self, q: float, *, cpu: bool = False) -> float:
        return self._quantile(self.cpu if cpu else self.samples, q)

    @property
    def p50(self) -> float:
        return self.quantile(0.50)

    @property
    def p99(self) -> float:
        return self.quantile(0.99)

    @property
    def cpu_p50(self) -> float:
        return self.quantile(0.50, cpu=True)

    @property
    def cpu_p99(self) -> float:
        return self.quantile(0.99, cpu=True)

    @property
    def total(self) -> float:
        return sum(self.samples)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples) if self.samples else float("nan")

    @property
    def cpu_mean(self) -> float:
        return statistics.fmean(self.cpu) if self.cpu else float("nan")

    @property
    def per_second(self) -> float:
        return self.count / self.total if self.total else float("nan")

    def time(self, call: Callable[[], object]) -> object:
        wall, cpu = time.perf_counter(), time.thread_time()
        result = call()
        self.cpu.append(time.thread_time() - cpu)
        self.samples.append(time.perf_counter() - wall)
        return result


def time_cell(
    decisions: Sequence[Callable[[], object]],
    baselines: Sequence[Sequence[Callable[[], object]]],
    plan: Plan,
    keep: Callable[[object], object] = lambda result: result,
) -> tuple[Timings, list[Timings], list[object]]:
    """Time ``decisions[i]`` and each baseline's ``i``-th call in turn, so that
    both meet the same load on a shared machine. A baseline stops once it has
    spent ``plan.naive_budget`` seconds (and made ``plan.minimum_runs`` calls);
    the cell stops when the decisions are done or their budget is spent.

    The garbage collector is left to run as it would between two mentions;
    of each decision only ``keep(result)`` is kept, as the bot keeps only
    its record: hundreds of whole outcomes (traces, candidates) piling up
    would be walked by the collector in the middle of the decisions timed.
    """
    timed = Timings()
    others = [Timings() for _ in baselines]
    results: list[object] = []
    gc.collect()
    for index, call in enumerate(decisions):
        if timed.count >= plan.minimum_runs and timed.total > plan.decide_budget:
            break
        results.append(keep(timed.time(call)))
        for timings, calls in zip(others, baselines, strict=True):
            if timings.count < plan.minimum_runs or timings.total < plan.naive_budget:
                timings.time(calls[index])
    return timed, others, results


@dataclass(frozen=True)
class Cell:
    quotes: int
    thread: int
    decide: Timings
    naive: Timings
    cached: Timings
    replies: int
    load_seconds: float

    @property
    def ratio(self) -> float:
        """How many times more CPU the naive baseline spends per mention."""
        return self.naive.cpu_mean / self.decide.cpu_mean

    @property
    def cached_ratio(self) -> float:
        return self.cached.cpu_mean / self.decide.cpu_mean


def measure_cells(
    plan: Plan, words: Words, workdir: Path, out: IO[str]
) -> tuple[list[Cell], float]:
    """The decide and baseline cells, and this process's peak RSS (MB) right
    after the first decisions at ``TARGET_QUOTES`` quotes, before the
    baseline's own data is built."""
    from bot.decide.decision import decide
    from bot.decide.policy import Policy
    from bot.decide.trace import Outcome
    from bot.model.decision import Reply
    from bot.rank.index import freeze_after_load

    policy = Policy(self_id="bench:self")
    cells: list[Cell] = []
    peak = float("nan")
    for quotes in QUOTE_COUNTS:
        path = workdir / f"catalog-{quotes}.toml"
        write_catalog(path, quotes, words)
        started = time.perf_counter()
        config = build_config(path)
        load_seconds = time.perf_counter() - started
        # As the bot does once its configuration is loaded.
        freeze_after_load()
        essay = config.catalog.essays[0]
        token_sets: list[set[str]] | None = None
        for size in THREAD_SIZES:
            seed = SEED + quotes * 7 + size
            warm = make_cases(5, size, words, seed - 1)
            cases = make_cases(plan.decisions, size, words, seed)
            for case in warm:
                decide(inputs_of(case, config, essay, policy))
            prepared = [inputs_of(case, config, essay, policy) for case in cases]
            if token_sets is None:
                if quotes == TARGET_QUOTES:
                    peak = peak_rss_mb()
                token_sets = [quote_tokens(q) for q in essay.quotes]
            timed, (naive, cached), outcomes = time_cell(
                [partial(decide, item) for item in prepared],
                [
                    [partial(naive_choose, case, essay.quotes) for case in cases],
                    [
                        partial(naive_cached_choose, case, essay.quotes, token_sets)
                        for case in cases
                    ],
                ],
                plan,
                keep=lambda o: (
                    isinstance(o, Outcome)
                    and isinstance(o.decision, Reply)
                    and o.decision.quote_id is not None
                ),
            )
            replies = sum(map(bool, outcomes))
            cell = Cell(quotes, size, timed, naive, cached, replies, load_seconds)
            cells.append(cell)
            out.write(
                f"  {quotes:>6} quotes x {size:>3} posts: decide p50 {ms(timed.p50)}"
                f" p99 {ms(timed.p99)} ms, CPU p99 {ms(timed.cpu_p99)} ms ({timed.count} runs),"
                f" naive p50 {ms(naive.p50)} ms ({naive.count}), ratio {cell.ratio:.1f}x\n"
            )
            out.flush()
        del config
        gc.collect()
    return cells, peak


@dataclass(frozen=True)
class Expansion:
    """``decide`` at ``TARGET_QUOTES`` quotes and ``TARGET_THREAD``-post threads
    with the lexicon and without, interleaved: per side, the p99 of each run."""

    with_lexicon: list[Timings]
    without: list[Timings]

    @staticmethod
    def median_p99(runs: Sequence[Timings], *, cpu: bool = False) -> float:
        return statistics.median(t.cpu_p99 if cpu else t.p99 for t in runs)


def measure_expansion(plan: Plan, words: Words, catalog: Path, runs: int = 3) -> Expansion:
    """``catalog`` indexed with the lexicon and without decides the same
    mentions, one call each in turn so that both meet the same load (which
    side goes first alternates); ``runs`` rounds. Each call meets the thread
    as a new one: its words stemmed before (the cache a running bot keeps
    warm), its texts never read."""
    from bot.decide.decision import decide
    from bot.decide.policy import Policy
    from bot.rank.analysis import analyze_cached, forget_texts
    from bot.rank.index import Index, freeze_after_load

    policy = Policy(self_id="bench:self")
    on = build_config(catalog)
    # The same catalog and rules, only the index differs: what ``decide``
    # keeps per catalog (the pools a rule may post from) serves both sides,
    # as it serves the one configuration of a running bot.
    off = replace(on, index=Index.build(on.catalog.essays, None))
    # As the bot does once its configuration is loaded: otherwise a full
    # collection walks both indexes in the middle of whichever call it meets.
    freeze_after_load()
    with_lexicon: list[Timings] = []
    without: list[Timings] = []
    for run in range(runs):
        cases = make_cases(plan.decisions, TARGET_THREAD, words, SEED + 991 + run)
        first = [inputs_of(case, on, on.catalog.essays[0], policy) for case in cases]
        second = [inputs_of(case, off, off.catalog.essays[0], policy) for case in cases]
        for item in (*first[:5], *second[:5]):
            decide(item)
        a, b = Timings(), Timings()
        gc.collect()
        for number, pair in enumerate(zip(first, second, strict=True)):
            # Both sides read the same texts, and the analyser's caches are
            # shared: whichever went first would stem the thread's new words
            # for both, and leave the second its texts already read. So the
            # words are stemmed first, untimed (what the lexicon adds, its
            # lookups, stays cold and timed), and the text cache is emptied
            # before each timed call. Nothing of either configuration is warmed.
            for post in (*cases[number].ancestors, cases[number].post):
                for language in ("fr", "en"):  # the synthetic catalog's spaces
                    analyze_cached(post.text, language)
            order = ((a, pair[0]), (b, pair[1]))
            for timings, item in order if number % 2 == 0 else order[::-1]:
                forget_texts()
                timings.time(partial(decide, item))
        with_lexicon.append(a)
        without.append(b)
    return Expansion(with_lexicon, without)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


# -- memory (child process) ------------------------------------------------------------


@dataclass(frozen=True)
class Memory:
    maxrss_mb: float
    tracemalloc_peak_mb: float
    baseline_rss_mb: float
    decisions: int
    #: Where the peak was read.
    where: str = "a child process"
    #: The same child's peak without the lexicon (NaN: not measured).
    without_lexicon_mb: float = float("nan")


def peak_rss_mb() -> float:
    """This process's peak resident set, in MB.

    ``VmHWM`` rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` across
    fork and exec, so a child started by a big parent would report the
    parent's peak; ``VmHWM`` belongs to the child's own address space.
    """
    peak = vm_hwm_mb("self")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def vm_hwm_mb(pid: str) -> float | None:
    """The ``VmHWM`` of process ``pid`` (or ``self``) in MB, None if unreadable."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def memory_child(
    catalog: Path, trace: bool, thread_size: int, decisions: int, lexicon: bool = True
) -> dict[str, float]:
    """Load ``catalog``, decide ``decisions`` mentions; report memory as JSON."""
    from bot.decide.decision import decide
    from bot.decide.policy import Policy

    cases = make_cases(decisions, thread_size, Words.from_catalog(), SEED + 1)
    # The synthetic vocabulary (50,000 words) is the bench's, not the bot's:
    # gone before loading, so the memory it held is there to be reused.
    gc.collect()
    before = peak_rss_mb()
    if trace:
        tracemalloc.start()
    config = build_config(catalog, lexicon=lexicon)
    essay = config.catalog.essays[0]
    policy = Policy(self_id="bench:self")
    for case in cases:
        decide(inputs_of(case, config, essay, policy))
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0.0
    if trace:
        tracemalloc.stop()
    return {"maxrss_mb": peak_rss_mb(), "tracemalloc_peak_mb": peak, "baseline_rss_mb": before}


def measure_memory(catalog: Path, decisions: int, trace: bool) -> Memory:
    def child(trace: bool, lexicon: bool = True) -> dict[str, float]:
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--memory-child",
            str(catalog),
            "--decisions",
            str(decisions),
        ]
        if trace:
            command.append("--tracemalloc")
        if not lexicon:
            command.append("--no-lexicon")
        done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    # Two children: tracemalloc's own bookkeeping would inflate the RSS figure.
    plain = child(trace=False)
    bare = child(trace=False, lexicon=False)
    traced = child(trace=True) if trace else None
    return Memory(
        maxrss_mb=plain["maxrss_mb"],
        tracemalloc_peak_mb=traced["tracemalloc_peak_mb"] if traced else float("nan"),
        baseline_rss_mb=plain["baseline_rss_mb"],
        decisions=decisions,
        without_lexicon_mb=bare["maxrss_mb"],
    )


# -- check-config start-up ------------------------------------------------------------


def filrouge_command() -> list[str]:
    script = Path(sys.executable).with_name("filrouge")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def clean_env() -> dict[str, str]:
    """The environment without any FILROUGE_ setting: the bundled data is checked."""
    return {k: v for k, v in os.environ.items() if not k.startswith("FILROUGE_")}


@dataclass(frozen=True)
class Startup:
    timings: Timings
    #: The largest resident set of the runs, in MB.
    maxrss_mb: float


#: ``filrouge check-config`` exactly as the console script runs it, then this
#: process's peak RSS on stderr (see ``peak_rss_mb``).
_CHECK_CONFIG = """
import sys
from pathlib import Path
from bot.cli.main import main
code = main(["check-config", *sys.argv[1:]])
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmHWM:"):
        print("peak-rss-kib", line.split()[1], file=sys.stderr)
sys.exit(code)
"""


def measure_check_config(runs: int, catalog: Path | None, *, cached: bool = False) -> Startup:
    """The wall time of ``filrouge check-config`` (the console script when
    installed) and, from one more run through ``bot.cli.main`` in a bare
    interpreter, its peak RSS. ``cached``: in a directory with a record,
    after one untimed run has filled the configuration cache beside it."""
    arguments = ["--catalog", str(catalog)] if catalog is not None else []
    env = clean_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    timings = Timings()
    with tempfile.TemporaryDirectory(prefix="filrouge-bench-") as cwd:
        # An empty working directory: no .env is read.
        if cached:
            (Path(cwd) / "filrouge.sqlite3").write_bytes(b"")
            subprocess.run(
                [*filrouge_command(), "check-config", *arguments],
                capture_output=True,
                cwd=cwd,
                env=env,
                check=True,
            )
        for _ in range(runs):
            before = time.perf_counter()
            done = subprocess.run(
                [*filrouge_command(), "check-config", *arguments],
                capture_output=True,
                text=True,
                cwd=cwd,
                env=env,
            )
            timings.samples.append(time.perf_counter() - before)
            if done.returncode != 0:
                raise RuntimeError(f"check-config failed: {done.stderr.strip()[-500:]}")
        done = subprocess.run(
            [sys.executable, "-c", _CHECK_CONFIG, *arguments],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env,
        )
    found = re.search(r"^peak-rss-kib (\d+)$", done.stderr, re.MULTILINE)
    return Startup(timings, int(found.group(1)) / 1024 if found else float("nan"))


# -- end to end against mastodon-mock ----------------------------------------------------

#: A throwaway server on loopback: not a credential.
BOT_TOKEN = "bench-filrouge-token"
PEOPLE = tuple(f"lecteur{n}" for n in range(8))


def serve_mock(streaming: bool) -> int:
    """Run mastodon-mock on a free loopback port until stdin closes."""
    from mastodon_mock.config import (
        DatabaseConfig,
        MastodonMockConfig,
        SeedAccount,
        SeedConfig,
        StreamingConfig,
    )
    from mastodon_mock.testing import MockServer

    accounts = [
        SeedAccount(username="filrouge", display_name="fil rouge", bot=True, access_token=BOT_TOKEN)
    ]
    accounts += [
        SeedAccount(username=name, display_name=name, access_token=f"bench-{name}-token")
        for name in PEOPLE
    ]
    config = MastodonMockConfig(
        database=DatabaseConfig(path=":memory:"),
        seed=SeedConfig(accounts=accounts),
        streaming=StreamingConfig(enabled=streaming, heartbeat_seconds=1.0),
        url_scheme="http",
    )
    server = MockServer(config=config).start()
    try:
        print(server.base_url, flush=True)
        sys.stdin.read()
    finally:
        server.stop()
    return 0


@contextlib.contextmanager
def mock_process(streaming: bool) -> Iterator[str]:
    """mastodon-mock in a child process; yields its base URL."""
    command = [sys.executable, str(Path(__file__).resolve()), "--serve-mock"]
    if not streaming:
        command.append("--no-streaming")
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("http"):
            raise RuntimeError("mastodon-mock did not start")
        yield line
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def people_on(base_url: str) -> list[Mastodon]:
    """A client for each of the seeded people who mention the bot."""
    from mastodon import Mastodon

    return [Mastodon(access_token=f"bench-{name}-token", api_base_url=base_url) for name in PEOPLE]


@dataclass(frozen=True)
class EndToEnd:
    mode: str
    timings: Timings
    #: Mentions that reached their outcome: a reply, or a recorded skip (the
    #: bot abstains on random words that no quote shares).
    answered: int
    asked: int
    note: str = ""
    replied: int = 0


def live_settings(base_url: str, db: Path, *, streaming: bool, poll_interval: float) -> Settings:
    """The settings of a bot timed against the mock: no cooldowns, no link fetching."""
    return bench_settings(
        instance_url=base_url,
        access_token=BOT_TOKEN,
        db_path=db,
        request_timeout=5.0,
        streaming=streaming,
        poll_interval=poll_interval,
        stream_stall_timeout=5.0,
        resolve_hosts=(),
        thread_cooldown="0s",
        account_cooldown="0s",
        log_level="ERROR",
    )


def measure_end_to_end(
    streaming: bool, mentions: int, poll_interval: float, words: Words, workdir: Path
) -> EndToEnd:
    """Post ``mentions`` mentions one after the other, each starting its own
    thread, and time each from just before the POST of the mention to the
    moment the bot has posted its reply."""
    import logging

    from bot.app.runner import Bot

    mode = "streaming" if streaming else f"polling every {poll_interval:g}s"
    logging.getLogger("bot").setLevel(logging.ERROR)
    rng = random.Random(SEED + (1 if streaming else 2))
    with mock_process(streaming) as base_url:
        people = people_on(base_url)
        settings = live_settings(
            base_url,
            workdir / f"e2e-{'stream' if streaming else 'poll'}.sqlite3",
            streaming=streaming,
            poll_interval=poll_interval if not streaming else 5.0,
        )
        bot = Bot(settings).start()
        try:
            listener = bot.listener
            if streaming:
                connected = bot.run_until(
                    lambda: listener is not None and listener.stream_connected, timeout=10.0
                )
                if not connected:
                    return EndToEnd(mode, Timings(), 0, 0, "the stream never connected")
            timings = Timings()
            answered = replied = 0
            warmup = 2
            for number in range(mentions + warmup):
                person = people[number % len(people)]
                text = "@filrouge " + text_of(rng, words.fr, 10, 30)
                if not streaming:
                    # Mentions come at any moment of the poll cycle, not just
                    # after the reply to the previous one.
                    time.sleep(rng.uniform(0.0, poll_interval))
                seen = len(bot.outcomes())
                before = time.perf_counter()
                person.status_post(text, visibility="public")
                deadline = before + 10.0
                while len(bot.outcomes()) == seen and time.perf_counter() < deadline:
                    time.sleep(0.001)
                elapsed = time.perf_counter() - before
                results = bot.outcomes()[seen:]
                if number < warmup:
                    continue
                timings.samples.append(elapsed)
                answered += any(r.outcome in ("replied", "skipped") for r in results)
                replied += any(r.outcome == "replied" for r in results)
            return EndToEnd(mode, timings, answered, mentions, replied=replied)
        finally:
            bot.stop(timeout=10.0)


@dataclass(frozen=True)
class UnderLoad:
    """Mention-to-outcome latency under a steady stream of mentions, safety polls included."""

    rate: float
    seconds: float
    timings: Timings
    answered: int
    asked: int
    safety_polls: int
    note: str = ""


def measure_under_load(
    rate: float, seconds: float, words: Words, workdir: Path, safety: bool = True
) -> UnderLoad:
    """A steady ``rate`` of mentions for ``seconds`` to the streaming bot, with
    the periodic safety poll brought forward so that several fall inside the
    window, and pages of 5 notifications so that each safety poll has several
    pages to read — what 300 s of mentions at 1.7/s gives with the server's 80.
    A safety poll that read its pages in front of the replies shows as a p99
    far above the median; one page per worker cycle keeps it near."""
    import logging
    import sqlite3

    from bot.app.runner import Bot

    logging.getLogger("bot").setLevel(logging.ERROR)
    rng = random.Random(SEED + 4)
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "load.sqlite3"
    with mock_process(True) as base_url:
        people = people_on(base_url)
        settings = live_settings(base_url, db, streaming=True, poll_interval=5.0)
        bot = Bot(settings).start()
        try:
            listener = bot.listener
            assert listener is not None
            if not bot.run_until(lambda: listener.stream_connected, timeout=10.0):
                return UnderLoad(rate, seconds, Timings(), 0, 0, 0, "the stream never connected")
            # Warm up (the first decisions load what is loaded lazily), untimed.
            for number in range(2):
                people[number].status_post("@filrouge " + text_of(rng, words.fr, 10, 30))
                bot.run_until(partial(lambda n: len(bot.outcomes()) > n, number), timeout=10.0)
            warm = {r.notification_id for r in bot.outcomes()}
            listener.safety_poll_interval = max(seconds / 4, 2.0) if safety else 1e9
            assert bot.worker is not None and bot.worker.intake.fetcher is not None
            bot.worker.intake.fetcher.page_limit = 5
            posted: dict[str, float] = {}
            count = int(rate * seconds)
            seen: dict[str, float] = {}
            done = threading.Event()

            def watch() -> None:
                # Beside the poster: each outcome is timed when it appears.
                while not done.is_set():
                    for result in bot.outcomes():
                        if result.notification_id not in warm:
                            seen.setdefault(result.notification_id, time.perf_counter())
                    time.sleep(0.001)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            started = time.perf_counter()
            for number in range(count):
                due = started + number / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                person = people[number % len(people)]
                text = "@filrouge " + text_of(rng, words.fr, 10, 30)
                at = time.perf_counter()
                status = person.status_post(text, visibility="public")
                posted[str(status["id"])] = at
            deadline = time.perf_counter() + 30.0
            while len(seen) < count and time.perf_counter() < deadline:
                time.sleep(0.01)
            done.set()
            watcher.join()
            polls = int(seconds // listener.safety_poll_interval)
        finally:
            bot.stop(timeout=10.0)
    # Which status each notification was (the record knows), for the latency.
    connection = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        status_of = dict(connection.execute("SELECT notification_id, status_id FROM mentions"))
    finally:
        connection.close()
    timings = Timings()
    for notification_id, outcome_at in seen.items():
        posted_at = posted.get(str(status_of.get(notification_id)))
        if posted_at is not None:
            timings.samples.append(outcome_at - posted_at)
    return UnderLoad(rate, seconds, timings, len(timings.samples), count, polls)


def _skipped(db: Path, status_id: str) -> bool:
    """Whether the bot recorded a skip for the mention ``status_id`` (it abstains
    on words no quote shares): read-only, beside the running bot."""
    import sqlite3

    if not db.exists():
        return False
    connection = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute(
            "SELECT state FROM mentions WHERE status_id = ?", (status_id,)
        ).fetchone()
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()
    return row is not None and row[0] == "skipped"


@dataclass(frozen=True)
class RunningBot:
    """The peak memory of ``filrouge run`` itself."""

    maxrss_mb: float
    replied: int
    asked: int
    note: str = ""
    #: The same bot without the lexicon and the language detector
    #: (``FILROUGE_LEXICON=false``, ``FILROUGE_DETECT_LANGUAGE=false``); NaN:
    #: not measured.
    bare_mb: float = float("nan")


def measure_running_bot(
    catalog: Path, mentions: int, words: Words, workdir: Path, **settings: str
) -> RunningBot:
    """``filrouge run`` in its own process on ``catalog``, streaming from
    mastodon-mock, until it has answered ``mentions`` mentions: its peak RSS
    (``VmHWM``). The whole bot — Mastodon.py, httpx, the stream, the record —
    where the memory child holds only what loading and deciding need.
    ``settings`` are more ``FILROUGE_*`` variables (``lexicon="false"``)."""
    rng = random.Random(SEED + 3)
    workdir.mkdir(parents=True, exist_ok=True)
    with mock_process(True) as base_url:
        env = clean_env()
        env.update({f"FILROUGE_{name.upper()}": value for name, value in settings.items()})
        env.update(
            {
                "FILROUGE_INSTANCE_URL": base_url,
                "FILROUGE_ACCESS_TOKEN": BOT_TOKEN,
                "FILROUGE_CATALOG_PATH": str(catalog),
                "FILROUGE_DB_PATH": str(workdir / "run.sqlite3"),
                "FILROUGE_THREAD_COOLDOWN": "0s",
                "FILROUGE_ACCOUNT_COOLDOWN": "0s",
                "FILROUGE_RESOLVE_HOSTS": "",
                "FILROUGE_LOG_LEVEL": "ERROR",
                "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH")))),
            }
        )
        people = people_on(base_url)
        with (workdir / "run.log").open("wb") as log:
            # A bare working directory: no .env is read.
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=workdir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            try:
                replied = 0
                for number in range(mentions):
                    person = people[number % len(people)]
                    text = "@filrouge " + text_of(rng, words.fr, 10, 30)
                    status = person.status_post(text, visibility="public")
                    # The first waits for the catalog to load and the stream to open.
                    deadline = time.monotonic() + (120.0 if number == 0 else 10.0)
                    while time.monotonic() < deadline and process.poll() is None:
                        if person.status_context(status["id"])["descendants"] or _skipped(
                            workdir / "run.sqlite3", str(status["id"])
                        ):
                            replied += 1
                            break
                        time.sleep(0.02)
                if process.poll() is not None:
                    return RunningBot(float("nan"), replied, mentions, "the bot stopped")
                peak = vm_hwm_mb(str(process.pid))
            finally:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    return RunningBot(float("nan") if peak is None else peak, replied, mentions)


# -- the report --------------------------------------------------------------------------


def machine() -> list[tuple[str, str]]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("CPU", model),
        ("cores", f"{os.cpu_count()} ({usable} usable by this process)"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
    ]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(
    plan: Plan,
    quick: bool,
    cells: Sequence[Cell],
    memory: Memory | None,
    check_bundled: Startup | None,
    check_large: Startup | None,
    e2e: Sequence[EndToEnd],
    e2e_error: str | None,
    running: RunningBot | None,
    elapsed: float,
    load: UnderLoad | None = None,
    quiet: UnderLoad | None = None,
    check_cached: Startup | None = None,
    expansion: Expansion | None = None,
    console: ConsoleBench | None = None,
    relevance: Relevance | None = None,
) -> str:
    lines: list[str] = [f"## fil-rouge benchmark ({'quick' if quick else 'full'} run)", ""]
    lines += ["| machine | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in machine()]
    lines += [
        "",
        "### decide per mention",
        "",
        "One essay holding every quote (all are candidates); each mention ends its own"
        " thread of new text. Latencies in ms, wall clock and (in brackets) CPU time of"
        " the deciding thread: the machine is shared, and the wall time also counts"
        " waiting for a core. *naive*: token overlap with every quote, each quote"
        " tokenised per decision (no index); *cached*: the same overlap with token sets"
        " built at load. The baselines run interleaved with `decide`, mention by mention;"
        " ratio = mean CPU time of the baseline / mean CPU time of `decide`. After each"
        " load the collector is kept off the loaded objects (`bot.rank.index.freeze_after_load`),"
        " as the bot does.",
        "",
        "| quotes | thread | decide p50 | decide p99 | decisions/s | runs | naive p50"
        " | ratio | cached p50 | ratio vs cached | index build s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in cells:
        lines.append(
            f"| {c.quotes:,} | {c.thread} | {ms(c.decide.p50)} ({ms(c.decide.cpu_p50)})"
            f" | {ms(c.decide.p99)} ({ms(c.decide.cpu_p99)}) | {c.decide.per_second:,.0f}"
            f" | {c.decide.count} | {ms(c.naive.p50)} ({c.naive.count} runs)"
            f" | {c.ratio:.1f}× | {ms(c.cached.p50)} | {c.cached_ratio:.1f}×"
            f" | {c.load_seconds:.2f} |"
        )
    quote_replies = sum(c.replies for c in cells)
    runs = sum(c.decide.count for c in cells)
    lines += ["", f"Decisions that replied with a quote: {quote_replies}/{runs}."]

    lines += ["", "### memory, start-up, mention to reply", "", "| measure | value |", "|---|---|"]
    if memory is not None and memory.decisions == 0:
        lines.append(
            f"| peak RSS of {memory.where} after building the {TARGET_QUOTES:,}-quote index"
            " and deciding (also holds the smaller catalogs' leftovers and the bench's data:"
            f" an upper bound; a full run measures a child process) | {memory.maxrss_mb:.1f} MB |"
        )
    elif memory is not None:
        lines += [
            f"| peak RSS of {memory.where}, {TARGET_QUOTES:,} quotes loaded,"
            f" {memory.decisions} decisions ({TARGET_THREAD}-post threads)"
            f" | {memory.maxrss_mb:.1f} MB"
            f" (after imports, before loading: {memory.baseline_rss_mb:.1f} MB) |",
            "| tracemalloc peak of loading + deciding | "
            + (
                f"{memory.tracemalloc_peak_mb:.1f} MB |"
                if memory.tracemalloc_peak_mb == memory.tracemalloc_peak_mb  # not NaN
                else "measured in a full run only |"
            ),
        ]
    if check_bundled is not None:
        t = check_bundled.timings
        lines.append(
            f"| `filrouge check-config`, bundled data, median of {t.count}"
            f" | {ms(t.p50)} ms (peak RSS {check_bundled.maxrss_mb:.1f} MB) |"
        )
    if check_large is not None:
        t = check_large.timings
        lines.append(
            f"| `filrouge check-config --catalog` ({TARGET_QUOTES:,} quotes: the whole"
            f" `load_config`, fit check included), {t.count} run{'s' if t.count > 1 else ''}"
            f" | {ms(t.p50)} ms (peak RSS {check_large.maxrss_mb:.1f} MB) |"
        )
    if check_cached is not None:
        t = check_cached.timings
        lines.append(
            f"| `filrouge check-config --catalog` ({TARGET_QUOTES:,} quotes), the configuration"
            f" cache warm, median of {t.count} | {ms(t.p50)} ms"
            f" (peak RSS {check_cached.maxrss_mb:.1f} MB) |"
        )
    if check_large is None:
        lines.append(
            f"| `filrouge check-config --catalog` ({TARGET_QUOTES:,} quotes)"
            " | not measured in a quick run |"
        )
    if running is not None:
        value = f"not measured: {running.note}" if running.note else f"{running.maxrss_mb:.1f} MB"
        if running.bare_mb == running.bare_mb:
            value += f" (without the lexicon and the language detector: {running.bare_mb:.1f} MB)"
        lines.append(
            f"| peak RSS of `filrouge run` (the whole bot), {TARGET_QUOTES:,} quotes, streaming,"
            f" {running.replied}/{running.asked} mentions answered | {value} |"
        )
    for result in e2e:
        if result.note:
            lines.append(f"| mention to reply, {result.mode} | not measured: {result.note} |")
            continue
        t = result.timings
        lines.append(
            f"| mention to outcome, {result.mode} ({result.answered}/{result.asked} answered,"
            f" {result.replied} with a reply)"
            f" | p50 {ms(t.p50)} ms, p99 {ms(t.p99)} ms, max {ms(max(t.samples))} ms |"
        )
    if e2e_error is not None:
        lines.append(f"| mention to reply | not measured: {e2e_error} |")
    for under in (load, quiet):
        if under is None:
            continue
        t = under.timings
        label = (
            f"mention to outcome under load, {under.rate:g}/s for {under.seconds:g} s, streaming, "
            + (
                f"{under.safety_polls} safety polls of 5-notification pages"
                if under.safety_polls
                else "no safety poll (the baseline)"
            )
        )
        if under.note or not t.samples:
            lines.append(f"| {label} | not under: {under.note or 'no sample'} |")
        else:
            lines.append(
                f"| {label} ({under.answered}/{under.asked} answered)"
                f" | p50 {ms(t.p50)} ms, p99 {ms(t.p99)} ms, max {ms(max(t.samples))} ms |"
            )
    target = next(
        (c for c in cells if c.quotes == TARGET_QUOTES and c.thread == TARGET_THREAD), None
    )
    lines += [
        "",
        "### targets",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    if target is not None:
        lines += [
            f"| decide p99 ≤ {TARGET_P99_MS:g} ms on one core at {TARGET_QUOTES:,} quotes,"
            f" {TARGET_THREAD}-post threads (CPU time) | {ms(target.decide.cpu_p99)} ms"
            f" (wall {ms(target.decide.p99)} ms, {target.decide.count} runs)"
            f" | {verdict(target.decide.cpu_p99 * 1000 <= TARGET_P99_MS)} |",
            f"| ≥ {TARGET_RATIO:g}× the naive baseline there | {target.ratio:.1f}×"
            f" (vs cached token sets: {target.cached_ratio:.1f}×)"
            f" | {verdict(target.ratio >= TARGET_RATIO)} |",
        ]
    if expansion is not None:
        on = Expansion.median_p99(expansion.with_lexicon, cpu=True)
        off = Expansion.median_p99(expansion.without, cpu=True)
        lines.append(
            f"| decide p99 with the lexicon ≤ {TARGET_EXPANSION_MS:g} ms above without,"
            f" {TARGET_QUOTES:,} quotes, {TARGET_THREAD}-post threads (CPU, median of"
            f" {len(expansion.without)} interleaved run{'s' if len(expansion.without) > 1 else ''})"
            f" | {ms(on)} ms vs {ms(off)} ms (+{ms(on - off)} ms; wall"
            f" {ms(Expansion.median_p99(expansion.with_lexicon))} vs"
            f" {ms(Expansion.median_p99(expansion.without))} ms)"
            f" | {verdict((on - off) * 1000 <= TARGET_EXPANSION_MS)} |"
        )
    if running is not None and not running.note and running.bare_mb == running.bare_mb:
        grown = running.maxrss_mb - running.bare_mb
        lines.append(
            f"| `filrouge run` peak RSS with the lexicon and the language detector"
            f" ≤ {TARGET_LEXICON_MB:g} MB above without them ({TARGET_QUOTES:,} quotes,"
            f" streaming) | {running.maxrss_mb:.1f} MB vs {running.bare_mb:.1f} MB"
            f" (+{grown:.1f} MB) | {verdict(grown <= TARGET_LEXICON_MB)} |"
        )
    if memory is not None and memory.without_lexicon_mb == memory.without_lexicon_mb:
        grown = memory.maxrss_mb - memory.without_lexicon_mb
        lines.append(
            f"| peak RSS with the lexicon ≤ {TARGET_LEXICON_MB:g} MB above without"
            f" ({TARGET_QUOTES:,} quotes, a child each) | {memory.maxrss_mb:.1f} MB vs"
            f" {memory.without_lexicon_mb:.1f} MB (+{grown:.1f} MB)"
            f" | {verdict(grown <= TARGET_LEXICON_MB)} |"
        )
    if memory is not None:
        # The whole bot when it was measured, and the larger of the two.
        peaks = [memory.maxrss_mb]
        measured = f"{memory.maxrss_mb:.1f} MB RSS"
        if running is not None and not running.note:
            peaks.append(running.maxrss_mb)
            measured = (
                f"`filrouge run` {running.maxrss_mb:.1f} MB RSS"
                f" (loading and deciding alone: {memory.maxrss_mb:.1f} MB)"
            )
        lines.append(
            f"| peak memory ≤ {TARGET_MEMORY_MB:g} MB at {TARGET_QUOTES:,} quotes"
            f" | {measured} | {verdict(max(peaks) <= TARGET_MEMORY_MB)} |"
        )
    streamed = next((r for r in e2e if r.mode == "streaming" and not r.note), None)
    if streamed is not None:
        p99 = streamed.timings.p99 * 1000
        ok = p99 <= TARGET_REPLY_P99_MS and streamed.answered == streamed.asked
        lines.append(
            f"| mention-to-reply p99 ≤ {TARGET_REPLY_P99_MS:g} ms, streaming, loopback"
            f" | {p99:.1f} ms ({streamed.answered}/{streamed.asked} answered,"
            f" {streamed.replied} with a reply) | {verdict(ok)} |"
        )
    else:
        lines.append(
            f"| mention-to-reply p99 ≤ {TARGET_REPLY_P99_MS:g} ms, streaming, loopback"
            " | not measured | MISS |"
        )
    if check_cached is not None:
        t = check_cached.timings
        lines.append(
            f"| loading {TARGET_QUOTES:,} quotes (`check-config --catalog`) ≤ 1 s, cache warm"
            f" | {ms(t.p50)} ms | {verdict(t.p50 <= 1.0)} |"
        )
    if load is not None and load.timings.samples and not load.note:
        t = load.timings
        ok = t.p99 <= 2 * t.p50 and load.answered == load.asked
        lines.append(
            f"| under load, mention-to-outcome p99 ≤ 2 × its median (safety polls beside"
            f" the replies) | p99 {ms(t.p99)} ms, median {ms(t.p50)} ms"
            f" ({t.p99 / t.p50:.2f}×; {load.answered}/{load.asked} answered) | {verdict(ok)} |"
        )
    if relevance is not None:
        lines += relevance_rows(relevance, verdict)
    if console is not None:
        slowest = max(slow for _, _, slow in console.pages)
        lines.append(
            f"| the console, {console.mentions:,} mentions recorded: every page < 300 ms"
            f" | slowest {slowest:.0f} ms | {verdict(slowest < 300)} |"
        )
        lines += ["", "### the console", "", *console_rows(console)]
    lines += ["", f"Benchmark wall time: {elapsed:.0f} s."]
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="Benchmark fil-rouge and print a markdown report."
    )
    parser.add_argument("--quick", action="store_true", help="finish in under a minute")
    parser.add_argument("--no-lexicon", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--skip-e2e", action="store_true", help="do not run the bot against mastodon-mock"
    )
    parser.add_argument("--output", type=Path, default=None, help="also write the report here")
    # Internal: the child processes this script starts.
    parser.add_argument("--memory-child", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--decisions", type=int, default=50, help=argparse.SUPPRESS)
    parser.add_argument("--serve-mock", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-streaming", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.serve_mock:
        return serve_mock(streaming=not args.no_streaming)
    if args.memory_child is not None:
        result = memory_child(
            args.memory_child,
            args.tracemalloc,
            TARGET_THREAD,
            args.decisions,
            lexicon=not args.no_lexicon,
        )
        print(json.dumps(result))
        return 0

    started = time.perf_counter()
    plan = Plan.of(args.quick)
    progress = sys.stderr
    words = Words.from_catalog()
    with tempfile.TemporaryDirectory(prefix="filrouge-bench-") as tmp:
        workdir = Path(tmp)
        progress.write(
            f"[{time.perf_counter() - started:.0f}s] decide, per catalog size and thread length:\n"
        )
        cells, in_process = measure_cells(plan, words, workdir, progress)
        large = workdir / f"catalog-{TARGET_QUOTES}.toml"
        progress.write(
            f"[{time.perf_counter() - started:.0f}s] decide with the lexicon and without…\n"
        )
        expansion = measure_expansion(plan, words, large, runs=1 if args.quick else 3)
        if args.quick:
            # No child to load the large catalog again: the bench's own peak,
            # an upper bound of what the bot needs.
            memory = Memory(in_process, float("nan"), float("nan"), 0, "this bench process")
        else:
            progress.write(f"[{time.perf_counter() - started:.0f}s] memory…\n")
            memory = measure_memory(large, plan.memory_decisions, trace=True)
        progress.write(f"[{time.perf_counter() - started:.0f}s] check-config start-up…\n")
        check_bundled = measure_check_config(plan.check_config_runs, None)
        check_large = None if args.quick else measure_check_config(1, large)
        check_cached = measure_check_config(3, large, cached=True)
        progress.write(f"[{time.perf_counter() - started:.0f}s] the console's pages…\n")
        console = measure_console(workdir, runs=3 if args.quick else 5)
        progress.write(f"[{time.perf_counter() - started:.0f}s] relevance…\n")
        relevance = measure_relevance()
        e2e: list[EndToEnd] = []
        load: UnderLoad | None = None
        quiet: UnderLoad | None = None
        e2e_error: str | None = None
        running: RunningBot | None = None
        if args.skip_e2e:
            e2e_error = "skipped (--skip-e2e)"
        else:
            try:
                if not args.quick:
                    progress.write(
                        f"[{time.perf_counter() - started:.0f}s] filrouge run, {TARGET_QUOTES:,}"
                        " quotes…\n"
                    )
                    running = measure_running_bot(large, 20, words, workdir / "run")
                    # Its own directory: no configuration cache left by the first.
                    bare = measure_running_bot(
                        large,
                        20,
                        words,
                        workdir / "run-bare",
                        lexicon="false",
                        detect_language="false",
                    )
                    running = replace(running, bare_mb=bare.maxrss_mb)
                progress.write(
                    f"[{time.perf_counter() - started:.0f}s] mention to reply, streaming…\n"
                )
                e2e.append(measure_end_to_end(True, plan.e2e_streaming, 0.0, words, workdir))
                progress.write(
                    f"[{time.perf_counter() - started:.0f}s] mention to reply, polling…\n"
                )
                e2e.append(
                    measure_end_to_end(False, plan.e2e_polling, plan.poll_interval, words, workdir)
                )
                progress.write(f"[{time.perf_counter() - started:.0f}s] under load…\n")
                load = measure_under_load(plan.load_rate, plan.load_seconds, words, workdir)
                quiet = measure_under_load(
                    plan.load_rate, plan.load_seconds, words, workdir / "quiet", safety=False
                )
            except Exception as error:  # the table still prints, saying why
                e2e_error = f"{type(error).__name__}: {error}"
    text = report(
        plan,
        args.quick,
        cells,
        memory,
        check_bundled,
        check_large,
        e2e,
        e2e_error,
        running,
        time.perf_counter() - started,
        load,
        quiet,
        check_cached,
        expansion,
        console,
        relevance,
    )
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
