"""Failures as problem+json: a database outage is 503, and an urgent check-in's error still carries
the crisis resources (DOMAIN.md: shown to the student at once, whatever else happens)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure

from medsupport_shared.errors import (
    AUTH_ERRORS,
    PROBLEM_CONTENT_TYPE,
    Problem,
    problem_response,
    problem_responses,
)
from wellbeing.schemas import CheckinProblem
from wellbeing.settings import DEFAULT_CRISIS_RESOURCES, CrisisResource

log = logging.getLogger(__name__)
DATABASE_DOWN = "the database is unavailable; try again shortly"
UNEXPECTED = "an unexpected error occurred; it has been logged"
FAILURES_WITH_CRISIS_RESOURCES = (409, 500, 503)


def _log_database_down(exc: ConnectionFailure) -> None:
    # The error's text names hosts and topology; its type is enough in the log.
    log.warning("database unavailable", extra={"error": type(exc).__name__})


def install_database_outage_handler(app: FastAPI) -> None:
    """A MongoDB outage (no server, timeout, network error) on any route is 503 problem+json, not 500;
    the route-level documentation of it is added by :func:`document_database_outage`."""

    async def on_connection_failure(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ConnectionFailure)
        _log_database_down(exc)
        return problem_response(503, DATABASE_DOWN)

    app.add_exception_handler(ConnectionFailure, on_connection_failure)


def document_database_outage(app: FastAPI) -> None:
    """Every /v1 route documents the 503 it answers when the database is down."""
    original = app.openapi
    entry = problem_responses(503)[503]
    example = {**entry["content"][PROBLEM_CONTENT_TYPE]["example"], "detail": DATABASE_DOWN}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = original()
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/v1"):
                continue
            for operation in operations.values():
                operation.setdefault("responses", {}).setdefault(
                    "503",
                    {
                        "description": "Service Unavailable: the database is down",
                        "content": {
                            PROBLEM_CONTENT_TYPE: {
                                "schema": {"$ref": "#/components/schemas/ProblemDetail"},
                                "example": example,
                            }
                        },
                    },
                )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_crisis_resources(exc: Exception, resources: Sequence[CrisisResource]) -> JSONResponse:
    """The problem+json the shared handlers would answer for ``exc`` (same status, title, detail), with
    the crisis resources added in the shape of the 201 reply."""
    extra = {"crisis_resources": [r.model_dump(mode="json") for r in resources]}
    if isinstance(exc, Problem):
        return problem_response(
            exc.status,
            exc.detail,
            title=exc.title,
            slug=exc.slug,
            errors=exc.errors,
            headers=exc.headers,
            extra=extra,
        )
    if isinstance(exc, ConnectionFailure):
        _log_database_down(exc)
        return problem_response(503, DATABASE_DOWN, extra=extra)
    log.exception("unhandled error", exc_info=exc)
    return problem_response(500, UNEXPECTED, extra=extra)


def checkin_problem_responses() -> dict[int | str, dict[str, Any]]:
    """OpenAPI error responses of ``POST /v1/checkins``: the failures that can follow scoring carry
    ``crisis_resources`` when the answers are urgent."""
    out = problem_responses(*AUTH_ERRORS, *FAILURES_WITH_CRISIS_RESOURCES)
    details = {409: "the student's flag kept changing; retry", 500: UNEXPECTED, 503: DATABASE_DOWN}
    resource = DEFAULT_CRISIS_RESOURCES[2].model_dump(mode="json")
    for status in FAILURES_WITH_CRISIS_RESOURCES:
        entry = out[status]
        content = entry["content"][PROBLEM_CONTENT_TYPE]
        content["schema"] = {"$ref": "#/components/schemas/CheckinProblem"}
        content["example"] = {**content["example"], "detail": details[status], "crisis_resources": [resource]}
        entry["model"] = CheckinProblem
        entry["description"] = f"{entry['description']}; `crisis_resources` present when the answers are urgent"
    return out
