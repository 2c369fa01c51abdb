"""The dashboard's HTTP server (config `dashboard:`), in the bot's event loop: the widget's
static files, the login, the overview and the downloads.

- `GET {prefix}/` the widget page, `GET {prefix}/static/<file>` its script and style
  (bot/dashboard/static, read once at start). `{prefix}` is the path of
  `dashboard.public_url`; every route answers at `/` too, so a reverse proxy may strip
  the prefix or pass it on.
- `POST {prefix}/api/session` `{"access_token", "matrix_server_name"}`: the OpenID token
  checked at the bot's own homeserver (bot.dashboard.openid), the person's rights checked
  as commands check them (bot.dashboard.access), then a bearer token for an hour at most
  (bot.dashboard.sessions). Failed attempts from one address are limited (429).
- `GET {prefix}/api/overview`, `GET {prefix}/api/export` with `Authorization: Bearer`: the
  figures (commands.desk.dashboard_data) and the chat's files.

Every response carries a Content-Security-Policy that allows nothing but the bot's own
script, style and API and framing by the configured Element origins only; the API's
responses are never cached. No access log: a request line is no business of the log, and
no token is ever in a URL.

The database is read off the event loop, in a thread of the dashboard's own, in one
snapshot per request (it never waits for the bot's writes nor holds them up); the files
are made as the chat's are, in a process of their own (bot.runtime.renderer), one at a
time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import quote, urlsplit

import aiohttp
from nio import AsyncClient

from bot.config import Config
from bot.dashboard.access import RoomLevels, levels_of, plain_levels, viewer_of
from bot.dashboard.openid import HomeserverAway, NotVerified, OpenIdVerifier
from bot.dashboard.sessions import FailureLimit, Sessions
from bot.runtime.renderer import DatabaseAway, Processes, Runner, make_file
from commands.core.defaults import Defaults
from commands.core.file_jobs import CONFIG_PARAM, FileMaker
from commands.core.registry import reference_code
from commands.features import FileOrder, Refused, Viewer, export_order, language, overview
from storage.db import UNAVAILABLE, Database
from storage.snapshot import snapshot
from storage.types import utcnow

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
# An API request's work, given who asks and their power level in each room.
Work = Callable[[str, Mapping[str, int]], Awaitable["web.Response"]]

STATIC = Path(__file__).with_name("static")
# What the static folder may serve, by ending: nothing else is read from it.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}
_STATIC_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# A login's body is two short strings; anything bigger is no login.
MAX_BODY = 16 * 1024


@dataclass(frozen=True)
class DashboardOptions:
    """What the server needs of the config."""

    host: str
    port: int
    # The path of `dashboard.public_url` ("" or e.g. "/dashboard").
    prefix: str
    element_origins: tuple[str, ...]
    # Where the homeserver answers the OpenID userinfo question, and the bot's server name.
    openid_url: str
    server_name: str
    coordinators: frozenset[str]
    session_seconds: float
    trusted_proxies: frozenset[str] = frozenset({"127.0.0.1", "::1"})


def csp(origins: Collection[str]) -> str:
    """The widget's Content-Security-Policy: its own files and API only, framed by Element."""
    ancestors = " ".join(origins) or "'none'"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; frame-ancestors {ancestors}; base-uri 'none'; form-action 'none'"
    )


def prefix_of(public_url: str) -> str:
    """The path of the public address, without a trailing slash ("" for none)."""
    return urlsplit(public_url).path.rstrip("/")


def _attachment(filename: str) -> str:
    """A Content-Disposition for a download, in ASCII with the real name beside it."""
    plain = re.sub(r"[^A-Za-z0-9._ -]", "_", filename) or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename)}"


class DashboardServer:
    def __init__(
        self,
        options: DashboardOptions,
        *,
        db: Database,
        defaults: Defaults,
        makers: Mapping[str, FileMaker],
        file_config: Mapping[str, Any],
        client: Callable[[], AsyncClient | None],
        room_levels: RoomLevels = plain_levels,
        clock: Callable[[], dt.datetime] = utcnow,
        separate_process: bool = True,
        static: Path = STATIC,
    ) -> None:
        # aiohttp.web costs the running bot about 2 MB of memory: imported only once a
        # dashboard is configured (the client part of aiohttp is nio's anyway).
        from aiohttp import web

        self.web = web
        self.options = options
        self.db = db
        self.defaults = defaults
        self.makers = makers
        self.file_config = dict(file_config)
        self.client = client
        self.room_levels = room_levels
        self.clock = clock
        self.static = static
        self.sessions = Sessions(options.session_seconds)
        self.failures = FailureLimit()
        self.verifier = OpenIdVerifier(options.openid_url, options.server_name)
        self._processes = Processes() if separate_process else None
        self.runner: Runner = make_file if self._processes is None else self._processes
        # The dashboard's own threads: one reads the database, one waits for a file's process.
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="gremienbot-dashboard")
        self._files = ThreadPoolExecutor(1, thread_name_prefix="gremienbot-dashboard-files")
        self._one_file = asyncio.Lock()
        self._static_files: dict[str, tuple[bytes, str]] = {}
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._csp = csp(options.element_origins)
        self.app = self._make_app()

    def _error(self, status: int, reason: str, **headers: str) -> web.Response:
        return self.web.json_response({"error": reason}, status=status, headers=headers)

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        """The port it listens on (the configured one, or the one picked for port 0)."""
        addresses = self._runner.addresses if self._runner is not None else []
        return int(addresses[0][1]) if addresses else self.options.port

    async def start(self) -> None:
        """Listen; OSError when the address cannot be had."""
        self._static_files = await asyncio.to_thread(self._read_static)
        self._http = aiohttp.ClientSession(trust_env=False)
        # No access log: a request line is none of the log's business. A download still
        # running when the bot stops is cut short after a few seconds.
        self._runner = self.web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=5.0
        )
        await self._runner.setup()
        self._site = self.web.TCPSite(self._runner, self.options.host, self.options.port)
        try:
            await self._site.start()
        except OSError:
            await self.stop()
            raise
        log.info("dashboard: listening on port %d", self.port)

    async def stop(self) -> None:
        if self._processes is not None:
            self._processes.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        await asyncio.to_thread(self._reader.shutdown, wait=True)
        await asyncio.to_thread(self._files.shutdown, wait=True)

    def _read_static(self) -> dict[str, tuple[bytes, str]]:
        found: dict[str, tuple[bytes, str]] = {}
        if not self.static.is_dir():
            log.warning("dashboard: no widget files in %s", self.static)
            return found
        for path in sorted(self.static.iterdir()):
            kind = CONTENT_TYPES.get(path.suffix)
            plain = path.is_file() and not path.is_symlink()
            if kind and plain and _STATIC_NAME.fullmatch(path.name):
                found[path.name] = (path.read_bytes(), kind)
        return found

    # ------------------------------------------------------------------ the app

    def _make_app(self) -> web.Application:
        app = self.web.Application(client_max_size=MAX_BODY)
        app.on_response_prepare.append(self._headers)
        prefixes = dict.fromkeys([self.options.prefix, ""])
        for p in prefixes:
            if p:
                app.router.add_get(p, self._to_slash)
            app.router.add_get(p + "/", self._page)
            app.router.add_get(p + "/static/{name}", self._static_file)
            app.router.add_post(p + "/api/session", self._session)
            app.router.add_get(p + "/api/overview", self._overview)
            app.router.add_get(p + "/api/export", self._export)
        return app

    async def _headers(self, request: web.Request, response: web.StreamResponse) -> None:
        h = response.headers
        h["Content-Security-Policy"] = self._csp
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["Cross-Origin-Resource-Policy"] = "same-origin"
        h["Server"] = "gremienbot"
        if "/api/" in request.path:
            h["Cache-Control"] = "no-store"
        else:
            h.setdefault("Cache-Control", "no-cache")

    async def _to_slash(self, request: web.Request) -> web.Response:
        target = request.path + "/"
        if request.query_string:
            target += "?" + request.query_string
        raise self.web.HTTPPermanentRedirect(target)

    async def _page(self, request: web.Request) -> web.Response:
        return self._file("index.html")

    async def _static_file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "index.html":
            raise self.web.HTTPNotFound()
        return self._file(name)

    def _file(self, name: str) -> web.Response:
        found = self._static_files.get(name)
        if found is None:
            raise self.web.HTTPNotFound()
        body, kind = found
        return self.web.Response(body=body, headers={"Content-Type": kind})

    # ------------------------------------------------------------------ login

    def _address(self, request: web.Request) -> str:
        """The client's address: the peer's, or what a trusted reverse proxy says it is."""
        peer = request.remote or ""
        forwarded = request.headers.get("X-Forwarded-For")
        if forwarded and _normal(peer) in self.options.trusted_proxies:
            last = forwarded.split(",")[-1].strip()
            if last:
                return last
        return peer

    async def _session(self, request: web.Request) -> web.Response:
        address = self._address(request)
        wait = self.failures.blocked(address)
        if wait is not None:
            log.info("dashboard: login refused, too many failed attempts")
            return self._error(429, "too_many_attempts", **{"Retry-After": str(int(wait) + 1)})
        try:
            body = await request.json()
        except (ValueError, self.web.HTTPException):
            body = None
        if not isinstance(body, dict):
            self.failures.failed(address)
            return self._error(400, "bad_request")
        assert self._http is not None
        try:
            user_id = await self.verifier.user_of(
                self._http, body.get("access_token"), body.get("matrix_server_name")
            )
        except NotVerified as exc:
            self.failures.failed(address)
            log.info("dashboard: login refused: %s", exc)
            return self._error(401, "not_verified")
        except HomeserverAway as exc:
            log.warning("dashboard: the homeserver did not answer a login: %s", exc)
            return self._error(502, "homeserver")
        levels = await self._levels(user_id)
        try:
            viewer = await self._read(self._viewer, user_id, levels)
        except UNAVAILABLE:
            return self._error(503, "database")
        if viewer is None:
            log.info("dashboard: login refused: neither coordination nor chair")
            return self._error(403, "no_committee")
        token = self.sessions.open(user_id)
        log.info("dashboard: %s logged in (%s)", user_id, viewer.role_name)
        return self.web.json_response(
            {
                "token": token,
                "expires_in": int(self.options.session_seconds),
                "user_id": user_id,
                "role": viewer.role_name,
                "lang": self.defaults.language,
            }
        )

    async def _levels(self, user_id: str) -> dict[str, int]:
        return await levels_of(self.client(), user_id, self.options.coordinators, self.room_levels)

    def _viewer(self, user_id: str, levels: Mapping[str, int]) -> Viewer | None:
        with snapshot(self.db) as s:
            return viewer_of(s, user_id, levels, self.options.coordinators)

    def _bearer(self, request: web.Request) -> str | None:
        """Whom the request's bearer token stands for; None: nobody (or expired)."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.sessions.user(token.strip())

    async def _read(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader, lambda: fn(*args, **kwargs))

    async def _answer(self, request: web.Request, work: Work) -> web.Response:
        """The API's frame: who asks (401 without a valid token), their rights now, the
        errors as the widget tells them apart."""
        user_id = self._bearer(request)
        if user_id is None:
            return self._error(401, "not_logged_in")
        levels = await self._levels(user_id)
        try:
            return await work(user_id, levels)
        except Refused as exc:
            return self._error(exc.status, exc.reason)
        except (DatabaseAway, *UNAVAILABLE):
            return self._error(503, "database")

    # ------------------------------------------------------------------ the API

    async def _overview(self, request: web.Request) -> web.Response:
        lang = language(request.query.get("lang"), self.defaults)
        period = request.query.get("period")

        async def work(user_id: str, levels: Mapping[str, int]) -> web.Response:
            data = await self._read(self._overview_of, user_id, levels, lang, period)
            return self.web.json_response(data, dumps=_dumps)

        return await self._answer(request, work)

    def _overview_of(
        self, user_id: str, levels: Mapping[str, int], lang: str, period: str | None
    ) -> dict[str, Any]:
        with snapshot(self.db) as s:
            viewer = viewer_of(s, user_id, levels, self.options.coordinators)
            if viewer is None:
                raise Refused(403, "no_committee")
            return overview(
                s, viewer, lang=lang, now=self.clock(), defaults=self.defaults, period_text=period
            )

    async def _export(self, request: web.Request) -> web.Response:
        q = request.query
        lang = language(q.get("lang"), self.defaults)

        async def work(user_id: str, levels: Mapping[str, int]) -> web.Response:
            order = await self._read(
                self._order_of, user_id, levels, q.get("format", ""), q.get("room"),
                q.get("period"), lang,
            )  # fmt: skip
            make = self.makers.get(order.job.name)
            if make is None:
                raise Refused(500, "no_maker")
            params = {**order.job.params, CONFIG_PARAM: self.file_config}
            loop = asyncio.get_running_loop()
            async with self._one_file:
                try:
                    data = await loop.run_in_executor(
                        self._files, self.runner, self.db, make, params
                    )
                except (DatabaseAway, *UNAVAILABLE):
                    raise
                except Exception as exc:
                    ref = reference_code()
                    name = order.job.name
                    log.error("dashboard: file %s failed (reference %s)", name, ref, exc_info=exc)
                    raise Refused(500, "file_failed") from None
            return self.web.Response(
                body=data,
                headers={
                    "Content-Type": order.mimetype,
                    "Content-Disposition": _attachment(order.filename),
                },
            )

        return await self._answer(request, work)

    def _order_of(
        self,
        user_id: str,
        levels: Mapping[str, int],
        file_format: str,
        room: str | None,
        period: str | None,
        lang: str,
    ) -> FileOrder:
        with snapshot(self.db) as s:
            viewer = viewer_of(s, user_id, levels, self.options.coordinators)
            if viewer is None:
                raise Refused(403, "no_committee")
            return export_order(
                s,
                viewer,
                file_format=file_format,
                room=room,
                period_text=period,
                lang=lang,
                now=self.clock(),
                defaults=self.defaults,
            )


def _normal(address: str) -> str:
    """An IP address as `ipaddress` writes it (an IPv4 mapped into IPv6 as IPv4)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def options_of(config: Config) -> DashboardOptions | None:
    """The server's options from the config; None while the dashboard is off."""
    section = config.dashboard
    address = section.address
    if address is None:
        return None
    return DashboardOptions(
        host=address[0],
        port=address[1],
        prefix=prefix_of(section.public_url),
        element_origins=tuple(section.element_origins),
        openid_url=section.openid_url or config.homeserver,
        server_name=config.server_name,
        coordinators=frozenset(config.coordination),
        session_seconds=60.0 * section.session_minutes,
        trusted_proxies=frozenset(section.trusted_proxies),
    )
