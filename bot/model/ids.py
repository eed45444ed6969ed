"""Server ids: opaque strings, compared one way everywhere.

Mastodon's ids are decimal strings of growing length (``'9'`` comes before
``'10'``); GoToSocial's are ULIDs (``01M96EBBXEBQEHRP2JY697X54K``), Akkoma's
and Pleroma's flake ids are fixed-width base62. None of them is a number to
parse. Ordering by length, then by text, orders all three, as Mastodon's API
guidelines suggest ("sort by size first, then lexically"). The client's paging,
the listener's catch-up, the record's cursor and the check for an existing
reply all use the functions below, and nothing else compares ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

IdKey = tuple[int, str]


_CROCKFORD = frozenset("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def is_ulid(text: str) -> bool:
    """Whether ``text`` is spelled as a ULID: 26 characters of Crockford's
    base32, the first at most ``7`` (GoToSocial's ids)."""
    return len(text) == 26 and text[0] in "01234567" and all(c in _CROCKFORD for c in text.upper())


def may_be_id(text: str) -> bool:
    """Whether ``text`` could be some server's id: letters and digits only, with
    a digit (a plain handle without one is never taken for an id)."""
    return text.isalnum() and any(char.isdigit() for char in text)


def id_text(value: object) -> str:
    """The id as the API spells it: servers send strings, some libraries ints."""
    return value if isinstance(value, str) else str(value)


def id_key(value: object) -> IdKey:
    """Sort key of a server id: (length, text)."""
    text = id_text(value)
    return (len(text), text)


def is_newer(value: object, than: object | None) -> bool:
    """Whether ``value`` comes after ``than`` (anything comes after no id)."""
    return than is None or id_key(value) > id_key(than)


def same_id(a: object | None, b: object | None) -> bool:
    """Whether two ids name the same object; a missing id matches nothing."""
    return a is not None and b is not None and id_text(a) == id_text(b)


def newest(items: Iterable[T], id_of: Callable[[T], object]) -> T:
    """The item whose id comes last."""
    return max(items, key=lambda item: id_key(id_of(item)))


def oldest(items: Iterable[T], id_of: Callable[[T], object]) -> T:
    """The item whose id comes first."""
    return min(items, key=lambda item: id_key(id_of(item)))
