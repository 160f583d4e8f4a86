"""Every instrument, every band boundary, reverse scoring, published examples."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wellbeing.domain.instruments import INSTRUMENTS, PSS10, WHO5
from wellbeing.domain.scoring import AnswerError, item_scores, score


def answers_totalling(code: str, total: int) -> list[int]:
    """Answers (in option values) whose score is ``total`` (no reverse items involved except PSS)."""
    instrument = INSTRUMENTS[code]
    top = max(instrument.option_values)
    low = min(instrument.option_values)
    remaining = total - low * len(instrument.items)
    out = []
    for item in instrument.items:
        step = min(top - low, remaining)
        remaining -= step
        value = low + step
        out.append(top - value + low if item.reverse_scored else value)
    assert remaining == 0
    return out


BOUNDARIES = {
    "who5": [
        (0, "likely_depression"),
        (7, "likely_depression"),
        (8, "poor_wellbeing"),
        (12, "poor_wellbeing"),
        (13, "adequate_wellbeing"),
        (25, "adequate_wellbeing"),
    ],
    "phq9": [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
    "phq2": [(0, "negative"), (2, "negative"), (3, "positive"), (6, "positive")],
    "gad7": [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
    "gad2": [(0, "negative"), (2, "negative"), (3, "positive"), (6, "positive")],
    "pss10": [(0, "low"), (13, "low"), (14, "moderate"), (26, "moderate"), (27, "high"), (40, "high")],
    "burnout": [(1, "no_burnout"), (2, "no_burnout"), (3, "burnout"), (5, "burnout")],
}


@pytest.mark.parametrize(("code", "total", "band"), [(c, t, b) for c, rows in BOUNDARIES.items() for t, b in rows])
def test_every_band_boundary(code, total, band):
    result = score(INSTRUMENTS[code], answers_totalling(code, total))
    assert (result.total, result.band) == (total, band)


def test_every_instrument_has_contiguous_bands_over_its_whole_range():
    for instrument in INSTRUMENTS.values():
        covered = [v for band in instrument.bands for v in range(band.min, band.max + 1)]
        assert covered == list(range(instrument.score_min, instrument.score_max + 1)), instrument.code
        assert instrument.citation and instrument.licence and instrument.stem


def test_item_counts_match_the_published_instruments():
    counts = {code: len(i.items) for code, i in INSTRUMENTS.items()}
    assert counts == {"who5": 5, "phq2": 2, "phq9": 9, "gad2": 2, "gad7": 7, "pss10": 10, "burnout": 1}


def test_who5_raw_and_percentage():
    result = score(WHO5, [3, 2, 2, 3, 2])
    assert (result.total, result.percentage, result.band) == (12, 48, "poor_wellbeing")
    assert score(WHO5, [5, 5, 5, 5, 5]).percentage == 100


def test_pss10_reverse_scores_items_4_5_7_8():
    answers = [0, 0, 0, 4, 4, 0, 4, 4, 0, 0]  # confident on every positively-worded item
    assert item_scores(PSS10, answers) == [0] * 10
    assert score(PSS10, answers).total == 0
    assert score(PSS10, [4, 4, 4, 0, 0, 4, 0, 0, 4, 4]).total == 40
    # A published-style worked example: all "Sometimes" (2) → 20 whatever the reversal.
    assert score(PSS10, [2] * 10).total == 20
    assert score(PSS10, [3, 3, 3, 1, 1, 3, 1, 1, 3, 3]).total == 30


def test_phq9_sums_items_and_phq2_is_items_one_and_two():
    assert score(INSTRUMENTS["phq9"], [1, 2, 3, 0, 1, 2, 3, 0, 1]).total == 13
    assert score(INSTRUMENTS["phq2"], [2, 1]).total == 3


@pytest.mark.parametrize(
    ("code", "answers", "bad_item"),
    [
        ("phq9", [0] * 8, None),
        ("phq9", [0] * 10, None),
        ("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 4], 8),
        ("phq9", [0, -1, 0, 0, 0, 0, 0, 0, 0], 1),
        ("who5", [6, 0, 0, 0, 0], 0),
        ("burnout", [0], 0),
        ("pss10", [0, 0, 0, 0, 0, 0, 0, 0, 0, 5], 9),
    ],
)
def test_bad_answers_name_the_item(code, answers, bad_item):
    with pytest.raises(AnswerError) as caught:
        score(INSTRUMENTS[code], answers)
    assert bad_item in [index for index, _ in caught.value.errors]


def test_booleans_are_not_answers():
    with pytest.raises(AnswerError):
        score(INSTRUMENTS["phq2"], [True, False])


@given(st.sampled_from(sorted(INSTRUMENTS)), st.data())
def test_any_valid_answers_score_within_range(code, data):
    instrument = INSTRUMENTS[code]
    values = sorted(instrument.option_values)
    answers = data.draw(
        st.lists(st.sampled_from(values), min_size=len(instrument.items), max_size=len(instrument.items))
    )
    result = score(instrument, answers)
    assert instrument.score_min <= result.total <= instrument.score_max
