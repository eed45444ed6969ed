"""Server ids are opaque strings ordered by length then text (``bot.ids``).

A property test over the three families of ids servers hand out, each drawn
in the order the server creates them: the order ``id_key`` gives must be the
order of creation. ``int()`` on a ULID or a flake id fails, and comparing
decimal ids as plain text puts ``'9'`` after ``'10'``: both are caught here.
"""

from __future__ import annotations

import itertools
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.model.ids import id_key, id_text, is_newer, newest, oldest, same_id

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Pleroma's and Akkoma's FlakeId alphabet: base62 in ASCII order.
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def _encode(number: int, alphabet: str, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, len(alphabet))
        digits.append(alphabet[rest])
    assert number == 0
    return "".join(reversed(digits))


def mastodon_id(number: int) -> str:
    """Mastodon: a decimal snowflake (or, on old or small servers, a small counter)."""
    return str(number)


def ulid(number: int) -> str:
    """GoToSocial: 48 bits of milliseconds and 80 of randomness, 26 characters."""
    return _encode(number, CROCKFORD, 26)


def flake_id(number: int) -> str:
    """Pleroma/Akkoma: a 128-bit flake, 22 characters of base62."""
    return _encode(number, BASE62, 22)


FAMILIES = {"mastodon": mastodon_id, "ulid": ulid, "flake": flake_id}


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ("9", "10"),  # decimal ids grow in length: '9' < '10' only by length first
        ("99999", "100000"),
        ("109876543210987654", "109876543210987655"),  # a snowflake, one apart
        ("01M96EBBXEBQEHRP2JY697X54K", "01M96EBBXEBQEHRP2JY697X54M"),  # ULIDs, one apart
        ("01M96EBBXEBQEHRP2JY697X54K", "01M96EBBXFAAAAAAAAAAAAAAAA"),  # a later millisecond
        ("AbCdEfGhIjKlMnOpQrStUv", "AbCdEfGhIjKlMnOpQrStUw"),  # flake ids, lowercase after upper
        ("A0BsFv3fBBzKWYWMH2", "A0BsFv3fBBzKWYWMHa"),
    ],
)
def test_the_later_id_is_newer(earlier: str, later: str) -> None:
    assert is_newer(later, earlier)
    assert not is_newer(earlier, later)
    assert not is_newer(later, later)
    assert id_key(earlier) < id_key(later)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("123", "123", True),
        (123, "123", True),  # a library that hands out ints names the same status
        ("01M96EBBXEBQEHRP2JY697X54K", "01M96EBBXEBQEHRP2JY697X54K", True),
        ("01M96EBBXEBQEHRP2JY697X54K", "01M96EBBXEBQEHRP2JY697X54M", False),
        # Two ULIDs are not the same id because neither is a number (the old
        # integer comparison made every pair of them "the same": -1 == -1).
        ("01M96EBBXEBQEHRP2JY697X54K", "01JZZZZZZZZZZZZZZZZZZZZZZZ", False),
        (None, None, False),  # a status with no parent is no reply to anything
        (None, "123", False),
        ("123", None, False),
    ],
)
def test_same_id(a: object, b: object, same: bool) -> None:
    assert same_id(a, b) is same


def test_anything_is_newer_than_no_id() -> None:
    assert is_newer("1", None)
    assert is_newer("01M96EBBXEBQEHRP2JY697X54K", None)


def test_id_text_keeps_strings_and_spells_ints() -> None:
    assert id_text("01M96EBBXEBQEHRP2JY697X54K") == "01M96EBBXEBQEHRP2JY697X54K"
    assert id_text(109876543210987654) == "109876543210987654"


@given(
    family=st.sampled_from(sorted(FAMILIES)),
    numbers=st.lists(st.integers(min_value=0, max_value=2**128 - 1), min_size=1, unique=True),
)
def test_id_order_is_creation_order_for_every_family(family: str, numbers: list[int]) -> None:
    if family == "flake":
        numbers = [n % 62**22 for n in numbers]
    created = [FAMILIES[family](n) for n in sorted(set(numbers))]
    shuffled = list(reversed(created))
    assert sorted(shuffled, key=id_key) == created
    assert newest(shuffled, lambda i: i) == created[-1]
    assert oldest(shuffled, lambda i: i) == created[0]
    for earlier, later in itertools.pairwise(created):
        assert is_newer(later, earlier)
        assert not is_newer(earlier, later)
