"""Exact scoring as the instruments' authors publish it (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from wellbeing.domain.instruments import Instrument

PSS_REVERSE_MAX = 4


class AnswerError(ValueError):
    """Answers that do not fit the instrument; ``errors`` name the items."""

    def __init__(self, errors: list[tuple[int | None, str]]) -> None:
        super().__init__("; ".join(msg for _, msg in errors))
        self.errors = errors


@dataclass(frozen=True)
class Score:
    instrument: str
    total: int
    band: str
    percentage: int | None = None


def validate_answers(instrument: Instrument, answers: list[int]) -> None:
    errors: list[tuple[int | None, str]] = []
    if len(answers) != len(instrument.items):
        errors.append((None, f"{instrument.code} has {len(instrument.items)} items; {len(answers)} answers given"))
    allowed = sorted(instrument.option_values)
    for index, value in enumerate(answers[: len(instrument.items)]):
        if isinstance(value, bool) or value not in instrument.option_values:
            errors.append((index, f"item {index + 1}: answer must be one of {allowed}"))
    if errors:
        raise AnswerError(errors)


def item_scores(instrument: Instrument, answers: list[int]) -> list[int]:
    """Per-item scores after reverse scoring (PSS-10 items 4, 5, 7, 8: 4 − answer)."""
    return [
        PSS_REVERSE_MAX - a if item.reverse_scored else a for item, a in zip(instrument.items, answers, strict=True)
    ]


def band_for(instrument: Instrument, total: int) -> str:
    for band in instrument.bands:
        if band.min <= total <= band.max:
            return band.code
    raise ValueError(f"{total} is outside {instrument.code}'s score range")


def score(instrument: Instrument, answers: list[int]) -> Score:
    validate_answers(instrument, answers)
    total = sum(item_scores(instrument, answers))
    percentage = total * instrument.percentage_multiplier if instrument.percentage_multiplier else None
    return Score(instrument=instrument.code, total=total, band=band_for(instrument, total), percentage=percentage)
