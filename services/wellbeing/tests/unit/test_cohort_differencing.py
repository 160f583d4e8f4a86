"""Differencing attacks on the cohort summary: month against its weeks, consecutive windows, band
totals. Whatever a caller combines, no figure isolates fewer than the minimum group of students."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from wellbeing.domain.cohort_summary import cohort_summary, month_label, window_start

MIN = 5
START = datetime(2026, 9, 1, tzinfo=UTC)
BANDS = ("high", "low", "mid")

checkins = st.lists(
    st.tuples(st.integers(0, 11), st.integers(0, 24 * 75 - 1), st.integers(0, 27)), min_size=1, max_size=80
)


def rows_of(drawn):
    return [
        {
            "student_id": f"s{student}",
            "instrument": "phq9",
            "recorded_at": START + timedelta(hours=hour),
            "score": score,
            "band": BANDS[0] if score >= 20 else BANDS[2] if score >= 10 else BANDS[1],
        }
        for student, hour, score in drawn
    ]


def weekly_truth(rows):
    """week monday -> student -> (the latest check-in of that week): what the attacker wants to learn."""
    weeks = defaultdict(dict)
    for row in sorted(rows, key=lambda r: r["recorded_at"]):
        day = row["recorded_at"].date()
        weeks[day - timedelta(days=day.weekday())][row["student_id"]] = row
    return weeks


def monday_of(label):
    year, week = label.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


@given(checkins)
@settings(max_examples=300)
def test_a_month_minus_its_shown_weeks_never_isolates_anyone(drawn):
    rows = rows_of(drawn)
    truth = weekly_truth(rows)
    months = {g["period"]: g for g in cohort_summary(rows, period="month", min_group=MIN) if not g["suppressed"]}
    weeks = [g for g in cohort_summary(rows, period="week", min_group=MIN) if not g["suppressed"]]
    for label, month in months.items():
        in_month = {w for w in truth if month_label(w) == label}
        shown = [w for w in weeks if monday_of(w["period"]) in in_month]
        entries = sum(len(truth[w]) for w in in_month)  # granted to the attacker, though never published
        left = entries - sum(w["students"] for w in shown)
        residual = month["mean_score"] * entries - sum(w["mean_score"] * w["students"] for w in shown)
        hidden = in_month - {monday_of(w["period"]) for w in shown}
        behind = {s for w in hidden for s in truth[w]}
        assert left == sum(len(truth[w]) for w in hidden)
        assert not behind or len(behind) >= MIN, f"{left} check-in(s) summing to {residual:.0f} from {behind}"


def test_the_reviewed_attack_one_student_in_a_quiet_week_stays_hidden():
    rows = rows_of([(n, 24 * 7 * 2 + n, 4) for n in range(6)] + [(6, 24 * 7 * 3 + 2, 25)])
    month = cohort_summary(rows, period="month", min_group=MIN)[0]
    weeks = cohort_summary(rows, period="week", min_group=MIN)
    assert month["students"] == 7
    assert all(w["suppressed"] and w["mean_score"] is None for w in weeks)  # the week of 6 hides with the one


@given(checkins, st.integers(0, 40), st.integers(1, 20), st.integers(1, 2), st.sampled_from(["month", "week"]))
@settings(max_examples=200)
def test_sliding_the_window_changes_which_periods_show_never_a_figure(drawn, day, later, months, period):
    rows = rows_of(drawn)
    first = START + timedelta(days=91 + day)  # after the data's last month has ended

    def window(now):
        since = window_start(now, months)
        kept = [r for r in rows if r["recorded_at"] >= since]
        return {
            g["period"]: {k: v for k, v in g.items() if k != "change_from_previous"}
            for g in cohort_summary(kept, period=period, min_group=MIN)
        }

    one, two = window(first), window(first + timedelta(days=later))
    assert all(one[p] == two[p] for p in one.keys() & two.keys())


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)), st.integers(1, 36))
def test_a_window_starts_on_the_monday_that_begins_a_month(now, months):
    since = window_start(now.replace(tzinfo=UTC), months)
    assert since.weekday() == 0 and since.time() == datetime.min.time()
    assert month_label(since.date()) != month_label(since.date() - timedelta(days=7))
    assert since <= now.replace(tzinfo=UTC) - timedelta(days=31 * months)


@given(checkins)
def test_hidden_bands_have_no_key_and_cannot_be_told_apart(drawn):
    rows = rows_of(drawn)
    latest = defaultdict(dict)
    for row in sorted(rows, key=lambda r: r["recorded_at"]):
        latest[month_label(row["recorded_at"].date() - timedelta(days=row["recorded_at"].weekday()))][
            row["student_id"]
        ] = row["band"]
    for group in cohort_summary(rows, period="month", min_group=MIN):
        if group["suppressed"]:
            continue
        assert None not in group["bands"].values()
        truth = defaultdict(int)
        for band in latest[group["period"]].values():
            truth[band] += 1
        hidden = {b for b in truth if b not in group["bands"]}
        assert all(group["bands"][b] == truth[b] for b in group["bands"])
        assert len(hidden) != 1  # one hidden band would be the students minus the shown ones
        assert not hidden or sum(truth[b] for b in hidden) >= MIN


@given(checkins, st.sampled_from(["month", "week"]))
@settings(max_examples=100)
def test_a_figure_once_published_never_changes_as_check_ins_arrive(drawn, period):
    rows = rows_of(drawn)
    published = {}
    for day in range(0, 100, 2):
        now = START + timedelta(days=day)
        seen = [r for r in rows if r["recorded_at"] <= now]
        for group in cohort_summary(seen, period=period, min_group=MIN, now=now):
            if group["mean_score"] is not None:
                key = group["period"]
                published.setdefault(key, (group["mean_score"], group["students"], group["bands"]))
                assert published[key] == (group["mean_score"], group["students"], group["bands"]), key
