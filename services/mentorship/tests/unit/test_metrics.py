"""The time-since-last-meeting gauge: nearest-rank statistics, labelled by service."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from mentorship.metrics import nearest_rank, observe_since_last_meeting


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 0.5, 0.0),
        ([7.0], 0.5, 7.0),
        ([7.0], 1.0, 7.0),
        ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 1.0, 4.0),
        ([float(v) for v in range(1, 11)], 0.9, 9.0),
        ([float(v) for v in range(1, 12)], 0.9, 10.0),
    ],
)
def test_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert nearest_rank(values, q) == expected


def test_the_gauge_holds_the_last_sweeps_statistics() -> None:
    def sample(stat: str) -> float | None:
        return REGISTRY.get_sample_value(
            "medsupport_mentorship_seconds_since_last_meeting", {"service": "unit-test", "stat": stat}
        )

    observe_since_last_meeting("unit-test", [30.0, 10.0, 20.0, 40.0, 50.0])
    assert (sample("median"), sample("p90"), sample("max")) == (30.0, 50.0, 50.0)
    observe_since_last_meeting("unit-test", [])  # nothing active any more
    assert (sample("median"), sample("p90"), sample("max")) == (0.0, 0.0, 0.0)
