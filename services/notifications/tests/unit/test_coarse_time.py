from datetime import UTC, datetime, timedelta

from medsupport_shared.event_types import ConcernRaised
from medsupport_shared.events import new_event
from notifications.domain.coarse_time import hour_floor, send_delay
from notifications.domain.deliveries import plan_deliveries
from notifications.event_info import describe

AT = datetime(2026, 11, 25, 10, 37, 12, 345678, tzinfo=UTC)


class Channel:
    def __init__(self, address):
        self._address = address

    def address(self, person):
        return self._address


REGISTRY = {"inapp": Channel("co-1"), "email": Channel("co@x.edu"), "webhook": Channel("https://hooks.x.edu/a")}


def test_hour_floor_rounds_down_to_the_hour_as_feedback_does():
    assert hour_floor(AT) == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert hour_floor(hour_floor(AT)) == hour_floor(AT)


def test_the_send_delay_is_uniform_within_the_maximum_and_zero_allowed():
    assert send_delay(3600, draw=0.0) == timedelta(0)
    assert send_delay(3600, draw=0.5) == timedelta(minutes=30)
    assert send_delay(0) == timedelta(0)
    delays = {send_delay(3600) for _ in range(50)}
    assert len(delays) > 1 and all(timedelta(0) <= d <= timedelta(hours=1) for d in delays)


def test_only_a_concern_report_without_a_reporter_is_anonymous():
    anonymous = ConcernRaised(concern_id="k1", category="safety", anonymous=True, reported_at=AT)
    named = ConcernRaised(concern_id="k2", category="safety", anonymous=False, reporter_id="s1", reported_at=AT)
    assert describe(new_event(anonymous, source="/services/feedback")).coarse_times
    assert not describe(new_event(named, source="/services/feedback")).coarse_times


def test_an_anonymous_reports_outbound_deliveries_wait_and_keep_the_hour_only():
    alert = {"_id": "a1", "recipient_id": "co-1", "severity": "routine", "urgent": False, "coarse_times": True}
    planned = {
        d["channel"]: d
        for d in plan_deliveries(
            alert=alert,
            channels=["inapp", "email", "webhook"],
            person={},
            registry=REGISTRY,
            now=AT,
            outbound_delay=timedelta(minutes=20),
        )
    }
    assert all(d["created_at"] == hour_floor(AT) and d["coarse_times"] for d in planned.values())
    assert planned["inapp"]["next_attempt_at"] == AT
    assert planned["email"]["next_attempt_at"] == planned["webhook"]["next_attempt_at"] == AT + timedelta(minutes=20)
    precise = plan_deliveries(
        alert={**alert, "coarse_times": False}, channels=["email"], person={}, registry=REGISTRY, now=AT
    )
    assert precise[0]["created_at"] == precise[0]["next_attempt_at"] == AT
