"""Request and response models of the resource catalogue (with examples for the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medsupport_shared.inputs import StrictInput
from wellbeing.domain.resources import Need, ResourceKind

_RESOURCE: dict[str, Any] = {
    "name": "Managing exam stress (workshop)",
    "kind": "workshop",
    "needs": ["stress", "anxiety"],
    "audiences": ["student"],
    "description": "Four weekly sessions with the counselling team.",
    "phone": None,
    "url": "https://wellbeing.med.example.edu/workshops/exam-stress",
    "hours": "Tuesdays 17:00",
}


class ResourceIn(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [_RESOURCE]})
    name: str = Field(min_length=1, max_length=200)
    kind: ResourceKind
    needs: list[Need] = Field(min_length=1, max_length=7)
    audiences: list[str] = Field(
        min_length=1,
        max_length=20,
        description="`all`, a role (`student`, `faculty`, ...) or a cohort (`2027`)",
    )
    description: str = Field(default="", max_length=2000)
    phone: str | None = Field(default=None, max_length=100)
    url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    hours: str | None = Field(default=None, max_length=100)


class ResourceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "3f2a9c1e", **_RESOURCE}]})
    id: str
    name: str
    kind: ResourceKind
    needs: list[Need]
    audiences: list[str]
    description: str
    phone: str | None
    url: str | None
    hours: str | None


class ResourcePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [{"id": "3f2a9c1e", **_RESOURCE}], "next_cursor": None}]}
    )
    items: list[ResourceOut]
    next_cursor: str | None
