"""The CloudEvents 1.0 envelope (structured JSON mode) every service publishes and consumes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """Now, in UTC, to the millisecond: what MongoDB stores, so a reply and a later read agree."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)


class EventData(BaseModel):
    """Base of every integration event payload; subclasses name their type and topic."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[str]

    def event_subject(self) -> str:
        """The id the event is about (CloudEvents ``subject`` and the Kafka key)."""
        student_id = getattr(self, "student_id", None)
        if not isinstance(student_id, str):
            raise NotImplementedError(f"{type(self).__name__} must define event_subject()")
        return student_id


class CloudEvent(BaseModel):
    """CloudEvents 1.0 envelope; ``id`` is the consumers' dedup key."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1)
    type: str = Field(min_length=1)
    time: datetime
    subject: str = Field(min_length=1)
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    @property
    def topic(self) -> str:
        from medsupport_shared.event_types import spec_for

        return spec_for(self.type).topic

    def payload(self) -> EventData:
        """The typed payload; raises ``pydantic.ValidationError`` or ``KeyError`` when invalid."""
        from medsupport_shared.event_types import spec_for

        model: type[EventData] = spec_for(self.type).model
        return model.model_validate(self.data)


def new_event(data: EventData, *, source: str, event_id: str | None = None, time: datetime | None = None) -> CloudEvent:
    """Wrap a typed payload in an envelope with a fresh unique id."""
    return CloudEvent(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=data.event_type,
        time=time or utcnow(),
        subject=data.event_subject(),
        data=data.model_dump(mode="json", exclude_none=True),
    )
