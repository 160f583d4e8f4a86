"""Use cases: released climate results for leaders, and the sweep that alerts on a worsening climate.

Only released rotations (grades final, answer window closed, at least ``MIN_GROUP_SIZE`` answers) are
read; see ``domain/climate_results.py`` for why any grouping and window then resists differencing.
Concern counts beside a site follow the same rule with (site, calendar month, category) cells."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any, Literal

from feedback import climate_instruments
from feedback.climate_repository import CLIMATE_ALERTS
from feedback.context import FeedbackContext
from feedback.domain.climate import ClimateInstrument, subscale_range
from feedback.domain.climate_results import (
    Query,
    RotationCell,
    climate_drops,
    clustered_sites,
    concern_counts,
    group_cells,
    instrument_view,
    month_of,
    rotation_cell,
    trend,
)
from feedback.rotations import rotation_of
from medsupport_shared.event_types import ClimateAlertRaised
from medsupport_shared.events import new_event, utcnow

log = logging.getLogger(__name__)
CONCERN_CATEGORIES = ("mistreatment", "discrimination", "bias")


async def released_cells(ctx: FeedbackContext, instrument: ClimateInstrument, now: datetime) -> list[RotationCell]:
    docs = [d for d in await ctx.climate.released_rotations(now=now) if d.get("instrument_code") == instrument.code]
    stored = await ctx.climate.answers_by_rotation(rotation_ids=[d["_id"] for d in docs])
    min_group = ctx.settings.min_group_size
    cells = [
        rotation_cell(rotation_of(d), [r["answers"] for r in stored.get(d["_id"], [])], instrument, min_group=min_group)
        for d in docs
    ]
    return [cell for cell in cells if cell is not None]


async def _concern_counts(ctx: FeedbackContext, sites: list[str], query: Query) -> dict[str, dict[str, int | None]]:
    facts = await ctx.climate.concern_facts(sites=sites, categories=list(CONCERN_CATEGORIES))
    return concern_counts(
        ((f["site"], month_of(f["created_at"]), f["category"]) for f in facts),
        sites=sites,
        categories=CONCERN_CATEGORIES,
        first_month=month_of(query.ended_from) if query.ended_from else None,
        last_month=month_of(query.ended_to) if query.ended_to else None,
        min_group=ctx.settings.min_group_size,
    )


async def results(ctx: FeedbackContext, query: Query, *, instrument_code: str | None) -> dict[str, Any]:
    instrument = await climate_instruments.instrument_by_code(ctx, instrument_code or ctx.settings.climate_instrument)
    cells = await released_cells(ctx, instrument, utcnow())
    groups = group_cells(cells, query)
    concerns = await _concern_counts(ctx, sorted(groups), query) if query.group_by == "site" and groups else {}
    out = []
    for key in sorted(groups):
        group = groups[key]
        points: list[dict[str, Any]] = []
        previous: dict[str, float] = {}
        for period, part in trend(cells, query, key):
            means = part.means()
            change = {c: round(m - previous[c], 2) for c, m in means.items() if c in previous}
            points.append({"period": period, "responses": part.responses, "means": means, "change": change})
            previous = means
        out.append(
            {
                "key": key,
                "rotations": len(group.members),
                "responses": group.responses,
                "subscales": instrument_view(instrument, group),
                "trend": points,
                "concerns": concerns.get(key),
            }
        )
    return {
        "instrument": instrument.code,
        "group_by": query.group_by,
        "min_group_size": ctx.settings.min_group_size,
        "groups": out,
    }


def alert_id(site: str, period: str, reason: str) -> str:
    return hashlib.sha256(f"climate-alert|{site}|{period}|{reason}".encode()).hexdigest()[:32]


async def sweep_alerts(ctx: FeedbackContext, *, now: datetime | None = None) -> int:
    """A site whose released climate worsened beyond the threshold since its previous period alerts its
    clerkship director, once per (site, period): the alert id is derived, stored with its event."""
    now = now or utcnow()
    raised = 0
    for instrument in await climate_instruments.all_instruments(ctx):
        cells = await released_cells(ctx, instrument, now)
        ranges = {s.code: subscale_range(instrument, s.code) for s in instrument.subscales}
        for drop in climate_drops(cells, instrument, threshold=ctx.settings.climate_drop_threshold, ranges=ranges):
            directors = {
                c.rotation.director_id
                for c in cells
                if c.rotation.site == drop.site and c.rotation.period == drop.period and c.rotation.director_id
            }
            director = min(directors) if len(directors) == 1 else None
            if await _raise(ctx, drop.site, drop.period, "climate_drop", list(drop.subscales), director, now):
                raised += 1
    raised += await _concern_clusters(ctx, now)
    ctx.sweeps["climate-alerts"] = ctx.sweeps.get("climate-alerts", 0) + 1
    return raised


async def _concern_clusters(ctx: FeedbackContext, now: datetime) -> int:
    """Sites named by at least ``climate_cluster_reports`` recent mistreatment, discrimination or bias
    reports: an alert once per site and calendar month, without the count or the reports."""
    since = now - timedelta(days=ctx.settings.climate_cluster_days)
    facts = await ctx.climate.concern_facts_since(since=since, categories=list(CONCERN_CATEGORIES))
    clustered = clustered_sites((f["site"] for f in facts), threshold=ctx.settings.climate_cluster_reports)
    if not clustered:
        return 0
    directors = await ctx.climate.directors_by_site()
    raised = 0
    for site in clustered:
        named = directors.get(site, set())
        if await _raise(ctx, site, month_of(now), "concern_cluster", [], min(named) if len(named) == 1 else None, now):
            raised += 1
    return raised


async def _raise(
    ctx: FeedbackContext,
    site: str,
    period: str,
    reason: Literal["climate_drop", "concern_cluster"],
    subscales: list[str],
    director: str | None,
    now: datetime,
) -> bool:
    ident = alert_id(site, period, reason)
    payload = ClimateAlertRaised(
        alert_id=ident,
        site=site,
        reason=reason,
        period=period,
        subscales=subscales,
        director_id=director,
        raised_at=now,
    )
    document = {"site": site, "period": period, "reason": reason, "raised_at": now}
    if not await ctx.record(
        CLIMATE_ALERTS,
        ident,
        lambda entries: ctx.climate.record_alert(alert_id=ident, document=document, entries=entries),
        new_event(payload, source=ctx.source, event_id=ident),
    ):
        return False
    log.info("climate alert raised", extra={"alert_id": ident, "reason": reason})
    return True
