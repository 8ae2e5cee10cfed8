"""The HTTP service: ``create_app(db)`` gives a FastAPI app over the database at ``db``.

The database and the accounts are opened once, when the app is made (so a wrong path fails at once, not
at the first request), and closed when the app shuts down. Middleware, outermost first: the body cap
(413), then the sign-in guard (401 without credentials). Errors are JSON ``{"error": ...}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

from fastapi import FastAPI

from landrelease import __version__
from landrelease.accounts import open_accounts
from landrelease.service import errors, features, imports, reports, submissions, users
from landrelease.service.auth import PUBLIC_PATHS, SignInRequired, require
from landrelease.service.context import Role
from landrelease.service.limits import MAX_BODY_BYTES, BodyLimit, SingleValuedQuery
from landrelease.service.models import Health
from landrelease.service.ogc import ogc_router
from landrelease.service.resources import Resources
from landrelease.service.throttle import LoginThrottle
from landrelease.service.tiles import tiles_router
from landrelease.service.webapp import mount_web
from landrelease.store import open_store

DESCRIPTION = """The national mine action database over HTTP: hazards, activities, outcomes, finds, accidents,
victims (personal data: reviewers and admins only), risk education, and the land release ledger.

Sign in with `Authorization: Bearer TOKEN` (`landrelease user add` prints one) or a session from
`POST /api/login`. Operators' writes go through `/api/submissions` and a reviewer's approval."""


def create_app(
    db: str,
    *,
    public_paths: Collection[str] = (),
    max_body_bytes: int = MAX_BODY_BYTES,
    read_db: str | None = None,
    max_lag: float | None = None,
) -> FastAPI:
    """The app over the database at ``db`` (which must exist). ``public_paths`` are reachable without
    signing in, besides health, login and the API documents. With ``read_db`` (a streaming replica), the
    store's reads go there while it is available and at most ``max_lag`` seconds behind; writes, users and
    sessions stay on ``db``."""
    store = open_store(db, read=read_db, max_lag=max_lag)
    try:
        accounts = open_accounts(db)
    except BaseException:
        store.close()
        raise
    held = Resources(store=store, accounts=accounts)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            held.close()

    app = FastAPI(title="landrelease", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.landrelease = held
    app.state.store = store  # what the OGC API and tile routers read
    app.state.login_throttle = LoginThrottle()
    errors.install(app)
    app.add_middleware(SignInRequired, public=PUBLIC_PATHS | frozenset(public_paths))
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.add_middleware(SingleValuedQuery)

    @app.get("/health", tags=["Service"], operation_id="health", summary="Liveness (no sign-in needed)")
    def health() -> Health:
        return Health()

    app.include_router(users.router)
    app.include_router(reports.router)
    app.include_router(submissions.router)
    app.include_router(imports.router)
    app.include_router(features.router)
    app.include_router(ogc_router(require(Role.VIEWER)), prefix="/ogc")
    app.include_router(tiles_router(require(Role.VIEWER)), prefix="/tiles")
    mount_web(app)  # last: its front answers the pages and static files before the sign-in guard
    return app
