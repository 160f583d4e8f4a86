"""Time to acknowledge per ISO week and severity (pure)."""

from datetime import UTC, date, datetime, timedelta

from notifications.acknowledgement_times import p90, weekly_acknowledgement_times

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday of 2026-W49


def _alert(created_at, seconds=None, severity="urgent"):
    acked = created_at + timedelta(seconds=seconds) if seconds is not None else None
    return {"severity": severity, "created_at": created_at, "acknowledged_at": acked}


def test_nearest_rank_p90_is_a_value_that_occurred():
    assert p90([5.0]) == 5.0
    assert p90([float(s) for s in range(1, 11)]) == 9.0
    assert p90([float(s) for s in range(1, 12)]) == 10.0


def test_each_week_and_severity_gets_a_row_with_counts_median_and_p90():
    monday = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    alerts = [
        _alert(monday, 60),
        _alert(monday, 120),
        _alert(monday, 600),
        _alert(monday),
        _alert(monday - timedelta(days=1), 30, severity="elevated"),  # Sunday: the week before
        _alert(monday - timedelta(weeks=5), 10),  # older than the weeks asked for
        _alert(monday, 10, severity="routine"),
    ]
    rows = weekly_acknowledgement_times(alerts, weeks=2, now=NOW)
    assert [(r["week"], r["severity"]) for r in rows] == [
        ("2026-W48", "urgent"),
        ("2026-W48", "elevated"),
        ("2026-W49", "urgent"),
        ("2026-W49", "elevated"),
    ]
    current = rows[2]
    assert current["week_start"] == date(2026, 11, 30)
    assert (current["alerts"], current["acknowledged"], current["unacknowledged"]) == (4, 3, 1)
    assert (current["median_seconds"], current["p90_seconds"]) == (120.0, 600.0)
    assert (rows[1]["alerts"], rows[1]["median_seconds"]) == (1, 30.0)
    assert (rows[0]["alerts"], rows[0]["median_seconds"], rows[0]["p90_seconds"]) == (0, None, None)
