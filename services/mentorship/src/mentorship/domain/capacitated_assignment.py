"""The best assignment of rows to capacitated columns, solved on a few candidates per row and proved optimal.

The problem (a transportation problem): every row r either takes one unit of a column c it is allowed, gaining
``gain[r, c]``, or stays unassigned, gaining nothing; column c takes at most ``capacity[c]`` rows; the total
gain is maximal. Rows are students and columns mentors; the caller folds its priorities into the gains.

Solving it densely (one linear assignment on capacity-expanded slots) costs rows x seats, and for 4,000
students and 800 mentors most of that is pairs nobody would choose. So it is solved on a candidate set
(each row's best ``candidates`` columns), and the answer is then *proved* optimal for the whole matrix with
linear-programming duality: node potentials are the shortest distances in the residual graph of the
candidate solution (Bellman-Ford, no negative cycle since the solution is optimal there), and the solution
is optimal overall exactly when no left-out pair has a negative reduced cost. Left-out pairs that do are
added to the candidates and the problem is solved again (column generation); in practice once or twice.

Each restricted problem is a sparse linear assignment (SciPy's LAPJVsp) on capacity-expanded slots, with
one private "unassigned" column per row so that a full matching of the rows always exists.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

# Reduced costs above -TOLERANCE count as non-negative: gains are sums of floats, and a violation smaller than
# this would change no matching anyone could tell apart.
TOLERANCE = 1e-6


def best_assignment(
    gain: NDArray[np.float64],
    allowed: NDArray[np.bool_],
    capacity: NDArray[np.int64],
    unassigned_cost: NDArray[np.float64],
    candidates: int = 16,
) -> list[tuple[int, int]]:
    """(row, column) pairs of an optimal assignment.

    ``gain[r, c]`` counts only where ``allowed[r, c]``; ``unassigned_cost[r]`` (>= 0) is what leaving row r out
    costs on top of forgoing its gain: the caller's tiers (flagged first, then coverage) live there, which keeps
    the pair gains small and the duality check exact to ``TOLERANCE``.
    """
    rows, columns = gain.shape
    if not rows or not columns:
        return []
    allowed = allowed & (capacity > 0)[None, :]
    chosen = _best_per_row(np.where(allowed, gain, -np.inf), candidates) & allowed
    while True:
        pairs = _solve_restricted(gain, chosen, capacity, unassigned_cost)
        improving = _improving_pairs(gain, allowed & ~chosen, chosen, capacity, unassigned_cost, pairs, candidates)
        if not improving.any():
            return pairs
        chosen |= improving


def _best_per_row(values: NDArray[np.float64], count: int) -> NDArray[np.bool_]:
    """A mask of each row's ``count`` largest entries (all of them when the row is shorter)."""
    if count >= values.shape[1]:
        return np.ones(values.shape, dtype=bool)
    best = np.argpartition(-values, count - 1, axis=1)[:, :count]
    mask = np.zeros(values.shape, dtype=bool)
    np.put_along_axis(mask, best, True, axis=1)
    return mask


def _solve_restricted(
    gain: NDArray[np.float64],
    chosen: NDArray[np.bool_],
    capacity: NDArray[np.int64],
    unassigned_cost: NDArray[np.float64],
) -> list[tuple[int, int]]:
    """Optimal on the chosen pairs only: a sparse assignment of rows to expanded slots (plus own dummies)."""
    rows = gain.shape[0]
    pair_rows, pair_columns = np.nonzero(chosen)
    # A column never needs more slots than the rows that may take it.
    slots = np.minimum(capacity, np.bincount(pair_columns, minlength=gain.shape[1]))
    first_slot = np.concatenate(([0], np.cumsum(slots)[:-1]))
    total_slots = int(slots.sum())
    copies = slots[pair_columns]
    edge_rows = np.repeat(pair_rows, copies)
    # slot k of column c is first_slot[c] + k: a ramp restarting at every pair
    ramp = np.arange(int(copies.sum())) - np.repeat(np.cumsum(copies) - copies, copies)
    edge_slots = np.repeat(first_slot[pair_columns], copies) + ramp
    # Costs to minimise, shifted per row to stay positive (explicit zeros would read as missing edges).
    shift = float(gain.max(initial=0.0)) + 1.0
    edge_costs = np.repeat(shift - gain[pair_rows, pair_columns], copies)
    matrix = csr_matrix(
        (
            np.concatenate((edge_costs, shift + unassigned_cost)),
            (np.concatenate((edge_rows, np.arange(rows))), np.concatenate((edge_slots, total_slots + np.arange(rows)))),
        ),
        shape=(rows, total_slots + rows),
    )
    matched_rows, matched_slots = min_weight_full_bipartite_matching(matrix)
    slot_owner = np.repeat(np.arange(gain.shape[1]), slots)
    return [(int(r), int(slot_owner[s])) for r, s in zip(matched_rows, matched_slots, strict=True) if s < total_slots]


def _improving_pairs(
    gain: NDArray[np.float64],
    left_out: NDArray[np.bool_],
    chosen: NDArray[np.bool_],
    capacity: NDArray[np.int64],
    unassigned_cost: NDArray[np.float64],
    pairs: list[tuple[int, int]],
    candidates: int,
) -> NDArray[np.bool_]:
    """Left-out pairs with a negative reduced cost under the candidate solution's potentials (each row's
    ``candidates`` most negative)."""
    if not left_out.any():
        return left_out
    distance = _potentials(gain, chosen, capacity, unassigned_cost, pairs)
    rows = gain.shape[0]
    row_distance, column_distance = distance[:rows], distance[rows:-1]
    shortfall = np.where(left_out, column_distance[None, :] - (row_distance[:, None] - gain), -np.inf)
    improving = shortfall > TOLERANCE
    # Adding every improving pair can grow the candidates tenfold; each row's most improving few suffice,
    # since the next round checks again.
    crowded = np.flatnonzero(improving.sum(axis=1) > candidates)
    improving[crowded] &= _best_per_row(shortfall[crowded], candidates)
    return improving


def _potentials(
    gain: NDArray[np.float64],
    chosen: NDArray[np.bool_],
    capacity: NDArray[np.int64],
    unassigned_cost: NDArray[np.float64],
    pairs: list[tuple[int, int]],
) -> NDArray[np.float64]:
    """Shortest distances from a virtual source in the residual min-cost-flow graph of the solution.

    Nodes: rows, then columns, then the sink. Flow network: row -> column (cost -gain, one unit), row -> sink
    (cost unassigned_cost: left out), column -> sink (cost 0, capacity). Every row supplies one unit.
    """
    rows, columns = gain.shape
    sink = rows + columns
    assigned = np.zeros(gain.shape, dtype=bool)
    if pairs:
        assigned_rows, assigned_columns = np.array(pairs).T
        assigned[assigned_rows, assigned_columns] = True
    is_assigned = assigned.any(axis=1)
    load = assigned.sum(axis=0)
    free_rows, free_columns = np.nonzero(chosen & ~assigned)
    used_rows, used_columns = np.nonzero(assigned)
    all_rows, all_columns = np.arange(rows), rows + np.arange(columns)
    tails = np.concatenate(
        (free_rows, rows + used_columns, all_rows[is_assigned], np.full((~is_assigned).sum(), sink),
         all_columns[load < capacity], np.full(int((load > 0).sum()), sink))
    )  # fmt: skip
    heads = np.concatenate(
        (rows + free_columns, used_rows, np.full(int(is_assigned.sum()), sink), all_rows[~is_assigned],
         np.full(int((load < capacity).sum()), sink), all_columns[load > 0])
    )  # fmt: skip
    costs = np.concatenate(
        (-gain[free_rows, free_columns], gain[used_rows, used_columns], unassigned_cost[is_assigned],
         -unassigned_cost[~is_assigned], np.zeros(int((load < capacity).sum())), np.zeros(int((load > 0).sum())))
    )  # fmt: skip
    distance = np.zeros(rows + columns + 1)
    for _ in range(rows + columns + 1):  # Bellman-Ford; converges in (alternating path length) rounds
        relaxed = distance.copy()
        np.minimum.at(relaxed, heads, distance[tails] + costs)
        if not (relaxed < distance - TOLERANCE / 4).any():
            return relaxed
        distance = relaxed
    return distance
