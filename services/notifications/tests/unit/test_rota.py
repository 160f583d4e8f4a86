from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from notifications.rota import Rota, Shift, on_call

T = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


def rota(**kw):
    shifts = (Shift(staff_id="day", start=T, end=T + 8 * H), Shift(staff_id="evening", start=T + 8 * H, end=T + 16 * H))
    return Rota(team="counselling", lead_id="lead", shifts=kw.pop("shifts", shifts), **kw)


@pytest.mark.parametrize(
    ("at", "who"),
    [
        (T, "day"),  # start is inclusive
        (T + 8 * H - timedelta(seconds=1), "day"),
        (T + 8 * H, "evening"),  # end is exclusive: the next shift takes over
        (T + 16 * H, "lead"),  # a gap falls back to the lead
        (T - timedelta(seconds=1), "lead"),
    ],
)
def test_shift_boundaries_and_gaps(at, who):
    assert on_call(rota(), at) == who


def test_overlapping_shifts_first_listed_wins():
    overlapping = (Shift(staff_id="a", start=T, end=T + 4 * H), Shift(staff_id="b", start=T + 2 * H, end=T + 6 * H))
    assert on_call(rota(shifts=overlapping), T + 3 * H) == "a"
    assert on_call(rota(shifts=overlapping), T + 5 * H) == "b"


def test_override_beats_shifts_and_latest_override_wins():
    overrides = (
        Shift(staff_id="cover", start=T + 2 * H, end=T + 4 * H),
        Shift(staff_id="cover2", start=T + 3 * H, end=T + 5 * H),
    )
    r = rota(overrides=overrides)
    assert on_call(r, T + 2 * H) == "cover"
    assert on_call(r, T + 3 * H) == "cover2"
    assert on_call(r, T + 5 * H) == "day"


def test_empty_rota_is_the_lead_never_nobody():
    assert on_call(Rota(team="x", lead_id="lead"), T) == "lead"


def test_invalid_shifts_are_rejected():
    with pytest.raises(ValidationError):
        Shift(staff_id="a", start=T, end=T)
    with pytest.raises(ValidationError):
        Shift(staff_id="a", start=datetime(2026, 1, 1), end=datetime(2026, 1, 2))
