"""The climate pulse as data: items, options, subscales and their scoring (pure).

An instrument is data so an institution can load its own licensed one (JHLES, DREEM) without a
release: every item belongs to one subscale and takes one of the instrument's option sets; a subscale
score is the mean of its items' values, reverse-scored items mirrored within their option set. The
default pulse below was written for this project (no licence needed): one item or more per line of the
seven strategies, five subscales a leader reads, and two yes/no mistreatment items.
"""

from __future__ import annotations

from statistics import mean
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medsupport_shared.domain_errors import Unprocessable

Code = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


class Option(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    value: int = Field(ge=-100, le=100)
    label: str = Field(min_length=1, max_length=200)


class OptionSet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: Code
    options: tuple[Option, ...] = Field(min_length=2, max_length=11)

    @property
    def low(self) -> int:
        return min(o.value for o in self.options)

    @property
    def high(self) -> int:
        return max(o.value for o in self.options)


class Subscale(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: Code
    label: str = Field(min_length=1, max_length=200)
    higher_is_better: bool = True
    """False for counts of harm (mistreatment): a rise, not a fall, is the worrying change."""


class Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: Code
    text: str = Field(min_length=1, max_length=1000)
    subscale: Code
    option_set: Code
    reverse_scored: bool = False
    strategy: str | None = Field(default=None, max_length=60, description="the strategy line the item measures")


def _default_pulse_example(schema: dict[str, Any]) -> None:
    """The OpenAPI example of an instrument is the built-in pulse itself, so it cannot drift from the data."""
    schema["examples"] = [DEFAULT_PULSE.model_dump(mode="json")]


class ClimateInstrument(BaseModel):
    """A pulse instrument; validated whole, so a loaded instrument cannot name a missing subscale."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_default_pulse_example)
    code: Code
    name: str = Field(min_length=1, max_length=200)
    stem: str = Field(default="", max_length=1000)
    option_sets: tuple[OptionSet, ...] = Field(min_length=1, max_length=10)
    subscales: tuple[Subscale, ...] = Field(min_length=1, max_length=20)
    items: tuple[Item, ...] = Field(min_length=1, max_length=60)
    citation: str = Field(default="", max_length=1000)
    licence: str = Field(default="", max_length=1000)

    @model_validator(mode="after")
    def _consistent(self) -> ClimateInstrument:
        problems = instrument_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def option_set(self, code: str) -> OptionSet:
        return next(s for s in self.option_sets if s.code == code)

    def subscale(self, code: str) -> Subscale:
        return next(s for s in self.subscales if s.code == code)


def instrument_problems(instrument: ClimateInstrument) -> list[str]:
    problems = []
    for name, codes in (
        ("option set", [s.code for s in instrument.option_sets]),
        ("subscale", [s.code for s in instrument.subscales]),
        ("item", [i.id for i in instrument.items]),
    ):
        if len(set(codes)) != len(codes):
            problems.append(f"a {name} code is used twice")
    sets = {s.code for s in instrument.option_sets}
    subscales = {s.code for s in instrument.subscales}
    for option_set in instrument.option_sets:
        values = [o.value for o in option_set.options]
        if len(set(values)) != len(values):
            problems.append(f"option set {option_set.code!r} repeats a value")
    for item in instrument.items:
        if item.option_set not in sets:
            problems.append(f"item {item.id!r} names an unknown option set {item.option_set!r}")
        if item.subscale not in subscales:
            problems.append(f"item {item.id!r} names an unknown subscale {item.subscale!r}")
    empty = subscales - {i.subscale for i in instrument.items}
    if empty:
        problems.append(f"subscales without items: {sorted(empty)}")
    return problems


class InvalidAnswers(Unprocessable, ValueError):
    """Answers that do not fit the instrument (the message names the item, never echoes the value)."""


def check_answers(instrument: ClimateInstrument, answers: dict[str, int]) -> None:
    """Every item answered once with one of its options; nothing else."""
    known = {item.id: item for item in instrument.items}
    unknown = sorted(set(answers) - set(known))
    if unknown:
        raise InvalidAnswers(f"unknown items: {unknown}")
    missing = sorted(set(known) - set(answers))
    if missing:
        raise InvalidAnswers(f"unanswered items: {missing}")
    for item_id, value in answers.items():
        allowed = {o.value for o in instrument.option_set(known[item_id].option_set).options}
        if type(value) is not int or value not in allowed:
            raise InvalidAnswers(f"item {item_id!r} takes one of {sorted(allowed)}")


def item_value(instrument: ClimateInstrument, item: Item, value: int) -> int:
    """The value as scored: a reverse-scored item is mirrored within its option set's range."""
    if not item.reverse_scored:
        return value
    options = instrument.option_set(item.option_set)
    return options.low + options.high - value


def subscale_scores(instrument: ClimateInstrument, answers: dict[str, int]) -> dict[str, float]:
    """Each subscale's mean of its items' scored values (answers already checked)."""
    by_subscale: dict[str, list[int]] = {}
    for item in instrument.items:
        by_subscale.setdefault(item.subscale, []).append(item_value(instrument, item, answers[item.id]))
    return {code: round(mean(values), 4) for code, values in by_subscale.items()}


def subscale_range(instrument: ClimateInstrument, code: str) -> tuple[int, int]:
    """The lowest and highest score a subscale can take (for thresholds stated as a share of the range)."""
    sets = [instrument.option_set(i.option_set) for i in instrument.items if i.subscale == code]
    return min(s.low for s in sets), max(s.high for s in sets)


AGREEMENT = OptionSet(
    code="agreement",
    options=(
        Option(value=1, label="Strongly disagree"),
        Option(value=2, label="Disagree"),
        Option(value=3, label="Neither agree nor disagree"),
        Option(value=4, label="Agree"),
        Option(value=5, label="Strongly agree"),
    ),
)
YES_NO = OptionSet(code="yes_no", options=(Option(value=0, label="No"), Option(value=1, label="Yes")))

STRATEGIES: Final = (
    "psychological_safety",
    "timely_feedback",
    "mentorship_support",
    "wellbeing_workload",
    "student_engagement",
    "diversity_inclusion",
    "mistreatment_free",
)
"""The seven strategy lines of a supportive learning environment, each measured by one item or more."""


def _item(item_id: str, text: str, subscale: str, strategy: str, **extra: object) -> Item:
    return Item.model_validate(
        {"id": item_id, "text": text, "subscale": subscale, "option_set": "agreement", "strategy": strategy, **extra}
    )


DEFAULT_PULSE: Final = ClimateInstrument(
    code="medsupport-pulse-1",
    name="medsupport rotation climate pulse",
    stem="Thinking about this rotation only:",
    option_sets=(AGREEMENT, YES_NO),
    subscales=(
        Subscale(code="psychological_safety", label="Psychological safety"),
        Subscale(code="teaching_feedback", label="Teaching and feedback"),
        Subscale(code="inclusion_respect", label="Inclusion and respect"),
        Subscale(code="workload", label="Workload"),
        Subscale(code="mistreatment", label="Mistreatment witnessed or experienced", higher_is_better=False),
    ),
    items=(
        _item(
            "safe_to_ask",
            "I felt safe to ask questions, including basic ones, without being made to feel small.",
            "psychological_safety",
            "psychological_safety",
        ),
        _item(
            "safe_to_speak_up",
            "I could speak up about a concern (for a patient, or about my own learning) without fear of consequences.",
            "psychological_safety",
            "psychological_safety",
        ),
        _item(
            "voice_heard",
            "When students suggested a change to how this rotation runs, it was taken seriously.",
            "psychological_safety",
            "student_engagement",
        ),
        _item(
            "timely_feedback",
            "I received specific feedback on my work during the rotation, not only at the end.",
            "teaching_feedback",
            "timely_feedback",
        ),
        _item(
            "someone_to_turn_to",
            "I had a supervisor or mentor I could turn to for guidance and support.",
            "teaching_feedback",
            "mentorship_support",
        ),
        _item(
            "respect_for_all",
            "People here were treated with respect whatever their background, gender, ethnicity, faith, "
            "disability or sexual orientation.",
            "inclusion_respect",
            "diversity_inclusion",
        ),
        _item(
            "bias_addressed",
            "When bias or disrespect happened, it was addressed promptly.",
            "inclusion_respect",
            "diversity_inclusion",
        ),
        _item(
            "time_to_learn",
            "My workload left time for learning, rest and my own wellbeing.",
            "workload",
            "wellbeing_workload",
        ),
        _item(
            "beyond_hours",
            "I was regularly expected to stay well beyond my scheduled hours.",
            "workload",
            "wellbeing_workload",
            reverse_scored=True,
        ),
        _item(
            "experienced_mistreatment",
            "During this rotation I was humiliated, shouted at, or treated unfairly.",
            "mistreatment",
            "mistreatment_free",
            option_set="yes_no",
        ),
        _item(
            "witnessed_mistreatment",
            "During this rotation I saw another student or colleague humiliated, shouted at, or treated unfairly.",
            "mistreatment",
            "mistreatment_free",
            option_set="yes_no",
        ),
    ),
    citation="Written for medsupport; items follow the seven strategies of a supportive learning environment.",
    licence="Apache-2.0, like the platform",
)
