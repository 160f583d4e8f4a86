"""Suggestion statuses: the allowed moves, and a decline always carries a reason."""

import pytest

from feedback.domain.rotations import keyed_token
from feedback.domain.voice import MoveNotAllowed, ReasonRequired, SuggestionStatus, check_move

S = SuggestionStatus


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.OPEN, S.UNDER_REVIEW),
        (S.OPEN, S.PLANNED),
        (S.UNDER_REVIEW, S.DONE),
        (S.PLANNED, S.DONE),
        (S.DONE, S.UNDER_REVIEW),
    ],
)
def test_allowed_moves(current, target):
    check_move(current, target, reason=None)


@pytest.mark.parametrize(
    ("current", "target"), [(S.OPEN, S.DONE), (S.DONE, S.PLANNED), (S.DECLINED, S.DONE), (S.OPEN, S.OPEN)]
)
def test_other_moves_are_refused(current, target):
    with pytest.raises(MoveNotAllowed):
        check_move(current, target, reason=None)


def test_declining_needs_a_reason():
    with pytest.raises(ReasonRequired):
        check_move(S.UNDER_REVIEW, S.DECLINED, reason=None)
    check_move(S.UNDER_REVIEW, S.DECLINED, reason="Rota rules set by the trust")


def test_tokens_are_keyed_and_scoped():
    one = keyed_token(b"k" * 32, person_id="s1", scope="suggestion:a")
    assert one == keyed_token(b"k" * 32, person_id="s1", scope="suggestion:a")
    assert one != keyed_token(b"k" * 32, person_id="s1", scope="suggestion:b")
    assert one != keyed_token(b"j" * 32, person_id="s1", scope="suggestion:a")
    assert keyed_token(b"k", person_id="s1|x", scope="y") != keyed_token(b"k", person_id="s1", scope="x|y")
