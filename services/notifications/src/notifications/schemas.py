"""Request and response models of the notifications API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, StrictBool, field_validator

from medsupport_shared.inputs import StrictInput
from medsupport_shared.mongo import encode_cursor
from notifications import examples
from notifications.domain.delivery_policy import QuietHours
from notifications.domain.event_facts import ROUTABLE
from notifications.rota import Shift
from notifications.routing import DEFAULT_RULES, Channel, EscalationStep, RouteRule


class ChannelPreferences(StrictInput):
    email: StrictBool = True
    webhook: StrictBool = True


class StaffIn(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Dr Ada Okafor",
                    "roles": ["counsellor"],
                    "email": "ada.okafor@med.example.edu",
                    "webhook_url": "https://hooks.example.edu/counselling",
                    "quiet_hours": None,
                }
            ]
        }
    )
    name: str | None = Field(default=None, max_length=200)
    roles: list[str] = Field(min_length=1)
    email: EmailStr
    webhook_url: HttpUrl | None = None
    quiet_hours: QuietHours | None = Field(default=None, description="routine alerts wait; urgent ones never do")
    channels: ChannelPreferences = Field(
        default_factory=ChannelPreferences, description="routine alerts only; in-app is always on"
    )


STAFF_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@:|+-]{0,127}$"
"""A directory id: the IdP's subject (letters, digits and ._@:|+- as in UUIDs, e-mails, "auth0|..." ids)."""
TEAM_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,79}$"


class StaffOut(StaffIn):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [examples.STAFF]})
    id: str = Field(pattern=STAFF_ID_PATTERN)


class StaffPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.STAFF_PAGE]})
    items: list[StaffOut]
    next_cursor: str | None


class PreferencesIn(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "sam@student.example.edu",
                    "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/London"},
                }
            ]
        }
    )
    email: EmailStr | None = None
    quiet_hours: QuietHours | None = None
    channels: ChannelPreferences = Field(default_factory=ChannelPreferences)


class PreferencesOut(PreferencesIn):
    model_config = ConfigDict(extra="ignore")


class RotaIn(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lead_id": "lead-1",
                    "shifts": [
                        {"staff_id": "c1", "start": "2026-11-25T08:00:00Z", "end": "2026-11-25T20:00:00Z"},
                        {"staff_id": "c2", "start": "2026-11-25T20:00:00Z", "end": "2026-11-26T08:00:00Z"},
                    ],
                    "overrides": [],
                }
            ]
        }
    )
    lead_id: str = Field(min_length=1)
    shifts: list[Shift] = Field(default_factory=list, max_length=2000)
    overrides: list[Shift] = Field(default_factory=list, max_length=500)


class RotaOut(RotaIn):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [examples.ROTA]})
    team: str = Field(pattern=TEAM_PATTERN)
    on_call_now: str


class OnCall(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ON_CALL]})
    team: str = Field(pattern=TEAM_PATTERN)
    at: datetime
    staff_id: str


class DeliveryAttempt(BaseModel):
    at: datetime
    outcome: str
    error: str | None = None


class DeliveryOut(BaseModel):
    id: str
    channel: str
    status: str = Field(description="pending, sending, delivered, failed or skipped")
    attempt_count: int
    attempts: list[DeliveryAttempt]
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None
    reason: str | None = None


class ChainEntryOut(BaseModel):
    level: int = Field(description="0 for the first recipient, then each escalation step")
    status: str | None = Field(description="open, acknowledged or resolved")
    redacted: bool = Field(description="true: a wellbeing step only counselling roles may see in full")
    alert_id: str | None = None
    recipient_id: str | None = None
    channels: list[str] | None = None
    created_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None


class AlertOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ACKNOWLEDGED_ALERT]})
    id: str
    recipient_id: str
    rule_id: str
    root_id: str
    event_ids: list[str]
    event_type: str
    severity: str
    urgent: bool
    subject_id: str
    reasons: list[str]
    title: str
    link: str
    status: str = Field(description="open, acknowledged or resolved")
    escalation_level: int
    next_escalation_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    deliveries: list[DeliveryOut] | None = None
    chain: list[ChainEntryOut] | None = Field(
        default=None, description="who was notified along the escalation chain (`GET /v1/alerts/{id}` only)"
    )


class AcknowledgementWeekOut(BaseModel):
    week: str = Field(description="ISO week, e.g. 2026-W48")
    week_start: date = Field(description="its Monday (UTC)")
    severity: str = Field(description="urgent or elevated")
    alerts: int = Field(description="escalation chains started that week (each counted once, not per step)")
    acknowledged: int
    unacknowledged: int
    median_seconds: float | None = Field(description="median time from alert to acknowledgement; null if none")
    p90_seconds: float | None = Field(description="90th percentile (nearest rank); null if none")


class AcknowledgementTimesOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ACKNOWLEDGEMENT_TIMES]})
    weeks: int
    items: list[AcknowledgementWeekOut]


class AlertPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ALERT_PAGE]})
    items: list[AlertOut]
    next_cursor: str | None


def staff_view(doc: Mapping[str, Any], *, masked: bool = False) -> dict[str, Any]:
    view = {
        "id": doc["_id"],
        **{k: doc.get(k) for k in ("name", "roles", "email", "webhook_url", "quiet_hours")},
        "channels": doc.get("channels") or {},
    }
    if masked and view["webhook_url"]:
        view["webhook_url"] = mask_url(str(view["webhook_url"]))
    return view


def mask_url(url: str) -> str:
    """Only where a webhook goes, not its path or query (often the bearer secret of a Slack/Teams hook)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or 'unknown'}/***"


def _rule_page_example(schema: dict[str, Any]) -> None:
    """A page of the rules seeded at first start, so it cannot drift from them."""
    rules = sorted(DEFAULT_RULES, key=lambda rule: rule.id)[:2]
    schema["examples"] = [
        {"items": [rule.model_dump(mode="json") for rule in rules], "next_cursor": encode_cursor(None, rules[-1].id)}
    ]


class RulePage(BaseModel):
    model_config = ConfigDict(json_schema_extra=_rule_page_example)
    items: list[RouteRule]
    next_cursor: str | None


PersonId = Field(
    min_length=1,
    max_length=200,
    pattern=r"^[A-Za-z0-9][A-Za-z0-9._@:-]*$",
    description="the person's id at the identity provider (the token's `sub`)",
)


class StaffEntry(StaffIn):
    id: str = PersonId


class StaffImport(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "c-ada",
                            "name": "Dr Ada Okafor",
                            "roles": ["counsellor"],
                            "email": "ada.okafor@med.example.edu",
                        }
                    ]
                }
            ]
        }
    )
    items: list[StaffEntry] = Field(min_length=1, max_length=5000)


class StudentEntry(StrictInput):
    id: str = PersonId
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr
    cohort: str | None = Field(default=None, min_length=1, max_length=64)


class StudentImport(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": [{"id": "s-1001", "name": "Sam Patel", "email": "sam@student.example.edu", "cohort": "2027"}]}
            ]
        }
    )
    items: list[StudentEntry] = Field(min_length=1, max_length=20000)


class ImportResultOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"created": 480, "updated": 15, "unchanged": 5}]})
    created: int
    updated: int
    unchanged: int


class StreamTicketOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ticket": "q5Xh0mWk3Jc0a9Gd2yV7s1Lr8PzT4uNe6bKf2HwQYcA",
                    "expires_at": "2026-11-25T09:31:00Z",
                    "stream": "/v1/inbox/stream?ticket=q5Xh0mWk3Jc0a9Gd2yV7s1Lr8PzT4uNe6bKf2HwQYcA",
                }
            ]
        }
    )
    ticket: str = Field(description="single use; pass as `?ticket=` to `GET /v1/inbox/stream`")
    expires_at: datetime
    stream: str = Field(description="the stream's path with the ticket, for `new EventSource(...)`")


class PreviewIn(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"event_type": "flag.raised", "severity": "urgent", "cohort": "2027"}]}
    )
    event_type: str = Field(description="a routable event type, e.g. flag.raised")
    severity: Literal["routine", "elevated", "urgent"] = "routine"
    cohort: str | None = Field(default=None, max_length=100)
    rule: RouteRule | None = Field(default=None, description="an unsaved rule to try in place of the one with its id")

    @field_validator("event_type")
    @classmethod
    def _routable(cls, value: str) -> str:
        if value not in ROUTABLE:
            raise ValueError(f"not a routable event type; known: {sorted(ROUTABLE)}")
        return value


class PreviewRecipient(BaseModel):
    person_id: str
    name: str | None = None
    roles: list[str]
    channels: list[Channel]
    rule_id: str
    escalation: list[EscalationStep]


class PreviewOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.PREVIEW]})
    recipients: list[PreviewRecipient]
    safety_floor: bool = Field(
        description="the safety floor would route this urgent flag (no rule reaches counselling)"
    )


class RoleGrant(BaseModel):
    id: str
    at: datetime
    by: str = Field(description="who made the change")
    staff_id: str = Field(description="whose roles changed")
    granted: list[str]
    revoked: list[str]


class RoleGrantPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ROLE_GRANT_PAGE]})
    items: list[RoleGrant]
    next_cursor: str | None


def role_grant_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": doc.get("_id"), **{k: doc.get(k) for k in ("at", "by", "staff_id", "granted", "revoked")}}


class AlertRead(BaseModel):
    id: str
    at: datetime
    reader_id: str = Field(description="who read")
    reader_roles: list[str]
    alert_ids: list[str] = Field(description="the wellbeing alerts the reply showed")
    via: Literal["alert", "inbox"] = Field(description="`GET /v1/alerts/{id}` or a page of `GET /v1/inbox`")
    purpose: str | None = Field(description="the `purpose` the reader gave, if any")


class AlertReadPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ALERT_READ_PAGE]})
    items: list[AlertRead]
    next_cursor: str | None


def alert_read_view(doc: dict[str, Any]) -> dict[str, Any]:
    fields = ("at", "reader_id", "reader_roles", "alert_ids", "via", "purpose")
    return {"id": doc.get("_id"), **{k: doc.get(k) for k in fields}}
