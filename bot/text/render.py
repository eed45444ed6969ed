"""Templates and the arithmetic of a status: what the bot's words look like on the wire.

Templates are admin data, so they are parsed by the small scanner below and
never by ``str.format``: a template can name a placeholder from
:data:`PLACEHOLDERS` and nothing else. There is no attribute access, no
indexing, no conversion, no format spec and no positional field, so a template
cannot read an object, call code or reach the settings (DESIGN invariant 11).
Values are inserted verbatim and never parsed again, so a user's text that
contains ``{quote}`` stays literal.

The length helpers count like the server (graphemes, URLs at a fixed weight,
remote mentions by their local part), because a reply one character too long
is a 422, not a shorter post.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass

#: The only names a template may use. Each is filled by ``bot.decide`` with a
#: plain string; adding one here is a decision about what admins may expose.
PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "requester",
        "author",
        "quote",
        "essay_title",
        "essay_url",
        "quote_url",
        "prompt",
        "essays",
        "rules_url",
        "rule",
        "why",
        "heat",
    }
)

#: Mastodon weighs every URL at this many characters unless the instance says otherwise.
DEFAULT_URL_LENGTH = 23

#: Appended to a quote cut at a sentence boundary. The space keeps it from
#: gluing onto the sentence's own final punctuation ("tout. …", not "tout.…").
ELLIPSIS = " …"

#: The French words an admin is likely to try, and the placeholder each means.
_FRENCH_NAMES = {
    "auteur": "author",
    "autrice": "author",
    "citation": "quote",
    "extrait": "quote",
    "titre": "essay_title",
    "texte": "essay_title",
    "lien": "essay_url",
    "url": "essay_url",
    "question": "prompt",
    "demandeur": "requester",
    "demandeuse": "requester",
    "regles": "rules_url",
    "règles": "rules_url",
    "regle": "rule",
    "règle": "rule",
    "pourquoi": "why",
    "chaleur": "heat",
}

_NAME = re.compile(r"[^\W\d]\w*\Z")


@dataclass(frozen=True)
class Template:
    """A parsed template: its source as the admin wrote it and the placeholders it uses.

    ``fields`` lists each placeholder once, in order of first use, so callers
    can tell which values a template needs (a rule whose template uses
    ``{quote}`` needs a quote) without parsing it again.
    """

    language: str
    source: str
    fields: tuple[str, ...]


# A parsed template is a sequence of pieces: literal text (str) or a field name
# wrapped in _Field, so a literal that happens to read "quote" is never confused
# with the placeholder.
@dataclass(frozen=True, slots=True)
class _Field:
    name: str


_Piece = str | _Field


def _field_error(body: str, column: int) -> str:
    """Explain why ``{body}`` is not an allowed placeholder, in the admin's terms."""
    where = f"at column {column}"
    if body == "" or body.isdigit():
        return (
            f"positional field {{{body}}} {where}: name a placeholder, e.g. {{quote}}"
            " (write {{ and }} for literal braces)"
        )
    for char, what in (
        (".", "attribute access"),
        ("[", "index access"),
        ("!", "conversion"),
        (":", "format spec"),
    ):
        if char in body:
            return (
                f"{what} in {{{body}}} {where} is not allowed: templates may only name"
                " a placeholder"
            )
    if body.strip() != body:
        return f"spaces inside {{{body}}} {where}: write {{{body.strip()}}}"
    if not _NAME.match(body):
        return f"invalid placeholder name {{{body}}} {where}"
    # Placeholders are lower case; {Quote} is a near miss like {qoute}. Admins
    # writing French templates reach for French names first.
    lowered = body.lower()
    close = [_FRENCH_NAMES[lowered]] if lowered in _FRENCH_NAMES else []
    close = close or difflib.get_close_matches(lowered, sorted(PLACEHOLDERS), n=1)
    suggestion = f"did you mean {{{close[0]}}}? " if close else ""
    return (
        f"unknown placeholder {{{body}}} {where}: {suggestion}"
        f"known placeholders are {', '.join(sorted(PLACEHOLDERS))}"
    )


def _parse(source: str) -> tuple[_Piece, ...]:
    """Split ``source`` into literals and fields, or raise ``ValueError``.

    Columns in messages are 1-based, counted in the template text, so an admin
    can find the spot in a long multi-line template.
    """
    pieces: list[_Piece] = []
    literal: list[str] = []
    i = 0
    length = len(source)
    while i < length:
        char = source[i]
        if char == "{":
            if source.startswith("{{", i):
                literal.append("{")
                i += 2
                continue
            end = source.find("}", i + 1)
            reopen = source.find("{", i + 1)
            if end == -1 or (reopen != -1 and reopen < end):
                raise ValueError(
                    f"unbalanced brace: '{{' at column {i + 1} is never closed"
                    " (write {{ for a literal brace)"
                )
            body = source[i + 1 : end]
            if body not in PLACEHOLDERS:
                raise ValueError(_field_error(body, i + 1))
            if literal:
                pieces.append("".join(literal))
                literal = []
            pieces.append(_Field(body))
            i = end + 1
        elif char == "}":
            if source.startswith("}}", i):
                literal.append("}")
                i += 2
                continue
            raise ValueError(
                f"unbalanced brace: '}}' at column {i + 1} closes nothing"
                " (write }} for a literal brace)"
            )
        else:
            # Copy the run of ordinary text up to the next brace in one go.
            stop = min(
                (pos for pos in (source.find("{", i), source.find("}", i)) if pos != -1),
                default=length,
            )
            literal.append(source[i:stop])
            i = stop
    if literal:
        pieces.append("".join(literal))
    return tuple(pieces)


def parse_template(source: str, language: str) -> Template:
    """Parse a template, raising ``ValueError`` with a message an admin can act on."""
    fields: list[str] = []
    for piece in _parse(source):
        if isinstance(piece, _Field) and piece.name not in fields:
            fields.append(piece.name)
    return Template(language=language, source=source, fields=tuple(fields))


def render(template: Template, values: Mapping[str, str]) -> str:
    """Substitute ``values`` into ``template``; nothing is evaluated, nothing re-parsed.

    Raises ``KeyError`` naming the placeholder when a value is missing: a
    silently empty field would post a broken sentence.
    """
    out: list[str] = []
    for piece in _parse(template.source):
        if isinstance(piece, _Field):
            if piece.name not in values:
                raise KeyError(f"no value for placeholder {{{piece.name}}}")
            out.append(values[piece.name])
        else:
            out.append(piece)
    return "".join(out)


def field_counts(template: Template) -> dict[str, int]:
    """How many times each placeholder of ``template`` occurs in it."""
    counts: dict[str, int] = {}
    for piece in _parse(template.source):
        if isinstance(piece, _Field):
            counts[piece.name] = counts.get(piece.name, 0) + 1
    return counts


def count_urls(text: str) -> int:
    """How many URLs the server will weigh at the instance's URL length."""
    # Mastodon.py's copy of the server's URL pattern (twitter-text). There is no
    # public name for it; ``get_status_length`` uses this very object, so
    # counting its matches gives exactly the URLs that were weighed at 23.
    # Imported on first use: Mastodon.py costs a tenth of a second to import,
    # which every command would pay just for importing this module.
    from mastodon._url_regex import url_regex

    return sum(1 for _ in url_regex.finditer(text))


# Characters each of which is a grapheme cluster of its own next to any other
# of them: Latin letters with precomposed accents, ASCII but CR (CR LF is one
# cluster), the typographic punctuation French and English use (’ « » — … and
# the thin no-break space), € and the zero-width space ``neutralise_mentions``
# inserts (a control, so a break on both sides). None of them is a combining
# mark, a joiner, a prepended or spacing mark, a regional indicator or a
# Hangul jamo, the only kinds that glue to a neighbour (UAX #29), so a text
# made of them has as many graphemes as code points.
# tests/text/test_render.py checks every one and every pair against ``grapheme``.
_ONE_CLUSTER_EACH = re.compile("[\x00-\x0c\x0e-\u02ff\u200b\u2010-\u2027\u202f-\u203a\u20ac]*")


def _weigh_url(match: re.Match[str]) -> str:
    # What ``Mastodon.get_status_length`` puts in a URL's place: the character
    # before it (the pattern takes it as context) and 23 letters.
    return match.group(2) + "x" * DEFAULT_URL_LENGTH


#: A remote mention, which the server counts as its local part: the pattern
#: ``Mastodon.get_status_length`` applies once URLs are weighed.
_REMOTE_MENTION = re.compile(r"(^|[^/\w])@(([a-z0-9_]+)@[a-z0-9\.\-]+[a-z0-9]+)", re.IGNORECASE)


def _plain_length(text: str, url_length: int) -> int | None:
    """The server's length of ``text`` when counting code points gives it, else None.

    Once each URL stands as 23 letters and each remote mention as its local
    part (as ``Mastodon.get_status_length`` has them), a text made only of
    characters that stand alone has as many graphemes as code points. That
    is most quotes, prompts, links and replies (which open with the
    requester's handle), and counting them is the bulk of loading a catalog
    and of fitting a reply.
    """
    urls = 0
    if "://" in text:  # the URL pattern needs http:// or https://
        from mastodon._url_regex import url_regex  # see count_urls

        text, urls = url_regex.subn(_weigh_url, text)
    if "@" in text:
        text = _REMOTE_MENTION.sub(r"\1@\3", text)
    if not _ONE_CLUSTER_EACH.fullmatch(text):
        return None
    return len(text) + urls * (url_length - DEFAULT_URL_LENGTH)


def status_length(
    text: str, spoiler_text: str = "", *, url_length: int = DEFAULT_URL_LENGTH
) -> int:
    """The length the server counts for this status: graphemes of text and CW,
    every URL in the text as ``url_length`` (the instance's
    ``characters_reserved_per_url``), ``@user@domain`` as ``@user``.

    ``Mastodon.get_status_length`` hard-codes 23 per URL; the difference is
    added back per URL it found. Text it would count one code point per
    grapheme is counted with ``len`` (see ``_plain_length``).
    """
    plain = _plain_length(text, url_length)
    if plain is not None and _ONE_CLUSTER_EACH.fullmatch(spoiler_text):
        return plain + len(spoiler_text)
    from mastodon import Mastodon  # see count_urls

    length: int = Mastodon.get_status_length(text, spoiler_text)
    if url_length != DEFAULT_URL_LENGTH:
        length += count_urls(text) * (url_length - DEFAULT_URL_LENGTH)
    return length


# An ``@`` starts a mention on the server when it is not preceded by a word
# character, ``/`` or ``=`` (so e-mail addresses and profile URLs are left
# alone) and is followed by a username character. Neutralising more than the
# server would link is harmless; neutralising less would notify a stranger.
_MENTION_AT = re.compile(r"(?<![\w/=])@(?=\w)")

ZERO_WIDTH_SPACE = "\u200b"


def neutralise_mentions(text: str) -> str:
    """Put a zero-width space after every ``@`` that could start a mention.

    The text still reads the same, but the server no longer sees a mention,
    so a quote or a user's words cannot notify (or, in a private or direct
    post, add as a recipient) anyone the bot was not asked to answer
    (DESIGN invariant 4).
    """
    return _MENTION_AT.sub("@" + ZERO_WIDTH_SPACE, text)


# A sentence ends at . ! ? or … , possibly followed by closing quotes or
# brackets (French typography puts a space before » and after « ), and then
# by whitespace and something that can open a sentence. Requiring that next
# character keeps « Ce n’est pas la même chose ! », criaient-iels… in one
# piece: the "!" there does not end the sentence.
_SENTENCE_END = re.compile(
    r"[.!?…]+(?:[\s\u00a0\u202f]*[»”’\"')\]])*(?=\s+[«“\"'(\[\w]|\s*\Z)",
)


def sentence_ends(text: str) -> list[int]:
    """Offsets just after each sentence ending in ``text``, in order."""
    ends: list[int] = []
    for match in _SENTENCE_END.finditer(text):
        following = text[match.end() :].lstrip()
        # « … ? » se demandait-elle: a lower-case word carries the sentence on.
        if following and following[0].islower():
            continue
        ends.append(match.end())
    return ends


def _balanced(text: str) -> bool:
    """False when a « or “ is left open: a cut there would misquote."""
    return text.count("«") <= text.count("»") and text.count("“") <= text.count("”")


def shorten_at_sentence(
    text: str, max_length: int, *, url_length: int = DEFAULT_URL_LENGTH
) -> str | None:
    """The longest form of ``text`` that fits ``max_length`` without cutting a sentence.

    ``text`` itself when it fits; otherwise the longest prefix ending at a
    sentence boundary, followed by :data:`ELLIPSIS`, whose length (as
    :func:`status_length` counts it) fits; ``None`` when not even the first
    sentence does. A prefix that would leave a quotation mark open is not a
    boundary. Never cuts inside a word (DESIGN invariant 8).
    """
    text = text.strip()
    if status_length(text, url_length=url_length) <= max_length:
        return text
    for end in reversed(sentence_ends(text)):
        prefix = text[:end].rstrip()
        if not _balanced(prefix):
            continue
        candidate = prefix + ELLIPSIS
        if status_length(candidate, url_length=url_length) <= max_length:
            return candidate
    return None


def shortest_form(text: str, *, url_length: int = DEFAULT_URL_LENGTH) -> str:
    """The shortest text :func:`shorten_at_sentence` can ever return for ``text``.

    Used at load time to tell whether a template can fit at all.
    """
    text = text.strip()
    best = text
    best_length = status_length(text, url_length=url_length)
    for end in sentence_ends(text):
        prefix = text[:end].rstrip()
        if prefix == text or not _balanced(prefix):
            continue
        candidate = prefix + ELLIPSIS
        length = status_length(candidate, url_length=url_length)
        if length < best_length:
            best, best_length = candidate, length
        break
    return best
