"""The web app: its pages and static files, served by the same process as the API.

``mount_web(app)`` puts a small ASGI front before the app's own middleware. It answers the page paths
(``/``, ``/login``, ``/map``, ``/review``, ``/import``, ``/dashboard``), the static files under
``/static/`` and ``/web/synthetic``, and passes everything else on to the API untouched. The pages hold no
data: the browser fetches everything from the authenticated API with the session cookie (``/api/login``),
and a page whose API call answers 401 goes to the login page. So the pages can be public, and they are
answered before the API's sign-in guard (which knows only exact paths, not a folder of files).

Every web response carries a Content-Security-Policy that allows this origin only: no CDN, no inline
script, nothing fetched from elsewhere (the map works with no internet).
"""

from __future__ import annotations

import mimetypes
import threading
import time
from pathlib import Path

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from landrelease.service.auth import SESSION_COOKIE

WEB_DIR = Path(__file__).parent / "web"
#: The pages, by path: each is a static HTML file that loads its ES module.
PAGES = {
    "/login": "login.html",
    "/map": "map.html",
    "/review": "review.html",
    "/import": "import.html",
    "/dashboard": "dashboard.html",
}
STATIC_PREFIX = "/static/"
SYNTHETIC_PATH = "/web/synthetic"
#: maplibre starts its worker from its own (same-origin) module file; ``blob:`` is its fallback.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
#: How long the "is this synthetic data?" answer is kept (it changes only when the database is rebuilt).
SYNTHETIC_TTL_SECONDS = 30.0


def is_web_path(path: str) -> bool:
    return path == "/" or path in PAGES or path == SYNTHETIC_PATH or path.startswith(STATIC_PREFIX)


class SyntheticFlag:
    """Whether the national record holds synthetic demo data (any hazard marked ``synthetic``), cached briefly.

    Public on purpose: the login page must say "synthetic demo data" before anyone signs in.
    """

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._value: bool | None = None
        self._at = 0.0

    def __call__(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._value is None or now - self._at > SYNTHETIC_TTL_SECONDS:
                self._value, self._at = self._read(), now
            return self._value

    def _read(self) -> bool:
        held = getattr(self._app.state, "landrelease", None)
        store = getattr(held, "store", None)
        if store is None:
            return False
        _, _, columns = store.columns("hazards", ["synthetic"], geometry=False)
        return any(bool(v) for v in columns["synthetic"])


def web_app(synthetic: SyntheticFlag) -> Starlette:
    """The pages, the static files and the synthetic flag, as a Starlette app of their own."""

    def home(request: Request) -> Response:
        signed_in = SESSION_COOKIE in request.cookies
        return RedirectResponse("/map" if signed_in else "/login", status_code=303)

    def page(request: Request) -> Response:
        return FileResponse(WEB_DIR / PAGES[request.url.path], media_type="text/html; charset=utf-8")

    async def synthetic_flag(_request: Request) -> Response:
        from fastapi.concurrency import run_in_threadpool

        value = await run_in_threadpool(synthetic)
        return JSONResponse({"synthetic": value}, headers={"Cache-Control": "no-store"})

    routes = [
        Route("/", home, methods=["GET", "HEAD"]),
        *(Route(path, page, methods=["GET", "HEAD"]) for path in PAGES),
        Route(SYNTHETIC_PATH, synthetic_flag, methods=["GET"]),
        Mount("/static", StaticFiles(directory=WEB_DIR), name="static"),
    ]
    return Starlette(routes=routes)


class WebFront:
    """ASGI middleware: web paths go to the web app (with the security headers), the rest to the API."""

    def __init__(self, app: ASGIApp, web: ASGIApp) -> None:
        self.app = app
        self.web = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k not in dict(SECURITY_HEADERS)]
                message = {**message, "headers": [*headers, *SECURITY_HEADERS]}
            await send(message)

        await self.web(scope, receive, send_secured)


def mount_web(app: FastAPI) -> None:
    """Serve the web app from ``app`` (once). Call it last in ``create_app``: the front goes outermost, so the pages
    and static files are answered before the sign-in guard (they hold no data; the API stays closed)."""
    # ES modules must be served as JavaScript; not every platform's mimetypes table knows .mjs.
    mimetypes.add_type("text/javascript", ".mjs")
    mimetypes.add_type("text/javascript", ".js")
    if web_mounted(app):
        return
    app.add_middleware(WebFront, web=web_app(SyntheticFlag(app)))


def web_mounted(app: FastAPI) -> bool:
    """Whether ``mount_web`` has been called on ``app`` (calling it twice changes nothing)."""
    return any(getattr(m, "cls", None) is WebFront for m in app.user_middleware)
