"""The envelope and the event catalog against docs/CONTRACT.md (pure, no I/O)."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from medsupport_shared.event_types import (
    ALL_TOPICS,
    EVENT_CATALOG,
    ConcernRaised,
    FlagRaised,
    MentorAssigned,
    dead_letter_topic,
)
from medsupport_shared.events import CloudEvent, new_event

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
CONTRACT_TYPES = {
    "feedback.events.v1": {
        "feedback.submitted",
        "feedback.requested",
        "feedback.overdue",
        "concern.raised",
        "concern.updated",
    },
    "wellbeing.events.v1": {"checkin.recorded", "flag.raised", "flag.updated", "flag.resolved"},
    "mentorship.events.v1": {"mentor.assigned", "mentorship.ended", "meeting.logged"},
    "notifications.events.v1": {
        "alert.created",
        "alert.delivered",
        "alert.acknowledged",
        "alert.escalated",
        "delivery.failed",
    },
    "platform.events.v1": {"student.erasure.requested"},
}


def test_catalog_covers_every_contract_type_on_its_topic():
    for topic, types in CONTRACT_TYPES.items():
        for event_type in types:
            assert EVENT_CATALOG[event_type].topic == topic
    assert set(ALL_TOPICS) == set(CONTRACT_TYPES)
    assert dead_letter_topic("wellbeing.events.v1") == "wellbeing.events.v1.dlq"


def test_envelope_is_cloudevents_structured_json():
    event = new_event(
        FlagRaised(
            flag_id="f1",
            student_id="s1",
            severity="urgent",
            reasons=["phq9_item9_positive"],
            instrument="phq9",
            cohort="2027",
            raised_at=NOW,
        ),
        source="/services/wellbeing",
    )
    body = event.model_dump(mode="json")
    assert body["specversion"] == "1.0" and body["datacontenttype"] == "application/json"
    assert body["type"] == "flag.raised" and body["subject"] == "s1" and body["source"] == "/services/wellbeing"
    assert body["time"].endswith("Z")
    assert body["data"]["reasons"] == ["phq9_item9_positive"]
    again = CloudEvent.model_validate_json(event.model_dump_json())
    assert again.payload() == event.payload()
    assert again.id == event.id and len({new_event(event.payload(), source="/x").id for _ in range(3)}) == 3


def test_anonymous_concern_uses_the_concern_id_as_subject_and_carries_no_reporter():
    anonymous = new_event(
        ConcernRaised(concern_id="c1", category="bias", anonymous=True, reported_at=NOW),
        source="/services/feedback",
    )
    assert anonymous.subject == "c1"
    assert "reporter_id" not in anonymous.data
    named = new_event(
        ConcernRaised(concern_id="c2", category="bias", anonymous=False, reporter_id="s9", reported_at=NOW),
        source="/services/feedback",
    )
    assert named.subject == "s9" and named.data["reporter_id"] == "s9"


def test_mentorship_events_are_keyed_by_the_mentee():
    event = new_event(
        MentorAssigned(assignment_id="a", mentor_id="m", mentee_id="s", assigned_at=NOW, score=0.8),
        source="/services/mentorship",
    )
    assert event.subject == "s"


@pytest.mark.parametrize(
    "data",
    [
        {
            "flag_id": "f",
            "student_id": "s",
            "severity": "catastrophic",
            "reasons": ["x"],
            "instrument": "phq9",
            "raised_at": "2026-01-01T00:00:00Z",
        },
        {
            "flag_id": "f",
            "student_id": "s",
            "severity": "urgent",
            "reasons": [],
            "instrument": "phq9",
            "raised_at": "2026-01-01T00:00:00Z",
        },
        {"student_id": "s"},
    ],
)
def test_invalid_payloads_are_rejected(data):
    event = CloudEvent(id="e", source="/x", type="flag.raised", time=NOW, subject="s", data=data)
    with pytest.raises(ValidationError):
        event.payload()


def test_unknown_type_has_no_payload_model():
    event = CloudEvent(id="e", source="/x", type="nope.happened", time=NOW, subject="s", data={})
    with pytest.raises(KeyError):
        event.payload()
