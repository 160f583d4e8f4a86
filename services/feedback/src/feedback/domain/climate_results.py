"""Climate results for leaders, built to resist differencing (pure).

The unit of release is a whole rotation: its answers are frozen once its window has closed, and it is
released when its grades are final and it holds at least ``min_group`` answers; a rotation below that
is never released and contributes to no figure at all. Every figure a caller can ask for (any grouping
by site, specialty or period, any filter, any window of end dates) is a sum over whole released
rotations, so the difference of any two figures is again a sum over whole released rotations, each of
at least ``min_group`` answers. Inside a rotation each item's option counts go through
``suppress_small_cells`` first and only the shown counts are ever added up, so the difference of two
published counts is a sum of shown rotation-level counts, each at least ``min_group``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Literal

from feedback.domain.climate import ClimateInstrument, check_answers, subscale_scores
from feedback.domain.rotations import Rotation
from medsupport_shared.aggregates import suppress_small_cells

GroupBy = Literal["site", "specialty", "period"]


@dataclass(frozen=True)
class RotationCell:
    """One released rotation's answers reduced to what may be added up."""

    rotation: Rotation
    responses: int
    subscale_sums: dict[str, float]
    shown_counts: dict[str, dict[int, int]]
    """item -> option value -> count, only the counts ``suppress_small_cells`` shows."""
    hidden_counts: dict[str, int]
    """item -> how many answers sit in its hidden options."""


def rotation_cell(
    rotation: Rotation, answers: Iterable[dict[str, int]], instrument: ClimateInstrument, *, min_group: int
) -> RotationCell | None:
    """The rotation's cell, or None when it holds fewer than ``min_group`` valid answers (never released)."""
    valid = []
    for answer in answers:
        try:
            check_answers(instrument, answer)
        except ValueError:
            continue  # answers to another version of the instrument: left out, never half-counted
        valid.append(answer)
    if len(valid) < min_group:
        return None
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, dict[int, int]] = {
        item.id: {o.value: 0 for o in instrument.option_set(item.option_set).options} for item in instrument.items
    }
    for answer in valid:
        for code, score in subscale_scores(instrument, answer).items():
            sums[code] += score
        for item_id, value in answer.items():
            counts[item_id][value] += 1
    shown: dict[str, dict[int, int]] = {}
    hidden: dict[str, int] = {}
    for item_id, by_value in counts.items():
        suppressed = suppress_small_cells(by_value, min_group=min_group)
        shown[item_id] = {value: n for value, n in suppressed.items() if n is not None}
        hidden[item_id] = sum(by_value[value] for value, n in suppressed.items() if n is None)
    return RotationCell(rotation, len(valid), dict(sums), shown, hidden)


@dataclass(frozen=True)
class Query:
    group_by: GroupBy = "site"
    site: str | None = None
    specialty: str | None = None
    period: str | None = None
    ended_from: date | None = None
    ended_to: date | None = None

    def selects(self, rotation: Rotation) -> bool:
        return (
            (self.site is None or rotation.site == self.site)
            and (self.specialty is None or rotation.specialty == self.specialty)
            and (self.period is None or rotation.period == self.period)
            and (self.ended_from is None or rotation.end_date >= self.ended_from)
            and (self.ended_to is None or rotation.end_date <= self.ended_to)
        )


@dataclass
class Group:
    key: str
    members: set[str] = field(default_factory=set)
    """The rotations summed (for tests and the drop rule; never published)."""
    responses: int = 0
    subscale_sums: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    hidden: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, cell: RotationCell) -> None:
        self.members.add(cell.rotation.id)
        self.responses += cell.responses
        for code, total in cell.subscale_sums.items():
            self.subscale_sums[code] += total
        for item_id, by_value in cell.shown_counts.items():
            for value, n in by_value.items():
                self.counts[item_id][value] += n
        for item_id, n in cell.hidden_counts.items():
            self.hidden[item_id] += n

    def means(self) -> dict[str, float]:
        return {code: round(total / self.responses, 2) for code, total in sorted(self.subscale_sums.items())}


def _key(rotation: Rotation, group_by: GroupBy) -> str:
    return {"site": rotation.site, "specialty": rotation.specialty, "period": rotation.period}[group_by]


def period_order(cells: Iterable[RotationCell]) -> list[str]:
    """Periods in the order their rotations ended (the latest end date of each period)."""
    last: dict[str, date] = {}
    for cell in cells:
        period = cell.rotation.period
        last[period] = max(last.get(period, cell.rotation.end_date), cell.rotation.end_date)
    return sorted(last, key=lambda p: (last[p], p))


def group_cells(cells: list[RotationCell], query: Query) -> dict[str, Group]:
    groups: dict[str, Group] = {}
    for cell in cells:
        if query.selects(cell.rotation):
            key = _key(cell.rotation, query.group_by)
            groups.setdefault(key, Group(key)).add(cell)
    return groups


def trend(cells: list[RotationCell], query: Query, key: str) -> list[tuple[str, Group]]:
    """The group's figures period by period (each again a sum of whole released rotations)."""
    mine = [c for c in cells if query.selects(c.rotation) and _key(c.rotation, query.group_by) == key]
    by_period: dict[str, Group] = {}
    for cell in mine:
        by_period.setdefault(cell.rotation.period, Group(cell.rotation.period)).add(cell)
    return [(period, by_period[period]) for period in period_order(mine)]


def instrument_view(instrument: ClimateInstrument, group: Group) -> dict[str, dict[str, object]]:
    """Subscale means, and per item the shown option counts plus how many answers are in hidden options."""
    out: dict[str, dict[str, object]] = {}
    means = group.means()
    for subscale in instrument.subscales:
        items = {
            item.id: {
                "counts": {str(v): n for v, n in sorted(group.counts[item.id].items())},
                "suppressed": group.hidden[item.id],
            }
            for item in instrument.items
            if item.subscale == subscale.code
        }
        out[subscale.code] = {"mean": means.get(subscale.code), "items": items}
    return out


@dataclass(frozen=True)
class Drop:
    site: str
    period: str
    previous_period: str
    subscales: tuple[str, ...]


def climate_drops(
    cells: list[RotationCell], instrument: ClimateInstrument, *, threshold: float, ranges: dict[str, tuple[int, int]]
) -> list[Drop]:
    """Per site, each period against the site's previous released period: the subscales that worsened by
    more than ``threshold`` × the subscale's range (a fall, or a rise where higher is worse)."""
    drops = []
    sites = sorted({c.rotation.site for c in cells})
    for site in sites:
        series = trend(cells, Query(group_by="site", site=site), site)
        for (before_period, before), (period, now) in pairwise(series):
            worse = []
            old, new = before.means(), now.means()
            for subscale in instrument.subscales:
                if subscale.code not in old or subscale.code not in new:
                    continue
                low, high = ranges[subscale.code]
                change = new[subscale.code] - old[subscale.code]
                if not subscale.higher_is_better:
                    change = -change
                if -change > threshold * (high - low):
                    worse.append(subscale.code)
            if worse:
                drops.append(Drop(site, period, before_period, tuple(worse)))
    return drops


def month_of(when: datetime | date) -> str:
    return f"{when.year}-{when.month:02d}"


def concern_counts(
    facts: Iterable[tuple[str, str, str]],
    *,
    sites: Iterable[str],
    categories: Iterable[str],
    first_month: str | None,
    last_month: str | None,
    min_group: int,
) -> dict[str, dict[str, int | None]]:
    """site -> category -> reports, from (site, month, category) facts: each month's cell counts only
    with at least ``min_group`` reports, whole or not at all, so any two windows differ by whole cells of
    at least that size; None when no cell of the window is shown."""
    cells: dict[tuple[str, str, str], int] = defaultdict(int)
    for site, month, category in facts:
        cells[(site, month, category)] += 1
    out: dict[str, dict[str, int | None]] = {site: dict.fromkeys(categories) for site in sites}
    for (site, month, category), n in cells.items():
        if site not in out or category not in out[site] or n < min_group:
            continue
        if (first_month and month < first_month) or (last_month and month > last_month):
            continue
        out[site][category] = (out[site][category] or 0) + n
    return out


def clustered_sites(sites: Iterable[str], *, threshold: int) -> list[str]:
    """Sites named by at least ``threshold`` recent reports (one entry per report)."""
    counts: dict[str, int] = defaultdict(int)
    for site in sites:
        counts[site] += 1
    return sorted(site for site, n in counts.items() if n >= threshold)
