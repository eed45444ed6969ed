"""The draft: ids, the TOML text the catalog loader accepts as it is, and
writing it without overwriting an admin's file unasked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote as percent_encode
from urllib.parse import urlsplit, urlunsplit

from bot.catalog.importer.concepts import (
    DraftConcept,
    DraftingUnavailable,
    Keywords,
    Vocabulary,
    draft_concepts,
    yake_keywords,
)
from bot.catalog.importer.extract import Article
from bot.catalog.importer.ids import essay_id_for
from bot.catalog.importer.page import ImportFailed
from bot.catalog.importer.quotes import (
    Budget,
    Passages,
    candidate_quotes,
    quote_budget,
    quote_templates,
)
from bot.catalog.lexicon import LANGUAGES
from bot.model.catalog import Essay
from bot.text.urls import normalize_url

# -- the draft ------------------------------------------------------------------------


def toml_string(text: str) -> str:
    """``text`` as a TOML string: a literal one (``'"fausses photos"'``) when it
    has double quotes that a basic one would escape, else a basic one
    (control characters escaped)."""
    if '"' in text and "'" not in text and text.isprintable():
        return f"'{text}'"
    out = ['"']
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def text_fragment(url: str, text: str, words: int = 5) -> str:
    """A link that scrolls to ``text`` in browsers that support text fragments
    (``#:~:text=``); the others open the page. ``-``, ``,`` and ``&`` are
    percent-encoded because the fragment syntax gives them a meaning."""
    start = " ".join(text.split()[:words])
    encoded = percent_encode(start, safe="").replace("-", "%2D")
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, f":~:text={encoded}"))


@dataclass(frozen=True)
class Draft:
    essay_id: str
    article: Article
    author: str
    language: str
    url: str
    budget: Budget
    passages: Passages
    source: str
    #: Things the admin must look at first, one line each.
    warnings: tuple[str, ...] = field(default=())
    concepts: tuple[DraftConcept, ...] = ()


def make_draft(
    article: Article,
    *,
    source: str,
    max_characters: int,
    url_length: int,
    default_language: str,
    rules_path: Path | None = None,
    essay_id: str | None = None,
    max_quote_length: int | None = None,
    existing: ExistingCatalog | None = None,
    concepts: int = 0,
    vocabulary: Vocabulary | None = None,
    keywords: Keywords = yake_keywords,
) -> Draft:
    """Everything the draft says, decided; :func:`draft_toml` only writes it."""
    existing = existing or ExistingCatalog()
    warnings: list[str] = []
    url = article.url
    if url is None:
        raise ImportFailed(
            f"{source}: the page names no canonical URL; import it from its web address instead"
        )
    if owner := existing.essay_at(url):
        warnings.append(f'the catalog already has this URL, as essay "{owner}"')
    author = article.author
    if not author:
        author = article.site_name or urlsplit(url).hostname or "?"
        warnings.append(f'no author found on the page: "{author}" is the site\'s name')
    language = article.language
    if not language:
        language = default_language
        warnings.append(f'the page does not give its language: "{language}" is assumed')
    if not article.title:
        warnings.append("the page has no title")
    chosen_id = essay_id or essay_id_for(article, taken=existing.essay_ids)
    if chosen_id in existing.essay_ids:
        warnings.append(f'the catalog already has an essay "{chosen_id}"')
    if max_quote_length is not None:
        budget = Budget(max_quote_length, max_characters, 0, "--max-quote-length")
    else:
        budget = quote_budget(
            max_characters=max_characters,
            url_length=url_length,
            author=author,
            title=article.title,
            url=url,
            templates=quote_templates(rules_path),
        )
    passages = candidate_quotes(
        article.paragraphs,
        max_length=budget.max_length,
        url_length=url_length,
        taken=existing.item_ids,
    )
    if not passages.candidates:
        raise ImportFailed(
            f"{source}: no passage of whole sentences fits {budget.max_length} characters"
            f" ({len(article.paragraphs)} paragraphs read); try --max-quote-length"
        )
    drafted: tuple[DraftConcept, ...] = ()
    if concepts > 0:
        try:
            drafted = draft_concepts(
                article.paragraphs,
                passages.candidates,
                language=language,
                limit=concepts,
                vocabulary=vocabulary or Vocabulary.bundled(),
                taken=existing.concept_ids,
                keywords=keywords,
            )
        except DraftingUnavailable as error:
            warnings.append(str(error))
    return Draft(
        essay_id=chosen_id,
        article=article,
        author=author,
        language=language,
        url=url,
        budget=budget,
        passages=passages,
        source=source,
        warnings=tuple(warnings),
        concepts=drafted,
    )


@dataclass(frozen=True)
class ExistingCatalog:
    """The ids and URLs the draft must not collide with."""

    essay_ids: frozenset[str] = frozenset()
    item_ids: frozenset[str] = frozenset()
    #: Normalised canonical and alias URL → essay id.
    urls: Mapping[str, str] = field(default_factory=dict)
    concept_ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, essays: Iterable[Essay], concepts: Iterable[str] = ()) -> ExistingCatalog:
        known = tuple(essays)
        return cls(
            concept_ids=frozenset(concepts),
            essay_ids=frozenset(e.id for e in known),
            item_ids=frozenset(q.id for e in known for q in e.quotes)
            | frozenset(p.id for e in known for p in e.prompts),
            urls={normalize_url(u): e.id for e in known for u in (e.url, *e.aliases)},
        )

    def essay_at(self, url: str) -> str | None:
        return self.urls.get(normalize_url(url))


def draft_toml(draft: Draft, *, today: date) -> str:
    """The draft entry: TOML that ``load_catalog`` accepts, with comments that
    tell the admin what to review."""
    article = draft.article
    budget = draft.budget
    passages = draft.passages
    lines = [
        f"# DRAFT catalog entry, written by `filrouge catalog import` on {today.isoformat()}",
        f"# from {draft.source}",
        "#",
        "# Nothing here is posted until you append it to the catalog",
        "# (FILROUGE_CATALOG_PATH). Before that, review it:",
        "#   1. title, author, url and language: check them against the page;",
        "#   2. aliases: add other links that lead to the essay (an aggregator or",
        "#      newsletter link); hashtags: any the essay's readers use;",
        "#   3. quotes: KEEP ONLY those that stand on their own and speak to what",
        "#      threads argue about; delete the others. Never edit the words: a",
        "#      quote is verbatim. Then give each one tags (for rules) and keywords",
        "#      (French and English words a reply might use);",
        "#   4. concepts (if drafted, above the essay): keep those the essay is",
        "#      about, merge or rename the others, add the words readers would",
        "#      use in both languages; each quote names the concepts it uses;",
        "#   5. reading prompts: write them yourself (example at the end);",
        "#   6. run `filrouge check-config`.",
        "#",
        f"# {len(passages.candidates)} candidate quotes from {len(article.paragraphs)} paragraphs.",
        f"# Each fits {budget.max_length} characters: {_budget_note(budget)}.",
    ]
    if passages.too_long:
        lines.append(
            f"# {len(passages.too_long)} sentence(s) longer than that were left out; quote"
            " them by hand if they matter (the bot cuts quotes only at sentence ends)."
        )
    for warning in draft.warnings:
        lines.append(f"# REVIEW: {warning}")
    lines += _concept_lines(draft.concepts)
    lines += [
        "",
        "[[essays]]",
        f"id = {toml_string(draft.essay_id)}",
        f"title = {toml_string(article.title or draft.url)}",
        f"author = {toml_string(draft.author)}",
        f"url = {toml_string(draft.url)}",
        f"language = {toml_string(draft.language)}",
        "aliases = []",
        "hashtags = []",
    ]
    if article.published:
        lines.append(f"# published {article.published} (for the record; the catalog has no date)")
    named: dict[str, list[str]] = {}
    for concept in draft.concepts:
        for quote_id in concept.quotes:
            named.setdefault(quote_id, []).append(concept.id)
    for candidate in passages.candidates:
        concept_line = (
            [f"concepts = [{', '.join(toml_string(c) for c in named[candidate.id])}]"]
            if candidate.id in named
            else []
        )
        lines += [
            "",
            f"# paragraph {candidate.paragraph} · {candidate.length}/{budget.max_length}"
            " characters",
            "[[essays.quotes]]",
            f"id = {toml_string(candidate.id)}",
            f"text = {toml_string(candidate.text)}",
            "tags = []",
            "keywords = []",
            *concept_line,
            f"anchor_url = {toml_string(text_fragment(draft.url, candidate.text))}",
        ]
    lines += [
        "",
        "# Reading prompts send a reader back to one passage. Write them yourself:",
        "# the bot posts only what people wrote. For example:",
        "#",
        "# [[essays.prompts]]",
        f'# id = "{draft.essay_id}-q-…"',
        '# tags = ["…"]',
        '# keywords = ["…", "…"]',
        "# [essays.prompts.text]",
        '# fr = "Avant de répondre : que dit le texte de … ? Relisez le passage sur « … »."',
        '# en = "Before replying: what does the essay say about …? Reread the passage on « … »."',
        "",
    ]
    return "\n".join(lines)


def _concept_lines(concepts: tuple[DraftConcept, ...]) -> list[str]:
    if not concepts:
        return []
    lines = [
        "",
        f"# {len(concepts)} concepts drafted from the essay's text (yake), most central first.",
        "# Terms are the essay's own words and the familiar-register words that",
        "# mean the same; thesaurus synonyms are listed for you to pick from.",
    ]
    for concept in concepts:
        used = ", ".join(concept.quotes[:5]) + (" …" if len(concept.quotes) > 5 else "")
        lines += ["", f"# score {concept.score:.3f} · used by {len(concept.quotes)}: {used}"]
        if concept.synonyms:
            lines.append(f"# thesaurus: {', '.join(concept.synonyms)}")
        lines += ["[[concepts]]", f"id = {toml_string(concept.id)}"]
        for language, terms in concept.terms.items():
            if terms:
                lines.append(f"{language} = [{', '.join(toml_string(t) for t in terms)}]")
        for language in LANGUAGES:
            if not concept.terms.get(language):
                lines.append(
                    f'# {language} = ["…"]  (what readers writing in {language} would say)'
                )
    return lines


def _budget_note(budget: Budget) -> str:
    if budget.template == "--max-quote-length":
        return "the limit given with --max-quote-length"
    return (
        f"{budget.max_characters} per status minus {budget.overhead} for the longest"
        f" quote template, {budget.template}, with a 30-character handle"
    )


# -- writing ------------------------------------------------------------------------------


def write_new(path: Path, text: str, *, force: bool) -> None:
    """Write ``text`` to ``path``; an existing file is replaced only with ``force``
    (and then atomically, so a failure leaves the old file whole)."""
    if not force:
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError as error:
            raise FileExistsError(f"{path} exists; use --force to replace it") from error
        return
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
