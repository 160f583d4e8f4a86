"""The sparse solver with its optimality proof, against an independent dense solver.

The dense reference is one SciPy linear assignment on every seat (each column repeated ``capacity`` times)
plus one private "left out" column per row: it sees every pair, so when the candidate set misses a pair
the optimum needs, only the duality check can bring it back."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from mentorship.domain.capacitated_assignment import best_assignment


def dense_optimum(gain, allowed, capacity, unassigned_cost) -> float:
    rows = gain.shape[0]
    owner = np.repeat(np.arange(gain.shape[1]), capacity)
    seats = np.where(allowed[:, owner], gain[:, owner], -1e18)
    left_out = np.full((rows, rows), -1e18)
    np.fill_diagonal(left_out, -unassigned_cost)
    value = np.hstack((seats, left_out))
    chosen_rows, chosen_columns = linear_sum_assignment(value, maximize=True)
    return float(value[chosen_rows, chosen_columns].sum())


def value_of(pairs, gain, unassigned_cost) -> float:
    assigned = {r for r, _ in pairs}
    return sum(gain[r, c] for r, c in pairs) - sum(cost for r, cost in enumerate(unassigned_cost) if r not in assigned)


def random_instance(seed: int, rows: int, columns: int):
    rng = np.random.default_rng(seed)
    gain = rng.integers(0, 10, size=(rows, columns)).astype(np.float64) / rng.choice([1, 2, 4])
    allowed = rng.random((rows, columns)) < 0.7
    capacity = rng.integers(0, 4, size=columns)
    coverage = (gain.max() + 1) * rows + 1
    unassigned_cost = coverage + np.where(rng.random(rows) < 0.1, coverage * (rows + 1), 0.0)
    return gain, allowed, capacity, unassigned_cost


@pytest.mark.parametrize("candidates", [1, 2, 5, 1000])
@pytest.mark.parametrize("seed", range(12))
def test_optimal_on_every_pair_whatever_the_candidate_set(seed, candidates):
    gain, allowed, capacity, unassigned_cost = random_instance(seed, rows=40, columns=15)
    pairs = best_assignment(gain, allowed, capacity, unassigned_cost, candidates=candidates)
    assert value_of(pairs, gain, unassigned_cost) == pytest.approx(
        dense_optimum(gain, allowed, capacity, unassigned_cost), abs=1e-6
    )


@pytest.mark.parametrize("seed", range(6))
def test_capacity_and_allowed_pairs_are_respected(seed):
    gain, allowed, capacity, unassigned_cost = random_instance(seed, rows=30, columns=10)
    pairs = best_assignment(gain, allowed, capacity, unassigned_cost, candidates=2)
    rows = [r for r, _ in pairs]
    assert len(rows) == len(set(rows))
    assert all(allowed[r, c] for r, c in pairs)
    assert (np.bincount([c for _, c in pairs], minlength=10) <= capacity).all()


def test_a_popular_column_left_out_of_the_candidates_is_brought_back_by_the_check():
    # Both rows like column 0 best, it has one seat; with one candidate each the restricted problem
    # leaves a row out, and only the duality check finds column 1 for it.
    gain = np.array([[5.0, 1.0], [4.0, 3.0]])
    allowed = np.ones((2, 2), dtype=bool)
    pairs = best_assignment(gain, allowed, np.array([1, 1]), np.array([100.0, 100.0]), candidates=1)
    assert sorted(pairs) == [(0, 0), (1, 1)]


def test_the_same_input_gives_the_same_answer():
    gain, allowed, capacity, unassigned_cost = random_instance(3, rows=60, columns=20)
    first = best_assignment(gain, allowed, capacity, unassigned_cost, candidates=3)
    assert all(best_assignment(gain, allowed, capacity, unassigned_cost, candidates=3) == first for _ in range(3))


def test_nothing_to_assign():
    assert best_assignment(np.zeros((0, 3)), np.zeros((0, 3), bool), np.ones(3, np.int64), np.zeros(0)) == []
    gain = np.ones((3, 2))
    assert best_assignment(gain, np.zeros((3, 2), bool), np.ones(2, np.int64), np.ones(3)) == []
    assert best_assignment(gain, np.ones((3, 2), bool), np.zeros(2, np.int64), np.ones(3)) == []
