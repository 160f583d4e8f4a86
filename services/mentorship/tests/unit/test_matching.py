"""Matching: hard constraints, capacities, optimality vs brute force, determinism, greedy counter-example."""

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from mentorship.domain.matching import FORBIDDEN, Mentee, Mentor, Weights, compatibility, match, score_matrix

W = Weights()


def mentor(id, free=1, **kw):
    return Mentor(id=id, free_slots=free, languages=frozenset(kw.pop("languages", {"en"})), **kw)


def mentee(id, **kw):
    return Mentee(id=id, languages=frozenset(kw.pop("languages", {"en"})), **kw)


def greedy(mentees, mentors, weights=W):
    """The naive loop: each student in turn takes their best mentor with room."""
    free = {t.id: t.free_slots for t in mentors}
    matched, total = 0, 0.0
    for s in sorted(mentees, key=lambda p: p.id):
        options = [(compatibility(s, t, weights), t.id) for t in mentors if free[t.id] > 0]
        options = [o for o in options if o[0] > FORBIDDEN]
        if options:
            score, chosen = max(options)
            free[chosen] -= 1
            matched, total = matched + 1, total + score
    return matched, total


def test_optimal_beats_greedy_on_a_crafted_case():
    mentors = [mentor("m1", specialty="surgery", interests=frozenset({"research"})), mentor("m2", specialty="surgery")]
    mentees = [
        mentee("a", specialty="surgery", interests=frozenset({"research"})),  # m1: 5, m2: 4
        mentee("b", languages={"fr", "en"}, avoid=frozenset({"m2"})),
    ]  # only m1: 1
    result = match(mentees, mentors)
    assert {(m.mentee_id, m.mentor_id) for m in result.matches} == {("a", "m2"), ("b", "m1")}
    assert result.unmatched == []
    matched_by_greedy, greedy_score = greedy(mentees, mentors)
    assert (matched_by_greedy, greedy_score) == (1, 4)  # greedy: a takes m1 (score 4), b is left without a mentor
    assert (len(result.matches), result.total_score) == (2, 3)


def test_hard_constraints_are_never_broken():
    mentors = [mentor("m1", languages={"es"}), mentor("m2", paused=True), mentor("m3")]
    mentees = [mentee("a"), mentee("b", avoid=frozenset({"m3"})), mentee("c", languages={"es"})]
    result = match(mentees, mentors)
    assert {(m.mentee_id, m.mentor_id) for m in result.matches} == {("a", "m3"), ("c", "m1")}
    assert result.unmatched == ["b"]


def test_capacity_is_respected_and_flagged_students_come_first():
    mentors = [mentor("m1", free=2, specialty="psychiatry")]
    mentees = [mentee("a", specialty="psychiatry"), mentee("b", specialty="psychiatry"), mentee("c", flagged=True)]
    result = match(mentees, mentors)
    assert len(result.matches) == 2 and "c" in {m.mentee_id for m in result.matches}


def test_explanations_say_which_criteria_scored():
    m = mentor(
        "m1",
        specialty="peds",
        interests=frozenset({"global health", "research"}),
        formats=frozenset({"video"}),
        background="first-generation",
    )
    s = mentee(
        "a",
        specialty="peds",
        interests=frozenset({"research"}),
        meeting_format="video",
        background="first-generation",
        wants_shared_background=True,
    )
    (only,) = match([s], [m]).matches
    assert only.criteria == {"specialty": 3, "interests": 1, "meeting_format": 1, "background": 2}
    assert only.score == 7


def test_vectorised_scores_equal_the_reference_function():
    mentors = [
        mentor("m1", specialty="x", interests=frozenset({"a", "b", "c", "d"}), formats=frozenset({"video"})),
        mentor("m2", languages={"fr"}),
        mentor("m3", paused=True),
    ]
    mentees = [
        mentee("s", specialty="x", interests=frozenset({"a", "b", "c", "d"}), meeting_format="video"),
        mentee("t", languages={"fr", "en"}, avoid=frozenset({"m1"})),
    ]
    matrix = score_matrix(mentees, mentors, W)
    for i, s in enumerate(mentees):
        for j, t in enumerate(mentors):
            assert matrix[i, j] == compatibility(s, t, W)


people = st.builds(
    lambda i, spec, ints, langs, fmt: (spec, frozenset(ints), frozenset(langs), fmt),
    st.integers(),
    st.sampled_from([None, "a", "b"]),
    st.sets(st.sampled_from("wxyz"), max_size=3),
    st.sets(st.sampled_from(["en", "fr"]), min_size=1, max_size=2),
    st.sampled_from([None, "video", "in-person"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(people, min_size=1, max_size=5),
    st.lists(people, min_size=1, max_size=3),
    st.lists(st.integers(0, 2), min_size=3, max_size=3),
    st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_optimal_against_brute_force(students, mentor_traits, capacities, flags):
    mentees = [
        Mentee(id=f"s{i}", specialty=sp, interests=ints, languages=langs, meeting_format=fmt, flagged=flags[i])
        for i, (sp, ints, langs, fmt) in enumerate(students)
    ]
    mentors = [
        Mentor(
            id=f"m{j}",
            specialty=sp,
            interests=ints,
            languages=langs,
            formats=frozenset({fmt} - {None}),
            free_slots=capacities[j],
        )
        for j, (sp, ints, langs, fmt) in enumerate(mentor_traits)
    ]
    result = match(mentees, mentors)
    used = {}
    for m in result.matches:
        used[m.mentor_id] = used.get(m.mentor_id, 0) + 1
        assert (
            compatibility(
                next(s for s in mentees if s.id == m.mentee_id), next(t for t in mentors if t.id == m.mentor_id), W
            )
            > FORBIDDEN
        )
    assert all(used[t.id] <= t.free_slots for t in mentors if t.id in used)
    assert len({m.mentee_id for m in result.matches}) == len(result.matches)

    def objective(pairs):  # flagged students matched, then students matched, then total score
        quality = round(sum(compatibility(mentees[i], mentors[j], W) for i, j in pairs), 6)
        return (sum(1 for i, _ in pairs if mentees[i].flagged), len(pairs), quality)

    best = (0, 0, 0.0)
    options = [None, *range(len(mentors))]
    for choice in itertools.product(options, repeat=len(mentees)):
        pairs = [(i, j) for i, j in enumerate(choice) if j is not None]
        if any(compatibility(mentees[i], mentors[j], W) == FORBIDDEN for i, j in pairs):
            continue
        if any(sum(1 for _, j in pairs if j == k) > mentors[k].free_slots for k in range(len(mentors))):
            continue
        best = max(best, objective(pairs))
    index = {s.id: i for i, s in enumerate(mentees)} | {t.id: j for j, t in enumerate(mentors)}
    assert objective([(index[m.mentee_id], index[m.mentor_id]) for m in result.matches]) == best


def test_deterministic_for_the_same_input_in_any_order():
    mentors = [mentor(f"m{j}", free=1, specialty="x") for j in range(3)]
    mentees = [mentee(f"s{i}", specialty="x") for i in range(5)]
    first = match(mentees, mentors)
    again = match(list(reversed(mentees)), list(reversed(mentors)))
    assert first == again
