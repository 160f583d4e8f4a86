"""The review's large run, scaled down: 800 mentors offering 50 seats each (40 000 seats) to the few
students waiting. Each mentor's seats are capped at the students who can be matched to them, so the
expanded matrix stays students x (mentors x waiting), not students x 40 000."""

import tracemalloc

from mentorship.domain.matching import Mentee, Mentor, match

MENTORS, CAPACITY, WAITING = 800, 50, 10
CELL = 8  # float64


def people():
    mentors = [
        Mentor(id=f"m{j:03d}", free_slots=CAPACITY, languages=frozenset({"en"}), interests=frozenset({f"i{j % 7}"}))
        for j in range(MENTORS)
    ]
    mentees = [
        Mentee(id=f"s{i:02d}", languages=frozenset({"en"}), interests=frozenset({f"i{i % 7}"})) for i in range(WAITING)
    ]
    return mentees, mentors


def test_a_large_run_allocates_for_the_waiting_students_not_for_every_seat():
    mentees, mentors = people()
    tracemalloc.start()
    try:
        result = match(mentees, mentors)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.matches) == WAITING and result.unmatched == []
    uncapped = WAITING * MENTORS * CAPACITY * CELL  # one copy of the uncapped expanded matrix: 3.2 MB
    assert peak < uncapped, f"peak {peak / 1e6:.1f} MB"


def test_capping_seats_changes_no_matching():
    mentees, mentors = people()
    few = [m.model_copy(update={"free_slots": min(m.free_slots, WAITING)}) for m in mentors]
    assert match(mentees, mentors) == match(mentees, few)
