"""What an admin's argument names (``bot.act.admin.find``): ids are opaque."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from bot.act.admin.find import Finder
from bot.errors import Gone
from bot.model.post import Account, Post
from bot.text.plain import plain_to_text
from tests.decide.test_decision import NOW

ACCOUNTS = {
    "01HX2Z9Q8RZ6K3M4N5P6Q7R8S9": "bob@gts.example",  # GoToSocial: a ULID
    "109876543210987654": "carol@social.example",  # Mastodon: a snowflake
    "AbCdEf123GhIj456": "dave@akkoma.example",  # Akkoma: a flake id
}


class Server:
    """Accounts by id; no handle lookup and no search (both answer "gone")."""

    def account(self, account_id: str) -> Mapping[str, Any]:
        if account_id not in ACCOUNTS:
            raise Gone(f"no account {account_id}")
        return {"id": account_id, "acct": ACCOUNTS[account_id]}

    def read(self, call: Callable[[], Any], *, what: str) -> Any:
        raise Gone(f"{what}: not found")

    api: Any = None
    base_url = "https://social.example"


def command(text: str) -> Post:
    return Post(
        id="1",
        account=Account(id="mod", acct="mod", username="mod"),
        content=plain_to_text(text),
        created_at=NOW,
    )


@pytest.mark.parametrize("account_id", sorted(ACCOUNTS))
def test_an_account_is_found_by_its_id_whatever_its_shape(account_id: str) -> None:
    finder = Finder(Server(), lambda: "social.example")  # type: ignore[arg-type]
    assert finder.account(account_id, command(f"optout {account_id}")) == (
        account_id,
        ACCOUNTS[account_id],
    )


def test_a_handle_is_not_taken_for_an_id() -> None:
    finder = Finder(Server(), lambda: "social.example")  # type: ignore[arg-type]
    with pytest.raises(Gone):
        finder.account("alice", command("optout alice"))
