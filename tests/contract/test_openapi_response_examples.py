"""Every 2xx JSON reply in every service's OpenAPI document shows the frontend an example, and every
example a response model carries is a valid reply of that model."""

import importlib
import json
from typing import Any

import pytest
from pydantic import BaseModel

from feedback.domain.climate import ClimateInstrument
from medsupport_shared.erasure import ErasureRequestOut, ErasureRequestPage
from mentorship.schemas import (
    AssignmentOut,
    AssignmentPage,
    MatchingRunOut,
    MeetingOut,
    MeetingPage,
    MenteePreferencesOut,
    MentorPage,
    MentorProfileOut,
    PeerGroupOut,
    PeerGroupPage,
    PlacementOut,
)
from notifications.routing import RouteRule
from notifications.schemas import (
    AcknowledgementTimesOut,
    AlertOut,
    AlertPage,
    AlertReadPage,
    ImportResultOut,
    OnCall,
    PreferencesOut,
    PreviewOut,
    RoleGrantPage,
    RotaOut,
    RulePage,
    StaffOut,
    StaffPage,
    StreamTicketOut,
)
from wellbeing.domain.instruments import Instrument
from wellbeing.referral_schemas import (
    HelpStatusOut,
    MyReferral,
    RaisedReferral,
    RaisedReferralPage,
    ReferralFigures,
    ReferralQueue,
    ReferralStaffView,
)
from wellbeing.resource_schemas import ResourceOut, ResourcePage
from wellbeing.schemas import (
    AuditPage,
    CheckinPage,
    CheckinResult,
    CohortSummary,
    ConsentRecord,
    Flag,
    FlagPage,
    InstrumentPage,
    ReminderRecord,
    Trend,
)
from wellbeing.workshop_schemas import SeatOut, WorkshopOut, WorkshopPage

SERVICES = ["feedback", "wellbeing", "mentorship", "notifications"]

NOT_JSON = {
    # Server-sent events: the reply is text/event-stream (documented with its own example); FastAPI still
    # lists an empty application/json schema for it, which has nothing to exemplify.
    "GET /v1/inbox/stream",
}

RESPONSE_MODELS: list[type[BaseModel]] = [
    # wellbeing (and the erasure route it mounts)
    CheckinResult,
    CheckinPage,
    Trend,
    ConsentRecord,
    ReminderRecord,
    Flag,
    FlagPage,
    AuditPage,
    CohortSummary,
    Instrument,
    InstrumentPage,
    ErasureRequestOut,
    ErasureRequestPage,
    MyReferral,
    HelpStatusOut,
    RaisedReferral,
    RaisedReferralPage,
    ReferralFigures,
    ReferralStaffView,
    ReferralQueue,
    ResourceOut,
    ResourcePage,
    WorkshopOut,
    WorkshopPage,
    SeatOut,
    # mentorship
    MentorProfileOut,
    MentorPage,
    MenteePreferencesOut,
    MatchingRunOut,
    AssignmentOut,
    AssignmentPage,
    MeetingOut,
    MeetingPage,
    PeerGroupOut,
    PeerGroupPage,
    PlacementOut,
    # notifications
    StaffOut,
    StaffPage,
    PreferencesOut,
    RotaOut,
    OnCall,
    RouteRule,
    RulePage,
    PreviewOut,
    RoleGrantPage,
    AlertReadPage,
    AlertOut,
    AlertPage,
    AcknowledgementTimesOut,
    ImportResultOut,
    StreamTicketOut,
    # feedback
    ClimateInstrument,
]
"""Every response model whose schema carries examples (feedback documents its examples on the routes)."""


def openapi_of(service: str) -> dict[str, Any]:
    module = importlib.import_module(f"{service}.app")
    doc: dict[str, Any] = module.create_app().openapi()
    return doc


def json_replies(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """("METHOD /path status", its application/json media object) for every 2xx JSON reply of a /v1 route."""
    found = []
    for path, operations in doc["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for code, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json")
                if code.startswith("2") and media is not None and where not in NOT_JSON:
                    found.append((f"{where} {code}", media))
    return found


def referenced_schema(doc: dict[str, Any], media: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    schema: dict[str, Any] = media.get("schema", {})
    if "$ref" not in schema:
        return None, schema
    name = schema["$ref"].rsplit("/", 1)[1]
    return name, doc["components"]["schemas"][name]


def examples_of(model: type[BaseModel]) -> list[Any]:
    examples: list[Any] = model.model_json_schema(mode="serialization").get("examples", [])
    return examples


@pytest.mark.parametrize("service", SERVICES)
def test_every_2xx_json_reply_has_an_example(service: str) -> None:
    doc = openapi_of(service)
    missing = []
    for where, media in json_replies(doc):
        _, schema = referenced_schema(doc, media)
        if not any(key in place for place in (media, schema) for key in ("example", "examples")):
            missing.append(where)
    assert missing == []


@pytest.mark.parametrize("model", RESPONSE_MODELS, ids=lambda model: model.__name__)
def test_response_model_examples_are_valid_replies(model: type[BaseModel]) -> None:
    examples = examples_of(model)
    assert examples, f"{model.__name__} has no example"
    for example in examples:
        model.model_validate_json(json.dumps(example))  # as the frontend receives it: JSON


@pytest.mark.parametrize("service", SERVICES)
def test_every_reply_schema_with_examples_is_checked_here(service: str) -> None:
    """No example escapes the test above: a reply schema that carries examples names a model of RESPONSE_MODELS."""
    doc = openapi_of(service)
    checked = {model.__name__ for model in RESPONSE_MODELS}
    unchecked = set()
    for _, media in json_replies(doc):
        name, schema = referenced_schema(doc, media)
        if name is not None and schema.get("examples") and name.removesuffix("-Output") not in checked:
            unchecked.add(name)
    assert unchecked == set(), "add these response models to RESPONSE_MODELS"


@pytest.mark.parametrize("service", SERVICES)
def test_the_examples_in_the_document_are_valid_replies(service: str) -> None:
    """As published (FastAPI drops nulls from examples unless the app factory puts them back)."""
    doc = openapi_of(service)
    models = {model.__name__: model for model in RESPONSE_MODELS}
    checked = 0
    for where, media in json_replies(doc):
        name, schema = referenced_schema(doc, media)
        model = models.get((name or "").removesuffix("-Output"))
        for example in schema.get("examples", []) if model else []:
            assert model is not None
            model.model_validate_json(json.dumps(example))
            assert example == examples_of(model)[schema["examples"].index(example)], where
            checked += 1
        if isinstance(media.get("example"), dict) and "items" in media["example"]:  # an example on the route
            assert "next_cursor" in media["example"], f"{where}: the null next_cursor was dropped"
            checked += 1
    assert checked > 0
