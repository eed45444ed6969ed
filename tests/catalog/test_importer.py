"""Tests for bot.importer and ``filrouge catalog import``.

Offline: pages are read from tests/data/import/, or served by a real HTTP
server on 127.0.0.1 to exercise the httpx path (redirects, size cap, content
type). The drafts are checked by the catalog's own loader, and the quotes by
the server's way of counting a status, with the bundled rules' templates.
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app.wiring import policy_from_settings
from bot.catalog.essays import load_catalog
from bot.catalog.fit import ASSUMED_REQUESTER
from bot.catalog.importer.draft import (
    ExistingCatalog,
    draft_toml,
    make_draft,
    text_fragment,
    toml_string,
)
from bot.catalog.importer.extract import Article, extract
from bot.catalog.importer.page import (
    MIN_QUOTE_LENGTH,
    ImportFailed,
    Page,
    Progress,
    fetch,
    load_page,
    read_local,
)
from bot.catalog.importer.quotes import candidate_quotes, quote_budget, quote_templates, sentences
from bot.cli.main import main
from bot.settings import DATA_DIR, Settings
from bot.text.render import (
    neutralise_mentions,
    parse_template,
    render,
    sentence_ends,
    status_length,
)

DATA = Path(__file__).parents[1] / "data" / "import"
PAGE = DATA / "carnets_sobriete.html"
CANONICAL = "https://carnets.example.org/2025/03/sobriete-numerique-petit-geste/"
BUNDLED_RULES = DATA_DIR / "rules.toml"
TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the defaults only: no .env, no FILROUGE_* from the shell."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("FILROUGE_"):
            monkeypatch.delenv(name)


def article() -> Article:
    return extract(read_local(str(PAGE)))


def draft_for(art: Article | None = None, **options: object) -> str:
    art = art or article()
    settings: dict[str, object] = {
        "source": str(PAGE),
        "max_characters": 500,
        "url_length": 23,
        "default_language": "fr",
        "rules_path": BUNDLED_RULES,
    }
    settings.update(options)
    return draft_toml(make_draft(art, **settings), today=TODAY)  # type: ignore[arg-type]


# -- extraction ------------------------------------------------------------------------


def test_extracts_metadata_of_the_saved_page() -> None:
    art = article()
    assert art.title == "Sobriété numérique : le mythe du petit geste"
    assert art.author == "Claire Vasseur"
    # <link rel=canonical>, not the file it was read from
    assert art.url == CANONICAL
    # <html lang="fr-FR">
    assert art.language == "fr"
    assert art.published == "2025-03-02"
    assert art.site_name == "Les Carnets de Claire"


def test_keeps_the_article_and_drops_the_boilerplate() -> None:
    paragraphs = article().paragraphs
    assert paragraphs[0].startswith("Il y a quelques semaines, une amie m’a confié")
    assert paragraphs[-2].startswith("Alors, à mon amie")
    # 11 paragraphs of text, the block quote, the acknowledgement line
    assert len(paragraphs) == 12
    text = "\n".join(paragraphs)
    for boilerplate in (
        "traceur publicitaire",  # cookie banner
        "Archives",  # navigation
        "Je m’abonne",  # newsletter form
        "Recevez les prochains carnets",
        "Copier le lien",  # share buttons
        "La réparation comme politique",  # "À lire aussi"
        "ça déculpabilise",  # comments
        "Mentions légales",  # footer
        "D’où viennent les chiffres",  # headings are not quotes
    ):
        assert boilerplate not in text, boilerplate


def test_inline_markup_is_read_as_text() -> None:
    page = Page(
        html=(
            "<html lang='en'><head><title>On slowness</title></head><body><article>"
            "<h1>On slowness</h1>"
            + "<p>Libraries <em>are</em> slow on purpose. They keep books for decades.</p>"
            * 3
            + "<p>A <a href='/x'>loan</a> is a promise between strangers, kept for weeks.</p>"
            "</article></body></html>"
        ),
        source="inline",
        url="https://letters.example.net/p/slow",
    )
    art = extract(page)
    assert art.language == "en"
    assert "Libraries are slow on purpose." in art.paragraphs[0]
    assert "A loan is a promise between strangers, kept for weeks." in art.paragraphs
    # Without <link rel=canonical> the page's own address stands in.
    assert art.url == "https://letters.example.net/p/slow"


def test_a_page_without_an_article_is_a_clear_error() -> None:
    page = Page(html="<html><body><nav><a href='/'>Accueil</a></nav></body></html>", source="x")
    with pytest.raises(ImportFailed, match="no article"):
        extract(page)


def test_missing_language_and_author_are_assumed_and_flagged() -> None:
    art = Article(
        title="Un essai",
        author=None,
        url="https://blog.example/un-essai/",
        language=None,
        published=None,
        paragraphs=("Une phrase assez longue pour faire une citation qui tienne debout. " * 2,),
        site_name="Le blog",
    )
    text = draft_for(art)
    assert '# REVIEW: no author found on the page: "Le blog" is the site\'s name' in text
    assert '# REVIEW: the page does not give its language: "fr" is assumed' in text
    essay = tomllib.loads(text)["essays"][0]
    assert (essay["author"], essay["language"]) == ("Le blog", "fr")


# -- the budget ---------------------------------------------------------------------


def test_budget_is_measured_on_the_rules_quote_templates() -> None:
    templates = quote_templates(BUNDLED_RULES)
    assert templates, "the bundled rules have quote templates"
    budget = quote_budget(
        max_characters=500,
        url_length=23,
        author="Claire Vasseur",
        title="t",
        url=CANONICAL,
        templates=templates,
    )
    assert budget.max_length + budget.overhead == 500
    # Every quote template, filled with a quote of exactly that length, fits.
    quote = "x" * budget.max_length
    for label, source in templates:
        values = dict.fromkeys(parse_template(source, "fr").fields, "")
        values.update(requester=ASSUMED_REQUESTER, author="Claire Vasseur", quote=quote)
        values.update(quote_url=CANONICAL, essay_url=CANONICAL, essay_title="t", essays="t")
        assert status_length(render(parse_template(source, "fr"), values)) <= 500, label
    # …and the tightest one has no room to spare.
    assert budget.template in {label for label, _ in templates}


def test_budget_without_a_readable_rules_file_uses_a_typical_template(tmp_path: Path) -> None:
    assert quote_templates(tmp_path / "missing.toml") == []
    budget = quote_budget(
        max_characters=500, url_length=23, author="A", title="t", url=CANONICAL, templates=[]
    )
    assert budget.template == "typical template"
    assert 0 < budget.overhead < 120


def test_budget_follows_the_instance_limits() -> None:
    small = quote_budget(max_characters=300, url_length=23, author="A", title="t", url=CANONICAL)
    large = quote_budget(max_characters=1000, url_length=23, author="A", title="t", url=CANONICAL)
    assert large.max_length - small.max_length == 700


# -- candidate quotes -----------------------------------------------------------------


def test_the_sample_page_gives_thirteen_candidates_that_fit() -> None:
    art = article()
    draft = make_draft(
        art,
        source=str(PAGE),
        max_characters=500,
        url_length=23,
        default_language="fr",
        rules_path=BUNDLED_RULES,
    )
    budget = draft.budget
    candidates = draft.passages.candidates
    # Measured: 12 paragraphs → 13 passages (the first and the ninth are cut
    # in two; the one-line acknowledgement is too short to quote).
    assert budget.max_length == 402
    assert len(candidates) == 13
    assert draft.passages.too_short == 1
    assert draft.passages.too_long == ()
    assert len({c.id for c in candidates}) == len(candidates)
    for candidate in candidates:
        paragraph = art.paragraphs[candidate.paragraph - 1]
        # verbatim, whole sentences: it starts a sentence and ends at a sentence end
        start = paragraph.index(candidate.text)
        end = start + len(candidate.text)
        assert start == 0 or paragraph[start - 1] == " "
        assert end in sentence_ends(paragraph) or end == len(paragraph)
        assert MIN_QUOTE_LENGTH <= status_length(candidate.text) <= 402
        assert candidate.id.isascii()


def test_passages_cut_evenly_rather_than_full_then_scrap() -> None:
    sentence = "Une phrase de longueur moyenne, assez pour compter ici."  # 55 characters
    paragraph = " ".join([sentence] * 5)
    passages = candidate_quotes([paragraph], max_length=200, min_length=20)
    lengths = [c.length for c in passages.candidates]
    # Five sentences in 200 characters: two runs, three and two, not 3 + 2 scraps.
    assert len(lengths) == 2
    assert sorted(lengths) == [111, 167]
    assert " ".join(c.text for c in passages.candidates) == paragraph


def test_a_sentence_too_long_alone_is_left_out_and_reported() -> None:
    long_sentence = "Elle " + "parle longuement " * 20 + "sans jamais s’arrêter."
    paragraph = (
        f"Première phrase, courte mais entière. {long_sentence} Dernière phrase, elle aussi."
    )
    passages = candidate_quotes([paragraph], max_length=120, min_length=10)
    assert passages.too_long == (long_sentence,)
    assert [c.text for c in passages.candidates] == [
        "Première phrase, courte mais entière.",
        "Dernière phrase, elle aussi.",
    ]


def test_a_passage_never_ends_inside_a_quotation() -> None:
    paragraph = (
        "D’un côté, celleux qui refusaient l’amalgame. « Ce n’est pas la même chose ! Vraiment"
        " pas. » criaient-iels. De l’autre, celleux qui défendaient l’idée inverse."
    )
    pieces = sentences(paragraph)
    assert pieces == [
        "D’un côté, celleux qui refusaient l’amalgame.",
        "« Ce n’est pas la même chose ! Vraiment pas. » criaient-iels.",
        "De l’autre, celleux qui défendaient l’idée inverse.",
    ]
    passages = candidate_quotes([paragraph], max_length=70, min_length=10)
    for candidate in passages.candidates:
        assert candidate.text.count("«") == candidate.text.count("»")


def test_short_paragraphs_are_not_candidates() -> None:
    passages = candidate_quotes(["Merci à Inès.", "Fin."], max_length=400)
    assert passages.candidates == ()
    assert passages.too_short == 2


def test_ids_are_readable_unique_and_avoid_the_catalog() -> None:
    text = "Le petit geste a une fonction morale plus qu’écologique, et c’est bien le problème."
    passages = candidate_quotes([text, text], max_length=400, taken={"petit-geste-fonction"})
    assert [c.id for c in passages.candidates] == [
        "petit-geste-fonction-2",
        "petit-geste-fonction-3",
    ]


def test_urls_count_as_the_instance_says() -> None:
    paragraph = (
        "Tout est expliqué sur https://example.org/un/chemin/vraiment/tres/long/vers/la/page/"
        "qui/ne/finit/plus/jamais/de/continuer.html et nulle part ailleurs."
    )
    assert len(paragraph) > 120
    passages = candidate_quotes([paragraph], max_length=120, url_length=23, min_length=10)
    assert len(passages.candidates) == 1
    assert passages.candidates[0].length == status_length(paragraph)


# -- the draft ---------------------------------------------------------------------------


def test_draft_loads_on_its_own_and_appended_to_the_bundled_catalog(tmp_path: Path) -> None:
    text = draft_for()
    alone = tmp_path / "draft.toml"
    alone.write_text(text, encoding="utf-8")
    catalog = load_catalog(alone)
    (essay,) = catalog.essays
    assert essay.id == "sobriete-numerique-petit-geste"
    assert essay.url == CANONICAL
    assert len(essay.quotes) == 13
    assert all(q.tags == () and q.keywords == () for q in essay.quotes)
    assert essay.prompts == ()

    appended = tmp_path / "catalog.toml"
    bundled = (DATA_DIR / "catalog.toml").read_text(encoding="utf-8")
    appended.write_text(bundled + "\n" + text, encoding="utf-8")
    both = load_catalog(appended)
    assert [e.id for e in both.essays] == ["ia-probleme", "sobriete-numerique-petit-geste"]
    found = both.essay_by_url(
        "http://www.carnets.example.org/2025/03/sobriete-numerique-petit-geste?utm_source=x"
    )
    assert found is not None and found.id == "sobriete-numerique-petit-geste"


def test_draft_comments_tell_the_admin_what_to_review() -> None:
    text = draft_for()
    assert text.startswith(
        "# DRAFT catalog entry, written by `filrouge catalog import` on 2026-11-26"
    )
    assert "KEEP ONLY those that stand on their own" in text
    assert "Never edit the words" in text
    assert "# 13 candidate quotes from 12 paragraphs." in text
    assert "# published 2025-03-02" in text
    # No generated prompt: only a commented example.
    assert "\n[[essays.prompts]]" not in text
    assert "# [[essays.prompts]]" in text
    assert "# paragraph 1 · 287/402 characters" in text


def test_anchor_links_use_a_text_fragment() -> None:
    link = text_fragment(CANONICAL + "#old", "Autrement dit, le geste-là n’est pas utile & rare.")
    assert link == (
        CANONICAL + "#:~:text=Autrement%20dit%2C%20le%20geste%2Dl%C3%A0%20n%E2%80%99est"
    )


def test_draft_avoids_ids_and_reports_a_url_the_catalog_already_has() -> None:
    existing = load_catalog(DATA_DIR / "catalog.toml")
    art = article()
    clash = Article(
        title=art.title,
        author=art.author,
        url="https://www.mail.paulineharmange.fr/archive/ia-probleme?utm_source=x",
        language="fr",
        published=None,
        paragraphs=art.paragraphs,
    )
    text = draft_for(clash, existing=ExistingCatalog.of(existing.essays))
    assert '# REVIEW: the catalog already has this URL, as essay "ia-probleme"' in text
    essay = tomllib.loads(text)["essays"][0]
    # the URL's last segment would be "ia-probleme", which is taken
    assert essay["id"] == "ia-probleme-2"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_toml_strings_round_trip(value: str) -> None:
    assert tomllib.loads(f"x = {toml_string(value)}")["x"] == value


# -- progress --------------------------------------------------------------------------


@dataclass
class _Stream:
    tty: bool
    written: list[str] = field(default_factory=list)

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return self.tty


def test_progress_off_a_terminal_prints_stages_only() -> None:
    stream = _Stream(tty=False)
    progress = Progress(stream)  # type: ignore[arg-type]
    progress.stage("fetching…")
    progress.update("fetching… 12.0 kB")
    progress.done("42 candidate quotes")
    assert "".join(stream.written) == "fetching…\n42 candidate quotes\n"


def test_progress_on_a_terminal_rewrites_its_line() -> None:
    stream = _Stream(tty=True)
    progress = Progress(stream)  # type: ignore[arg-type]
    progress.stage("fetching…")
    progress.update("fetching… 12.0 kB")
    progress.done("done")
    assert "".join(stream.written) == "fetching…\r\x1b[Kfetching… 12.0 kB\ndone\n"


# -- over HTTP (loopback) ------------------------------------------------------------------


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


class PageServer:
    """A real HTTP server on 127.0.0.1 answering from a table of routes."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path, Route(404, b"not found"))
                self.send_response(route.status)
                headers = {"Content-Type": "text/html; charset=utf-8", **route.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def serve() -> Iterator[PageServer]:
    server = PageServer({})
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_fetch_follows_a_redirect_and_sends_the_user_agent(serve: PageServer) -> None:
    serve.routes["/p/123"] = Route(301, headers={"Location": "/2025/03/essai/"})
    serve.routes["/2025/03/essai/"] = Route(body=PAGE.read_bytes())
    page = fetch(serve.url("/p/123"), user_agent="fil-rouge-test/1", timeout=5)
    assert page.url == serve.url("/2025/03/essai/")
    assert [path for path, _ in serve.requests] == ["/p/123", "/2025/03/essai/"]
    assert serve.requests[0][1]["User-Agent"] == "fil-rouge-test/1"
    art = extract(page)
    # The canonical link wins over the address it was served from.
    assert art.url == CANONICAL
    assert len(art.paragraphs) == 12


def test_cli_imports_over_http(
    serve: PageServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve.routes["/essai"] = Route(body=PAGE.read_bytes())
    out = tmp_path / "essai.toml"
    assert main(["catalog", "import", serve.url("/essai"), "--out", str(out)]) == 0
    assert serve.requests[0][1]["User-Agent"] == Settings().user_agent
    err = capsys.readouterr().err
    assert f"fetching {serve.url('/essai')}…" in err
    assert "13 candidate quotes (each ≤ 402 characters) from 12 paragraphs" in err
    assert len(load_catalog(out).essays[0].quotes) == 13


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (Route(404, b"gone"), "HTTP 404"),
        (Route(body=b"%PDF-1.7", headers={"Content-Type": "application/pdf"}), "not a web page"),
        (Route(body=b"<p>" + b"x" * 5000 + b"</p>"), "larger than 4096 bytes"),
        (Route(302, headers={"Location": "/loop"}), "more than 5 redirects"),
    ],
    ids=["not found", "not html", "too big", "redirect loop"],
)
def test_fetch_refuses_with_a_clear_error(serve: PageServer, route: Route, message: str) -> None:
    serve.routes["/loop"] = route
    with pytest.raises(ImportFailed, match=message):
        fetch(serve.url("/loop"), user_agent="t", timeout=5, max_bytes=4096)
    if message.startswith("more than"):
        # the first request and five redirects, then it stops
        assert len(serve.requests) == 6


def test_fetch_timeout_is_a_clear_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ImportFailed, match=r"no answer within 2 s"):
        fetch(
            "https://blog.example/essai",
            user_agent="t",
            timeout=2,
            transport=httpx.MockTransport(slow),
        )


def test_only_web_and_file_addresses_are_imported() -> None:
    with pytest.raises(ImportFailed, match="only http"):
        fetch("ftp://blog.example/essai", user_agent="t", timeout=2)


# -- the command ------------------------------------------------------------------------------


def test_cli_writes_the_draft_and_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "import", str(PAGE)]) == 0
    written = tmp_path / "sobriete-numerique-petit-geste.draft.toml"
    assert load_catalog(written).essays[0].id == "sobriete-numerique-petit-geste"
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"reading {PAGE}…",
        "extracting the article (10 kB of HTML)…",
        "cutting 12 paragraphs into quotes…",
        "13 candidate quotes (each ≤ 402 characters) from 12 paragraphs, 12 draft concepts,"
        " written to sobriete-numerique-petit-geste.draft.toml",
    ]

    written.write_text("# the admin's curated work\n", encoding="utf-8")
    assert main(["catalog", "import", str(PAGE)]) == 2
    assert "exists; use --force" in capsys.readouterr().err
    assert written.read_text(encoding="utf-8") == "# the admin's curated work\n"

    out = tmp_path / "mine.toml"
    out.write_text("# keep me\n", encoding="utf-8")
    assert main(["catalog", "import", str(PAGE), "--out", str(out)]) == 2
    assert "mine.toml exists; use --force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "# keep me\n"
    assert main(["catalog", "import", str(PAGE), "--out", str(out), "--force", "--quiet"]) == 0
    assert load_catalog(out).essays[0].quotes
    assert capsys.readouterr().err == ""


def test_cli_file_url_id_and_length_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "catalog",
            "import",
            PAGE.as_uri(),
            "--out",
            "-",
            "--id",
            "petit-geste",
            "--max-quote-length",
            "150",
        ]
    )
    assert code == 0
    data = tomllib.loads(capsys.readouterr().out)
    (essay,) = data["essays"]
    assert essay["id"] == "petit-geste"
    assert len(essay["quotes"]) > 13
    assert all(status_length(q["text"]) <= 150 for q in essay["quotes"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--id", "petit geste"], "--id 'petit geste'"),
        (["--max-quote-length", "5"], "at least 20"),
        (["--concepts", "-1"], "--concepts must be 0 or more"),
    ],
)
def test_cli_rejects_bad_options(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "import", str(PAGE), *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_reports_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["catalog", "import", str(tmp_path / "nope.html"), "--quiet"]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_load_page_reads_paths_and_file_urls() -> None:
    by_path = load_page(str(PAGE), user_agent="t", timeout=1)
    by_url = load_page(PAGE.as_uri(), user_agent="t", timeout=1)
    assert by_path.html == by_url.html
    assert by_path.url is None


def test_a_quote_is_measured_as_posted_with_mentions_neutralised() -> None:
    paragraph = "Écrivez à @claire@carnets.example pour en parler, elle répond toujours."
    (candidate,) = candidate_quotes([paragraph], max_length=400).candidates
    # Posted raw, the server would count "@claire" for the whole handle; the
    # bot neutralises it (a zero-width space after the @), so all of it counts.
    assert candidate.length == status_length(neutralise_mentions(paragraph))
    assert candidate.length > status_length(paragraph)
    assert candidate.text == paragraph


def test_a_block_quote_of_bare_text_is_a_paragraph() -> None:
    page = Page(
        html=(
            "<html lang='fr'><body><article><blockquote>Une citation sans paragraphe, assez"
            " longue pour être gardée telle quelle. Et une deuxième phrase.</blockquote>"
            "<p>Un paragraphe normal, avec du texte, encore du texte et toujours du texte.</p>"
            "<ul><li><p>Un point de liste, en paragraphe, assez long pour compter aussi.</p></li>"
            "</ul></article></body></html>"
        ),
        source="inline",
    )
    assert extract(page).paragraphs == (
        "Une citation sans paragraphe, assez longue pour être gardée telle quelle."
        " Et une deuxième phrase.",
        "Un paragraphe normal, avec du texte, encore du texte et toujours du texte.",
        "Un point de liste, en paragraphe, assez long pour compter aussi.",
    )


def _posted_quotes(tmp_path: Path, draft: str, url: str, essay_id: str) -> list[str]:
    """With ``draft`` appended to the bundled catalog, ask the bot for a quote
    again and again in one thread (from a 30-character handle, the longest
    the budget assumes) and return each reply, checking it is posted whole."""
    from datetime import UTC, datetime

    from bot.catalog.load import load_config
    from bot.decide.decision import decide
    from bot.decide.trace import Inputs
    from bot.model.decision import History, Reply
    from bot.model.post import Account, Mention, Post, Thread
    from bot.text.plain import plain_to_text
    from bot.understand.thread import find_essay

    catalog = tmp_path / "catalog.toml"
    bundled = (DATA_DIR / "catalog.toml").read_text(encoding="utf-8")
    catalog.write_text(bundled + "\n" + draft, encoding="utf-8")
    settings = Settings(catalog_path=catalog)
    # the same loader as check-config: the rules accept the new essay
    config = load_config(settings)
    essay = config.catalog.essay(essay_id)
    assert essay is not None
    now = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    # A local handle counts whole (a remote one only up to its second @).
    handle = "x" * 30
    post = Post(
        id="1",
        account=Account(id="2", acct=handle, username=handle),
        content=plain_to_text(f"@filrouge citation {url}"),
        created_at=now,
        language="fr",
    )
    mention = Mention(notification_id="1", post=post)
    match = find_essay(mention, Thread(), config, threshold=settings.essay_threshold)
    assert match.essay == essay
    posted: list[str] = []
    replies: list[str] = []
    for _ in essay.quotes:
        inputs = Inputs(
            mention=mention,
            thread=Thread(),
            essay=match,
            config=config,
            history=History(thread_quote_ids=frozenset(posted)),
            policy=policy_from_settings(settings, self_id="0"),
            now=now,
        )
        decision = decide(inputs).decision
        assert isinstance(decision, Reply), decision
        assert decision.rule == "citation"
        quote = config.catalog.quote(decision.quote_id or "")
        assert quote is not None and quote.essay_id == essay.id
        # whole: the bot did not have to cut it at a sentence with "…"
        assert quote.text in decision.text
        assert status_length(decision.text) <= 500
        posted.append(quote.id)
        replies.append(decision.text)
    assert sorted(posted) == sorted(q.id for q in essay.quotes)
    return replies


def test_every_candidate_is_posted_whole_by_the_bundled_rules(tmp_path: Path) -> None:
    replies = _posted_quotes(tmp_path, draft_for(), CANONICAL, "sobriete-numerique-petit-geste")
    assert len(replies) == 13


def test_the_budget_is_exact(tmp_path: Path) -> None:
    # One sentence of exactly the budget, and one a character longer.
    def sentence(length: int) -> str:
        words = "Une phrase faite de mots ordinaires"
        text = (words + " ") * (length // (len(words) + 1))
        return (text + "x" * length)[: length - 1].rstrip() + "."

    fits, over = sentence(402), sentence(403)
    assert (status_length(fits), status_length(over)) == (402, 403)
    art = Article(
        title="Un essai",
        author="Claire Vasseur",
        url="https://carnets.example.org/un-essai/",
        language="fr",
        published=None,
        paragraphs=(fits, over),
    )
    draft = make_draft(
        art,
        source="inline",
        max_characters=500,
        url_length=23,
        default_language="fr",
        rules_path=BUNDLED_RULES,
    )
    assert draft.budget.max_length == 402
    assert [c.text for c in draft.passages.candidates] == [fits]
    assert draft.passages.too_long == (over,)
    (reply,) = _posted_quotes(
        tmp_path, draft_toml(draft, today=TODAY), art.url or "", draft.essay_id
    )
    # the tightest template, filled to the last character the server allows
    assert status_length(reply) == 500


LIBRARY_PAGE = DATA / "long_loan_library.html"


def test_a_newsletter_page_without_a_canonical_link() -> None:
    # og:url stands in for <link rel=canonical>; the author is only in JSON-LD;
    # the subscription box in the middle of the text is not a paragraph.
    art = extract(read_local(str(LIBRARY_PAGE)))
    assert art.title == "The Library Is Not a Warehouse"
    assert art.author == "Tomas Ferreira"
    assert art.url == "https://letters.example.net/p/the-library-is-not-a-warehouse"
    assert (art.language, art.published, art.site_name) == ("en", "2025-02-11", "The Long Loan")
    assert len(art.paragraphs) == 9
    text = "\n".join(art.paragraphs)
    for boilerplate in ("Subscribe", "Thanks for reading", "Comments", "The figures did improve"):
        assert boilerplate not in text, boilerplate


@pytest.mark.parametrize(
    ("page", "essay_id"),
    [(PAGE, "petit-geste"), (LIBRARY_PAGE, "slow-library")],
)
def test_curated_quotes_of_the_test_catalog_are_import_candidates(
    page: Path, essay_id: str
) -> None:
    # tests/data/catalogs/three_essays.toml was curated from these drafts:
    # each of its quotes is one of the candidates, word for word.
    catalog = load_catalog(Path(__file__).parents[1] / "data" / "catalogs" / "three_essays.toml")
    essay = catalog.essay(essay_id)
    assert essay is not None
    art = extract(read_local(str(page)))
    assert art.url == essay.url
    draft = make_draft(
        art,
        source=str(page),
        max_characters=500,
        url_length=23,
        default_language="fr",
        rules_path=BUNDLED_RULES,
    )
    candidates = {c.text for c in draft.passages.candidates}
    for quote in essay.quotes:
        assert quote.text in candidates, quote.id
