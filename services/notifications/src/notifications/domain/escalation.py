"""When an unacknowledged alert escalates, to which step, and what the people it reaches receive (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from notifications.domain.alerts import Alert, derived_id, new_alert, step_due
from notifications.domain.coarse_time import hour_floor
from notifications.event_info import EventInfo
from notifications.routing import EscalationStep


@dataclass(frozen=True)
class DueStep:
    level: int
    """The level the alert reaches (1 for its first step)."""
    step: EscalationStep
    next_at: datetime | None
    """When the following step comes due (None: this was the last)."""


class BrokenEscalation(ValueError):
    """The stored escalation has no step at its level (a hand edit): the alert cannot be escalated."""


def due_step(alert: Alert, *, now: datetime, zone: ZoneInfo) -> DueStep | None:
    """The step of ``alert``'s escalation due at ``now``, or None when none is (acknowledged, resolved, not yet,
    or exhausted). Every delay counts from when the escalation started, working days only where a step says so."""
    state = alert.escalation
    if not alert.is_open or state is None or state.next_at is None or state.next_at > now:
        return None
    if not 0 <= state.level < len(state.steps):
        raise BrokenEscalation(f"no escalation step at level {state.level}")
    started_at = state.started_at or alert.created_at
    following = state.steps[state.level + 1] if state.level + 1 < len(state.steps) else None
    next_at = step_due(started_at, following, zone) if following else None
    return DueStep(level=state.level + 1, step=state.steps[state.level], next_at=next_at)


def escalated_alert(parent: Alert, due: DueStep, *, recipient_id: str, told: EventInfo, now: datetime) -> Alert:
    """The alert a person reached by an escalation step receives: on the parent's channels, in its chain, with no
    escalation of its own; titled as an escalation unless the person is told a redacted notice instead."""
    child = new_alert(
        alert_id=derived_id(parent.id, str(due.level), recipient_id),
        recipient_id=recipient_id,
        rule_id=parent.rule_id,
        channels=parent.channels,
        escalation=(),
        info=told,
        now=hour_floor(now) if told.coarse_times else now,
        group_key=f"{recipient_id}|{told.subject_id}|escalated",
        root_id=parent.id,
        level=due.level,
    )
    if told.family == parent.family:
        return child.model_copy(update={"title": f"Escalated: {parent.title} (unacknowledged)"})
    return child
