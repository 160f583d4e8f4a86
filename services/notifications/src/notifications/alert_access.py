"""Who may read an alert that is not their own (pure): the wellbeing lead the wellbeing families, admin and ops
(and the lead) an explicit list of operational families; any other family only its recipient."""

from __future__ import annotations

from typing import Any

from medsupport_shared.auth import Principal, Role
from notifications.event_info import REDACTED_FAMILY
from notifications.safety import ADMIN_READABLE_FAMILIES, PRIVATE_FAMILIES

WELLBEING_LEAD_READABLE = PRIVATE_FAMILIES | {REDACTED_FAMILY} | ADMIN_READABLE_FAMILIES


def may_read(alert: dict[str, Any], principal: Principal) -> bool:
    if alert.get("recipient_id") == principal.sub:
        return True
    family = alert.get("family")
    if principal.has_any(Role.WELLBEING_LEAD) and family in WELLBEING_LEAD_READABLE:
        return True
    return family in ADMIN_READABLE_FAMILIES and principal.has_any(Role.ADMIN, Role.OPS)
