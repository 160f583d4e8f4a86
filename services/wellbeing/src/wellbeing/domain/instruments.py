"""The validated questionnaires as data: wording verbatim, options and values, scoring, bands,
licence and citation, so a frontend can render each form from the API alone."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict


class Option(BaseModel):
    model_config = ConfigDict(frozen=True)
    value: int
    label: str


class Item(BaseModel):
    model_config = ConfigDict(frozen=True)
    number: int = Field(description="1-based position")
    text: str
    reverse_scored: bool = False


class Band(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: str
    label: str
    min: int
    max: int


def _phq2_example(schema: JsonDict) -> None:
    """The OpenAPI example of an instrument is the real PHQ-2 (the shortest), so it cannot drift from the data."""
    schema["examples"] = [PHQ2.model_dump(mode="json")]


class Instrument(BaseModel):
    model_config = ConfigDict(frozen=True, json_schema_extra=_phq2_example)
    code: str
    name: str
    stem: str
    items: tuple[Item, ...]
    options: tuple[Option, ...]
    scoring: Literal["sum", "sum_first_two"]
    score_min: int
    score_max: int
    percentage_multiplier: int | None = Field(default=None, description="percentage = raw x this")
    higher_is_better: bool = False
    bands: tuple[Band, ...]
    cut_offs: dict[str, str]
    citation: str
    licence: str
    adaptation_note: str | None = None

    @property
    def option_values(self) -> frozenset[int]:
        return frozenset(o.value for o in self.options)


FREQUENCY_0_3 = (
    Option(value=0, label="Not at all"),
    Option(value=1, label="Several days"),
    Option(value=2, label="More than half the days"),
    Option(value=3, label="Nearly every day"),
)
PHQ_STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
PHQ_CITATION = "Kroenke K, Spitzer RL, Williams JBW. The PHQ-9: validity of a brief depression severity measure. J Gen Intern Med 2001;16:606-613."
PHQ_LICENCE = "Developed by Drs. Spitzer, Williams, Kroenke and colleagues with an educational grant from Pfizer Inc. No permission required to reproduce, translate, display or distribute."
PHQ9_ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety "
    "or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)
GAD_STEM = "Over the last 2 weeks, how often have you been bothered by the following problems?"
GAD_CITATION = "Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing generalized anxiety disorder: the GAD-7. Arch Intern Med 2006;166:1092-1097."
GAD_LICENCE = "No permission required to reproduce, translate, display or distribute."
GAD7_ITEMS = (
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
)


def _items(texts: tuple[str, ...], reverse: frozenset[int] = frozenset()) -> tuple[Item, ...]:
    return tuple(Item(number=n, text=t, reverse_scored=n in reverse) for n, t in enumerate(texts, start=1))


WHO5 = Instrument(
    code="who5",
    name="WHO-5 Well-Being Index",
    stem="Over the last two weeks…",
    items=_items(
        (
            "I have felt cheerful and in good spirits",
            "I have felt calm and relaxed",
            "I have felt active and vigorous",
            "I woke up feeling fresh and rested",
            "My daily life has been filled with things that interest me",
        )
    ),
    options=(
        Option(value=5, label="All of the time"),
        Option(value=4, label="Most of the time"),
        Option(value=3, label="More than half of the time"),
        Option(value=2, label="Less than half of the time"),
        Option(value=1, label="Some of the time"),
        Option(value=0, label="At no time"),
    ),
    scoring="sum",
    score_min=0,
    score_max=25,
    percentage_multiplier=4,
    higher_is_better=True,
    bands=(
        Band(code="likely_depression", label="Likely depression (raw ≤ 7, percentage ≤ 28)", min=0, max=7),
        Band(code="poor_wellbeing", label="Poor wellbeing, screen for depression (raw < 13)", min=8, max=12),
        Band(code="adequate_wellbeing", label="Adequate wellbeing (raw ≥ 13)", min=13, max=25),
    ),
    cut_offs={
        "poor_wellbeing": "raw < 13 (percentage < 52)",
        "likely_depression": "raw ≤ 7 (percentage ≤ 28)",
        "clinically_relevant_change": "10 percentage points",
    },
    citation="Topp CW, Østergaard SD, Søndergaard S, Bech P. The WHO-5 Well-Being Index: a systematic review of "
    "the literature. Psychother Psychosom 2015;84:167-176. WHO Collaborating Centre in Mental Health, "
    "Psychiatric Research Unit, Hillerød.",
    licence="Free to use; no permission needed.",
)

PHQ9 = Instrument(
    code="phq9",
    name="Patient Health Questionnaire-9 (PHQ-9)",
    stem=PHQ_STEM,
    items=_items(PHQ9_ITEMS),
    options=FREQUENCY_0_3,
    scoring="sum",
    score_min=0,
    score_max=27,
    bands=(
        Band(code="minimal", label="Minimal", min=0, max=4),
        Band(code="mild", label="Mild", min=5, max=9),
        Band(code="moderate", label="Moderate", min=10, max=14),
        Band(code="moderately_severe", label="Moderately severe", min=15, max=19),
        Band(code="severe", label="Severe", min=20, max=27),
    ),
    cut_offs={"screening": "total ≥ 10", "item9": "item 9 > 0 requires same-day clinician assessment of suicide risk"},
    citation=PHQ_CITATION,
    licence=PHQ_LICENCE,
)

PHQ2 = Instrument(
    code="phq2",
    name="Patient Health Questionnaire-2 (PHQ-2)",
    stem=PHQ_STEM,
    items=_items(PHQ9_ITEMS[:2]),
    options=FREQUENCY_0_3,
    scoring="sum",
    score_min=0,
    score_max=6,
    bands=(
        Band(code="negative", label="Negative screen", min=0, max=2),
        Band(code="positive", label="Positive screen (offer PHQ-9)", min=3, max=6),
    ),
    cut_offs={"positive": "total ≥ 3 (then offer the PHQ-9)"},
    citation="Kroenke K, Spitzer RL, Williams JBW. The Patient Health Questionnaire-2: validity of a two-item "
    "depression screener. Med Care 2003;41:1284-1292.",
    licence=PHQ_LICENCE,
)

GAD7 = Instrument(
    code="gad7",
    name="Generalized Anxiety Disorder-7 (GAD-7)",
    stem=GAD_STEM,
    items=_items(GAD7_ITEMS),
    options=FREQUENCY_0_3,
    scoring="sum",
    score_min=0,
    score_max=21,
    bands=(
        Band(code="minimal", label="Minimal", min=0, max=4),
        Band(code="mild", label="Mild", min=5, max=9),
        Band(code="moderate", label="Moderate", min=10, max=14),
        Band(code="severe", label="Severe", min=15, max=21),
    ),
    cut_offs={"screening": "total ≥ 10"},
    citation=GAD_CITATION,
    licence=GAD_LICENCE,
)

GAD2 = Instrument(
    code="gad2",
    name="Generalized Anxiety Disorder-2 (GAD-2)",
    stem=GAD_STEM,
    items=_items(GAD7_ITEMS[:2]),
    options=FREQUENCY_0_3,
    scoring="sum",
    score_min=0,
    score_max=6,
    bands=(
        Band(code="negative", label="Negative screen", min=0, max=2),
        Band(code="positive", label="Positive screen (offer GAD-7)", min=3, max=6),
    ),
    cut_offs={"positive": "total ≥ 3"},
    citation=GAD_CITATION,
    licence=GAD_LICENCE,
)

PSS10 = Instrument(
    code="pss10",
    name="Perceived Stress Scale (PSS-10)",
    stem="In the last month, how often have you…",
    items=_items(
        (
            "been upset because of something that happened unexpectedly?",
            "felt that you were unable to control the important things in your life?",
            'felt nervous and "stressed"?',
            "felt confident about your ability to handle your personal problems?",
            "felt that things were going your way?",
            "found that you could not cope with all the things that you had to do?",
            "been able to control irritations in your life?",
            "felt that you were on top of things?",
            "been angered because of things that were outside of your control?",
            "felt difficulties were piling up so high that you could not overcome them?",
        ),
        reverse=frozenset({4, 5, 7, 8}),
    ),
    options=(
        Option(value=0, label="Never"),
        Option(value=1, label="Almost never"),
        Option(value=2, label="Sometimes"),
        Option(value=3, label="Fairly often"),
        Option(value=4, label="Very often"),
    ),
    scoring="sum",
    score_min=0,
    score_max=40,
    bands=(
        Band(code="low", label="Low perceived stress", min=0, max=13),
        Band(code="moderate", label="Moderate perceived stress", min=14, max=26),
        Band(code="high", label="High perceived stress", min=27, max=40),
    ),
    cut_offs={"reverse_scored_items": "4, 5, 7, 8 (4 − answer)", "bands": "conventional bands, not from the authors"},
    citation="Cohen S, Kamarck T, Mermelstein R. A global measure of perceived stress. J Health Soc Behav "
    "1983;24:385-396; Cohen S, Williamson G. Perceived stress in a probability sample of the United States, 1988.",
    licence="Free for non-profit research and educational use.",
)

BURNOUT = Instrument(
    code="burnout",
    name="Single-item burnout measure (adapted for students)",
    stem="Overall, based on your definition of burnout, how would you rate your level of burnout?",
    items=_items(("Overall, based on your definition of burnout, how would you rate your level of burnout?",)),
    options=(
        Option(value=1, label="I enjoy my work. I have no symptoms of burnout."),
        Option(
            value=2,
            label="Occasionally I am under stress, and I don't always have as much energy as I once "
            "did, but I don't feel burned out.",
        ),
        Option(
            value=3,
            label="I am definitely burning out and have one or more symptoms of burnout, such as "
            "physical and emotional exhaustion.",
        ),
        Option(
            value=4,
            label="The symptoms of burnout that I'm experiencing won't go away. I think about "
            "frustration at work a lot.",
        ),
        Option(
            value=5,
            label="I feel completely burned out and often wonder if I can go on. I am at the point "
            "where I may need some changes or may need to seek some sort of help.",
        ),
    ),
    scoring="sum",
    score_min=1,
    score_max=5,
    bands=(
        Band(code="no_burnout", label="No burnout", min=1, max=2),
        Band(code="burnout", label="Burnout (≥ 3)", min=3, max=5),
    ),
    cut_offs={"burnout": "score ≥ 3"},
    citation="Physician Worklife Study item (Schmoldt RA et al. 1994); validated by Rohland BM et al. 2004 and "
    "Dolan ED et al. J Gen Intern Med 2015; used in the Mini-Z survey.",
    licence="Free to use (as in the free Mini-Z survey).",
    adaptation_note="Students may read “work” as “studies”; the original wording is kept and this adaptation "
    "is shown to the student.",
)

INSTRUMENTS: dict[str, Instrument] = {i.code: i for i in (WHO5, PHQ2, PHQ9, GAD2, GAD7, PSS10, BURNOUT)}
