"""Register the bot with its Mastodon account and write the token to the env file.

The OAuth "out of band" code flow (Mastodon 4.4 removed the password grant):
create an application, show the authorisation URL, take the code the admin
copies from the browser, exchange it for a token, check which account it
belongs to, and store ``FILROUGE_INSTANCE_URL`` and ``FILROUGE_ACCESS_TOKEN``
in the env file with mode 0600. The token is never printed.

Scopes (docs.joinmastodon.org/api/oauth-scopes), the fewest the bot works with:

============================  =================================================
``read:notifications``         mention notifications: REST polling and the
                               ``user:notification`` stream
``read:statuses``              the thread (``status_context``), the mention
                               itself; the streaming docs list it as required
``read:accounts``              ``account_verify_credentials`` (the bot's own id,
                               to never answer itself) and reading a bio for
                               ``#nobot``; Mastodon < 4.3 has no ``profile``
``write:statuses``             posting replies and admin answers by DM
``write:reports``              only with ``FILROUGE_NOTIFY_MODERATORS=report``:
                               a heated thread is reported to the moderators
============================  =================================================

Not requested: ``write:notifications`` (the bot never dismisses notifications
nor changes the DM policy; see the deploy README to accept DMs from strangers),
``write:accounts``, ``follow``, ``push``, ``admin:*``.

Setting the bot flag and the profile note needs ``write:accounts``. Rather than
keep that scope in the long-lived token, it is asked for in a second, separate
authorisation whose token is used once and revoked at once.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.settings import is_loopback

if TYPE_CHECKING:
    from mastodon import Mastodon

    from bot.settings import Settings

#: The redirect URI that makes the server show the code instead of redirecting.
OOB = "urn:ietf:wg:oauth:2.0:oob"
APP_NAME = "fil-rouge"
APP_WEBSITE = "https://github.com/fil-rouge/fil-rouge"

BOT_SCOPES: tuple[str, ...] = (
    "read:notifications",
    "read:statuses",
    "read:accounts",
    "write:statuses",
)
REPORT_SCOPE = "write:reports"
#: For the one-time profile token: read to check it is the same account, write to update it.
PROFILE_SCOPES: tuple[str, ...] = ("read:accounts", "write:accounts")

#: Mastodon caps a profile note at 500 characters; tests keep this under it.
PROFILE_NOTE = (
    "🤖 Bot de modération : mentionnez-moi dans un fil sur un essai, je réponds par un "
    "lien, une citation ou une invitation à lire, choisis par des humains. Aucun texte "
    "généré. « stop » : je ne vous réponds plus ; « start » : reprendre ; « aide » : le reste."
    "\n\n"
    "Moderation bot: mention me in a thread about an essay and I answer with a link, a "
    "quote or a reading prompt picked by humans. No generated text. "
    '"stop": I stop replying to you; "start": undo; "help": more.'
)

#: Shows a prompt and returns the answer; raises ``EOFError`` when there is no one to answer.
Ask = Callable[[str], str]
Say = Callable[[str], None]


class RegisterError(Exception):
    """Registration cannot go on; the message says why, without any secret."""


@dataclass(frozen=True)
class Registration:
    instance_url: str
    account_id: str
    acct: str
    scopes: tuple[str, ...]
    env_file: Path
    profile_updated: bool


def scopes_for(settings: Settings) -> tuple[str, ...]:
    """The scopes this configuration needs (``write:reports`` only when reporting)."""
    if settings.notify_moderators == "report":
        return (*BOT_SCOPES, REPORT_SCOPE)
    return BOT_SCOPES


def normalize_instance(url: str) -> tuple[str, bool]:
    """``mastodon.example`` → ``https://mastodon.example``; and whether plain HTTP is allowed.

    Plain HTTP is refused except on a loopback host (a local development or
    test server): an access code and a token must not cross a network in clear.
    """
    url = url.strip().rstrip("/")
    if not url:
        raise RegisterError("the instance URL is empty")
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RegisterError(f"not an instance URL: {url!r}")
    if parts.path or parts.query or parts.fragment:
        raise RegisterError(f"give the instance's address only, without a path: {url!r}")
    loopback = is_loopback(parts.hostname)
    if parts.scheme == "http" and not loopback:
        raise RegisterError(f"refusing plain http for {parts.hostname}: use https://")
    return url, parts.scheme == "http"


# -- the env file ---------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def write_env(path: Path, values: Mapping[str, str], *, remove: Sequence[str] = ()) -> None:
    """Set ``values`` in the env file at ``path``, keeping every other line
    (except the keys in ``remove``, whose lines are dropped).

    An existing key is updated where it stands (a repeated key keeps its first
    place; later repeats are dropped so they cannot override it); a new key is
    appended. The file is written to a temporary file created with mode 0600
    and renamed over the old one, so it is never readable by others, not even
    for a moment, and never left half-written.
    """
    for key, value in values.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"{key}: a value cannot span lines")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []

    written: set[str] = set()
    out: list[str] = []
    for line in lines:
        match = _ASSIGNMENT.match(line)
        name = match.group(1) if match else None
        if name is not None and name in remove:
            continue
        if name is not None and name in values:
            if name not in written:
                out.append(f"{name}={values[name]}")
                written.add(name)
            continue
        out.append(line)
    out.extend(f"{key}={value}" for key, value in values.items() if key not in written)

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(out) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    # The umask can only narrow 0o600; this makes sure of the exact mode.
    path.chmod(0o600)


# -- OAuth ------------------------------------------------------------------------


def _client(settings: Settings, base_url: str, **credentials: Any) -> Mastodon:
    from mastodon import Mastodon

    return Mastodon(
        api_base_url=base_url,
        request_timeout=min(settings.request_timeout, 30),
        user_agent=settings.user_agent,
        version_check_mode="none",
        # log_in() parses the server's version unless one is given, and dies on
        # strings it cannot read (Takahē's "takahe/0.11.0"); registration uses
        # nothing that depends on it.
        mastodon_version="4.0.0",
        ratelimit_method="throw",
        **credentials,
    )


def _authorise(
    settings: Settings,
    base_url: str,
    *,
    allow_http: bool,
    client_name: str,
    scopes: Sequence[str],
    why: str,
    code: str | None,
    ask: Ask,
    say: Say,
    app: tuple[str, str] | None = None,
    on_app: Callable[[str, str], None] | None = None,
) -> Mastodon:
    """One OAuth round: the app (``app`` when saved, else a new one, handed to
    ``on_app`` before anything is asked), the URL, the code, the token.
    Returns a logged-in client."""
    from mastodon import Mastodon
    from mastodon.errors import MastodonIllegalArgumentError

    if app is not None:
        client_id, client_secret = app
    else:
        client_id, client_secret = Mastodon.create_app(
            client_name,
            scopes=list(scopes),
            redirect_uris=OOB,
            website=APP_WEBSITE,
            api_base_url=base_url,
            request_timeout=min(settings.request_timeout, 30),
            user_agent=settings.user_agent,
        )
        if on_app is not None:
            on_app(client_id, client_secret)
    api = _client(settings, base_url, client_id=client_id, client_secret=client_secret)
    # force_login: the admin is often logged in as themselves; the code must come
    # from the bot's account.
    url = api.auth_request_url(
        redirect_uris=OOB, scopes=list(scopes), force_login=True, allow_http=allow_http
    )
    say(f"\n{why}\nOpen this URL, logged in as the bot's account, and authorise:\n\n  {url}\n")
    if code is None:
        try:
            code = ask("Paste the authorisation code: ").strip()
        except EOFError:
            code = ""
    if not code:
        raise RegisterError(
            "no authorisation code given; the application is saved: run again with --code CODE"
            if on_app is not None or app is not None
            else "no authorisation code given"
        )
    try:
        api.log_in(code=code, redirect_uri=OOB, scopes=list(scopes), allow_http=allow_http)
    except MastodonIllegalArgumentError as refused:
        if app is None:
            raise
        raise RegisterError(
            "the server refused the code for the saved application (an old code, or an"
            " application removed on the server); run again without --code for a new URL,"
            " or with --new-app"
        ) from refused
    return api


def register(
    instance: str,
    *,
    settings: Settings,
    env_file: Path,
    ask: Ask,
    say: Say,
    code: str | None = None,
    profile: bool | None = None,
    profile_code: str | None = None,
    note: str = PROFILE_NOTE,
    new_app: bool = False,
) -> Registration:
    """Authorise the bot's account and store its token; optionally mark it as a bot.

    ``profile``: True sets the bot flag and ``note``, False skips, None asks.
    ``code``/``profile_code`` stand in for the pasted codes when scripted.
    Mastodon.py's exceptions pass through (the command reports them).
    """
    base_url, allow_http = normalize_instance(instance)
    scopes = scopes_for(settings)
    app = None if new_app else saved_app(settings, base_url)
    if app is not None:
        say(f"Using the application saved in {env_file} (FILROUGE_CLIENT_ID).")

    def save_app(client_id: str, client_secret: str) -> None:
        # Before the code is asked for: a run that stops there leaves an
        # application the next run (with --code) can finish.
        write_env(
            env_file,
            {
                "FILROUGE_INSTANCE_URL": base_url,
                "FILROUGE_CLIENT_ID": client_id,
                "FILROUGE_CLIENT_SECRET": client_secret,
            },
        )

    api = _authorise(
        settings,
        base_url,
        allow_http=allow_http,
        client_name=APP_NAME,
        scopes=scopes,
        why=f"Step 1: the bot's token (scopes: {' '.join(scopes)}).",
        code=code,
        ask=ask,
        say=say,
        app=app,
        on_app=save_app,
    )
    me = api.account_verify_credentials()
    token = str(api.access_token or "")
    if not token:
        raise RegisterError("the server returned no access token")
    write_env(env_file, {"FILROUGE_INSTANCE_URL": base_url, "FILROUGE_ACCESS_TOKEN": token})
    say(f"Authorised as @{me['acct']} (id {me['id']}); the token is in {env_file} (mode 0600).")

    if profile is None:
        try:
            answer = ask(
                "Set the bot flag and a profile note explaining the bot and how to stop it? "
                "This needs a second, one-time authorisation. [Y/n] "
            )
        except EOFError:  # no one to answer: change nothing that was not asked for
            answer = "n"
        profile = answer.strip().lower() in ("", "y", "yes", "o", "oui")
    updated = False
    if profile:
        updated = _update_profile(
            settings,
            base_url,
            allow_http=allow_http,
            account_id=str(me["id"]),
            note=note,
            code=profile_code,
            ask=ask,
            say=say,
        )
    else:
        say("Profile left as it is. Tick 'This is a bot account' in the profile settings.")
    return Registration(
        instance_url=base_url,
        account_id=str(me["id"]),
        acct=str(me["acct"]),
        scopes=scopes,
        env_file=env_file,
        profile_updated=updated,
    )


def saved_app(settings: Settings, base_url: str) -> tuple[str, str] | None:
    """The application saved by an earlier ``register`` for this instance."""
    secret = settings.client_secret.get_secret_value()
    if not settings.client_id or not secret:
        return None
    saved_for = settings.instance_url.strip().rstrip("/")
    if saved_for and saved_for != base_url:
        return None
    return settings.client_id, secret


def revoke(settings: Settings, *, env_file: Path, say: Say) -> None:
    """Revoke the bot's token: the application leaves the account's authorised
    apps, and the token and the application's keys leave the env file."""
    base_url, allow_http = normalize_instance(settings.instance_url)
    token = settings.access_token.get_secret_value()
    app = saved_app(settings, base_url)
    if not token:
        raise RegisterError(f"no FILROUGE_ACCESS_TOKEN in {env_file}: nothing to revoke")
    if app is None:
        raise RegisterError(
            f"no FILROUGE_CLIENT_ID and FILROUGE_CLIENT_SECRET in {env_file}: revoke the"
            " application by hand (Preferences → Account → Authorised apps)"
        )
    api = _client(settings, base_url, client_id=app[0], client_secret=app[1], access_token=token)
    api.revoke_access_token(allow_http=allow_http)
    write_env(
        env_file,
        {},
        remove=("FILROUGE_ACCESS_TOKEN", "FILROUGE_CLIENT_ID", "FILROUGE_CLIENT_SECRET"),
    )
    say(
        f"Revoked: the token no longer works on {base_url}, the application is gone from"
        f" the account's authorised apps, and {env_file} no longer holds them."
    )


def _update_profile(
    settings: Settings,
    base_url: str,
    *,
    allow_http: bool,
    account_id: str,
    note: str,
    code: str | None,
    ask: Ask,
    say: Say,
) -> bool:
    api = _authorise(
        settings,
        base_url,
        allow_http=allow_http,
        client_name=f"{APP_NAME} (profile setup)",
        scopes=PROFILE_SCOPES,
        why="Step 2: a one-time token to set the bot flag and note (revoked right after).",
        code=code,
        ask=ask,
        say=say,
    )
    try:
        me = api.account_verify_credentials()
        if str(me["id"]) != account_id:
            raise RegisterError(
                f"step 2 was authorised as @{me['acct']}, not as the bot's account; "
                "profile left unchanged"
            )
        api.account_update_credentials(bot=True, note=note)
    finally:
        api.revoke_access_token(allow_http=allow_http)
    say("Bot flag set and profile note written; the one-time token is revoked.")
    return True
