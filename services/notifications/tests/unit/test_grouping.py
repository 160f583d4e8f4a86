"""The fold of a rule's reach into an open alert (pure): grouping a burst, upgrades, overlapping rules,
redeliveries."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from notifications.domain.alerts import Escalation, derived_id, new_alert
from notifications.domain.grouping import Reach, fold, group_key
from notifications.event_info import EventInfo
from notifications.routing import EscalationStep, Target

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)
ZONE = ZoneInfo("UTC")
TO_LEAD = (EscalationStep(after_minutes=20, target=Target(kind="role", value="wellbeing_lead")),)
ELEVATED = EventInfo(
    event_id="e1",
    event_type="flag.raised",
    severity="elevated",
    cohort="2027",
    subject_id="s1",
    family="flag",
    reasons=("phq9_moderate",),
    title="Elevated wellbeing flag",
    link="/wellbeing/flags/f1",
)
URGENT = replace(
    ELEVATED, event_id="e2", severity="urgent", reasons=("phq9_item9_positive",), title="Urgent wellbeing flag"
)


def open_alert(info=ELEVATED, channels=("inapp",), escalation=()):
    return new_alert(
        alert_id="a1",
        recipient_id="c1",
        rule_id="wellbeing-elevated",
        channels=channels,
        escalation=escalation,
        info=info,
        now=AT,
        group_key=group_key("c1", info),
        zone=ZONE,
    )


def test_a_second_event_about_the_student_is_grouped_into_the_open_alert_and_delivers_nothing_new():
    second = replace(ELEVATED, event_id="e3", reasons=("phq9_moderate", "sleep"))
    change = fold(open_alert(), Reach("wellbeing-elevated", ("inapp",)), second, now=LATER, zone=ZONE)
    assert change is not None and change.new_event_id == "e3" and change.deliver == ()
    assert change.alert.event_ids == ("e1", "e3") and change.alert.reasons == ("phq9_moderate", "sleep")
    assert change.alert.title == ELEVATED.title and change.alert.severity == "elevated"
    assert change.changes == {
        "updated_at": LATER,
        "reasons": ["phq9_moderate", "sleep"],
        "title": ELEVATED.title,
        "channels": ["inapp"],
    }


def test_an_upgrade_takes_the_stronger_rules_severity_channels_and_escalation_from_now():
    reach = Reach("wellbeing-urgent", ("inapp", "email", "webhook"), TO_LEAD)
    change = fold(open_alert(), reach, URGENT, now=LATER, zone=ZONE)
    assert change is not None
    after = change.alert
    assert (after.severity, after.urgent, after.rule_id, after.title) == (
        "urgent",
        True,
        "wellbeing-urgent",
        URGENT.title,
    )
    assert after.channels == ("inapp", "email", "webhook") and change.deliver == ("inapp", "email", "webhook")
    assert change.suffix == "u1"  # per version: the upgrade's deliveries are new ones, planned once
    assert after.escalation == Escalation(
        steps=TO_LEAD, level=0, started_at=LATER, next_at=LATER + timedelta(minutes=20)
    )
    assert after.reasons == ("phq9_moderate", "phq9_item9_positive")
    assert change.changes["escalation"]["next_at"] == LATER + timedelta(minutes=20)


def test_a_weaker_event_never_downgrades_the_alert():
    urgent = open_alert(URGENT, channels=("inapp", "email"))
    change = fold(
        urgent, Reach("wellbeing-elevated", ("inapp",)), replace(ELEVATED, event_id="e4"), now=LATER, zone=ZONE
    )
    assert change is not None and change.alert.severity == "urgent" and change.alert.title == URGENT.title
    assert change.alert.channels == ("inapp", "email") and change.deliver == ()


def test_an_overlapping_rule_on_the_same_event_adds_its_channels_and_escalation_once():
    reach = Reach("cohort-2027-to-lead", ("inapp", "email"), TO_LEAD)
    change = fold(open_alert(), reach, ELEVATED, now=LATER, zone=ZONE)
    assert change is not None and change.new_event_id is None  # the same event: nothing grouped
    assert change.deliver == ("email",) and change.alert.channels == ("inapp", "email")
    assert (
        change.suffix == f"r{derived_id('cohort-2027-to-lead')[:8]}"
    )  # fixed per rule: a redelivery plans nothing twice
    assert change.alert.escalation is not None and change.alert.escalation.started_at == LATER
    assert set(change.changes) == {"updated_at", "channels", "escalation"}  # title and reasons untouched
    # the same rule reaching the person again (a redelivery) finds nothing left to add
    assert fold(change.alert, reach, ELEVATED, now=LATER, zone=ZONE) is None


def test_an_overlapping_rule_never_replaces_an_escalation_already_running():
    running = open_alert(escalation=TO_LEAD)
    other = (EscalationStep(after_minutes=5, target=Target(kind="role", value="admin")),)
    change = fold(running, Reach("other", ("inapp", "webhook"), other), ELEVATED, now=LATER, zone=ZONE)
    assert change is not None and change.alert.escalation == running.escalation
    assert "escalation" not in change.changes


def test_a_redelivered_event_changes_nothing():
    assert fold(open_alert(), Reach("wellbeing-elevated", ("inapp",)), ELEVATED, now=LATER, zone=ZONE) is None
