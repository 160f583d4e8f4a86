"""The climate pulse as data: the default pulse is sound, loaded instruments are validated whole, scoring."""

import pytest
from pydantic import ValidationError

from feedback.domain.climate import (
    DEFAULT_PULSE,
    STRATEGIES,
    ClimateInstrument,
    InvalidAnswers,
    check_answers,
    subscale_range,
    subscale_scores,
)


def answers(**overrides):
    base = {item.id: 4 if item.option_set == "agreement" else 0 for item in DEFAULT_PULSE.items}
    return {**base, **overrides}


def test_default_pulse_measures_every_strategy_and_the_five_subscales():
    assert {item.strategy for item in DEFAULT_PULSE.items} == set(STRATEGIES)
    assert [s.code for s in DEFAULT_PULSE.subscales] == [
        "psychological_safety",
        "teaching_feedback",
        "inclusion_respect",
        "workload",
        "mistreatment",
    ]
    assert not DEFAULT_PULSE.subscale("mistreatment").higher_is_better


def test_subscale_score_is_the_mean_with_reverse_items_mirrored():
    scores = subscale_scores(DEFAULT_PULSE, answers(time_to_learn=4, beyond_hours=5, experienced_mistreatment=1))
    assert scores["workload"] == 2.5  # 4 and (1 + 5 - 5) = 1
    assert scores["mistreatment"] == 0.5
    assert scores["psychological_safety"] == 4
    assert subscale_range(DEFAULT_PULSE, "workload") == (1, 5)
    assert subscale_range(DEFAULT_PULSE, "mistreatment") == (0, 1)


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"nonsense": 3}, "unknown items"),
        ({"safe_to_ask": 6}, "'safe_to_ask' takes one of [1, 2, 3, 4, 5]"),
        ({"experienced_mistreatment": 3}, "takes one of [0, 1]"),
        ({"safe_to_ask": True}, "takes one of"),
    ],
)
def test_answers_outside_the_instrument_are_refused(changed, message):
    with pytest.raises(InvalidAnswers, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_answers(DEFAULT_PULSE, answers(**changed))


def test_an_unanswered_item_is_refused():
    partial = answers()
    del partial["bias_addressed"]
    with pytest.raises(InvalidAnswers, match="unanswered"):
        check_answers(DEFAULT_PULSE, partial)


def test_a_loaded_instrument_naming_a_missing_subscale_or_option_set_is_refused():
    data = DEFAULT_PULSE.model_dump(mode="json")
    data["items"][0]["subscale"] = "nowhere"
    with pytest.raises(ValidationError, match="unknown subscale"):
        ClimateInstrument.model_validate(data)
    data = DEFAULT_PULSE.model_dump(mode="json")
    data["items"][0]["option_set"] = "nowhere"
    with pytest.raises(ValidationError, match="unknown option set"):
        ClimateInstrument.model_validate(data)
    data = DEFAULT_PULSE.model_dump(mode="json")
    data["subscales"].append({"code": "empty", "label": "Empty"})
    with pytest.raises(ValidationError, match="without items"):
        ClimateInstrument.model_validate(data)


def test_the_default_pulse_round_trips_as_data():
    assert ClimateInstrument.model_validate(DEFAULT_PULSE.model_dump(mode="json")) == DEFAULT_PULSE
