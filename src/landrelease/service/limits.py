"""A cap on request bodies (10 MB by default): checked on the declared length, and again on the bytes
actually received, so a chunked upload cannot get round it."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 10 * 1024 * 1024


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the request body is larger than {limit // (1024 * 1024)} MB")


class BodyLimit:
    """ASGI middleware answering 413 to a body over ``limit`` bytes."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        try:
            too_large = declared is not None and int(declared) > self.limit
        except ValueError:
            too_large = False
        if too_large:
            await JSONResponse({"error": BodyTooLarge(self.limit).detail}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)  # FastAPI passes HTTPExceptions from the body through
            return message

        await self.app(scope, counted, send)


class SingleValuedQuery:
    """ASGI middleware answering 400 when a query parameter of the JSON API is given more than once.

    Every ``/api`` parameter takes one value; a framework would silently keep the last of several, so
    ``?status=active&status=closed`` would answer a question nobody asked. (The OGC API checks its own.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith("/api/"):
            names = [
                name for name, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            ]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                message = f"query parameter {', '.join(repeated)} given more than once; give each one value"
                await JSONResponse({"error": message}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)
