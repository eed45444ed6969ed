"""Load the admin data — the catalog of essays and the rules — into frozen objects.

Both files are TOML, read with the standard library's ``tomllib``, and
compiled once at start-up (and on reload): after ``load_config`` returns,
nothing downstream needs to check a type, a reference or a regex again.

A loader never stops at the first mistake. It collects every ``Problem`` it
can find — each naming the file, the line, the essay, quote, prompt or rule,
and a hint — and raises one ``ConfigError`` carrying them all, so an admin
fixes a file in one pass. ``filrouge check-config`` runs exactly this code.

``tomllib`` reports no line numbers for values, so :class:`Lines` recovers
them by scanning the source for table headers (``[[essays.quotes]]``,
``[rules.when]``…) and keys (``id = …``).

Catalog format (``catalog.toml``), tested by ``tests/catalog/test_load.py``::

    [[essays]]
    id = "ia-probleme"                 # unique slug
    title = "L'IA est un problème, et pas celui que vous croyez"
    author = "Pauline Harmange"
    url = "https://mail.paulineharmange.fr/archive/ia-probleme/"   # canonical
    language = "fr"
    aliases = ["https://app.flus.fr/links/1853382202557961738"]    # optional
    hashtags = ["iaprobleme"]          # optional, without "#"

    [[concepts]]                       # optional: a vocabulary written once
    id = "argent"
    fr = ["argent", "salaire", "moyens"]
    en = ["money", "pay"]

    [[essays.quotes]]
    id = "petites-voix"                # unique across quotes AND prompts
    text = "Au milieu, des petites voix demandaient : « On est censé faire quoi ? »"
    tags = ["visuels"]                 # optional: rules can select by tag
    keywords = ["affiche", "poster"]   # optional: weigh more than the text
    concepts = ["argent"]              # optional: its terms count as keywords
    context = "Le paragraphe de l'essai autour de la phrase."  # optional, weighs less
    anchor_url = "https://mail.paulineharmange.fr/archive/ia-probleme/#:~:text=petites%20voix"

    [[essays.prompts]]
    id = "q-petites-voix"
    tags = ["visuels"]
    keywords = ["affiche"]
    [essays.prompts.text]              # one text per language
    fr = "Que dit l’autrice aux « petites voix » ? Relisez ce passage."
    en = "What does the author say to the “petites voix”? Reread that passage."

Rules format (``rules.toml``), tried in order; the first rule that matches
and has something to post answers::

    [[rules]]
    name = "citation"                  # unique
    action = "quote"                   # quote prompt link help stop start why deescalate
    mode = "live"                      # live (default), observe, off
    quotes = ["petites-voix"]          # optional: only these quotes…
    prompts = []                       # …or prompts
    tags = []                          # optional: only candidates with one of these tags
    notify_moderators = false
    min_evidence = 4.0                 # optional: evidence a quote, prompt or link needs

    [rules.when]                       # all optional; every condition given must hold
    commands = ["citation", "quote"]   # first word after the mentions, accents/case ignored
    alone = false                      # true: the command is all the mention asks
                                       # (« stop merci », not « stop comparing… »)
    keywords = []                      # words or phrases in the mention
    thread_keywords = []               # … anywhere in the thread
    not_keywords = []                  # … that veto the rule
    regex = []                         # searched in the mention
    thread_regex = []                  # … in the thread
    languages = []                     # the mention's language
    essays = []                        # essay ids
    visibilities = []                  # direct private unlisted public
    min_depth = 0                      # thread depth (ancestors)
    max_depth = 50
    min_heat = 0.0                     # bot.decide.heat score
    max_heat = 1.0
    empty = false                      # true: only a mention that says nothing

    [rules.templates]                  # one per language; the default one is required
    fr = "{requester} « {quote} » — {author}, {quote_url}"
    en = "{requester} “{quote}” — {author}, {quote_url}"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.catalog.config import Config
from bot.catalog.essays import read_catalog
from bot.catalog.rules import read_rules
from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.settings import Settings


def load_config(settings: Settings) -> Config:
    """Load catalog and rules as ``run`` uses them and build the ranking index.

    Rules are checked even when the catalog is broken (references to it are
    then skipped), so one run of ``check-config`` shows every problem. What
    loaded is kept beside the database and read back while the files are the
    same (``bot.catalog.cache``).
    """
    from bot.catalog.cache import cache_dir, cache_key, read_cached, write_cached

    directory = cache_dir(settings)
    key = cache_key(settings) if directory is not None else None
    if directory is not None and key is not None:
        cached = read_cached(directory, key)
        if cached is not None:
            return cached
    config = _load(settings)
    if directory is not None and key is not None:
        write_cached(directory, key, config)
    return config


def _load(settings: Settings) -> Config:
    catalog, problems = read_catalog(settings.catalog_path)
    if catalog is not None and not problems and settings.catalog_overlay is not None:
        from bot.catalog.overlay import apply_overlay

        catalog, problems = apply_overlay(catalog, settings.catalog_overlay)
    rules, rule_problems = read_rules(
        settings.rules_path,
        catalog if not problems else None,
        max_characters=settings.max_characters,
        url_length=settings.characters_per_url,
        language=settings.language,
    )
    problems += rule_problems
    if problems or catalog is None or rules is None:
        raise ConfigError(problems)
    from bot.rank.index import Index

    lexicon = None
    if settings.lexicon:
        from bot.catalog.lexicon import load_lexicon

        lexicon = load_lexicon()
    index = Index.build(catalog.essays, lexicon, catalog.concepts)
    return Config(catalog=catalog, rules=rules, index=index)
