import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedback.domain.concerns import (
    ALLOWED_MOVES,
    CODE_ALPHABET,
    ConcernStatus,
    TransitionNotAllowed,
    anonymous_timestamp,
    check_transition,
    codes_match,
    derived_follow_up_code,
    hash_code,
    keyed_digest,
    new_follow_up_code,
    normalize_code,
)

SECRET = b"test-secret-0123456789abcdef0123"
CODE_SHAPE = re.compile(rf"^[{CODE_ALPHABET}]{{4}}(-[{CODE_ALPHABET}]{{4}}){{3}}$")
R, U, A, C = (ConcernStatus.RECEIVED, ConcernStatus.UNDER_REVIEW, ConcernStatus.ACTION_TAKEN, ConcernStatus.CLOSED)


@pytest.mark.parametrize(("current", "target"), [(R, U), (R, C), (U, A), (U, C), (A, C), (A, U), (C, U)])
def test_allowed_moves(current, target):
    check_transition(current, target)


@pytest.mark.parametrize(("current", "target"), [(R, A), (R, R), (U, R), (A, R), (C, R), (C, A), (C, C), (U, U)])
def test_forbidden_moves(current, target):
    with pytest.raises(TransitionNotAllowed):
        check_transition(current, target)


def test_every_status_has_a_way_forward():
    assert set(ALLOWED_MOVES) == set(ConcernStatus)
    assert all(ALLOWED_MOVES[s] for s in ConcernStatus)


def test_code_shape_and_alphabet_has_no_lookalikes():
    for ch in "0O1IL":
        assert ch not in CODE_ALPHABET
    codes = {new_follow_up_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(CODE_SHAPE.match(c) for c in codes)


def test_codes_use_the_whole_alphabet():
    seen = set("".join(new_follow_up_code() for _ in range(300)).replace("-", ""))
    assert seen == set(CODE_ALPHABET)


def test_hash_is_keyed_and_normalized():
    code = new_follow_up_code()
    stored = hash_code(secret=SECRET, code=code)
    assert code not in stored and code.replace("-", "") not in stored
    assert len(stored) == 64
    typed = " " + code.lower().replace("-", " ") + " "
    assert codes_match(stored, hash_code(secret=SECRET, code=typed))
    assert not codes_match(stored, hash_code(secret=b"another-secret", code=code))
    assert not codes_match(stored, hash_code(secret=SECRET, code=new_follow_up_code()))


@given(st.text(max_size=200))
def test_normalize_never_raises_and_is_bounded(raw):
    assert len(normalize_code(raw)) <= 64
    hash_code(secret=SECRET, code=raw)


def test_derived_code_is_stable_per_seed_and_well_formed():
    a = derived_follow_up_code(secret=SECRET, seed="key|body")
    assert a == derived_follow_up_code(secret=SECRET, seed="key|body")
    assert a != derived_follow_up_code(secret=SECRET, seed="key|other")
    assert a != derived_follow_up_code(secret=b"x" * 32, seed="key|body")
    assert CODE_SHAPE.match(a)


def test_keyed_digest_depends_on_every_part():
    base = keyed_digest(SECRET, "idem", "k", "b")
    assert base == keyed_digest(SECRET, "idem", "k", "b")
    assert base != keyed_digest(SECRET, "idem", "k", "c")
    assert base != keyed_digest(SECRET, "other", "k", "b")
    assert base != keyed_digest(SECRET, "idem", "kb")


def test_anonymous_timestamp_rounds_down_to_the_hour():
    moment = datetime(2025, 3, 1, 14, 37, 12, 345, tzinfo=UTC)
    assert anonymous_timestamp(moment) == datetime(2025, 3, 1, 14, 0, tzinfo=UTC)
