"""The safety promise as pure rules: who may receive health data, and the invariant every rule set keeps
(every urgent wellbeing flag, of any cohort, has an enabled route to counselling with escalation)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from notifications.domain.event_facts import FLAG_FAMILY, REFERRAL_FAMILY, event_types_of
from notifications.event_info import MENTEE_SUPPORT_FAMILY
from notifications.routing import RouteRule, Target

HEALTH_ROLES = frozenset({"counsellor", "wellbeing_lead"})
"""The roles that may read one student's wellbeing (health data)."""
COUNSELLING_ROTA = "counselling"
FLAG_EVENT_TYPES = event_types_of(FLAG_FAMILY)
REFERRAL_EVENT_TYPES = event_types_of(REFERRAL_FAMILY)
"""A referral to counselling is health data too (its alerts name the student and a reason category)."""
HEALTH_FAMILIES = frozenset({FLAG_FAMILY, REFERRAL_FAMILY})
"""Alert families whose alerts carry health data (reasons, severity about one student)."""
PRIVATE_FAMILIES = frozenset({FLAG_FAMILY, MENTEE_SUPPORT_FAMILY, REFERRAL_FAMILY})
"""Alert families that tell something about one student's wellbeing, even without reasons."""
CONCERN_FAMILIES = frozenset({"concern.raised", "concern.updated"})
"""Alerts about a concern report: the subject of a named report is its reporter, for the concerns officers only."""
ADMIN_READABLE_FAMILIES = frozenset(
    {"feedback.submitted", "feedback.requested", "feedback.overdue", "mentor.assigned", "mentorship.ended",
     "meeting.reminder_due"}
)  # fmt: skip
"""The only alert families admin and ops may read besides their own alerts: operational, no wellbeing, no reporter."""
SAFETY_FLOOR_RULE_ID = "safety-floor"
SAFETY_FLOOR_CONTACT_ID = "safety-floor-contact"
"""The settings-level last-resort contact's recipient id (not a directory entry, so no API call removes it)."""


def roles_of(doc: Mapping[str, Any] | None) -> frozenset[str]:
    """A stored entry's roles, read defensively: a hand-edited entry with junk there has none (never a crash)."""
    roles = (doc or {}).get("roles")
    return frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list | tuple) else frozenset()


def is_health_target(target: Target, *, staff_roles: dict[str, frozenset[str]]) -> bool:
    """A target allowed to receive health data: a counselling role, the counselling rota, or a member of staff
    holding a counselling role."""
    if target.kind == "role":
        return target.value in HEALTH_ROLES
    if target.kind == "rota":
        return target.value == COUNSELLING_ROTA
    if target.kind == "staff":
        return bool(staff_roles.get(target.value or "", frozenset()) & HEALTH_ROLES)
    return False


def health_target_problems(rule: RouteRule, *, staff_roles: dict[str, frozenset[str]]) -> list[str]:
    """Health-data alerts go to health roles only: a wellbeing-flag rule targets a counselling role, the
    counselling rota, staff holding a counselling role, or (the consented, reason-free nudge) the mentor.
    Escalation steps may name anyone: a non-clinical recipient gets a redacted alert."""
    problems = []
    if set(rule.event_types) & set(FLAG_EVENT_TYPES) and not (
        rule.target.kind == "mentor" or is_health_target(rule.target, staff_roles=staff_roles)
    ):
        problems.append(
            f"a wellbeing flag rule may target only {sorted(HEALTH_ROLES)} roles, the {COUNSELLING_ROTA!r} rota, "
            f"staff holding one of those roles, or the mentor; not {rule.target.label()}"
        )
    if set(rule.event_types) & set(REFERRAL_EVENT_TYPES) and not is_health_target(rule.target, staff_roles=staff_roles):
        problems.append(
            f"a referral rule may target only {sorted(HEALTH_ROLES)} roles, the {COUNSELLING_ROTA!r} rota or staff "
            f"holding one of those roles; not {rule.target.label()}"
        )
    return problems


def _covers_every_urgent(rule: RouteRule, event_type: str) -> bool:
    return (
        rule.enabled
        and event_type in rule.event_types
        and (not rule.severities or "urgent" in rule.severities)
        and not rule.cohorts
        and rule.target.kind in {"role", "rota"}
        and is_health_target(rule.target, staff_roles={})
        and bool(rule.escalation)
    )


def urgent_flag_route_problems(rules: Iterable[RouteRule]) -> list[str]:
    """The rule-set invariant: each urgent wellbeing flag event type, whatever its cohort, is matched by an
    enabled rule targeting a counselling role or the counselling rota with an escalation chain. A named
    member of staff does not count (people leave); cohort-limited rules do not (a new cohort would be
    missed). Empty when the invariant holds."""
    rules = list(rules)
    return [
        f"no enabled rule routes every urgent {event_type} (any cohort) to a counselling role "
        f"({', '.join(sorted(HEALTH_ROLES))}) or the {COUNSELLING_ROTA!r} rota with an escalation chain"
        for event_type in FLAG_EVENT_TYPES
        if not any(_covers_every_urgent(rule, event_type) for rule in rules)
    ]


def change_problems(before: Iterable[RouteRule], after: Iterable[RouteRule]) -> list[str]:
    """Why a change of the rule set must be refused: it breaks the invariant that held before. A set that
    was already broken (stored by an older version) may be changed, so that it can be repaired."""
    if urgent_flag_route_problems(before):
        return []
    return urgent_flag_route_problems(after)


def replaced(rules: Iterable[RouteRule], rule: RouteRule) -> list[RouteRule]:
    return [r for r in rules if r.id != rule.id] + [rule]


def without(rules: Iterable[RouteRule], rule_id: str) -> list[RouteRule]:
    return [r for r in rules if r.id != rule_id]


@dataclass(frozen=True)
class RoleChange:
    granted: frozenset[str]
    revoked: frozenset[str]
    needs_wellbeing_lead: bool
    needs_admin: bool


def health_role_change(existing: Mapping[str, Any] | None, new: Mapping[str, Any]) -> RoleChange:
    """What a directory write does to health-data roles. Granting one, or changing the addresses of someone who
    holds one (where health-data alerts are sent), is for the wellbeing lead; an entry with any other role is
    the admin's (so a lead alone writes only counselling entries). Revoking one needs the lead too: an admin
    alone could otherwise demote every counsellor, and only the lead could restore them. Roles of a non-staff entry (stored by older versions from tokens) count for nothing."""
    before = existing or {}
    old_all = set(roles_of(before)) if before.get("kind") == "staff" else set()
    new_all = set(roles_of(new))
    old_roles, new_roles = old_all & HEALTH_ROLES, new_all & HEALTH_ROLES
    granted, revoked = new_roles - old_roles, old_roles - new_roles
    readdressed = bool(old_roles & new_roles) and any(
        before.get(field) != new.get(field) for field in ("email", "webhook_url")
    )
    return RoleChange(
        granted=frozenset(granted),
        revoked=frozenset(revoked),
        needs_wellbeing_lead=bool(granted or revoked) or readdressed,
        needs_admin=bool((old_all | new_all) - HEALTH_ROLES),
    )


def last_holder_problems(staff_roles: Mapping[str, frozenset[str]], writes: Mapping[str, frozenset[str]]) -> list[str]:
    """Why directory writes must be refused: they take the last member of staff holding a health-data role off
    it (urgent flags would then reach only the settings' last-resort contact). ``staff_roles`` is the directory
    now, ``writes`` the new roles of the entries written. A role nobody holds already stays writable."""
    after = {**staff_roles, **writes}
    return [
        f"this would leave no member of staff holding {role!r}; grant it to someone else first"
        for role in sorted(HEALTH_ROLES)
        if any(role in roles for roles in staff_roles.values()) and not any(role in roles for roles in after.values())
    ]
