"""Referral figures by month, pure: whole ended months only, suppression under the group size."""

from datetime import UTC, datetime, timedelta

from wellbeing.domain.referral_stats import monthly_figures, months_back
from wellbeing.domain.referrals import Referral

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def made(student: str, at: datetime, kind="self", contact_hours: float | None = 2) -> Referral:
    return Referral(
        id=f"{student}-{at:%m%d}",
        kind=kind,
        student_id=student,
        category="stress",
        urgency="this_week",
        status="accepted" if contact_hours is not None else "received",
        created_at=at,
        deadline_at=at + timedelta(days=3),
        first_contact_at=at + timedelta(hours=contact_hours) if contact_hours is not None else None,
    )


def test_ended_months_only_oldest_first():
    assert months_back(NOW, 3) == ["2025-12", "2026-01", "2026-02"]


def test_a_month_under_the_group_size_or_with_a_small_kind_shows_nothing():
    feb, jan = datetime(2026, 2, 3, tzinfo=UTC), datetime(2026, 1, 5, tzinfo=UTC)
    referrals = [made(f"s{i}", feb, contact_hours=i + 1) for i in range(5)]
    referrals += [made(f"t{i}", jan) for i in range(4)]
    referrals += [made(f"u{i}", NOW) for i in range(9)]  # the month in progress is never given
    by_month = {f.month: f for f in monthly_figures(referrals, now=NOW, months=2, min_group_size=5)}
    assert set(by_month) == {"2026-01", "2026-02"}
    assert by_month["2026-01"].suppressed and by_month["2026-01"].referrals is None
    feb_figures = by_month["2026-02"]
    assert (feb_figures.referrals, feb_figures.self_referrals, feb_figures.concerns) == (5, 5, 0)
    assert feb_figures.median_hours_to_first_contact == 3.0
    one_concern = [*referrals, made("v1", feb, kind="concern")]
    assert monthly_figures(one_concern, now=NOW, months=1, min_group_size=5)[0].suppressed


def test_the_median_wait_needs_as_many_contacted_as_the_group_size():
    feb = datetime(2026, 2, 3, tzinfo=UTC)
    referrals = [made(f"s{i}", feb, contact_hours=None if i else 5) for i in range(6)]
    (figures,) = monthly_figures(referrals, now=NOW, months=1, min_group_size=5)
    assert figures.contacted == 1 and figures.median_hours_to_first_contact is None
