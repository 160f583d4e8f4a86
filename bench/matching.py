"""Mentorship matching: time and memory for 2,000 students × 400 mentors, and how it scales.

The baseline, measured in the same run on the same instances, is the naive greedy loop (each student in
turn takes the best mentor with room, on the same score matrix): the optimal matching's time is reported
as a ratio to it, and so are the students it places and the compatibility it reaches."""

from __future__ import annotations

import functools
import math
import random
import statistics
import time
import tracemalloc
from typing import Any

import numpy as np

from bench.http_bench import Profile

ENTRY_POINT = "mentorship.domain.matching.match"
SPECIALTIES = ("surgery", "paediatrics", "psychiatry", "general practice", "cardiology", "oncology", "radiology")
INTERESTS = tuple(f"interest-{i}" for i in range(30))
LANGUAGES = ("en", "fr", "es", "de")
FORMATS = ("in person", "video", "phone")
BACKGROUNDS = ("first generation", "international", "mature student", None)


def instance(students: int, mentors: int, seed: int = 7) -> tuple[list[Any], list[Any]]:
    """A reproducible cohort: capacities 1–9 (about as many slots as students), 5 % flagged, mostly English."""
    from mentorship.domain.matching import Mentee, Mentor

    rng = random.Random(seed)

    def languages() -> frozenset[str]:
        return frozenset({"en"} | ({rng.choice(LANGUAGES)} if rng.random() < 0.3 else set()))

    mentor_list = [
        Mentor(
            id=f"m{i:05d}",
            specialty=rng.choice(SPECIALTIES),
            interests=frozenset(rng.sample(INTERESTS, 4)),
            languages=languages(),
            formats=frozenset(rng.sample(FORMATS, rng.randint(1, 3))),
            background=rng.choice(BACKGROUNDS),
            free_slots=rng.randint(1, 9),
            paused=rng.random() < 0.03,
        )
        for i in range(mentors)
    ]
    mentee_list = [
        Mentee(
            id=f"s{i:05d}",
            specialty=rng.choice(SPECIALTIES),
            interests=frozenset(rng.sample(INTERESTS, 3)),
            languages=frozenset({"en"}) if rng.random() < 0.9 else frozenset({rng.choice(LANGUAGES)}),
            meeting_format=rng.choice(FORMATS),
            background=rng.choice(BACKGROUNDS),
            wants_shared_background=rng.random() < 0.2,
            avoid=frozenset({f"m{rng.randrange(mentors):05d}"}) if rng.random() < 0.1 else frozenset(),
            flagged=rng.random() < 0.05,
        )
        for i in range(students)
    ]
    return mentee_list, mentor_list


def greedy(mentees: list[Any], mentors: list[Any]) -> tuple[int, float]:
    """The naive loop on the same score matrix: each student in turn takes the best mentor with room."""
    from mentorship.domain.matching import FORBIDDEN, Weights, score_matrix

    mentees = sorted(mentees, key=lambda p: p.id)
    mentors = sorted((t for t in mentors if t.free_slots > 0 and not t.paused), key=lambda t: t.id)
    scores = score_matrix(mentees, mentors, Weights())
    free = np.array([t.free_slots for t in mentors])
    matched, total = 0, 0.0
    for row in scores:
        options = np.where((row > FORBIDDEN) & (free > 0), row, -np.inf)
        best = int(np.argmax(options))
        if options[best] > -np.inf:
            free[best] -= 1
            matched, total = matched + 1, total + float(row[best])
    return matched, total


def _timed(function: Any, repeats: int) -> tuple[float, float, Any]:
    """Median wall time and peak traced memory (MB, one traced run) of ``function()``."""
    tracemalloc.start()
    result = function()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), peak, result


def matching_benchmark(profile: Profile) -> dict[str, Any]:
    try:
        from mentorship.domain.matching import match
    except ImportError as exc:  # the mentorship package is not installed in this environment
        return {"available": False, "reason": f"cannot import {ENTRY_POINT}: {exc}"}
    rows = []
    for students, mentors in profile.matching_sizes:
        mentee_list, mentor_list = instance(students, mentors)
        run = functools.partial(match, mentee_list, mentor_list)
        seconds, peak_mb, result = _timed(run, profile.matching_repeats)
        naive = functools.partial(greedy, mentee_list, mentor_list)
        greedy_seconds, _, (greedy_matched, greedy_score) = _timed(naive, profile.matching_repeats)
        rows.append(
            {
                "students": students,
                "mentors": mentors,
                "slots": sum(t.free_slots for t in mentor_list if not t.paused),
                "seconds": round(seconds, 4),
                "peak_mb": round(peak_mb, 1),
                "matched": len(result.matches),
                "flagged_matched": sum(1 for m in result.matches if m.mentee_id in _flagged(mentee_list)),
                "flagged": len(_flagged(mentee_list)),
                "score": round(result.total_score, 1),
                "greedy_seconds": round(greedy_seconds, 4),
                "greedy_matched": greedy_matched,
                "greedy_score": round(greedy_score, 1),
            }
        )
    return {
        "available": True,
        "entry_point": ENTRY_POINT,
        "sizes": rows,
        "scaling_exponent": _exponent([(r["students"], r["seconds"]) for r in rows]),
    }


def _flagged(mentees: list[Any]) -> set[str]:
    return {p.id for p in mentees if p.flagged}


def _exponent(points: list[tuple[int, float]]) -> float | None:
    """Slope of log(time) against log(size): 1 is linear, 2 quadratic."""
    usable = [(math.log(n), math.log(t)) for n, t in points if t > 0]
    if len(usable) < 2:
        return None
    mean_x = statistics.fmean(x for x, _ in usable)
    mean_y = statistics.fmean(y for _, y in usable)
    spread = sum((x - mean_x) ** 2 for x, _ in usable)
    return round(sum((x - mean_x) * (y - mean_y) for x, y in usable) / spread, 2) if spread else None
