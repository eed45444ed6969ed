"""Import an essay from its web page into a draft catalog entry.

``filrouge catalog import URL`` is the admin's starting point for a new
essay: it fetches the page, keeps the article and drops the rest (menus,
share buttons, comments, footers), and writes a TOML draft with the essay's
metadata and candidate quotes. The bot never posts the draft as it is: the
admin keeps the quotes that stand on their own, tags them, and writes the
reading prompts — no text here is generated, every candidate is a verbatim
run of whole sentences from the page.

The steps, each a function a test can call on its own:

1. :func:`fetch` (httpx: timeout, size cap, bounded redirects) or
   :func:`read_local` (a saved page, for offline use) → :class:`Page`;
2. :func:`extract` → :class:`Article` (title, author, canonical URL,
   language, date, main-text paragraphs), by ``trafilatura``, a maintained
   main-content extractor, with the page's own ``<html lang>`` and ``og:``
   metadata as fallbacks;
3. :func:`quote_budget` → how long a quote may be so that a status made from
   the rules' quote templates still fits ``max_characters``, measured with
   :func:`bot.text.render.status_length` exactly as the bot counts its replies;
4. :func:`candidate_quotes` → sentence-bounded passages within that budget;
5. :func:`draft_concepts` → concepts the candidates share, from the essay's
   central words (YAKE!, the ``draft`` extra) and the bundled lexicon;
6. :func:`draft_toml` → the draft, which :func:`bot.catalog.essays.load_catalog`
   accepts as it is.

Fetching is the admin's own request for a page they chose, not a stranger's
link, so it is not held to the resolver's address policy (``bot.web``);
it still has a timeout, a size cap and at most five redirects.
"""
