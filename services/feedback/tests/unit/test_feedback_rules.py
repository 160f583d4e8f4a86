from datetime import UTC, datetime, timedelta

import pytest

from feedback.domain.feedback import (
    AuthorKind,
    Context,
    ContextKind,
    NotAllowed,
    Rating,
    RequestStatus,
    ShareRelationship,
    author_kind_for,
    check_fulfilment,
    check_rating,
    check_request,
    check_share,
    clean_text,
    due_at,
    is_overdue,
    may_read_feedback,
    may_read_reflection,
    turnaround,
)

ROTATION = Context(ContextKind.ROTATION, "cardio")
COURSE = Context(ContextKind.COURSE, "anatomy")
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def author(roles, *, context=ROTATION, author_id="a", student_id="s", peer=(ContextKind.COURSE,)):
    return author_kind_for(
        roles=roles, author_id=author_id, student_id=student_id, context=context, peer_feedback_kinds=peer
    )


def test_faculty_may_always_write():
    assert author(["faculty"]) is AuthorKind.FACULTY
    assert author(["faculty", "student"], context=COURSE) is AuthorKind.FACULTY


def test_peer_student_only_where_context_allows():
    assert author(["student"], context=COURSE) is AuthorKind.PEER
    with pytest.raises(NotAllowed, match="peer feedback is not enabled for rotation"):
        author(["student"], context=ROTATION)
    with pytest.raises(NotAllowed):
        author(["student"], context=COURSE, peer=())


@pytest.mark.parametrize("roles", [["admin"], ["mentor"], ["concerns_officer"], []])
def test_other_roles_may_not_write(roles):
    with pytest.raises(NotAllowed):
        author(roles, context=COURSE)


def test_nobody_writes_feedback_about_themselves():
    with pytest.raises(NotAllowed, match="yourself"):
        author(["faculty"], author_id="x", student_id="x")


def test_read_rule():
    assert may_read_feedback(reader_id="s", student_id="s", author_id="a")
    assert may_read_feedback(reader_id="a", student_id="s", author_id="a")
    assert not may_read_feedback(reader_id="other", student_id="s", author_id="a")


def test_context_key():
    assert ROTATION.key == "rotation:cardio"


def test_clean_text():
    assert clean_text("  hi \n") == "hi"
    assert clean_text(" \t ") is None
    assert clean_text(None) is None


@pytest.mark.parametrize(
    ("rating", "ok"),
    [
        (Rating("entrustment", 1, 5, 3), True),
        (Rating("entrustment", 1, 5, 1), True),
        (Rating("entrustment", 1, 5, 5), True),
        (Rating("entrustment", 1, 5, 6), False),
        (Rating("entrustment", 1, 5, 0), False),
        (Rating("x", 5, 5, 5), False),
        (Rating("x", 0, 101, 5), False),
        (Rating("  ", 1, 5, 3), False),
    ],
)
def test_rating_on_stated_scale(rating, ok):
    assert (check_rating(rating) == []) is ok


def test_due_default_seven_days():
    assert due_at(requested_at=T0, kind=ContextKind.ENCOUNTER) == T0 + timedelta(days=7)


def test_due_configurable_per_kind():
    per_kind = {"encounter": timedelta(days=2), "rotation": timedelta(days=14)}
    assert due_at(requested_at=T0, kind=ContextKind.ENCOUNTER, due_by_kind=per_kind) == T0 + timedelta(days=2)
    assert due_at(requested_at=T0, kind=ContextKind.ROTATION, due_by_kind=per_kind) == T0 + timedelta(days=14)
    assert due_at(requested_at=T0, kind=ContextKind.COURSE, due_by_kind=per_kind, default=timedelta(days=3)) == (
        T0 + timedelta(days=3)
    )
    with pytest.raises(ValueError):
        due_at(requested_at=T0, kind=ContextKind.COURSE, due_by_kind={"course": timedelta(days=-1)})


def test_overdue_only_when_open_and_past_due():
    due = T0 + timedelta(days=7)
    assert not is_overdue(status=RequestStatus.OPEN, due=due, now=due - timedelta(seconds=1))
    assert is_overdue(status=RequestStatus.OPEN, due=due, now=due)
    assert not is_overdue(status=RequestStatus.FULFILLED, due=due, now=due + timedelta(days=1))
    assert not is_overdue(status=RequestStatus.CANCELLED, due=due, now=due + timedelta(days=1))


def test_turnaround_never_negative():
    assert turnaround(requested_at=T0, fulfilled_at=T0 + timedelta(hours=5)) == timedelta(hours=5)
    assert turnaround(requested_at=T0, fulfilled_at=T0 - timedelta(seconds=3)) == timedelta(0)


def test_fulfilment_rules():
    ok = dict(status=RequestStatus.OPEN, request_student_id="s", request_assessor_id="a")
    check_fulfilment(**ok, feedback_student_id="s", author_id="a")
    with pytest.raises(NotAllowed, match="assessor"):
        check_fulfilment(**ok, feedback_student_id="s", author_id="b")
    with pytest.raises(NotAllowed, match="student who asked"):
        check_fulfilment(**ok, feedback_student_id="t", author_id="a")
    with pytest.raises(NotAllowed, match="fulfilled"):
        check_fulfilment(
            status=RequestStatus.FULFILLED,
            request_student_id="s",
            request_assessor_id="a",
            feedback_student_id="s",
            author_id="a",
        )


def test_request_not_to_self():
    check_request(student_id="s", assessor_id="a")
    with pytest.raises(NotAllowed):
        check_request(student_id="s", assessor_id="s")


def test_reflection_private_unless_shared_in_a_held_role():
    shares = [("m1", ShareRelationship.MENTOR), ("f1", ShareRelationship.FACULTY)]
    assert may_read_reflection(reader_id="s", reader_roles=["student"], owner_id="s", shares=shares)
    assert may_read_reflection(reader_id="m1", reader_roles=["mentor"], owner_id="s", shares=shares)
    assert may_read_reflection(reader_id="f1", reader_roles=["faculty"], owner_id="s", shares=shares)
    assert not may_read_reflection(reader_id="f2", reader_roles=["faculty"], owner_id="s", shares=shares)
    # shared as mentor, but the token no longer carries the mentor role
    assert not may_read_reflection(reader_id="m1", reader_roles=["faculty"], owner_id="s", shares=shares)
    assert not may_read_reflection(reader_id="x", reader_roles=["admin"], owner_id="s", shares=[])


def test_share_rules():
    check_share(owner_id="s", user_id="f1", relationship=ShareRelationship.FACULTY, is_current_mentor=False)
    check_share(owner_id="s", user_id="m1", relationship=ShareRelationship.MENTOR, is_current_mentor=True)
    with pytest.raises(NotAllowed, match="mentor"):
        check_share(owner_id="s", user_id="m2", relationship=ShareRelationship.MENTOR, is_current_mentor=False)
    with pytest.raises(NotAllowed):
        check_share(owner_id="s", user_id="s", relationship=ShareRelationship.FACULTY, is_current_mentor=False)
