"""ChangeRecorder's outbox entries (pure: no broker, no database)."""

from datetime import UTC, datetime

from medsupport_shared.event_types import AlertAcknowledged
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.outbox import ChangeRecorder, parse_entry

HOUR = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PAYLOAD = AlertAcknowledged(alert_id="a1", subject_id="s1", acknowledged_by="c1", acknowledged_at=HOUR)


def test_a_payload_is_enveloped_now_from_the_recorders_source():
    before = utcnow()
    entry = ChangeRecorder(outbox=None, source="/services/notifications").entry(PAYLOAD)  # type: ignore[arg-type]
    event = parse_entry(entry)
    assert event.source == "/services/notifications" and event.type == "alert.acknowledged"
    assert before <= entry["created_at"] <= utcnow()


def test_a_ready_envelope_keeps_its_id_and_its_time_as_the_entrys():
    """An anonymous report's event is dated to the hour: its outbox entry, stored in the document, is too."""
    ready = new_event(PAYLOAD, source="/services/notifications", time=HOUR)
    entry = ChangeRecorder(outbox=None, source="/elsewhere").entry(ready)  # type: ignore[arg-type]
    assert entry["id"] == ready.id and entry["created_at"] == HOUR
    assert parse_entry(entry) == ready
