"""Settings: the one reader of the environment.

Sources, highest priority first: keyword arguments (tests, the CLI), the
process environment, the ``.env`` file, then the defaults below. Every field is
documented in ``.env.example``; ``tests/test_settings.py`` keeps the two in step.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.model.post import Visibility

DATA_DIR = Path(__file__).parent / "data"

CsvList = Annotated[tuple[str, ...], NoDecode]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) only reaches this machine: the
    console may then open without a token, and the instance may be plain http."""
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # as Python 3.13 reads it, on every version
    return address.is_loopback


def parse_duration(value: object) -> object:
    """Accept ``90``/``90s``, ``10m``, ``24h``, ``2d`` (and ISO 8601, left to pydantic)."""
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str) and (match := _DURATION.match(value)):
        number, unit = match.groups()
        return timedelta(seconds=float(number) * _UNIT_SECONDS[(unit or "s").lower()])
    return value


def parse_seconds(value: object) -> object:
    """A duration setting kept in seconds: ``20``, ``2s``, ``1.5m``…"""
    if isinstance(value, str) and (match := _DURATION.match(value)):
        number, unit = match.groups()
        return float(number) * _UNIT_SECONDS[(unit or "s").lower()]
    return value


_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def env_file_problems(path: Path, known: set[str]) -> list[tuple[int, str]]:
    """(line, message) for each line of an env file the settings would not
    read as meant: a line that sets nothing, or a ``FILROUGE_`` key that no
    setting has (with the closest one)."""

    problems: list[tuple[int, str]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return problems
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            problems.append((number, "not a KEY=value line: it sets nothing"))
            continue
        key = match.group(1).upper()
        if key.startswith("FILROUGE_") and key not in known:
            problems.append((number, _unknown(key, known)))
    return problems


def env_file_lines(path: Path) -> dict[str, int]:
    """The line each key is set on in an env file (the last one wins, as it
    does when the file is read)."""
    found: dict[str, int] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return found
    for number, line in enumerate(lines, start=1):
        match = _ENV_LINE.match(line)
        if match is not None and not line.lstrip().startswith("#"):
            found[match.group(1).upper()] = number
    return found


def unknown_environment(environ: dict[str, str], known: set[str]) -> list[str]:
    """``FILROUGE_`` variables of the environment that no setting has."""
    keys = sorted(k.upper() for k in environ if k.upper().startswith("FILROUGE_"))
    return [_unknown(key, known) for key in keys if key not in known]


def _unknown(key: str, known: set[str]) -> str:
    """What to say of a ``FILROUGE_`` key no setting has: the closest one there is."""
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f"unknown setting {key}" + (f" (did you mean {close[0]}?)" if close else "")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FILROUGE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # -- connection -----------------------------------------------------------
    instance_url: str = ""
    access_token: SecretStr = SecretStr("")
    #: The application ``filrouge register`` created (reused by the next
    #: ``register``, needed by ``register --revoke``); ``run`` does not read them.
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    request_timeout: float = Field(default=20.0, gt=0, le=30)
    user_agent: str = "fil-rouge/0.1 (Mastodon moderation bot)"

    # -- admin data -----------------------------------------------------------
    catalog_path: Path = DATA_DIR / "catalog.toml"
    rules_path: Path = DATA_DIR / "rules.toml"
    #: Keywords learnt from corrections (``filrouge catalog learned --apply``), reviewed.
    catalog_overlay: Path | None = None
    db_path: Path = Path("filrouge.sqlite3")
    #: Keep the loaded catalog and rules beside the database (``filrouge-cache/``).
    config_cache: bool = True
    #: Let query words reach their synonyms and familiar equivalents (``bot.rank.expand``).
    lexicon: bool = True
    #: Read a mention's language from its text (``bot.understand.language``,
    #: a language model of about 5 MB); off, the status's own tag is trusted.
    detect_language: bool = True

    # -- replies --------------------------------------------------------------
    language: str = "fr"
    default_visibility: Visibility = "unlisted"
    max_characters: int = Field(default=500, ge=100)
    characters_per_url: int = Field(default=23, ge=1)
    dry_run: bool = False
    #: When no essay can be told apart: "list" answers with the known essays, "skip" stays silent.
    unknown_essay: Literal["list", "skip"] = "list"
    #: Minimum text-relevance score for an essay to be chosen without a link or hashtag.
    essay_threshold: float = Field(default=1.0, ge=0)
    #: Evidence (a relevance score) a quote, a prompt or the essay needs before
    #: a rule without command words posts it; below it the bot says less.
    min_evidence: float = Field(default=5.0, ge=0)
    #: A mention in a language the bot does not speak: "skip" it, or "help" in one English line.
    other_language: Literal["skip", "help"] = "skip"

    # -- listening ------------------------------------------------------------
    streaming: bool = True
    #: How to stream: "websocket" (every server that streams speaks it) or
    #: "sse" (server-sent events, for a proxy that does not pass upgrades).
    stream_protocol: Literal["websocket", "sse"] = "websocket"
    poll_interval: float = Field(default=30.0, gt=0)
    #: A stream with no event and no heartbeat for this long counts as dropped.
    stream_stall_timeout: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)

    # -- guards ---------------------------------------------------------------
    max_mention_age: timedelta = timedelta(hours=24)
    thread_reply_limit: int = Field(default=3, ge=0)
    thread_cooldown: timedelta = timedelta(minutes=10)
    account_cooldown: timedelta = timedelta(minutes=2)
    #: A passage shown to an account within this window gives way to another
    #: with evidence enough ("0s": no preference).
    repeat_window: timedelta = timedelta(days=7)
    #: Bot accounts the bot may answer anyway (account ids or user@domain).
    bot_allowlist: CsvList = ()
    #: Accounts (id or user@domain) and domains the bot never answers.
    blocked: CsvList = ()
    nobot_tags: CsvList = ("nobot", "nobots", "noai", "nollm")

    # -- moderation -----------------------------------------------------------
    admins: CsvList = ()
    heat_threshold: float = Field(default=0.6, ge=0)
    #: How moderators are told about a heated thread: "off", "dm" or "report".
    notify_moderators: Literal["off", "dm", "report"] = "off"
    rules_url: str = ""
    #: Look-ups a minute of the mentions of recent replies, to take back a
    #: reply whose mention was deleted (0: only the stream's delete events).
    deletion_checks: int = Field(default=20, ge=0, le=200)

    # -- link resolution ------------------------------------------------------
    resolve_hosts: CsvList = ("app.flus.fr",)
    resolve_allow_http: bool = False
    resolve_timeout: float = Field(default=5.0, gt=0)
    resolve_max_bytes: int = Field(default=512 * 1024, gt=0)

    # -- operations -----------------------------------------------------------
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    #: The moderators' read-only console under ``/console`` on the ops server.
    console: bool = False
    #: Required when ``http_host`` is not a loopback address (and then always asked).
    console_token: SecretStr = SecretStr("")
    #: Show (and keep) the text of mentions sent by direct message.
    console_show_direct: bool = False
    #: Days the record keeps a mention's text and its author's handle (0: never).
    record_text_days: int = Field(default=30, ge=0)
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    @field_validator("http_port", "catalog_overlay", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("catalog_path", "rules_path", mode="before")
    @classmethod
    def _empty_is_bundled(cls, value: object, info: ValidationInfo) -> object:
        if value == "":
            return DATA_DIR / (
                "catalog.toml" if info.field_name == "catalog_path" else "rules.toml"
            )
        return value

    @field_validator(
        "max_mention_age", "thread_cooldown", "account_cooldown", "repeat_window", mode="before"
    )
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value)

    @field_validator(
        "request_timeout",
        "poll_interval",
        "stream_stall_timeout",
        "resolve_timeout",
        mode="before",
    )
    @classmethod
    def _seconds(cls, value: object) -> object:
        return parse_seconds(value)

    @classmethod
    def read(cls, env_file: Path | None = None, **overrides: Any) -> Settings:
        """The settings from the environment and ``env_file`` (default ``./.env``)."""
        return cls(_env_file=env_file or Path(".env"), **overrides)  # type: ignore[call-arg]

    @classmethod
    def variable_names(cls) -> set[str]:
        """Every ``FILROUGE_`` variable a setting reads."""
        return {f"FILROUGE_{name.upper()}" for name in cls.model_fields}

    @field_validator(
        "bot_allowlist", "blocked", "nobot_tags", "admins", "resolve_hosts", mode="before"
    )
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value
