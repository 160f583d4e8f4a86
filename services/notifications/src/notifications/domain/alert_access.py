"""Who may read an alert that is not their own (pure): the wellbeing lead the wellbeing families, admin and ops
(and the lead) an explicit list of operational families; any other family only its recipient."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from medsupport_shared.auth import Principal, Role
from notifications.event_info import REDACTED_FAMILY
from notifications.safety import ADMIN_READABLE_FAMILIES, PRIVATE_FAMILIES

WELLBEING_LEAD_READABLE = PRIVATE_FAMILIES | {REDACTED_FAMILY} | ADMIN_READABLE_FAMILIES
AUDITED_FAMILIES = PRIVATE_FAMILIES | {REDACTED_FAMILY}
"""The wellbeing-flag family (flags, the mentor's nudge, the redacted notice): every read is audited."""


def audited_ids(alerts: list[dict[str, Any]]) -> list[str]:
    """The ids of the alerts among ``alerts`` whose reading goes into the audit trail."""
    return [str(a["_id"]) for a in alerts if a.get("family") in AUDITED_FAMILIES]


def read_record(
    *, record_id: str, principal: Principal, alert_ids: list[str], via: str, purpose: str | None, at: datetime
) -> dict[str, Any]:
    """Who read which wellbeing alerts, through which route, when and why (the purpose they gave)."""
    return {
        "_id": record_id,
        "reader_id": principal.sub,
        "reader_roles": sorted(str(r) for r in principal.roles),
        "alert_ids": alert_ids,
        "via": via,
        "purpose": purpose,
        "at": at,
    }


def may_read(alert: dict[str, Any], principal: Principal) -> bool:
    if alert.get("recipient_id") == principal.sub:
        return True
    family = alert.get("family")
    if principal.has_any(Role.WELLBEING_LEAD) and family in WELLBEING_LEAD_READABLE:
        return True
    return family in ADMIN_READABLE_FAMILIES and principal.has_any(Role.ADMIN, Role.OPS)
