"""Which escalation step is due when, and what the people it reaches receive (pure)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.domain.alerts import Escalation, derived_id, new_alert
from notifications.domain.escalation import BrokenEscalation, due_step, escalated_alert
from notifications.event_info import REDACTED_FAMILY, REDACTED_LINK, EventInfo
from notifications.routing import EscalationStep, Target

FRIDAY = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
ZONE = ZoneInfo("UTC")
LEAD = Target(kind="role", value="wellbeing_lead")
ADMIN = Target(kind="role", value="admin")
STEPS = (EscalationStep(after_minutes=20, target=LEAD), EscalationStep(after_minutes=60, target=ADMIN))
URGENT = EventInfo(
    event_id="e1",
    event_type="flag.raised",
    severity="urgent",
    cohort=None,
    subject_id="s1",
    family="flag",
    reasons=("phq9_item9_positive",),
    title="Urgent wellbeing flag",
    link="/wellbeing/flags/f1",
)


def alert(steps=STEPS, at=FRIDAY, zone=ZONE):
    return new_alert(
        alert_id="a1",
        recipient_id="c1",
        rule_id="wellbeing-urgent",
        channels=("inapp", "email"),
        escalation=steps,
        info=URGENT,
        now=at,
        group_key="c1|s1|flag",
        zone=zone,
    )


def test_the_first_step_is_due_after_its_delay_and_names_when_the_next_comes_due():
    created = alert()
    assert created.escalation is not None and created.escalation.next_at == FRIDAY + timedelta(minutes=20)
    assert due_step(created, now=FRIDAY + timedelta(minutes=19), zone=ZONE) is None
    due = due_step(created, now=FRIDAY + timedelta(minutes=20), zone=ZONE)
    assert due is not None and (due.level, due.step.target) == (1, LEAD)
    assert due.next_at == FRIDAY + timedelta(minutes=60)  # every delay counts from the start, not the last step


def test_the_last_step_leaves_nothing_due_after_it():
    created = alert()
    assert created.escalation is not None
    at_last = created.model_copy(
        update={
            "escalation": created.escalation.model_copy(update={"level": 1, "next_at": FRIDAY + timedelta(hours=1)})
        }
    )
    due = due_step(at_last, now=FRIDAY + timedelta(hours=2), zone=ZONE)
    assert due is not None and (due.level, due.step.target, due.next_at) == (2, ADMIN, None)


def test_a_working_days_step_skips_the_weekend():
    day = (EscalationStep(after_minutes=1440, target=LEAD, working_days_only=True),)
    created = alert(steps=day)
    assert created.escalation is not None
    assert created.escalation.next_at == FRIDAY + timedelta(days=3)  # Monday 10:00
    assert due_step(created, now=FRIDAY + timedelta(days=2), zone=ZONE) is None
    assert due_step(created, now=FRIDAY + timedelta(days=3), zone=ZONE) is not None


def test_a_working_days_step_counts_in_the_working_time_zone():
    day = (EscalationStep(after_minutes=60, target=LEAD, working_days_only=True),)
    sunday_evening_utc = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # already Monday 00:30 in Auckland
    created = alert(steps=day, at=sunday_evening_utc, zone=ZoneInfo("Pacific/Auckland"))
    assert created.escalation is not None and created.escalation.next_at == sunday_evening_utc + timedelta(hours=1)
    in_london = alert(steps=day, at=sunday_evening_utc, zone=ZoneInfo("Europe/London"))
    assert in_london.escalation is not None
    assert in_london.escalation.next_at == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 00:00 + 1 h


def test_nothing_is_due_once_acknowledged_or_without_escalation():
    acknowledged = alert().model_copy(update={"status": "acknowledged"})
    assert due_step(acknowledged, now=FRIDAY + timedelta(days=1), zone=ZONE) is None
    assert due_step(alert(steps=()), now=FRIDAY + timedelta(days=1), zone=ZONE) is None


def test_a_hand_edited_level_beyond_the_steps_is_refused():
    broken = alert().model_copy(update={"escalation": Escalation(steps=STEPS, level=5, next_at=FRIDAY)})
    with pytest.raises(BrokenEscalation):
        due_step(broken, now=FRIDAY, zone=ZONE)


def test_the_escalated_alert_is_in_the_chain_on_the_parents_channels_with_no_escalation_of_its_own():
    parent = alert()
    due = due_step(parent, now=FRIDAY + timedelta(minutes=20), zone=ZONE)
    assert due is not None
    child = escalated_alert(parent, due, recipient_id="lead-1", told=parent.info(), now=FRIDAY + timedelta(minutes=20))
    assert child.id == derived_id("a1", "1", "lead-1") and (child.root_id, child.level) == ("a1", 1)
    assert child.channels == ("inapp", "email") and child.escalation is None
    assert child.title == "Escalated: Urgent wellbeing flag (unacknowledged)"
    assert child.group_key == "lead-1|s1|escalated"


def test_someone_told_a_redacted_notice_gets_its_title_not_the_escalation_title():
    parent = alert()
    due = due_step(parent, now=FRIDAY + timedelta(minutes=20), zone=ZONE)
    assert due is not None
    notice = replace(
        parent.info(),
        family=REDACTED_FAMILY,
        title="An urgent alert is unacknowledged",
        link=REDACTED_LINK,
        redacted_from="s1",
    )
    child = escalated_alert(parent, due, recipient_id="admin-1", told=notice, now=FRIDAY)
    assert child.title == "An urgent alert is unacknowledged"
    assert child.subject_id == child.id and child.redacted_subject_id == "s1"
    assert child.link == REDACTED_LINK.format(alert_id=child.id)
