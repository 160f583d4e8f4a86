"""Retention: what notifications keeps, and for how long (a periodic sweep: FerretDB has no TTL indexes).

- alerts, with their deliveries and delivery leases: deleted ``ALERT_RETENTION_DAYS`` (180) after their last
  change once acknowledged or resolved, and routine ones whatever their status; an open urgent alert is
  kept until a human acknowledges it or its flag is resolved;
- check-in severities: not kept at all (older versions stored them; the sweep deletes what is left);
- role grants (who gave whom a health-data role): kept, as the audit trail;
- staff reads of wellbeing alerts (``alert_reads``): ``AUDIT_RETENTION_DAYS`` (2190, six years), as wellbeing's;
- each student's current mentor: until the mentorship ends or the student is erased.
A student's erasure removes their alerts, deliveries and mentor at once, whatever the age."""

from __future__ import annotations

import logging
from datetime import timedelta

from medsupport_shared.events import utcnow
from notifications.context import NotificationsContext
from notifications.metrics import EXPIRED

log = logging.getLogger(__name__)
SWEEP_SECONDS = 3600.0


async def expire_old(*, ctx: NotificationsContext) -> dict[str, int]:
    before = utcnow() - timedelta(days=ctx.settings.alert_retention_days)
    deleted = await ctx.repo.expire_alerts(before=before)
    deleted["checkins"] = await ctx.repo.drop_legacy_checkins()
    audit_before = utcnow() - timedelta(days=ctx.settings.audit_retention_days)
    deleted["alert_reads"] = await ctx.repo.expire_alert_reads(before=audit_before)
    for collection, count in deleted.items():
        if count:
            EXPIRED.labels(collection).inc(count)
    if any(deleted.values()):
        log.info("retention sweep deleted old documents", extra={"deleted": deleted})
    return deleted
