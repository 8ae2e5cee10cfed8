"""Who is asking: a bearer token or a session cookie, resolved to a ``Principal`` with a ``Role``.

Routes declare what they need with ``Depends(require(Role.X))``. ``SignInRequired`` is a second line:
every path except the public ones (health, login, API docs) is refused with 401 before any route runs
when the request carries no credentials at all, so a route that forgets its dependency is still closed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from landrelease.accounts.protocol import User
from landrelease.accounts.users import user_of_session, user_of_token
from landrelease.service.context import Principal, Role
from landrelease.service.resources import resources

SESSION_COOKIE = "landrelease_session"
#: Paths anyone may reach without signing in.
PUBLIC_PATHS = frozenset({"/health", "/api/login", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})

_bearer = HTTPBearer(auto_error=False, description="An API token, as printed by `landrelease user add`.")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="The session set by POST /api/login.")


def principal_of(user: User) -> Principal:
    return Principal(name=user.name, role=user.role, organisation=user.organisation)


def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[str | None, Depends(_cookie)],
) -> Principal | None:
    """The signed-in principal, or None. A bearer token, when given, is the only credential considered."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    accounts = resources(request).accounts
    if request.headers.get("authorization") is not None:
        user = user_of_token(accounts, bearer.credentials) if bearer is not None else None
    else:
        user = user_of_session(accounts, session) if session else None
    principal = principal_of(user) if user is not None else None
    request.state.principal = principal
    return principal


def require(role: Role) -> Callable[..., Principal]:
    """A FastAPI dependency: the principal if it holds ``role`` (or a higher one); 401 if anonymous, 403 if not."""

    def dependency(principal: Annotated[Principal | None, Depends(current_principal)]) -> Principal:
        if principal is None:
            raise HTTPException(
                status_code=401,
                detail="sign in first: send 'Authorization: Bearer TOKEN' or log in at /api/login",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.role.can(role):
            raise HTTPException(status_code=403, detail=f"this needs the {role.value} role (you are {principal.role})")
        return principal

    return dependency


class SignInRequired:
    """ASGI middleware: 401 for a request with no credentials to a non-public path (no database work here)."""

    def __init__(self, app: ASGIApp, public: Collection[str] = PUBLIC_PATHS) -> None:
        self.app = app
        self.public = frozenset(public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.public or _has_credentials(scope):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"error": "sign in first: send 'Authorization: Bearer TOKEN' or log in at /api/login"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)


def _has_credentials(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"authorization" or (name == b"cookie" and SESSION_COOKIE.encode() in value):
            return True
    return False
