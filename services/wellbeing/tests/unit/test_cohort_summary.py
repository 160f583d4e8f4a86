"""Small cells of the cohort summary are hidden so that none can be worked out from the total."""

from hypothesis import given
from hypothesis import strategies as st

from wellbeing.domain.cohort_summary import suppress_small_cells

MIN = 5


def test_a_lone_small_cell_takes_the_next_smallest_with_it():
    assert suppress_small_cells({"burnout": 3, "no_burnout": 5}, min_group=MIN) == {"burnout": None, "no_burnout": None}
    shown = suppress_small_cells({"a": 2, "b": 9, "c": 7}, min_group=MIN)
    assert shown == {"a": None, "b": 9, "c": None}


def test_small_cells_hiding_together_fewer_than_the_minimum_take_more():
    assert suppress_small_cells({"a": 1, "b": 2, "c": 6, "d": 8}, min_group=MIN) == {
        "a": None,
        "b": None,
        "c": None,
        "d": 8,
    }


def test_nothing_small_nothing_hidden():
    assert suppress_small_cells({"a": 5, "b": 12}, min_group=MIN) == {"a": 5, "b": 12}


@given(st.dictionaries(st.sampled_from("abcdef"), st.integers(min_value=1, max_value=40), min_size=1))
def test_no_hidden_cell_can_be_worked_out(counts):
    shown = suppress_small_cells(counts, min_group=MIN)
    hidden = [band for band, value in shown.items() if value is None]
    assert all(value is None or value >= MIN for value in shown.values())
    if hidden:
        assert len(hidden) >= 2 or len(counts) == 1  # one hidden cell alone is the total minus the rest
        assert sum(counts[b] for b in hidden) >= MIN or len(hidden) == len(counts)
