"""Matching, checked more widely than test_matching.py.

* brute force over the whole model (avoid-lists, paused mentors, background preference, weights);
* on medium instances, independent solvers: the number of students matched (and of flagged students
  matched) equals a maximum bipartite b-matching (SciPy csgraph), and the total compatibility equals the
  optimum of the transportation linear programme (HiGHS), which is integral for these constraints;
* determinism under any input order, single-student (on-demand) matches, edge cases, and a second greedy
  counter-example where both match everyone but the optimum scores higher.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from mentorship.domain.matching import Match, Mentee, Mentor, Weights, allowed, compatibility, match

LANGUAGES = ["en", "fr", "es"]
INTERESTS = list("uvwxyz")
FORMATS = [None, "video", "in-person", "phone"]
BACKGROUNDS = [None, "first-generation", "parent"]


@st.composite
def instances(draw: st.DrawFn, max_mentees: int = 5, max_mentors: int = 3) -> tuple[list[Mentee], list[Mentor]]:
    n = draw(st.integers(1, max_mentees))
    m = draw(st.integers(1, max_mentors))
    mentor_ids = [f"m{j}" for j in range(m)]
    mentors = [
        Mentor(
            id=mentor_ids[j],
            specialty=draw(st.sampled_from([None, "a", "b"])),
            interests=frozenset(draw(st.sets(st.sampled_from(INTERESTS), max_size=4))),
            languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES), min_size=1, max_size=2))),
            formats=frozenset(draw(st.sets(st.sampled_from(FORMATS[1:]), max_size=2))),
            background=draw(st.sampled_from(BACKGROUNDS)),
            free_slots=draw(st.integers(0, 3)),
            paused=draw(st.sampled_from([False, False, False, True])),
        )
        for j in range(m)
    ]
    mentees = [
        Mentee(
            id=f"s{i}",
            specialty=draw(st.sampled_from([None, "a", "b"])),
            interests=frozenset(draw(st.sets(st.sampled_from(INTERESTS), max_size=4))),
            languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES), min_size=1, max_size=2))),
            meeting_format=draw(st.sampled_from(FORMATS)),
            background=draw(st.sampled_from(BACKGROUNDS)),
            wants_shared_background=draw(st.booleans()),
            avoid=frozenset(draw(st.sets(st.sampled_from([*mentor_ids, "someone-else"]), max_size=2))),
            flagged=draw(st.booleans()),
        )
        for i in range(n)
    ]
    return mentees, mentors


weights_strategy = st.builds(
    Weights,
    specialty=st.sampled_from([0.0, 1.5, 3.0, 10.0]),
    interest=st.sampled_from([0.0, 0.25, 1.0, 4.0]),
    max_interests=st.integers(0, 4),
    meeting_format=st.sampled_from([0.0, 1.0, 2.5]),
    background=st.sampled_from([0.0, 2.0, 7.0]),
)


def check_feasible(result_matches: list[Match], mentees: list[Mentee], mentors: list[Mentor], weights: Weights) -> None:
    """Hard constraints, capacities, one mentor per student, explanations that add up."""
    mentee_by_id, mentor_by_id = {s.id: s for s in mentees}, {t.id: t for t in mentors}
    load: dict[str, int] = {}
    for m in result_matches:
        mentee, mentor = mentee_by_id[m.mentee_id], mentor_by_id[m.mentor_id]
        assert allowed(mentee, mentor)
        assert not mentor.paused
        assert mentor.id not in mentee.avoid
        assert mentee.languages & mentor.languages
        assert abs(m.score - compatibility(mentee, mentor, weights)) < 1e-9
        assert abs(m.score - sum(m.criteria.values())) < 1e-9
        assert set(m.criteria) <= {"specialty", "interests", "meeting_format", "background"}
        assert all(v >= 0 for v in m.criteria.values())
        load[mentor.id] = load.get(mentor.id, 0) + 1
    assert all(load[t.id] <= t.free_slots for t in mentors if t.id in load)
    assert len({m.mentee_id for m in result_matches}) == len(result_matches)


def objective(pairs: list[tuple[Mentee, Mentor]], weights: Weights) -> tuple[int, int, float]:
    """What the matching maximises, in order: flagged students matched, students matched, total score."""
    total = round(sum(compatibility(s, t, weights) for s, t in pairs), 6)
    return sum(1 for s, _ in pairs if s.flagged), len(pairs), total


@settings(max_examples=150, deadline=None)
@given(instances(), weights_strategy)
def test_optimal_against_brute_force_over_the_whole_model(
    instance: tuple[list[Mentee], list[Mentor]], weights: Weights
) -> None:
    mentees, mentors = instance
    result = match(mentees, mentors, weights)
    check_feasible(result.matches, mentees, mentors, weights)
    assert sorted([*result.unmatched, *(m.mentee_id for m in result.matches)]) == sorted(s.id for s in mentees)

    best = (0, 0, 0.0)
    for choice in itertools.product([None, *mentors], repeat=len(mentees)):
        pairs = [(s, t) for s, t in zip(mentees, choice, strict=True) if t is not None]
        if not all(allowed(s, t) for s, t in pairs):
            continue
        if any(sum(1 for _, u in pairs if u.id == t.id) > t.free_slots for t in mentors):
            continue
        best = max(best, objective(pairs, weights))
    mentee_by_id, mentor_by_id = {s.id: s for s in mentees}, {t.id: t for t in mentors}
    got = objective([(mentee_by_id[m.mentee_id], mentor_by_id[m.mentor_id]) for m in result.matches], weights)
    assert got == best


def random_instance(rng: random.Random, n: int, m: int, flagged_share: float) -> tuple[list[Mentee], list[Mentor]]:
    mentors = [
        Mentor(
            id=f"m{j:03d}",
            specialty=rng.choice([None, "a", "b", "c"]),
            interests=frozenset(rng.sample(INTERESTS, rng.randint(0, 4))),
            languages=frozenset(rng.sample(LANGUAGES, rng.randint(1, 2))),
            formats=frozenset(rng.sample(FORMATS[1:], rng.randint(0, 2))),
            background=rng.choice(BACKGROUNDS),
            free_slots=rng.randint(0, 4),
            paused=rng.random() < 0.1,
        )
        for j in range(m)
    ]
    mentees = [
        Mentee(
            id=f"s{i:03d}",
            specialty=rng.choice([None, "a", "b", "c"]),
            interests=frozenset(rng.sample(INTERESTS, rng.randint(0, 4))),
            languages=frozenset(rng.sample(LANGUAGES, rng.randint(1, 2))),
            meeting_format=rng.choice(FORMATS),
            background=rng.choice(BACKGROUNDS),
            wants_shared_background=rng.random() < 0.4,
            avoid=frozenset(t.id for t in rng.sample(mentors, min(len(mentors), rng.randint(0, 2)))),
            flagged=rng.random() < flagged_share,
        )
        for i in range(n)
    ]
    return mentees, mentors


def max_b_matching(mentees: list[Mentee], mentors: list[Mentor]) -> int:
    """Size of a maximum matching of ``mentees`` into the mentors' free slots (Hopcroft-Karp, SciPy)."""
    slots = [t for t in mentors for _ in range(t.free_slots)]
    if not mentees or not slots:
        return 0
    graph = csr_matrix(np.array([[1 if allowed(s, t) else 0 for t in slots] for s in mentees], dtype=np.int8))
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


def lp_optimum(mentees: list[Mentee], mentors: list[Mentor], weights: Weights, flagged: int, matched: int) -> float:
    """The best total score among matchings with ``matched`` students of whom ``flagged`` are flagged.

    Solved as a linear programme over pair variables: the tiers are encoded as a lexicographic objective
    with weights of my own (not the implementation's), and the constraint matrix of a bipartite
    b-matching is totally unimodular, so the LP optimum is attained by a matching.
    """
    pairs = [(i, j) for i, s in enumerate(mentees) for j, t in enumerate(mentors) if allowed(s, t)]
    if not pairs:  # nobody may meet anybody: the only matching is the empty one
        assert (flagged, matched) == (0, 0)
        return 0.0
    scores = np.array([compatibility(mentees[i], mentors[j], weights) for i, j in pairs])
    big = 1_000.0 * (1.0 + scores.max(initial=0.0)) * (len(mentees) + 1)
    gain = scores + big + np.array([big * (len(mentees) + 1) if mentees[i].flagged else 0.0 for i, _ in pairs])
    rows = np.zeros((len(mentees) + len(mentors), len(pairs)))
    for k, (i, j) in enumerate(pairs):
        rows[i, k] = 1.0
        rows[len(mentees) + j, k] = 1.0
    bounds = [1.0] * len(mentees) + [float(t.free_slots) for t in mentors]
    solution = linprog(-gain, A_ub=rows, b_ub=bounds, bounds=(0, 1), method="highs")
    assert solution.status == 0
    x = solution.x
    assert abs(sum(x[k] for k, (i, _) in enumerate(pairs) if mentees[i].flagged) - flagged) < 1e-6
    assert abs(x.sum() - matched) < 1e-6
    return float(scores @ x)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(8, 40), st.integers(2, 10), st.sampled_from([0.0, 0.2, 0.6]))
def test_medium_instances_against_independent_solvers(seed: int, n: int, m: int, flagged_share: float) -> None:
    mentees, mentors = random_instance(random.Random(seed), n, m, flagged_share)
    weights = Weights()
    result = match(mentees, mentors, weights)
    check_feasible(result.matches, mentees, mentors, weights)
    matched_ids = {x.mentee_id for x in result.matches}
    flagged_matched = sum(1 for s in mentees if s.flagged and s.id in matched_ids)
    # as many flagged students as could possibly be matched, and as many students overall
    assert flagged_matched == max_b_matching([s for s in mentees if s.flagged], mentors)
    assert len(result.matches) == max_b_matching(mentees, mentors)
    assert abs(result.total_score - lp_optimum(mentees, mentors, weights, flagged_matched, len(result.matches))) < 1e-6


@settings(max_examples=40, deadline=None)
@given(instances(max_mentees=8, max_mentors=5), st.randoms(use_true_random=False))
def test_the_same_input_in_any_order_gives_the_same_matching(
    instance: tuple[list[Mentee], list[Mentor]], rnd: random.Random
) -> None:
    mentees, mentors = instance
    first = match(mentees, mentors)
    shuffled_mentees, shuffled_mentors = list(mentees), list(mentors)
    rnd.shuffle(shuffled_mentees)
    rnd.shuffle(shuffled_mentors)
    assert match(shuffled_mentees, shuffled_mentors) == first
    assert match(mentees, mentors) == first


def test_ties_break_by_ids() -> None:
    mentors = [Mentor(id=i, languages=frozenset({"en"}), free_slots=1) for i in ("m-b", "m-c", "m-a")]
    mentees = [Mentee(id=i, languages=frozenset({"en"})) for i in ("s2", "s1")]
    result = match(mentees, mentors)
    assert [(x.mentee_id, x.mentor_id) for x in result.matches] == [("s1", "m-a"), ("s2", "m-b")]
    (only,) = match(mentees[:1], mentors).matches  # on demand: the first mentor by id among equals
    assert only.mentor_id == "m-a"


@settings(max_examples=80, deadline=None)
@given(instances(max_mentees=1, max_mentors=6), weights_strategy)
def test_on_demand_match_of_one_student_takes_their_best_allowed_mentor(
    instance: tuple[list[Mentee], list[Mentor]], weights: Weights
) -> None:
    (student,), mentors = instance
    options = [t for t in mentors if t.free_slots > 0 and allowed(student, t)]
    result = match([student], mentors, weights)
    if not options:
        assert result.matches == [] and result.unmatched == [student.id]
        return
    best = max(compatibility(student, t, weights) for t in options)
    expected = min(t.id for t in options if compatibility(student, t, weights) == best)
    assert [(x.mentee_id, x.mentor_id) for x in result.matches] == [(student.id, expected)]
    assert result.unmatched == []


def test_optimum_scores_higher_than_greedy_when_both_match_everyone() -> None:
    mentors = [
        Mentor(id="m1", specialty="x", interests=frozenset("rst"), languages=frozenset({"en"}), free_slots=1),
        Mentor(id="m2", specialty="x", languages=frozenset({"en"}), free_slots=1),
    ]
    mentees = [
        Mentee(id="a", specialty="x", interests=frozenset("r"), languages=frozenset({"en"})),  # m1: 4, m2: 3
        Mentee(id="b", interests=frozenset("rst"), languages=frozenset({"en"})),  # m1: 3, m2: 0
    ]
    free = {t.id: t.free_slots for t in mentors}
    greedy_total = 0.0
    for s in mentees:  # the naive loop: each student in turn takes their best mentor with room
        score, chosen = max((compatibility(s, t, Weights()), t.id) for t in mentors if free[t.id])
        free[chosen] -= 1
        greedy_total += score
    assert greedy_total == 4
    result = match(mentees, mentors)
    assert {(x.mentee_id, x.mentor_id) for x in result.matches} == {("a", "m2"), ("b", "m1")}
    assert result.total_score == 6


def test_a_flagged_student_takes_the_last_slot_even_from_a_far_better_fit() -> None:
    mentor = Mentor(
        id="m1",
        specialty="x",
        interests=frozenset("uvw"),
        formats=frozenset({"video"}),
        languages=frozenset({"en"}),
        free_slots=1,
    )
    perfect = Mentee(
        id="a", specialty="x", interests=frozenset("uvw"), meeting_format="video", languages=frozenset({"en"})
    )
    flagged = Mentee(id="z", languages=frozenset({"en"}), flagged=True)  # scores 0 with m1
    result = match([perfect, flagged], [mentor], Weights(specialty=100, interest=100))
    assert [(x.mentee_id, x.mentor_id, x.score) for x in result.matches] == [("z", "m1", 0.0)]
    assert result.unmatched == ["a"]


def test_flagged_students_are_not_matched_at_the_cost_of_more_flagged_students() -> None:
    # z1 could take m1 or m2, z2 only m1: both flagged students are matched, and the unflagged one is left
    mentors = [Mentor(id=i, languages=frozenset({"en"}), free_slots=1) for i in ("m1", "m2")]
    mentees = [
        Mentee(id="a", languages=frozenset({"en"})),
        Mentee(id="z1", languages=frozenset({"en"}), flagged=True),
        Mentee(id="z2", languages=frozenset({"en"}), avoid=frozenset({"m2"}), flagged=True),
    ]
    result = match(mentees, mentors)
    assert {(x.mentee_id, x.mentor_id) for x in result.matches} == {("z1", "m2"), ("z2", "m1")}
    assert result.unmatched == ["a"]


def test_edge_cases() -> None:
    en = frozenset({"en"})
    assert match([], []).matches == []
    assert match([Mentee(id="a", languages=en)], []).unmatched == ["a"]
    assert match([], [Mentor(id="m", languages=en, free_slots=3)]).matches == []
    full = Mentor(id="full", languages=en, free_slots=0)
    paused = Mentor(id="paused", languages=en, free_slots=5, paused=True)
    assert match([Mentee(id="a", languages=en)], [full, paused]).unmatched == ["a"]
    # an avoid-list naming an unknown mentor is harmless
    (only,) = match(
        [Mentee(id="a", languages=en, avoid=frozenset({"ghost"}))], [Mentor(id="m", languages=en, free_slots=1)]
    ).matches
    assert only.mentor_id == "m"
    # background counts only when the student asked for it
    mentor = Mentor(id="m", languages=en, background="parent", free_slots=1)
    assert match([Mentee(id="a", languages=en, background="parent")], [mentor]).matches[0].criteria == {}
    asked = Mentee(id="a", languages=en, background="parent", wants_shared_background=True)
    assert match([asked], [mentor]).matches[0].criteria == {"background": 2.0}


def test_weights_are_configuration() -> None:
    en = frozenset({"en"})
    mentors = [
        Mentor(id="m-interests", interests=frozenset("uvw"), languages=en, free_slots=1),
        Mentor(id="m-specialty", specialty="x", languages=en, free_slots=1),
    ]
    student = Mentee(id="a", specialty="x", interests=frozenset("uvw"), languages=en)
    assert match([student], mentors, Weights(specialty=5, interest=1)).matches[0].mentor_id == "m-specialty"
    assert match([student], mentors, Weights(specialty=1, interest=1)).matches[0].mentor_id == "m-interests"
    capped = match([student], mentors, Weights(specialty=2.5, interest=1, max_interests=2)).matches[0]
    assert (capped.mentor_id, capped.criteria) == ("m-specialty", {"specialty": 2.5})


def test_a_largish_instance_keeps_every_invariant() -> None:
    mentees, mentors = random_instance(random.Random(7), 300, 60, 0.1)
    result = match(mentees, mentors)
    check_feasible(result.matches, mentees, mentors, Weights())
    assert len(result.matches) == max_b_matching(mentees, mentors)
