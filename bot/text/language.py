"""Language codes as servers, clients and web pages write them."""

from __future__ import annotations

import re

_CODE = re.compile(r"[a-z]{2,3}")


def language_code(value: object) -> str | None:
    """The ISO 639 code that opens ``value`` (``fr-FR``, ``fr_FR``, ``FR``,
    ``fr, en`` → ``fr``); None for anything else, ``""`` and null included."""
    if not isinstance(value, str):
        return None
    code = re.split(r"[-_,;\s]", value.strip(), maxsplit=1)[0].lower()
    return code if _CODE.fullmatch(code) else None
