from feedback.domain.cohort import FeedbackFact, RequestFact, median_hours, summarize


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
