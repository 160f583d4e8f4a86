"""Score history per instrument as chart geometry plus the same numbers as a table (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.web import parse_time

# Each instrument's highest possible total, so one chart's scale does not depend on the data.
MAXIMUM = {"phq9": 27, "phq2": 6, "gad7": 21, "gad2": 6, "who5": 25, "pss10": 40, "burnout": 5}
WIDTH, HEIGHT, PAD = 320, 120, 8


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    score: int
    when: str
    severity: str


@dataclass(frozen=True)
class Chart:
    instrument: str
    maximum: int
    points: tuple[Point, ...]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def summary(self) -> str:
        scores = ", ".join(str(p.score) for p in self.points)
        return f"{self.instrument.upper()} scores, oldest to newest: {scores} (maximum {self.maximum})"


def score_history(checkins: list[dict[str, Any]]) -> list[Chart]:
    by_instrument: dict[str, list[dict[str, Any]]] = {}
    for checkin in checkins:
        if isinstance(checkin.get("score"), int) and parse_time(checkin.get("recorded_at")):
            by_instrument.setdefault(str(checkin["instrument"]), []).append(checkin)
    charts = []
    for instrument, items in sorted(by_instrument.items()):
        items.sort(key=lambda c: parse_time(c["recorded_at"]))  # type: ignore[arg-type, return-value]
        maximum = max(MAXIMUM.get(instrument, 0), *(int(c["score"]) for c in items), 1)
        step = (WIDTH - 2 * PAD) / max(len(items) - 1, 1)
        points = tuple(
            Point(
                x=PAD + i * step if len(items) > 1 else WIDTH / 2,
                y=HEIGHT - PAD - (HEIGHT - 2 * PAD) * int(c["score"]) / maximum,
                score=int(c["score"]),
                when=str(c["recorded_at"]),
                severity=str(c.get("severity", "")),
            )
            for i, c in enumerate(items)
        )
        charts.append(Chart(instrument=instrument, maximum=maximum, points=points))
    return charts


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    week: str
    minutes: float


@dataclass(frozen=True)
class AckChart:
    """Median minutes to acknowledge urgent alerts, one bar per ISO week (a week without any is no bar)."""

    maximum: float
    bars: tuple[Bar, ...]
    width: float

    @property
    def summary(self) -> str:
        weeks = ", ".join(f"{b.week}: {b.minutes:.0f} min" for b in self.bars) or "no acknowledged urgent alerts"
        return f"Median minutes to acknowledge urgent alerts, by week: {weeks}"


def acknowledgement_chart(rows: list[dict[str, Any]]) -> AckChart:
    urgent = [r for r in rows if r.get("severity") == "urgent"]
    slot = (WIDTH - 2 * PAD) / max(len(urgent), 1)
    minutes = [(r["median_seconds"] or 0) / 60 for r in urgent]
    maximum = max([*minutes, 1.0])
    bars = tuple(
        Bar(
            x=PAD + i * slot + slot * 0.15,
            y=HEIGHT - PAD - (HEIGHT - 2 * PAD) * m / maximum,
            height=(HEIGHT - 2 * PAD) * m / maximum,
            week=str(r["week"]),
            minutes=m,
        )
        for i, (r, m) in enumerate(zip(urgent, minutes, strict=True))
        if r.get("median_seconds") is not None
    )
    return AckChart(maximum=maximum, bars=bars, width=slot * 0.7)
