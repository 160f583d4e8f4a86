"""Each flag rule, its reason code, the trend rules, and the open-flag merge."""

import pytest

from wellbeing.domain.flag_rules import (
    TOP_PRIORITY,
    Assessment,
    FlagThresholds,
    OpenFlag,
    assess,
    merge,
    urgent_from_answers,
)
from wellbeing.domain.instruments import INSTRUMENTS
from wellbeing.domain.scoring import score

from .test_scoring import answers_totalling


def run(code, answers, previous=None, thresholds=None):
    instrument = INSTRUMENTS[code]
    prev = score(instrument, previous) if previous is not None else None
    return assess(score(instrument, answers), answers, previous=prev, thresholds=thresholds)


def test_phq9_item9_positive_is_urgent_whatever_the_total():
    result = run("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert result.severity == "urgent" and result.reasons == ("phq9_item9_positive",)
    assert result.priority == TOP_PRIORITY


def test_phq9_item9_zero_with_low_total_is_none():
    assert run("phq9", [1, 1, 1, 1, 0, 0, 0, 0, 0]) == Assessment("none", ())


@pytest.mark.parametrize(
    ("total", "reason", "priority"),
    [
        (9, None, 0),
        (10, "phq9_moderate", 0),
        (14, "phq9_moderate", 0),
        (15, "phq9_moderately_severe", 0),
        (19, "phq9_moderately_severe", 0),
        (20, "phq9_severe", TOP_PRIORITY),
        (24, "phq9_severe", TOP_PRIORITY),
    ],
)
def test_phq9_total_bands(total, reason, priority):
    answers = answers_totalling("phq9", total)
    assert answers[8] == 0  # item 9 stays at zero for totals up to 24
    result = run("phq9", answers)
    assert result.reasons == ((reason,) if reason else ())
    assert result.severity == ("elevated" if reason else "none") and result.priority == priority


def test_phq9_severe_with_item9_is_urgent_with_both_reasons():
    result = run("phq9", [3, 3, 3, 3, 3, 3, 3, 0, 2])
    assert result.severity == "urgent" and result.reasons == ("phq9_item9_positive", "phq9_severe")


@pytest.mark.parametrize(
    ("code", "total", "reason"),
    [
        ("who5", 12, "who5_low"),
        ("gad7", 10, "gad7_moderate"),
        ("gad7", 15, "gad7_severe"),
        ("phq2", 3, "phq2_positive"),
        ("gad2", 3, "gad2_positive"),
        ("pss10", 27, "pss10_high"),
        ("burnout", 3, "burnout_positive"),
    ],
)
def test_elevated_rules_at_their_cut_off(code, total, reason):
    result = run(code, answers_totalling(code, total))
    assert result.severity == "elevated" and reason in result.reasons


@pytest.mark.parametrize(
    ("code", "total"),
    [
        ("who5", 13),
        ("gad7", 9),
        ("phq2", 2),
        ("gad2", 2),
        ("pss10", 26),
        ("burnout", 2),
    ],
)
def test_just_inside_the_cut_off_is_none(code, total):
    assert run(code, answers_totalling(code, total)).severity == "none"


def test_who5_decline_of_ten_percentage_points_between_consecutive_checkins():
    previous = [4, 4, 4, 4, 4]  # raw 20 = 80 %
    assert run("who5", [4, 4, 4, 3, 3], previous).severity == "none"  # raw 18 = 72 %: an 8-point drop
    assert run("who5", [4, 4, 3, 3, 3], previous).reasons == ("who5_decline",)  # raw 17 = 68 %: 12 points
    assert run("who5", [2, 2, 2, 2, 2], previous).reasons == ("who5_low", "who5_decline")  # 40 %
    assert run("who5", [4, 4, 3, 3, 3]).severity == "none"  # no previous check-in, no trend


def test_who5_rise_is_not_a_decline():
    assert run("who5", [5, 5, 5, 5, 5], [3, 3, 3, 3, 3]).severity == "none"


def test_phq9_rise_of_five_between_consecutive_checkins():
    assert run("phq9", answers_totalling("phq9", 9), answers_totalling("phq9", 4)).reasons == ("phq9_rise",)
    assert run("phq9", answers_totalling("phq9", 9), answers_totalling("phq9", 5)).severity == "none"
    rise_and_moderate = run("phq9", answers_totalling("phq9", 12), answers_totalling("phq9", 2))
    assert rise_and_moderate.reasons == ("phq9_moderate", "phq9_rise")


def test_thresholds_are_configuration():
    strict = FlagThresholds(who5_low_below=15, burnout_at=4)
    assert run("who5", answers_totalling("who5", 14), thresholds=strict).reasons == ("who5_low",)
    assert run("burnout", [3], thresholds=strict).severity == "none"


def test_merge_accumulates_reasons_and_only_raises_severity():
    open_flag = OpenFlag("elevated", ("who5_low",), 0)
    urgent = merge(open_flag, Assessment("urgent", ("phq9_item9_positive",), TOP_PRIORITY))
    assert urgent == OpenFlag("urgent", ("who5_low", "phq9_item9_positive"), TOP_PRIORITY)
    still_urgent = merge(urgent, Assessment("elevated", ("gad7_moderate", "who5_low"), 0))
    assert still_urgent == OpenFlag("urgent", ("who5_low", "phq9_item9_positive", "gad7_moderate"), TOP_PRIORITY)


def test_queue_key_orders_urgent_first_then_priority_then_oldest():
    from datetime import UTC, datetime, timedelta, timezone

    from wellbeing.domain.flag_rules import queue_key

    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    flags = {
        "elevated-old": queue_key("elevated", 0, t0),
        "elevated-new": queue_key("elevated", 0, t0 + timedelta(milliseconds=1)),
        "severe-new": queue_key("elevated", TOP_PRIORITY, t0 + timedelta(days=3)),
        "urgent-new": queue_key("urgent", TOP_PRIORITY, t0 + timedelta(days=9)),
        "urgent-old": queue_key("urgent", TOP_PRIORITY, t0 - timedelta(days=400)),
    }
    assert sorted(flags, key=flags.__getitem__) == [
        "urgent-old",
        "urgent-new",
        "severe-new",
        "elevated-old",
        "elevated-new",
    ]
    # The same instant in another offset sorts alike; the key keeps MongoDB's millisecond precision (so a
    # key computed again from the stored raised_at is the same), with a fixed width (isoformat would drop
    # ".000" and put a whole second after its own milliseconds).
    paris = datetime(2026, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert queue_key("elevated", 0, paris) == queue_key("elevated", 0, t0)
    assert queue_key("elevated", 0, t0 + timedelta(microseconds=999)) == queue_key("elevated", 0, t0)
    assert queue_key("elevated", 0, t0) < queue_key("elevated", 0, t0 + timedelta(milliseconds=1))
    assert queue_key("elevated", 0, t0 - timedelta(milliseconds=1)) < queue_key("elevated", 0, t0)


@pytest.mark.parametrize("code", sorted(INSTRUMENTS))
def test_urgency_never_depends_on_the_previous_checkin(code):
    """The check-in route decides urgency before reading anything (so the crisis resources survive any
    failure); that is only right while no history-based rule can make a check-in urgent."""
    instrument = INSTRUMENTS[code]
    samples = [answers_totalling(code, t) for t in range(instrument.score_min, instrument.score_max + 1)]
    if code == "phq9":  # every item-9 answer on top of low, middle and high totals
        samples += [[*a[:8], o.value] for a in samples[:: len(samples) // 4] for o in instrument.options]
    previous = [None, *samples[:: max(1, len(samples) // 5)]]
    for answers in samples:
        urgent_alone = urgent_from_answers(instrument=code, answers=answers, thresholds=FlagThresholds())
        for before in previous:
            assert (run(code, answers, before).severity == "urgent") is urgent_alone, (answers, before)


def test_urgency_from_answers_alone():
    thresholds = FlagThresholds()
    assert urgent_from_answers(instrument="phq9", answers=[0] * 8 + [1], thresholds=thresholds)
    assert not urgent_from_answers(instrument="phq9", answers=[3] * 8 + [0], thresholds=thresholds)
    assert not urgent_from_answers(instrument="phq9", answers=[0] * 8 + [9], thresholds=thresholds)  # does not score
    assert not urgent_from_answers(instrument="phq9", answers=[0] * 8, thresholds=thresholds)
    assert not urgent_from_answers(instrument="nope", answers=[1], thresholds=thresholds)
    assert not urgent_from_answers(
        instrument="phq9", answers=[0] * 8 + [1], thresholds=FlagThresholds(phq9_item9_urgent_above=1)
    )
