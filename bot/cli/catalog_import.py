"""``filrouge catalog import URL``: a draft catalog entry from an essay's web page.

The page is fetched (or read from a saved file), its article extracted, and
a TOML draft written with the essay's metadata and candidate quotes for an
admin to curate, with draft concepts when ``yake`` is installed (``--concepts``);
see ``bot.catalog.importer``. The draft goes to ``--out`` (default
``<essay id>.draft.toml``), or to standard output with ``--out -``; an
existing file is replaced only with ``--force``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url",
        metavar="URL",
        help="the essay's web address, or a saved page (a path or a file:// URL)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="where to write the draft (default: <essay id>.draft.toml; '-' for stdout)",
    )
    parser.add_argument(
        "--id",
        dest="essay_id",
        metavar="ID",
        default=None,
        help="the essay's id in the catalog (default: from its URL or title)",
    )
    parser.add_argument(
        "--max-quote-length",
        metavar="N",
        type=int,
        default=None,
        help="longest candidate quote, in characters as the server counts them"
        " (default: what the rules' quote templates leave of FILROUGE_MAX_CHARACTERS)",
    )
    parser.add_argument(
        "--concepts",
        metavar="N",
        type=int,
        default=12,
        help="draft up to N concepts from the essay's text, with yake (the 'draft' extra)"
        " and the bundled lexicon; 0 drafts none (default: 12)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --out file")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from bot.catalog.essays import load_catalog
    from bot.catalog.importer.draft import ExistingCatalog, draft_toml, make_draft, write_new
    from bot.catalog.importer.extract import extract
    from bot.catalog.importer.ids import valid_id
    from bot.catalog.importer.page import ImportFailed, Progress, load_page
    from bot.errors import ConfigError
    from bot.settings import Settings

    if args.essay_id is not None and not valid_id(args.essay_id):
        print(
            f"filrouge: --id {args.essay_id!r}: use letters, digits, '-', '_' or '.'",
            file=sys.stderr,
        )
        return 2
    if args.max_quote_length is not None and args.max_quote_length < 20:
        print("filrouge: --max-quote-length must be at least 20", file=sys.stderr)
        return 2
    if args.concepts < 0:
        print("filrouge: --concepts must be 0 or more", file=sys.stderr)
        return 2
    if args.out not in (None, "-") and Path(args.out).exists() and not args.force:
        # Said before fetching anything; write_new checks again, atomically.
        print(f"filrouge: {args.out} exists; use --force to replace it", file=sys.stderr)
        return 2
    settings = Settings.read(args.env_file)
    progress = Progress(sys.stderr, quiet=args.quiet)
    # The current catalog, when it loads, tells which ids and URLs are taken;
    # a broken one is check-config's business, not a reason to refuse a draft.
    try:
        known = load_catalog(settings.catalog_path)
        existing = ExistingCatalog.of(known.essays, known.concepts)
    except ConfigError:
        existing = ExistingCatalog()
    try:
        page = load_page(
            args.url,
            user_agent=settings.user_agent,
            timeout=settings.request_timeout,
            progress=progress,
        )
        progress.stage(f"extracting the article ({len(page.html) / 1000:.0f} kB of HTML)…")
        article = extract(page)
        progress.stage(f"cutting {len(article.paragraphs)} paragraphs into quotes…")
        draft = make_draft(
            article,
            source=page.source,
            max_characters=settings.max_characters,
            url_length=settings.characters_per_url,
            default_language=settings.language,
            rules_path=settings.rules_path,
            essay_id=args.essay_id,
            max_quote_length=args.max_quote_length,
            existing=existing,
            concepts=args.concepts,
        )
    except ImportFailed as error:
        progress.end()
        print(f"filrouge: {error}", file=sys.stderr)
        return 1
    text = draft_toml(draft, today=datetime.now(UTC).date())
    count = len(draft.passages.candidates)
    summary = (
        f"{count} candidate quotes (each ≤ {draft.budget.max_length} characters)"
        f" from {len(article.paragraphs)} paragraphs"
        + (f", {len(draft.concepts)} draft concepts" if draft.concepts else "")
    )
    if args.out == "-":
        sys.stdout.write(text)
        progress.done(summary)
    else:
        out = Path(args.out) if args.out else Path(f"{draft.essay_id}.draft.toml")
        try:
            write_new(out, text, force=args.force)
        except FileExistsError as error:
            progress.end()
            print(f"filrouge: {error}", file=sys.stderr)
            return 2
        except OSError as error:
            progress.end()
            print(f"filrouge: {out}: cannot write: {error.strerror or error}", file=sys.stderr)
            return 1
        progress.done(f"{summary}, written to {out}")
    for warning in draft.warnings:
        print(f"review: {warning}", file=sys.stderr)
    return 0
