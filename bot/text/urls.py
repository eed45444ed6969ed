"""URLs compared as one: ``normalize_url`` turns the many spellings of one
address (scheme, case, ``www.``, default port, trailing slash, fragment,
tracking parameters) into one, so a catalog URL matches the link someone
pasted. Pure, and it never raises: what it cannot parse comes back stripped.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    # Imported by the resolver's methods, where a link is fetched: loading a
    # catalog or checking the config only normalises URLs, and should not
    # pay for an HTTP client.

    pass


# -- normalisation ------------------------------------------------------------

#: Query parameters that only say where a click came from. Compared case-insensitively.
TRACKING_PARAMS: Final = frozenset(
    {
        # ad click ids
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "srsltid",
        # Mailchimp, HubSpot, Marketo, Vero, Olytics
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "__hssc",
        "__hstc",
        "__hsfp",
        "hsctatracking",
        "mkt_tok",
        "vero_id",
        "vero_conv",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
        # referrers
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        # Google Analytics cross-domain linker
        "_ga",
        "_gl",
        # AT Internet / Piano (common on French news sites)
        "xtor",
        "at_medium",
        "at_campaign",
        "at_platform",
        "at_send_date",
    }
)

#: Parameter prefixes that are tracking whatever follows (``utm_source``, ``mtm_kwd``…).
TRACKING_PREFIXES: Final = ("utm_", "mtm_", "pk_", "hsa_", "matomo_")

DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
#: Characters left as they are in a path: RFC 3986 pchar plus "/" and "%" (existing escapes).
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def is_tracking_param(name: str) -> bool:
    folded = name.lower()
    return folded in TRACKING_PARAMS or folded.startswith(TRACKING_PREFIXES)


def normalize_host(host: str) -> str:
    """Lowercase ASCII (IDNA) form of a host name, without a leading ``www.``."""
    host = host.strip().rstrip(".").lower()
    # Stdlib IDNA 2003 maps case and compatibility forms; good enough for a
    # comparison key, and "bücher.de" and "xn--bcher-kva.de" agree. A label
    # too long or not encodable is compared as it is.
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii").lower()
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    return host


def _normalize_escapes(text: str) -> str:
    """Upper-case percent escapes and decode the ones of unreserved characters,
    so ``%7e``, ``%7E`` and ``~`` compare equal (RFC 3986 §6.2.2.2)."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    return _PERCENT_ESCAPE.sub(fix, text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, for paths that are already absolute."""
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/".join(output)


def _normalize_path(path: str) -> str:
    # Encode what a person may paste raw (spaces, accents) as a browser would.
    path = quote(path, safe=_PATH_SAFE)
    path = _remove_dot_segments(_normalize_escapes(path))
    return path.rstrip("/")


def _normalize_query(query: str) -> str:
    pairs = [
        (name, value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if not is_tracking_param(name)
    ]
    # Sort by name only: the order of repeated values of one name can matter.
    pairs.sort(key=lambda pair: pair[0])
    return urlencode(pairs, quote_via=quote)


def normalize_url(url: str) -> str:
    """One spelling for one address, as a comparison key.

    http and https compare equal (the result says https); host lowercased,
    IDNA-encoded, without ``www.``; default port, fragment, trailing slash and
    tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``mc_*``, ``ref``…)
    dropped; remaining query parameters sorted by name. Anything that is not an
    absolute http(s) URL comes back stripped, unchanged otherwise. Never raises.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        host = parts.hostname
        if scheme not in DEFAULT_PORTS or not host:
            return text
        port = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        return text
    if any(char.isspace() or not char.isprintable() for char in host):
        return text  # no host name has these: not a URL

    host = normalize_host(host)
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit(
        ("https", netloc, _normalize_path(parts.path), _normalize_query(parts.query), "")
    )


def url_host(url: str) -> str | None:
    """The normalised host of an absolute http(s) URL, else None."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not host:
        return None
    return normalize_host(host)
