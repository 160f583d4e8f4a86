"""A request body cap answered with 413 before anything parses the body or checks a token.

Without it a client with no token could make a service hold an 80 MB body (twice: bytes and parsed)
and, with a few parallel requests, push the pod over its memory limit on the urgent-alert path."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medsupport_shared.errors import problem_response

DEFAULT_MAX_BODY_BYTES = 64 * 1024


class BodyLimitMiddleware:
    """Refuses a declared ``Content-Length`` above the limit at once, and reads a streamed (chunked)
    body up to the limit before handing it on, so no route ever sees more than ``limit`` bytes.
    ``per_path`` raises the limit for routes that need more (longest matching path prefix wins)."""

    def __init__(
        self, app: ASGIApp, *, limit: int = DEFAULT_MAX_BODY_BYTES, per_path: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.per_path = dict(per_path or {})

    def limit_for(self, path: str) -> int:
        matches = [prefix for prefix in self.per_path if path.startswith(prefix)]
        return self.per_path[max(matches, key=len)] if matches else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit, scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            size += len(message.get("body", b""))
            if size > limit:
                await _too_large(limit, scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The messages already read, then the real channel (a streaming route waits on it for disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _too_large(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem_response(
        413, f"the request body is larger than {limit} bytes", title="Content Too Large", slug="too-large"
    )
    response.headers["Connection"] = "close"  # the rest of the body is never read
    await response(scope, receive, send)
