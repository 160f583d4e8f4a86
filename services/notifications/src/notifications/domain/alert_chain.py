"""Who was notified along an alert's escalation chain, as a given viewer may see it (pure).

Who received a wellbeing alert tells something about a student's wellbeing, so entries of the private
families are shown in full to counselling roles only; anyone else (an admin reading their redacted notice)
sees that a step exists, its level and status, and nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from medsupport_shared.auth import Principal
from notifications.safety import HEALTH_ROLES, PRIVATE_FAMILIES


def chain_view(chain: Iterable[dict[str, Any]], viewer: Principal) -> list[dict[str, Any]]:
    """Each alert of the chain, lowest level first, redacted where the viewer may not see health data."""
    sees_health = viewer.has_any(*HEALTH_ROLES)
    entries = []
    for alert in sorted(chain, key=lambda a: (a.get("level", 0), a.get("created_at"), a["_id"])):
        entry: dict[str, Any] = {"level": alert.get("level", 0), "status": alert.get("status"), "redacted": True}
        own = alert.get("recipient_id") == viewer.sub
        if own or sees_health or alert.get("family") not in PRIVATE_FAMILIES:
            entry |= {
                "redacted": False,
                "alert_id": alert["_id"],
                "recipient_id": alert.get("recipient_id"),
                "channels": list(alert.get("channels") or []),
                "created_at": alert.get("created_at"),
                "acknowledged_at": alert.get("acknowledged_at"),
                "acknowledged_by": alert.get("acknowledged_by"),
            }
        entries.append(entry)
    return entries
