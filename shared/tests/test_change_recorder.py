"""The change recorder dates an anonymous report's events and entries to the given (rounded) time and keeps
no request correlation in them; otherwise events are enveloped now, with the request's correlation."""

from datetime import UTC, datetime

from medsupport_shared import correlation
from medsupport_shared.event_types import CheckinRecorded
from medsupport_shared.events import CloudEvent
from medsupport_shared.outbox import ChangeRecorder

HOUR = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


class NoOutbox:
    def dispatch(self, *_):
        raise AssertionError("nothing was written: nothing is published")


def payload():
    return CheckinRecorded(checkin_id="c", student_id="s", instrument="who5", severity="none", recorded_at=HOUR)


async def test_an_anonymous_change_is_dated_to_the_hour_and_unlinked():
    recorder = ChangeRecorder(NoOutbox(), source="/services/demo")  # type: ignore[arg-type]
    stored = []

    async def write(entries):
        stored.extend(entries)
        return False  # nothing published, so the entries can be read here

    correlation.bind("from-the-browser")
    assert await recorder.record("notes", "n1", write, payload(), at=HOUR, unlinked=True) is False
    (entry,) = stored
    assert entry["created_at"] == HOUR and CloudEvent.model_validate_json(entry["event"]).time == HOUR
    assert entry["correlation_id"] is None and entry["traceparent"] is None
    plain = recorder.entry(payload())
    assert plain["correlation_id"] == "from-the-browser" and plain["created_at"] > HOUR
