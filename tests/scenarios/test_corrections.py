"""Moderators teach the catalog, end to end: an admin answers one of the bot's
replies by direct message with ``mieux <id>`` (or ``aucune``); ``filrouge
catalog learned`` lists the words the correction suggests and what would
change; ``--apply FILE`` writes the overlay, which the catalog reads only once
``FILROUGE_CATALOG_OVERLAY`` names it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.catalog.overlay import read_overlay
from bot.cli.main import main
from bot.record.store import Store
from bot.text.fold import fold
from tests.scenarios.test_live import AFFICHES, SHARED_LINK, Live, live, mentioned, text_of

__all__ = ["live"]

pytestmark = pytest.mark.e2e


def test_a_correction_is_recorded_listed_and_applied_after_review(
    live: Callable[..., Live],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    harness = live(admins="mod")
    harness.start()
    mention = harness.thread(
        ("carol", f"À lire : {SHARED_LINK}"), ("alice", f"@carol @filrouge {AFFICHES}")
    )
    first = harness.outcome(mention)
    [reply] = harness.replies_to(mention)
    assert first["quote_id"] == "petites-voix"

    better = harness.post(
        "mod", "@filrouge mieux meme-panier", visibility="direct", in_reply_to_id=reply["id"]
    )
    outcome = harness.outcome(better)
    assert (outcome["state"], outcome["rule"]) == ("replied", "admin:better")
    [answer] = harness.replies_to(better)
    assert mentioned(answer) == {"mod"} and "meme-panier" in text_of(answer)
    unknown = harness.post(
        "mod", "@filrouge mieux pas-une-citation", visibility="direct", in_reply_to_id=reply["id"]
    )
    harness.outcome(unknown)
    assert "pas-une-citation" in text_of(harness.replies_to(unknown)[0])
    nowhere = harness.post("mod", "@filrouge aucune", visibility="direct")
    harness.outcome(nowhere)
    assert "Répondez" in text_of(harness.replies_to(nowhere)[0])
    stranger = harness.post(
        "bob", "@filrouge mieux meme-panier", visibility="direct", in_reply_to_id=reply["id"]
    )
    assert harness.outcome(stranger)["reason"] == "not_admin"
    harness.stop()
    with Store(harness.settings.db_path) as store:
        assert len(store.corrections.all()) == 1

    db = str(harness.settings.db_path)
    monkeypatch.setenv("FILROUGE_CONFIG_CACHE", "false")
    assert main(["catalog", "learned", "--db", db, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["corrections"] == 1
    words = set(report["suggestions"]["meme-panier"])
    said = set(re.findall(r"\w+", fold(AFFICHES)))
    assert words and words <= said
    assert not words & {"les", "de", "par", "des", "quand", "on"}  # no stop words
    [entry] = report["mentions"]
    assert (entry["chose"], entry["wanted"]) == ("petites-voix", "meme-panier")
    assert "with_learnt" in entry

    overlay = tmp_path / "learned.toml"
    assert main(["catalog", "learned", "--db", db, "--apply", str(overlay)]) == 0
    out = capsys.readouterr().out
    assert "meme-panier:" in out and f"FILROUGE_CATALOG_OVERLAY={overlay}" in out
    learned, problems, _ = read_overlay(overlay)
    assert not problems and set(learned["meme-panier"]) == words
    # Not read until the setting names it; then check-config loads it.
    monkeypatch.setenv("FILROUGE_CATALOG_OVERLAY", str(overlay))
    assert main(["check-config"]) == 0
    capsys.readouterr()
    overlay.write_text(
        overlay.read_text(encoding="utf-8") + '\n[[learned]]\nid = "nulle-part"\nkeywords = []\n',
        encoding="utf-8",
    )
    assert main(["check-config"]) != 0
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert f"{overlay}:" in out and 'no quote or prompt "nulle-part"' in out
