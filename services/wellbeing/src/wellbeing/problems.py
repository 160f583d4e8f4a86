"""Failures as problem+json: a database outage is 503, and an urgent check-in's error still carries
the crisis resources (DOMAIN.md: shown to the student at once, whatever else happens)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure

from medsupport_shared.errors import (
    AUTH_ERRORS,
    DATABASE_DOWN,
    PROBLEM_CONTENT_TYPE,
    Problem,
    problem_response,
    problem_responses,
)
from wellbeing.schemas import CheckinProblem
from wellbeing.settings import DEFAULT_CRISIS_RESOURCES, CrisisResource

log = logging.getLogger(__name__)
UNEXPECTED = "an unexpected error occurred; it has been logged"
FAILURES_WITH_CRISIS_RESOURCES = (409, 500, 503)


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
        log.warning("database unavailable", extra={"error": type(exc).__name__})
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
