"""Differencing attacks on the climate results: every grouping, filter and window a caller can ask for,
compared pairwise. No figure, nor the difference of two nested figures, rests on fewer than the minimum
group of answers, and a rotation that was not released changes no figure at all."""

from datetime import date, timedelta
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.domain.climate import DEFAULT_PULSE
from feedback.domain.climate_results import (
    Query,
    climate_drops,
    clustered_sites,
    concern_counts,
    group_cells,
    instrument_view,
    rotation_cell,
    trend,
)
from feedback.domain.rotations import Rotation

MIN = 5
SITES, SPECIALTIES, PERIODS = ("north", "south"), ("surgery", "medicine"), ("2026-b1", "2026-b2", "2026-b3")
ITEMS = [(item.id, item.option_set) for item in DEFAULT_PULSE.items]

answer = st.fixed_dictionaries(
    {item_id: st.integers(1, 5) if option_set == "agreement" else st.integers(0, 1) for item_id, option_set in ITEMS}
)
rotation = st.tuples(
    st.sampled_from(SITES), st.sampled_from(SPECIALTIES), st.integers(0, 2), st.lists(answer, max_size=9)
)


def cells_of(drawn):
    out, small = [], []
    for n, (site, specialty, period, answers) in enumerate(drawn):
        rot = Rotation(
            id=f"r{n}",
            site=site,
            specialty=specialty,
            period=PERIODS[period],
            end_date=date(2026, 3, 1) + timedelta(days=40 * period + n),
            student_ids=frozenset(),
            grades_final=True,
        )
        cell = rotation_cell(rot, answers, DEFAULT_PULSE, min_group=MIN)
        (out if cell else small).append((rot, answers))
        if cell:
            out[-1] = cell
    return out, small


def every_query():
    days = [None, date(2026, 3, 20), date(2026, 5, 1), date(2026, 6, 15)]
    for group_by, site, specialty, period, start, end in product(
        ("site", "specialty", "period"), (None, *SITES), (None, *SPECIALTIES), (None, *PERIODS), days, days
    ):
        yield Query(group_by, site, specialty, period, start, end)


def published(cells):
    """Everything an attacker can read: (query, key) -> (members, responses, means, item counts, hidden)."""
    out = {}
    for query in every_query():
        for key, group in group_cells(cells, query).items():
            out[(query, key)] = group
            for period, part in trend(cells, query, key):
                out[(query, key, period)] = part
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(rotation, min_size=1, max_size=8))
def test_no_figure_nor_difference_of_nested_figures_rests_on_fewer_than_the_minimum(drawn):
    cells, _ = cells_of(drawn)
    groups = list(published(cells).values())
    for group in groups:
        assert group.responses >= MIN
        for item_id, by_value in group.counts.items():
            assert all(n >= MIN for n in by_value.values())
            assert group.hidden[item_id] == 0 or group.hidden[item_id] >= MIN
    for big, small in product(groups, groups):
        if small.members < big.members:
            assert big.responses - small.responses >= MIN
            for item_id, by_value in big.counts.items():
                for value, n in by_value.items():
                    gap = n - small.counts[item_id].get(value, 0)
                    assert gap == 0 or gap >= MIN
                gap = big.hidden[item_id] - small.hidden[item_id]
                assert gap == 0 or gap >= MIN


@settings(max_examples=30, deadline=None)
@given(st.lists(rotation, min_size=1, max_size=6), st.lists(answer, min_size=1, max_size=MIN - 1))
def test_a_rotation_below_the_minimum_changes_no_figure(drawn, few):
    cells, _ = cells_of(drawn)
    before = {k: (g.responses, g.means(), instrument_view(DEFAULT_PULSE, g)) for k, g in published(cells).items()}
    with_small, _ = cells_of([*drawn, ("north", "surgery", 0, few)])
    after = {k: (g.responses, g.means(), instrument_view(DEFAULT_PULSE, g)) for k, g in published(with_small).items()}
    assert after == before


def fixed(value_by_subscale, n=MIN):
    answers = {}
    for item_id, option_set in ITEMS:
        subscale = next(i.subscale for i in DEFAULT_PULSE.items if i.id == item_id)
        answers[item_id] = value_by_subscale.get(subscale, 0 if option_set == "yes_no" else 4)
    return [dict(answers) for _ in range(n)]


def test_a_site_whose_subscale_falls_beyond_the_threshold_is_a_drop():
    drawn = [
        ("north", "surgery", 0, fixed({"psychological_safety": 5})),
        ("north", "surgery", 1, fixed({"psychological_safety": 3})),
        ("south", "surgery", 0, fixed({})),
        ("south", "surgery", 1, fixed({"mistreatment": 1})),
    ]
    cells, _ = cells_of(drawn)
    ranges = {"psychological_safety": (1, 5), "teaching_feedback": (1, 5), "inclusion_respect": (1, 5)}
    ranges |= {"workload": (1, 5), "mistreatment": (0, 1)}
    drops = climate_drops(cells, DEFAULT_PULSE, threshold=0.1, ranges=ranges)
    assert [(d.site, d.period, d.previous_period, d.subscales) for d in drops] == [
        ("north", "2026-b2", "2026-b1", ("psychological_safety",)),
        ("south", "2026-b2", "2026-b1", ("mistreatment",)),
    ]
    assert climate_drops(cells, DEFAULT_PULSE, threshold=0.6, ranges=ranges)[0].subscales == ("mistreatment",)


MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04")
report = st.tuples(st.sampled_from(SITES), st.sampled_from(MONTHS), st.sampled_from(("bias", "mistreatment")))


@settings(max_examples=60, deadline=None)
@given(st.lists(report, max_size=120))
def test_concern_counts_over_nested_windows_differ_by_whole_cells_of_the_minimum(facts):
    def span(first, last):
        return {m for m in MONTHS if (first is None or m >= first) and (last is None or m <= last)}

    windows = [(a, b) for a in (None, *MONTHS) for b in (None, *MONTHS)]
    counts = {
        window: concern_counts(
            facts,
            sites=SITES,
            categories=("bias", "mistreatment"),
            first_month=window[0],
            last_month=window[1],
            min_group=MIN,
        )
        for window in windows
    }
    for by_site in counts.values():
        for by_category in by_site.values():
            assert all(n is None or n >= MIN for n in by_category.values())
    for wide, narrow in product(windows, windows):
        if not span(*narrow) <= span(*wide):
            continue
        for site in SITES:
            for category in ("bias", "mistreatment"):
                gap = (counts[wide][site][category] or 0) - (counts[narrow][site][category] or 0)
                assert gap == 0 or gap >= MIN


def test_a_site_clusters_at_the_threshold():
    assert clustered_sites(["north", "north", "south", "north"], threshold=3) == ["north"]
    assert clustered_sites(["north", "north"], threshold=3) == []
