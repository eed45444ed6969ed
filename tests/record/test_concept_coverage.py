"""The coverage report's concepts, from decisions to the record to the report:
which of the catalog's concepts did the matching for the passages posted, and
which never did."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.asking import typed_inputs
from bot.catalog.config import Config
from bot.catalog.coverage import coverage
from bot.cli.main import main
from bot.decide.decision import decide
from bot.model.decision import Reply
from bot.model.post import Account
from bot.record.audit import matched_words_of
from bot.record.store import Store
from bot.settings import Settings

NOW = datetime.now(UTC)
READER = Account(id="2", acct="lecteur", username="lecteur")
#: Mentions the bundled catalog answers with a quote through a concept's words.
THROUGH_CONCEPTS = [
    "@filrouge j'suis bénévole dans une asso de quartier, les thunes on les a pas",
    "@filrouge on est une troupe amateur, zéro budget, des bénévoles partout",
    "@filrouge au taf on nous a imposé copilot, je passe mes journées à relire et corriger",
]


def record(store: Store, number: int, text: str, config: Config, settings: Settings) -> Reply:
    """Decide ``text`` as the bot would and record it as a posted reply."""
    outcome = decide(
        typed_inputs(
            text,
            config=config,
            settings=settings,
            requester=READER,
            self_id="1",
            now=NOW,
        )
    )
    reply = outcome.decision
    assert isinstance(reply, Reply) and reply.quote_id, (text, reply)
    nid = str(number)
    at = NOW - timedelta(minutes=number)
    store.mentions.enqueue(nid, f"s{nid}", READER.id, at)
    assert store.mentions.claim(nid, at, stale_after=timedelta(minutes=5)) is not None
    store.mentions.mark_posting(nid, f"key:{nid}", at)
    store.mentions.mark_replied(
        nid,
        reply_id=f"r{nid}",
        reply=reply,
        thread_id=f"t{nid}",
        account_id=READER.id,
        trace=outcome.trace.to_json(),
        now=at,
    )
    return reply


def test_the_concepts_that_did_the_matching_are_counted(
    tmp_path: Path,
    bundled_config: Config,
    bundled_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "record.sqlite3"
    with Store(db) as store:
        posted = [
            record(store, n, text, bundled_config, bundled_settings)
            for n, text in enumerate(THROUGH_CONCEPTS)
        ]
        # An outcome recorded before the record kept the matched words: read
        # from its trace.
        with store.mentions._write() as conn:
            conn.execute("UPDATE mentions SET matched_words = NULL WHERE notification_id = '1'")
        data = store.audit.coverage_since(NOW - timedelta(days=1))
    assert [r.quote_id for r in posted] == ["petites-voix", "petites-voix", "productivite"]
    report = coverage(bundled_config.catalog, data)
    # « bénévole », « asso », « quartier », « troupe », « amateur »… are
    # sans-budget's; « copilot », « relire », « corriger » travail-impose's.
    assert set(report["concepts_matched"]) == {"sans-budget", "travail-impose"}
    assert report["concepts_matched"]["sans-budget"] >= 4
    assert "desinformation" in report["concepts_never_matched"]
    assert "sans-budget" not in report["concepts_never_matched"]
    # The familiar word « thunes » reached « argent », which is no concept's.
    words = {row["word"] for row in data["matched"]}
    assert "thunes→argent" in words or "thunes→money" in words

    assert main(["catalog", "coverage", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "concepts whose words matched most: sans-budget (" in out
    assert "concepts that never matched: " in out and "desinformation" in out
    assert main(["catalog", "coverage", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["concepts_matched"] == report["concepts_matched"]


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        # the fit step names the passage; its candidates step lists its words
        (
            [
                {"kind": "candidates", "data": {"candidates": [{"id": "a", "matched": ["x"]}]}},
                {"kind": "candidates", "data": {"candidates": [{"id": "b", "matched": ["y"]}]}},
                {"kind": "fit", "ok": True, "data": {"chosen": "b"}},
            ],
            ["y"],
        ),
        # nothing fitted, or a post without a passage (help, a link)
        ([{"kind": "fit", "ok": False, "data": {}}], []),
        ([{"kind": "fit", "ok": True, "data": {"tried": []}}], []),
        # a passage the trace's head does not list, and a broken trace
        ([{"kind": "fit", "ok": True, "data": {"chosen": "z"}}], []),
        ("not a list", []),
        ([None, 3, {"kind": "fit"}], []),
    ],
)
def test_the_matched_words_of_a_trace(steps: object, words: list[str]) -> None:
    assert matched_words_of(steps) == words
