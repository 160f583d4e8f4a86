"""A correlation id per request or event, carried in HTTP headers and Kafka headers."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

CORRELATION_HEADER = "X-Correlation-ID"
KAFKA_CORRELATION_HEADER = "correlation_id"
KAFKA_TRACEPARENT_HEADER = "traceparent"

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_request_state: ContextVar[dict[str, bool] | None] = ContextVar("request_state", default=None)
_traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)
_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def current_traceparent() -> str | None:
    return _traceparent.get()


def bind(correlation_id: str | None, traceparent: str | None = None) -> str:
    """Set the ids for the current task; an unsafe or missing id is replaced by a new one."""
    if traceparent is not None and not _TRACEPARENT.match(traceparent):
        traceparent = None
    if correlation_id is None or not _SAFE.match(correlation_id):
        match = _TRACEPARENT.match(traceparent) if traceparent else None
        correlation_id = match.group(1) if match else new_correlation_id()
    _correlation_id.set(correlation_id)
    _traceparent.set(traceparent)
    return correlation_id


def kafka_headers() -> list[tuple[str, bytes]]:
    """Headers that carry the current correlation into a Kafka record."""
    headers: list[tuple[str, bytes]] = []
    if (cid := _correlation_id.get()) is not None:
        headers.append((KAFKA_CORRELATION_HEADER, cid.encode()))
    if (tp := _traceparent.get()) is not None:
        headers.append((KAFKA_TRACEPARENT_HEADER, tp.encode()))
    return headers


def bind_from_kafka_headers(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...] | None) -> str:
    found = {key: value.decode(errors="replace") for key, value in headers or ()}
    return bind(found.get(KAFKA_CORRELATION_HEADER), found.get(KAFKA_TRACEPARENT_HEADER))


def begin_request() -> dict[str, bool]:
    """Per-request state shared by reference with the route (its changes reach the middleware)."""
    state = {"anonymous": False}
    _request_state.set(state)
    return state


def forget_caller() -> None:
    """For anonymous routes: drop the caller's correlation and trace ids for everything that follows,
    including the request's own log line and response header (they could link a report to a browser)."""
    state = _request_state.get()
    if state is not None:
        state["anonymous"] = True
    bind(None)
