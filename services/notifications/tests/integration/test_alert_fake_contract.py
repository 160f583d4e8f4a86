"""The in-memory alert fake (the alert use cases' unit tests run on it) answers as the real repository does on the
real database: the same scenario, the same answers, on both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from medsupport_shared.mongo import create_client
from notifications.domain.alerts import new_alert
from notifications.domain.grouping import Reach, fold
from notifications.event_info import EventInfo
from notifications.repository import NotificationsRepository
from notifications.routing import EscalationStep, Target
from notifications.settings import NotificationsSettings
from services.notifications.tests.unit.fakes_alerts import FakeRepository

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
STEPS = (EscalationStep(after_minutes=15, target=Target(kind="role", value="wellbeing_lead")),)
FLAG = EventInfo(
    event_id="e1",
    event_type="flag.raised",
    severity="elevated",
    cohort=None,
    subject_id="s1",
    family="flag",
    reasons=("who5_low",),
    title="Elevated wellbeing flag",
    link="/wellbeing/flags/f1",
)


@pytest.fixture(params=["fake", "mongo"])
async def repo(request: pytest.FixtureRequest, isolation: Any) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeRepository()
        return
    settings = isolation.settings(NotificationsSettings)
    client = create_client(settings.mongo_url)
    try:
        yield NotificationsRepository(client[settings.mongo_db])
    finally:
        await client.close()


def alert(alert_id="a1", recipient="c1", info=FLAG, steps=STEPS, root_id=None):
    return new_alert(
        alert_id=alert_id,
        recipient_id=recipient,
        rule_id="wellbeing-elevated",
        channels=("inapp",),
        escalation=steps,
        info=info,
        now=AT,
        group_key=f"{recipient}|s1|flag",
        root_id=root_id,
        zone=UTC_ZONE,
    )


async def test_alerts_are_stored_as_written_and_found_by_group_and_subject(repo: Any):
    first = alert()
    assert await repo.insert_alert(alert=first, entries=[]) is True
    assert await repo.insert_alert(alert=first, entries=[]) is False  # a redelivery
    assert await repo.alert(alert_id="a1") == first
    assert await repo.alert(alert_id="nothing") is None
    assert await repo.alert_document(alert_id="a1") == first.to_document()
    assert await repo.open_group_alert(group_key="c1|s1|flag", since=AT - timedelta(minutes=1)) == first
    assert await repo.open_group_alert(group_key="c1|s1|flag", since=AT + timedelta(minutes=1)) is None
    assert await repo.open_alerts_about(subject_id="s1", families=("flag",)) == [first]
    assert await repo.open_alerts_about(subject_id="s1", families=("concern",)) == []
    assert await repo.count_open_urgent() == 0


async def test_a_fold_writes_once_per_version(repo: Any):
    first = alert()
    await repo.insert_alert(alert=first, entries=[])
    second = EventInfo(**{**FLAG.__dict__, "event_id": "e2", "severity": "urgent", "reasons": ("phq9_item9_positive",)})
    change = fold(first, Reach("wellbeing-urgent", ("inapp", "email")), second, now=AT, zone=UTC_ZONE)
    assert change is not None
    assert await repo.fold_alert(alert=first, fold=change) is True
    assert await repo.fold_alert(alert=first, fold=change) is False  # the version it read is gone
    stored = await repo.alert(alert_id="a1")
    assert stored == change.alert.model_copy(update={"version": 2})
    assert await repo.count_open_urgent() == 1


async def test_escalation_acknowledgement_and_resolution(repo: Any):
    first = alert()
    await repo.insert_alert(alert=first, entries=[])
    child = alert("a2", "lead-1", steps=(), root_id="a1").model_copy(update={"level": 1})
    await repo.insert_alert(alert=child, entries=[])
    assert await repo.due_escalations(now=AT + timedelta(minutes=14)) == []
    (due,) = await repo.due_escalations(now=AT + timedelta(minutes=15))
    assert due.id == "a1"
    assert await repo.escalate_alert(alert=due, level=1, next_at=None, at=AT, entries=[]) is True
    assert await repo.escalate_alert(alert=due, level=1, next_at=None, at=AT, entries=[]) is False
    assert await repo.due_escalations(now=AT + timedelta(days=1)) == []
    escalated = await repo.alert(alert_id="a1")
    assert escalated.escalation.level == 1 and escalated.version == 2
    assert sorted(a.id for a in await repo.chain_alerts(root_id="a1")) == ["a1", "a2"]
    assert sorted(a["_id"] for a in await repo.chain(root_id="a1")) == ["a1", "a2"]

    assert await repo.acknowledge_alert(alert=escalated, by="c1", at=AT, entries=[]) is True
    acknowledged = await repo.alert(alert_id="a1")
    assert (acknowledged.status, acknowledged.acknowledged_by, acknowledged.acknowledged_at) == (
        "acknowledged",
        "c1",
        AT,
    )
    assert await repo.open_alerts_about(subject_id="s1", families=("flag",)) == [child]
    assert await repo.resolve_alert(alert=child, at=AT) is True
    assert (await repo.alert(alert_id="a2")).status == "resolved"
    assert await repo.open_alerts_about(subject_id="s1", families=("flag",)) == []


async def test_a_stored_alert_that_no_longer_fits_is_skipped_by_the_typed_reads(repo: Any):
    await repo.insert_alert(alert=alert(), entries=[])
    broken = {"_id": "broken", "status": "open", "recipient_id": "c1", "version": 1, "subject_id": "s1"}
    await repo.insert_alert(alert={**broken, "escalation": {"next_at": AT, "steps": "x"}, "family": "flag"}, entries=[])
    assert await repo.alert(alert_id="broken") is None
    assert (await repo.alert_document(alert_id="broken"))["status"] == "open"  # the view reads it as it is
    assert [a.id for a in await repo.due_escalations(now=AT + timedelta(days=1))] == ["a1"]
    assert [a.id for a in await repo.open_alerts_about(subject_id="s1", families=("flag",))] == ["a1"]


async def test_planned_deliveries_are_inserted_once(repo: Any):
    planned = {
        "_id": "a1:inapp",
        "alert_id": "a1",
        "recipient_id": "c1",
        "channel": "inapp",
        "created_at": AT,
        "attempt_count": 0,
        "attempts": [],
        "severity": "urgent",
        "status": "pending",
        "next_attempt_at": AT,
        "reason": None,
    }
    (created,) = await repo.insert_deliveries(deliveries=[planned])
    assert (created.id, created.status, created.urgent) == ("a1:inapp", "pending", True)
    assert await repo.insert_deliveries(deliveries=[planned]) == []
