"""RFC 9457 problem+json for every failure, and the OpenAPI descriptions of those responses."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException as StarletteHTTPException

from medsupport_shared.domain_errors import (  # re-exported: routes and older modules import them from here
    Conflict as Conflict,
)
from medsupport_shared.domain_errors import DomainError
from medsupport_shared.domain_errors import Forbidden as Forbidden
from medsupport_shared.domain_errors import NotFound as NotFound
from medsupport_shared.domain_errors import TooManyRequests as TooManyRequests
from medsupport_shared.domain_errors import Unprocessable as Unprocessable
from medsupport_shared.redaction import describe_error, is_validation_error

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://medsupport.dev/problems/"
log = logging.getLogger(__name__)


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str


class ProblemDetail(BaseModel):
    type: str = Field(examples=[PROBLEM_TYPE_BASE + "not-found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["no check-in with that id"])
    errors: list[FieldError] | None = None


class Problem(Exception):
    """Raise anywhere in a request to answer with problem+json."""

    status = 500
    title = "Internal Server Error"
    slug = "internal"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers


class BadRequest(Problem):
    status, title, slug = 400, "Bad Request", "bad-request"


class Unauthorized(Problem):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class ServiceUnavailable(Problem):
    status, title, slug = 503, "Service Unavailable", "unavailable"


_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    422: "validation",
    429: "rate-limited",
    503: "unavailable",
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    slug: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or _SLUGS.get(status, "error")),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the rejected input back: it may be health data.
    return [
        {
            "loc": [str(part) if not isinstance(part, int) else part for part in err.get("loc", ())],
            "msg": str(err.get("msg", "invalid")),
        }
        for err in exc.errors()
    ]


DATABASE_DOWN = "the database is unavailable; try again shortly"
UNEXPECTED = "an unexpected error occurred; it has been logged"


def problem_for(exc: Exception, *, extra: dict[str, Any] | None = None) -> JSONResponse:
    """The problem+json answer for an exception raised by a route: a Problem as itself, an HTTP error with
    its status, invalid input as 422, a MongoDB outage (no server, timeout, network) as 503, anything else
    as a logged 500. ``extra`` adds members (e.g. crisis resources that must reach the caller whatever failed)."""
    if isinstance(exc, DomainError):
        return _domain_problem(exc, extra)
    if isinstance(exc, Problem):
        return problem_response(
            exc.status, exc.detail, title=exc.title, slug=exc.slug, errors=exc.errors, headers=exc.headers, extra=extra
        )
    if isinstance(exc, StarletteHTTPException):
        return problem_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None), extra=extra)
    if isinstance(exc, RequestValidationError):
        return problem_response(422, "the request is not valid", errors=_validation_errors(exc), extra=extra)
    if isinstance(exc, ConnectionFailure):
        # The driver's message names hosts and topology; its type is enough in the log.
        log.warning("database unavailable", extra={"error": type(exc).__name__})
        return problem_response(503, DATABASE_DOWN, extra=extra)
    if is_validation_error(exc):  # its text and traceback carry the rejected values (possibly health data)
        log.error("unhandled error", extra={"error": describe_error(exc)})
    else:
        log.exception("unhandled error", exc_info=exc)
    return problem_response(500, UNEXPECTED, extra=extra)


DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Unprocessable: 422,
    TooManyRequests: 429,
}
"""The HTTP status of each refusal of the domain (a subclass answers as its nearest listed base)."""


def _domain_problem(exc: DomainError, extra: dict[str, Any] | None) -> JSONResponse:
    status = next((DOMAIN_STATUS[k] for k in type(exc).__mro__ if k in DOMAIN_STATUS), 422)
    headers = None
    if isinstance(exc, TooManyRequests) and exc.retry_after is not None:
        headers = {"Retry-After": str(exc.retry_after)}
    return problem_response(status, exc.detail, errors=exc.errors, headers=headers, extra=extra)


def install_problem_handlers(app: FastAPI) -> None:
    """Every failure of a route answered by :func:`problem_for`."""

    async def on_error(_: Request, exc: Exception) -> JSONResponse:
        return problem_for(exc)

    # Validation errors of replies and models get their own entry: Starlette re-raises what reaches the
    # catch-all ``Exception`` handler, and the server would log that traceback, input values included.
    kinds = (
        DomainError,
        Problem,
        StarletteHTTPException,
        RequestValidationError,
        ResponseValidationError,
        ValidationError,
        ConnectionFailure,
        Exception,
    )
    for kind in kinds:
        app.add_exception_handler(kind, on_error)


_EXAMPLE_DETAIL = {
    400: "the request is malformed",
    401: "a valid bearer token is required",
    403: "your role may not do this",
    404: "no such resource",
    409: "the Idempotency-Key was used with another request body",
    413: "the request body is larger than 65536 bytes",
    422: "the request is not valid",
    429: "too many requests; try again later",
    503: "a dependency is down",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the given error statuses, each with a problem+json example."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        example: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + _SLUGS.get(status, "error"),
            "title": _TITLES.get(status, "Error"),
            "status": status,
            "detail": _EXAMPLE_DETAIL.get(status, "error"),
        }
        if status == 422:
            example["errors"] = [{"loc": ["body", "field"], "msg": "Field required"}]  # per route in the OpenAPI
        out[status] = {
            "model": ProblemDetail,
            "description": _TITLES.get(status, "Error"),
            "content": {PROBLEM_CONTENT_TYPE: {"example": example}},
        }
    return out


AUTH_ERRORS = (401, 403, 422)
"""Statuses every authenticated /v1 route can answer with."""
