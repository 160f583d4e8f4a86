"""The console's pure helpers: chart geometry, rota arithmetic, links, times."""

from datetime import UTC, datetime, timedelta

from console.charts import HEIGHT, PAD, acknowledgement_chart, score_history
from console.formatting import relative, when, words
from console.rota_view import next_on_call, rota_body, without_shift
from console.web import console_link, safe_next

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_score_history_is_per_instrument_oldest_first_on_the_instrument_scale():
    charts = score_history(
        [
            {"instrument": "phq9", "score": 27, "recorded_at": "2026-12-01T10:00:00Z", "severity": "urgent"},
            {"instrument": "phq9", "score": 0, "recorded_at": "2026-11-01T10:00:00Z", "severity": "none"},
            {"instrument": "who5", "score": None, "recorded_at": "2026-11-01T10:00:00Z"},  # not stored: no point
        ]
    )
    assert [c.instrument for c in charts] == ["phq9"]
    (phq9,) = charts
    assert [p.score for p in phq9.points] == [0, 27] and phq9.maximum == 27
    assert phq9.points[0].y == HEIGHT - PAD and phq9.points[1].y == PAD
    assert phq9.summary == "PHQ9 scores, oldest to newest: 0, 27 (maximum 27)"


def test_acknowledgement_chart_has_a_bar_per_urgent_week_with_an_acknowledgement():
    rows = [
        {"week": "2026-W48", "severity": "urgent", "median_seconds": 600.0},
        {"week": "2026-W48", "severity": "elevated", "median_seconds": 60000.0},
        {"week": "2026-W49", "severity": "urgent", "median_seconds": None},
        {"week": "2026-W50", "severity": "urgent", "median_seconds": 300.0},
    ]
    chart = acknowledgement_chart(rows)
    assert [(b.week, b.minutes) for b in chart.bars] == [("2026-W48", 10.0), ("2026-W50", 5.0)]
    assert chart.maximum == 10.0 and chart.bars[0].y == PAD and chart.bars[1].height == (HEIGHT - 2 * PAD) / 2
    assert chart.bars[0].x < chart.bars[1].x and "2026-W50: 5 min" in chart.summary


def test_next_on_call_is_the_next_other_person_and_overrides_count():
    rota = {
        "on_call_now": "ada",
        "shifts": [
            {
                "staff_id": "ada",
                "start": (NOW + timedelta(hours=1)).isoformat(),
                "end": (NOW + timedelta(hours=2)).isoformat(),
            },
            {
                "staff_id": "ben",
                "start": (NOW + timedelta(hours=5)).isoformat(),
                "end": (NOW + timedelta(hours=6)).isoformat(),
            },
        ],
        "overrides": [
            {
                "staff_id": "cy",
                "start": (NOW + timedelta(hours=3)).isoformat(),
                "end": (NOW + timedelta(hours=4)).isoformat(),
            }
        ],
    }
    assert next_on_call(rota, NOW) == ("cy", NOW + timedelta(hours=3))
    assert next_on_call({"on_call_now": "ada", "shifts": [], "overrides": []}, NOW) is None


def test_removing_a_shift_keeps_the_others_and_the_lead():
    shift = {"staff_id": "ada", "start": "2026-12-01T10:00:00+00:00", "end": "2026-12-01T12:00:00+00:00"}
    other = {"staff_id": "ben", "start": "2026-12-01T12:00:00+00:00", "end": "2026-12-01T14:00:00+00:00"}
    body = rota_body({"lead_id": "lee", "shifts": [shift, other], "overrides": [], "team": "t", "on_call_now": "ada"})
    assert body == {"lead_id": "lee", "shifts": [shift, other], "overrides": []}
    assert without_shift(body, "shifts", "ada", "2026-12-01T10:00:00Z")["shifts"] == [other]


def test_alert_links_become_console_pages_and_sign_in_stays_on_the_console():
    assert console_link("/wellbeing/flags/f 1") == "/flags/f%201"
    assert console_link("/feedback/concerns/c1") == "/concerns/c1"
    assert console_link("/feedback/requests/r1") is None
    assert [safe_next(v) for v in ("/flags", "//evil.example", "https://evil.example", "/\\evil", None)] == [
        "/flags",
        "/",
        "/",
        "/",
        "/",
    ]


def test_times_read_in_utc_and_relative_to_now():
    assert when("2026-12-01T13:30:00+01:00") == "2026-12-01 12:30 UTC"
    assert relative(NOW + timedelta(minutes=12, seconds=5), now=NOW) == "in 12 min"
    assert relative(NOW - timedelta(hours=2, minutes=3), now=NOW) == "2 h 3 min ago"
    assert words("no_action_needed") == "No action needed"
