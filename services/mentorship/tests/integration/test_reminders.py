"""The meeting reminder sweep emits one reminder per quiet period across sweeps, instances and restarts,
and exports the time since the last meeting."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, eventually
from mentorship.meeting_reminders import send_meeting_reminders

from .conftest import Stack, mentorship_settings, start

pytestmark = pytest.mark.integration

M1 = auth("m1", "mentor")
REMINDER = "meeting.reminder_due"


async def log(stack: Stack, assignment_id: str, met_at: str) -> Any:
    return await stack.client.post(
        f"/v1/assignments/{assignment_id}/meetings", json={"met_at": met_at, "format": "video"}, headers=M1
    )


async def sweeps_advance(stack: Stack, by: int) -> None:
    start_count = stack.ctx.sweeps.get("reminders", 0)
    await eventually(
        lambda: stack.ctx.sweeps.get("reminders", 0) >= start_count + by, timeout=20, message="reminder sweeps ran"
    )


def since_last_meeting(metrics_text: str) -> dict[str, float]:
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "medsupport_mentorship_seconds_since_last_meeting":
            return {s.labels["stat"]: s.value for s in family.samples if s.labels.get("service") == "mentorship"}
    return {}


async def test_one_reminder_per_quiet_period_across_sweeps_instances_and_restarts(isolation: Any) -> None:
    period = timedelta(seconds=1)
    settings = mentorship_settings(
        isolation, meeting_reminder_days=period / timedelta(days=1), reminder_sweep_interval_seconds=0.1
    )
    async with start(isolation, settings) as stack:
        await stack.mentor("m1", capacity=2)
        quiet = (await stack.assign("m1", "s1")).json()["id"]
        busy = (await stack.assign("m1", "s2")).json()["id"]
        upcoming = (utcnow() + timedelta(minutes=4)).isoformat()  # inside the clock-skew allowance
        assert (await log(stack, busy, upcoming)).status_code == 201  # not quiet for minutes yet

        (first,) = await stack.reader.wait_for(lambda e: e.type == REMINDER and e.data["assignment_id"] == quiet)
        assert first.subject == "s1" and first.data.get("last_meeting_at") is None
        assert await send_meeting_reminders(ctx=stack.ctx) == 0  # swept again by hand: nothing new
        assert await send_meeting_reminders(ctx=stack.ctx) == 0
        await sweeps_advance(stack, 5)
        assert len(stack.events(REMINDER, assignment_id=quiet)) == 1
        assert stack.events(REMINDER, assignment_id=busy) == []

        stats = since_last_meeting((await stack.client.get("/metrics")).text)
        assert set(stats) == {"median", "p90", "max"}, stats
        assert period.total_seconds() <= stats["max"] < 120 and 0 <= stats["median"] <= stats["max"]

        # a second instance on the same database sweeps too; a meeting starts a new quiet period
        async with start(isolation, settings) as second:
            met_at = utcnow()
            assert (await log(stack, quiet, met_at.isoformat())).status_code == 201
            await stack.reader.wait_for(
                lambda e: e.type == REMINDER and e.data["assignment_id"] == quiet and e.data.get("last_meeting_at"),
            )
            await sweeps_advance(stack, 5)
            await sweeps_advance(second, 5)
    reminders = stack.events(REMINDER, assignment_id=quiet)
    assert len(reminders) == 2 and len({e.data["reminder_id"] for e in reminders}) == 2
    assert abs(datetime.fromisoformat(reminders[1].data["last_meeting_at"]) - met_at) < timedelta(milliseconds=1)

    async with start(isolation, settings) as restarted:  # the same database after a restart
        await restarted.reader.wait_for(lambda e: e.type == REMINDER, count=2)
        await sweeps_advance(restarted, 5)
        assert [e.id for e in restarted.events(REMINDER)] == [e.id for e in reminders]
