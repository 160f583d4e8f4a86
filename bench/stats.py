"""Latency recording and summaries.

Every sample is kept (a run records at most tens of thousands), so percentiles are exact rather
than bucketed as in HdrHistogram; ``median_of`` combines several runs of one measurement."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

PERCENTILES = (50.0, 95.0, 99.0)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (the value below which ``p`` % of samples fall, as HdrHistogram reports)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


@dataclass
class Recorder:
    """Latencies in milliseconds, plus the count of failed operations."""

    samples: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def record(self, ms: float) -> None:
        self.samples.append(ms)

    def fail(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    @property
    def count(self) -> int:
        return len(self.samples)

    def summary(self) -> dict[str, Any]:
        values = sorted(self.samples)
        out: dict[str, Any] = {"count": len(values), "errors": self.errors}
        for p in PERCENTILES:
            out[f"p{p:g}"] = _round(percentile(values, p))
        out["max"] = _round(values[-1]) if values else None
        out["mean"] = _round(statistics.fmean(values)) if values else None
        if self.error_kinds:
            out["error_kinds"] = dict(self.error_kinds)
        return out


def _round(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 3)


def median_of(runs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The per-key median of several runs' summaries (numbers only; counts summed)."""
    runs = list(runs)
    out: dict[str, Any] = {"runs": len(runs)}
    if not runs:
        return out
    for key in runs[0]:
        values = [r[key] for r in runs if isinstance(r.get(key), int | float) and r.get(key) is not None]
        if key in ("count", "errors"):
            out[key] = sum(values)
        elif values:
            out[key] = round(statistics.median(values), 3)
    out["spread"] = {
        key: [r.get(key) for r in runs] for key in ("p50", "p99") if all(r.get(key) is not None for r in runs)
    }
    return out


def ratio(value: float | None, floor: float | None) -> float | None:
    if value is None or floor is None or floor == 0 or math.isnan(value) or math.isnan(floor):
        return None
    return round(value / floor, 2)


def histogram_quantiles(before: str, after: str, name: str, labels: dict[str, str]) -> dict[str, float] | None:
    """Quantiles (ms) and mean of one Prometheus histogram between two scrapes, interpolated within buckets
    as ``histogram_quantile`` does; None when nothing was observed."""

    def read(text: str) -> tuple[dict[float, float], float, float]:
        buckets: dict[float, float] = {}
        total = count = 0.0
        wanted = [f'{k}="{v}"' for k, v in labels.items()]
        for line in text.splitlines():
            if not line.startswith(name) or not all(w in line for w in wanted):
                continue
            value = float(line.rsplit(" ", 1)[1])
            if line.startswith(f"{name}_bucket"):
                edge = line.split('le="', 1)[1].split('"', 1)[0]
                buckets[math.inf if edge == "+Inf" else float(edge)] = value
            elif line.startswith(f"{name}_sum"):
                total = value
            elif line.startswith(f"{name}_count"):
                count = value
        return buckets, total, count

    b0, s0, c0 = read(before)
    b1, s1, c1 = read(after)
    count = c1 - c0
    if count <= 0:
        return None
    edges = sorted(b1)
    cumulative = [b1[e] - b0.get(e, 0.0) for e in edges]
    result = {"count": count, "mean": round((s1 - s0) / count * 1000, 1)}
    for q in (0.5, 0.95, 0.99):
        rank = q * count
        lower_edge, lower_count = 0.0, 0.0
        for edge, seen in zip(edges, cumulative, strict=True):
            if seen >= rank:
                if math.isinf(edge):
                    value = lower_edge
                else:
                    share = (rank - lower_count) / (seen - lower_count) if seen > lower_count else 1.0
                    value = lower_edge + (edge - lower_edge) * share
                result[f"p{round(q * 100)}"] = round(value * 1000, 1)
                break
            lower_edge, lower_count = edge, seen
    return result
