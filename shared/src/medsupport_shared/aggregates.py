"""Small-cell suppression shared by the services' aggregate views (pure).

Two rules make a published aggregate resist differencing, whatever groupings and windows a caller
combines: figures are sums of whole cells that are released on their own (so any difference of two
figures is again a sum of whole released cells, never part of one), and inside a cell a count under
the minimum is hidden together with enough others that the hidden ones cannot be worked out from the
cell's total (``suppress_small_cells``)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def suppress_small_cells(counts: dict[K, int], *, min_group: int) -> dict[K, int | None]:
    """Each cell under ``min_group`` is hidden (None), and then enough further cells, smallest first,
    that the hidden ones cannot be worked out from the group's total: never a single hidden cell, and
    never hidden cells that together hold fewer than ``min_group`` members."""
    hidden = {key for key, count in counts.items() if count < min_group}
    shown = sorted((count, str(key), key) for key, count in counts.items() if key not in hidden)
    while hidden and shown and (len(hidden) == 1 or sum(counts[k] for k in hidden) < min_group):
        hidden.add(shown.pop(0)[2])
    return {key: (None if key in hidden else count) for key, count in counts.items()}
