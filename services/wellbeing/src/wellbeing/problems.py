"""An urgent check-in's failure (answered as the shared handlers would) still carries the crisis
resources (docs/DOMAIN.md: shown to the student at once, whatever else happens)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse

from medsupport_shared.errors import (
    AUTH_ERRORS,
    DATABASE_DOWN,
    PROBLEM_CONTENT_TYPE,
    UNEXPECTED,
    problem_for,
    problem_responses,
)
from wellbeing.schemas import CheckinProblem
from wellbeing.settings import DEFAULT_CRISIS_RESOURCES, CrisisResource

FAILURES_WITH_CRISIS_RESOURCES = (409, 500, 503)


def with_crisis_resources(exc: Exception, resources: Sequence[CrisisResource]) -> JSONResponse:
    """The problem+json the shared handlers would answer for ``exc`` (same status, title, detail), with
    the crisis resources added in the shape of the 201 reply."""
    return problem_for(exc, extra={"crisis_resources": [r.model_dump(mode="json") for r in resources]})


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
