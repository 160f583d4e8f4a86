import pytest

from feedback.domain.cohort import FeedbackFact, RequestFact, median_hours, summarize
from feedback.domain.ratelimit import AnonymousRateLimiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_limits_each_client_within_a_window_and_forgets_after():
    clock = Clock()
    limiter = AnonymousRateLimiter(limit=2, window_seconds=60, clock=clock)
    assert limiter.allow("10.0.0.1") and limiter.allow("10.0.0.1")
    assert not limiter.allow("10.0.0.1")
    assert limiter.allow("10.0.0.2")
    clock.now += 61
    assert limiter.allow("10.0.0.1")
    assert limiter.tracked_clients == 1


def test_keeps_no_client_address():
    limiter = AnonymousRateLimiter(limit=5, window_seconds=60)
    limiter.allow("192.168.77.12")
    state = repr(vars(limiter)).encode()
    assert b"192.168.77.12" not in state


def test_fails_closed_under_a_flood_of_addresses():
    limiter = AnonymousRateLimiter(limit=5, window_seconds=60, clock=Clock(), max_clients=3)
    assert all(limiter.allow(f"10.0.0.{i}") for i in range(3))
    assert not limiter.allow("10.0.0.99")


def test_rejects_bad_configuration():
    with pytest.raises(ValueError):
        AnonymousRateLimiter(limit=0, window_seconds=60)


def test_median_hours():
    assert median_hours([]) is None
    assert median_hours([3600, 7200, 36000]) == 2.0
    assert median_hours([3600, 7200]) == 1.5


def test_summary_counts_and_suppresses_small_groups():
    feedback = [FeedbackFact("rotation:a", f"s{i}", "f1", "faculty") for i in range(5)]
    feedback += [FeedbackFact("rotation:a", "s0", "s1", "peer")]
    feedback += [FeedbackFact("course:small", "s0", "f1", "faculty")]
    requests = [
        RequestFact("rotation:a", "s0", "fulfilled", False, 3600.0),
        RequestFact("rotation:a", "s1", "fulfilled", True, 3 * 3600.0),
        RequestFact("rotation:a", "s2", "open", True, None),
    ]
    summary = summarize(feedback, requests, min_group_size=5)
    assert summary.suppressed_contexts == 1
    (row,) = summary.contexts
    assert row.context == "rotation:a"
    assert (row.feedback_count, row.faculty_feedback_count, row.peer_feedback_count) == (6, 5, 1)
    assert (row.students_receiving, row.authors_giving) == (5, 2)
    assert (row.requests, row.requests_fulfilled, row.requests_overdue) == (3, 2, 2)
    assert row.median_turnaround_hours == 2.0


def test_summary_with_lower_threshold_shows_small_contexts():
    summary = summarize([FeedbackFact("course:x", "s0", "f1", "faculty")], [], min_group_size=1)
    assert [r.context for r in summary.contexts] == ["course:x"]
