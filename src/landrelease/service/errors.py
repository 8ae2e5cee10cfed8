"""Every error a client sees is ``{"error": message}`` with the right status; never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from landrelease.errors import LandreleaseError

log = logging.getLogger("landrelease.service")


def install(app: FastAPI) -> None:
    app.add_exception_handler(LandreleaseError, _landrelease_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(UnicodeError, _not_unicode)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)


def _landrelease_error(request: Request, exc: LandreleaseError) -> Response:
    if exc.http_status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc.message)
    return JSONResponse({"error": exc.message}, status_code=exc.http_status)


def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()))
        problems.append({"where": where, "problem": str(error.get("msg", "invalid"))})
    first = problems[0] if problems else {"where": "request", "problem": "invalid"}
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return JSONResponse(
        {"error": f"{first['where']}: {first['problem']}{more}", "problems": problems[:50]}, status_code=422
    )


def _not_unicode(request: Request, exc: UnicodeError) -> Response:
    # JSON and percent-encoded URLs can carry lone surrogates, which no database can store as text.
    return JSONResponse({"error": "text must be valid Unicode (a lone surrogate was sent)"}, status_code=400)


def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return JSONResponse({"error": "internal error"}, status_code=500)
