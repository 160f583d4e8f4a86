"""The alert use cases (route an event, group, upgrade, acknowledge, escalate, close) through the in-memory
fakes: fast checks of their rules; the integration tests check the same against Kafka and MongoDB."""

import inspect
from datetime import timedelta

import pytest

from medsupport_shared.auth import Principal, Role
from medsupport_shared.domain_errors import NotFound
from medsupport_shared.event_types import ConcernRaised, FlagRaised
from medsupport_shared.events import new_event, utcnow
from notifications.acknowledgement import acknowledge
from notifications.alerts import close_alerts_for_resolved_flag, route_event
from notifications.domain.coarse_time import hour_floor
from notifications.escalation import escalate_due
from notifications.event_info import REDACTED_FAMILY
from notifications.repository import NotificationsRepository
from services.notifications.tests.unit.fakes_alerts import FakeRepository, fake_context, staff

PEOPLE = [
    staff("c1", "counsellor"),
    staff("c2", "counsellor"),
    staff("lead-1", "wellbeing_lead"),
    staff("admin-1", "admin"),
    staff("co-1", "concerns_officer"),
]


def flag(severity="urgent", student="s1", flag_id="f1"):
    reasons = ["phq9_item9_positive"] if severity == "urgent" else ["who5_low"]
    payload = FlagRaised(
        flag_id=flag_id,
        student_id=student,
        severity=severity,
        reasons=reasons,
        instrument="phq9",
        cohort="2027",
        raised_at=utcnow(),
    )
    return new_event(payload, source="/services/wellbeing")


def principal(sub, *roles):
    return Principal(sub=sub, roles=frozenset(Role(r) for r in roles))


def alert_of(ctx, recipient_id):
    (alert_id,) = [a["_id"] for a in ctx.repo.alerts.values() if a["recipient_id"] == recipient_id and not a["level"]]
    return alert_id


@pytest.fixture
def ctx():
    return fake_context(FakeRepository(people=PEOPLE))


async def test_an_urgent_flag_alerts_the_counsellors_on_every_channel_once(ctx):
    event = flag()
    alert_ids = await route_event(ctx=ctx, event=event)
    alerts = [ctx.repo.alerts[a] for a in alert_ids]
    assert sorted(a["recipient_id"] for a in alerts) == ["c1", "c2"]  # no rota: the counsellors (fallback)
    assert all(a["severity"] == "urgent" and a["channels"] == ["inapp", "email", "webhook"] for a in alerts)
    assert all(a["escalation"]["next_at"] == a["created_at"] + timedelta(minutes=15) for a in alerts)
    planned = sorted(d["_id"] for d in ctx.repo.deliveries.values())
    assert planned == sorted(f"{a}:{c}" for a in alert_ids for c in ("inapp", "email", "webhook"))
    created = ctx.outbox.events("alert.created")
    assert sorted(e.data["alert_id"] for e in created) == sorted(alert_ids)
    assert all(e.data.get("subject_id") is None for e in created)  # a wellbeing alert's event names no student

    assert await route_event(ctx=ctx, event=event) == []  # redelivered: nothing new, nothing published twice
    assert len(ctx.repo.alerts) == 2 and len(ctx.outbox.published) == 2


async def test_a_burst_about_one_student_is_grouped_and_an_upgrade_delivers_on_the_stronger_rules_channels(ctx):
    await route_event(ctx=ctx, event=flag("elevated", flag_id="f1"))
    first = alert_of(ctx, "c1")
    assert ctx.repo.alerts[first]["channels"] == ["inapp", "email"]
    second = flag("elevated", flag_id="f2")
    assert first in await route_event(ctx=ctx, event=second)
    assert len(ctx.repo.alerts) == 2 and ctx.repo.alerts[first]["event_ids"][-1] == second.id

    urgent = flag("urgent", flag_id="f3")
    assert first in await route_event(ctx=ctx, event=urgent)
    upgraded = ctx.repo.alerts[first]
    assert (upgraded["severity"], upgraded["rule_id"], upgraded["version"]) == ("urgent", "wellbeing-urgent", 3)
    assert upgraded["channels"] == ["inapp", "email", "webhook"]
    assert {f"{first}:{c}:u2" for c in ("inapp", "email", "webhook")} <= set(ctx.repo.deliveries)
    assert len(ctx.repo.alerts) == 2 and len(ctx.outbox.events("alert.created")) == 2  # grouped, never new


async def test_acknowledging_stops_the_chains_escalation_and_tells_the_others_nothing(ctx):
    await route_event(ctx=ctx, event=flag())
    alert_id = alert_of(ctx, "c1")
    with pytest.raises(NotFound):
        await acknowledge(ctx=ctx, principal=principal("c9", "counsellor"), alert_id=alert_id)
    with pytest.raises(NotFound):
        await acknowledge(ctx=ctx, principal=principal("c1", "counsellor"), alert_id="no-such-alert")

    acknowledged = await acknowledge(ctx=ctx, principal=principal("c1", "counsellor"), alert_id=alert_id)
    assert (acknowledged.status, acknowledged.acknowledged_by) == ("acknowledged", "c1")
    assert acknowledged.escalation is not None and acknowledged.escalation.next_at is None
    (event,) = ctx.outbox.events("alert.acknowledged")
    assert event.data["alert_id"] == alert_id
    again = await acknowledge(ctx=ctx, principal=principal("c1", "counsellor"), alert_id=alert_id)
    assert again.version == acknowledged.version and len(ctx.outbox.events("alert.acknowledged")) == 1


async def test_an_unacknowledged_urgent_alert_escalates_to_the_lead_once_then_to_admin_without_health_data(ctx):
    await route_event(ctx=ctx, event=flag())
    alert_id = alert_of(ctx, "c1")
    for alert in ctx.repo.alerts.values():  # the 15 minutes have passed
        alert["escalation"]["next_at"] = utcnow() - timedelta(seconds=1)
    assert await escalate_due(ctx=ctx) == 2
    assert await escalate_due(ctx=ctx) == 0  # the next step (30 minutes from the start) is not due yet
    lead = [a for a in ctx.repo.alerts.values() if a["recipient_id"] == "lead-1"]
    assert len(lead) == 2 and {a["root_id"] for a in lead} == set(ctx.repo.alerts) - {a["_id"] for a in lead}
    assert all(a["title"] == "Escalated: Urgent wellbeing flag (unacknowledged)" and a["level"] == 1 for a in lead)
    assert ctx.repo.alerts[alert_id]["escalation"]["level"] == 1
    assert [e.data["target"] for e in ctx.outbox.events("alert.escalated")] == ["role:wellbeing_lead"] * 2

    ctx.repo.alerts[alert_id]["escalation"]["next_at"] = utcnow() - timedelta(seconds=1)
    assert await escalate_due(ctx=ctx) == 1
    (notice,) = [a for a in ctx.repo.alerts.values() if a["recipient_id"] == "admin-1"]
    assert notice["family"] == REDACTED_FAMILY and notice["subject_id"] == notice["_id"] and notice["reasons"] == []
    assert ctx.repo.alerts[alert_id]["escalation"]["next_at"] is None  # the last step


async def test_an_acknowledged_chain_does_not_escalate(ctx):
    await route_event(ctx=ctx, event=flag())
    alert_id, other = alert_of(ctx, "c1"), alert_of(ctx, "c2")
    await acknowledge(ctx=ctx, principal=principal("c1", "counsellor"), alert_id=alert_id)
    ctx.repo.alerts[alert_id]["escalation"]["next_at"] = utcnow() - timedelta(seconds=1)
    ctx.repo.alerts[other]["escalation"]["next_at"] = utcnow() - timedelta(seconds=1)
    assert await escalate_due(ctx=ctx) == 1  # only the other counsellor's own, still open, alert


async def test_a_resolved_flag_closes_its_open_alerts(ctx):
    alert_ids = await route_event(ctx=ctx, event=flag())
    assert await close_alerts_for_resolved_flag(ctx=ctx, student_id="s1") == 2
    assert all(ctx.repo.alerts[a]["status"] == "resolved" for a in alert_ids)
    assert all(ctx.repo.alerts[a]["escalation"]["next_at"] is None for a in alert_ids)
    assert await close_alerts_for_resolved_flag(ctx=ctx, student_id="s1") == 0


async def test_an_anonymous_reports_alert_and_its_outbox_entry_keep_the_hour_only(ctx):
    report = ConcernRaised(concern_id="k1", category="safety", anonymous=True, reported_at=hour_floor(utcnow()))
    (alert_id,) = await route_event(ctx=ctx, event=new_event(report, source="/services/feedback"))
    alert = ctx.repo.alerts[alert_id]
    assert alert["recipient_id"] == "co-1" and alert["coarse_times"] is True
    assert alert["created_at"] == hour_floor(alert["created_at"])
    (entry,) = ctx.repo.outbox_of(alert_id)
    assert entry["created_at"] == alert["created_at"]  # stored in the document: not the exact minute either
    (event,) = ctx.outbox.events("alert.created")
    assert event.time == alert["created_at"]


def test_the_fake_has_the_real_repositorys_signatures():
    methods = [name for name, _ in inspect.getmembers(FakeRepository, inspect.iscoroutinefunction)]
    assert len(methods) >= 20
    for name in methods:
        fake, real = getattr(FakeRepository, name), getattr(NotificationsRepository, name)
        assert list(inspect.signature(fake).parameters) == list(inspect.signature(real).parameters), name
