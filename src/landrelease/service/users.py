"""Signing in and out, who am I, and user management (admins)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from landrelease.accounts.users import authenticate, close_session, create_user, open_session
from landrelease.service.auth import SESSION_COOKIE, principal_of, require
from landrelease.service.context import Principal, Role
from landrelease.service.models import ERRORS, ErrorOut, LoginIn, NewUserOut, UserIn, UserOut
from landrelease.service.resources import resources
from landrelease.service.throttle import LoginThrottle

router = APIRouter(prefix="/api", tags=["Users and sessions"], responses=ERRORS)

_LOGIN_SCHEMA = LoginIn.model_json_schema()
_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": _LOGIN_SCHEMA},
            "application/x-www-form-urlencoded": {"schema": _LOGIN_SCHEMA},
        },
    }
}


async def _login_form(request: Request) -> LoginIn:
    """The name and password, from a form or from JSON."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            raw: Any = json.loads(await request.body())
        elif kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
            async with request.form(max_files=0, max_fields=10) as form:
                raw = {k: v for k, v in form.items() if isinstance(v, str)}
        else:
            raise HTTPException(415, detail="send the name and password as JSON or as a form")
        return LoginIn.model_validate(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise HTTPException(422, detail=f"{where}: {first['msg']}") from None
        raise HTTPException(422, detail="the body is not valid JSON") from None


@router.post(
    "/login",
    operation_id="login",
    summary="Sign in with a name and password: sets the session cookie",
    openapi_extra=_LOGIN_BODY,
    responses={
        415: {"model": ErrorOut, "description": "Neither JSON nor a form"},
        429: {"model": ErrorOut, "description": "Too many failed sign-ins for this name or address: wait"},
    },
)
async def login(request: Request, response: Response) -> UserOut:
    form = await _login_form(request)
    accounts = resources(request).accounts
    throttle = _throttle(request)
    keys = (f"name:{form.name.casefold()}", f"address:{request.client.host if request.client else '-'}")
    wait = throttle.wait(*keys)
    if wait:
        raise HTTPException(
            429,
            detail=f"too many failed sign-ins: try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    user = await run_in_threadpool(authenticate, accounts, form.name, form.password)
    if user is None:
        throttle.failed(*keys)
        raise HTTPException(401, detail="wrong name or password")
    throttle.succeeded(keys[0])
    session, seconds = await run_in_threadpool(open_session, accounts, user)
    response.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=seconds,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return UserOut(name=user.name, role=user.role, organisation=user.organisation)


def _throttle(request: Request) -> LoginThrottle:
    throttle = request.app.state.login_throttle
    assert isinstance(throttle, LoginThrottle)
    return throttle


@router.post("/logout", status_code=204, operation_id="logout", summary="End the session")
def logout(request: Request, _principal: Annotated[Principal, Depends(require(Role.VIEWER))]) -> Response:
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        close_session(resources(request).accounts, session)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/me", operation_id="me", summary="Who you are signed in as")
def me(principal: Annotated[Principal, Depends(require(Role.VIEWER))]) -> UserOut:
    return UserOut(name=principal.name, role=principal.role, organisation=principal.organisation)


@router.get("/users", operation_id="list_users", summary="Every user (admins)")
def list_users(request: Request, _admin: Annotated[Principal, Depends(require(Role.ADMIN))]) -> list[UserOut]:
    return [UserOut(name=u.name, role=u.role, organisation=u.organisation) for u in resources(request).accounts.users()]


@router.post("/users", status_code=201, operation_id="add_user", summary="Add a user (admins); the token is shown once")
def add_user(request: Request, body: UserIn, _admin: Annotated[Principal, Depends(require(Role.ADMIN))]) -> NewUserOut:
    user, token = create_user(resources(request).accounts, body.name, body.role, body.organisation, body.password)
    principal = principal_of(user)
    return NewUserOut(name=principal.name, role=principal.role, organisation=principal.organisation, token=token)
