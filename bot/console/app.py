"""The moderators' console: read-only pages under ``/console`` on the ops server.

    /console                    recent mentions, filtered, 50 a page
    /console/mentions/<id>      one mention: what it said, what the bot did, its trace
    /console/plots              mentions by outcome, skips, rules, abstentions, latency
    /console/catalog            quotes and prompts by use, never chosen first; coverage
    /console/preview            type a mention, see what the bot would answer (pure decide)
    /console/login, /logout     the token, when one is needed (``bot.console.access``)

Pages are Jinja2 templates with autoescaping on: every value from the
record, the catalog or a form is shown as text. The console reads the record
through a read-only connection and posts nothing: the preview runs the pure
``decide`` and shows its outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qs, unquote, urlencode

from bot.console import plots as svg
from bot.console import views
from bot.console.access import (
    COOKIE,
    SECURITY_HEADERS,
    Sessions,
    cookie,
    same_origin,
    session_cookie,
)
from bot.console.preview import preview
from bot.ops.server import Request, Response
from bot.settings import is_loopback

if TYPE_CHECKING:
    from jinja2 import Environment

    from bot.catalog.config import Config
    from bot.settings import Settings

log = logging.getLogger(__name__)

PREFIX: Final = "/console"
HTML: Final = "text/html; charset=utf-8"
#: The periods the filter offers.
SINCE: Final = {
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


def _environment() -> Environment:
    try:
        from jinja2 import Environment, PackageLoader, select_autoescape
    except ImportError as error:  # pragma: no cover - checked at start-up
        raise RuntimeError("the console needs Jinja2: pip install 'fil-rouge[console]'") from error
    return Environment(
        loader=PackageLoader("bot.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Console:
    """Answers the requests under ``/console`` (one instance per running bot)."""

    def __init__(
        self,
        *,
        settings: Settings,
        config: Callable[[], Config],
        self_id: Callable[[], str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.db_path = Path(settings.db_path)
        self.config = config
        self.self_id = self_id
        self.clock = clock
        self.show_direct = settings.console_show_direct
        self.open_on_loopback = is_loopback(settings.http_host)
        self.sessions = Sessions(settings.console_token.get_secret_value())
        self.templates = _environment()
        self.css = (Path(__file__).parent / "static" / "console.css").read_bytes()

    # -- the door -----------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        response = self._answer(request)
        return Response(
            response.status,
            response.content_type,
            response.body,
            (*response.headers, *SECURITY_HEADERS),
        )

    def _answer(self, request: Request) -> Response:
        if not same_origin(request.headers):
            return self._page("denied.html", 403, message="cross-origin request refused")
        path = request.path.rstrip("/") or PREFIX
        if path == f"{PREFIX}/console.css":
            return Response(200, "text/css; charset=utf-8", self.css)
        if path == f"{PREFIX}/login":
            return self._login(request)
        if not self._allowed(request):
            if not self.sessions.required:
                return self._page(
                    "denied.html",
                    401,
                    message="this console listens beyond this machine: set"
                    " FILROUGE_CONSOLE_TOKEN to open it",
                )
            return self._page("login.html", 401, failed=False)
        if path == f"{PREFIX}/logout" and request.method == "POST":
            session = cookie(request.headers, COOKIE)
            if session:
                self.sessions.close(session)
            return Response(
                303, HTML, b"", (("Location", f"{PREFIX}/login"), session_cookie("", max_age=0))
            )
        if request.method not in ("GET", "HEAD", "POST"):
            return self._page("denied.html", 405, message="method not allowed")
        try:
            return self._route(path, request)
        except FileNotFoundError:
            return self._page("empty.html", 200)

    def _allowed(self, request: Request) -> bool:
        if self.sessions.required:
            return self.sessions.allows(request.headers)
        return self.open_on_loopback

    def _login(self, request: Request) -> Response:
        if not self.sessions.required:
            return Response(303, HTML, b"", (("Location", PREFIX),))
        if request.method != "POST":
            return self._page("login.html", 200, failed=False)
        if self.sessions.throttled():
            return self._page("denied.html", 429, message="too many wrong tokens: wait a minute")
        form = _form(request)
        if not self.sessions.token_matches(form.get("token", "")):
            self.sessions.failed()
            log.warning("console: a wrong token was given", extra={"event": "console"})
            return self._page("login.html", 401, failed=True)
        session = self.sessions.open()
        return Response(303, HTML, b"", (("Location", PREFIX), session_cookie(session)))

    # -- the pages ----------------------------------------------------------------------

    def _route(self, path: str, request: Request) -> Response:
        now = self.clock()
        if path == PREFIX:
            return self._mentions(request, now)
        if path.startswith(f"{PREFIX}/mentions/"):
            return self._mention(unquote(path.rsplit("/", 1)[1]))
        if path == f"{PREFIX}/plots":
            return self._plots(now)
        if path == f"{PREFIX}/catalog":
            return self._catalog(now)
        if path == f"{PREFIX}/preview":
            return self._preview(request)
        return self._page("denied.html", 404, message="no such page")

    def _mentions(self, request: Request, now: datetime) -> Response:
        query = {key: values[0] for key, values in request.query.items() if values}
        since = SINCE.get(query.get("since", ""))
        try:
            page = max(1, int(query.get("page", "1")))
        except ValueError:
            page = 1
        filters = views.Filters(
            outcome=query.get("outcome", ""),
            rule=query.get("rule", ""),
            reason=query.get("reason", ""),
            essay=query.get("essay", ""),
            since=since,
            page=page,
        )
        with views.read_only(self.db_path) as db:
            rows, total = views.mentions(db, filters, now, show_direct=self.show_direct)
            options = views.choices(db)
        pages = max(1, -(-total // views.PER_PAGE))
        kept = {key: value for key, value in query.items() if key != "page" and value}
        return self._page(
            "mentions.html",
            200,
            rows=rows,
            total=total,
            page=page,
            pages=pages,
            query=query,
            options=options,
            outcomes=views.OUTCOMES,
            periods=list(SINCE),
            previous=f"?{urlencode({**kept, 'page': page - 1})}" if page > 1 else None,
            next=f"?{urlencode({**kept, 'page': page + 1})}" if page < pages else None,
            days=self.settings.record_text_days,
        )

    def _mention(self, notification_id: str) -> Response:
        with views.read_only(self.db_path) as db:
            row = views.mention(db, notification_id, show_direct=self.show_direct)
        if row is None:
            return self._page("denied.html", 404, message="no such mention in the record")
        return self._page("mention.html", 200, row=row)

    def _plots(self, now: datetime) -> Response:
        with views.read_only(self.db_path) as db:
            data = views.plots(db, now)
        figures = [
            (
                "Mentions per day, by outcome (30 days)",
                svg.stacked("mentions per day", [d[5:] for d in data["days"]], data["by_day"]),
            ),
            (
                "Mentions per hour, by outcome (48 hours)",
                svg.stacked(
                    "mentions per hour", [h[11:] + "h" for h in data["hours"]], data["by_hour"]
                ),
            ),
            ("Skips by reason", svg.bars("skips by reason", data["reasons"])),
            ("Replies by rule", svg.bars("replies by rule", data["rules"])),
            (
                "Share of mentions the bot chose to leave unanswered (off topic, hostile,"
                " spam, other language)",
                svg.line(
                    "abstentions", [d[5:] for d in data["days"]], list(data["abstained"].values())
                ),
            ),
            ("Time from mention to reply", svg.bars("answer latency", data["latency"])),
            (
                "Time the decision took (the pure decide)",
                svg.bars("decide latency", data["decide"]),
            ),
        ]
        return self._page("plots.html", 200, figures=figures, data=data)

    def _catalog(self, now: datetime) -> Response:
        from bot.catalog.coverage import coverage

        config = self.config()
        with views.read_only(self.db_path) as db:
            data = views.coverage_data(db, now - timedelta(days=30))
        report = coverage(config.catalog, data, config.index)
        essays = []
        for essay, counts in zip(config.catalog.essays, report["essays"], strict=True):
            chosen = counts["chosen"]
            items = [("quote", q.id, q.text, chosen.get(q.id, 0)) for q in essay.quotes]
            items += [
                ("prompt", p.id, next(iter(p.texts.values()), ""), chosen.get(p.id, 0))
                for p in essay.prompts
            ]
            items.sort(key=lambda item: (item[3], item[0], item[1]))  # never chosen first
            essays.append({"essay": essay, "items": items})
        return self._page("catalog.html", 200, essays=essays, report=report)

    def _preview(self, request: Request) -> Response:
        if request.method != "POST":
            return self._page("preview.html", 200, form={}, result=None)
        form = _form(request)
        with views.read_only(self.db_path) as db:
            result = preview(
                form,
                config=self.config(),
                settings=self.settings,
                self_id=self.self_id(),
                now=self.clock(),
                db=db,
            )
        return self._page("preview.html", 200, form=form, result=result)

    def _page(self, name: str, status: int, **values: Any) -> Response:
        body = self.templates.get_template(name).render(prefix=PREFIX, **values)
        return Response(status, HTML, body.encode())


def _form(request: Request) -> Mapping[str, str]:
    fields = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in fields.items() if values}
