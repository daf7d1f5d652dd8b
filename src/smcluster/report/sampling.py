"""A stratified, capped sample of rows: plot cost stays bounded however many rows were clustered."""

from __future__ import annotations

import numpy as np

MIN_PER_CLUSTER = 20  # small clusters keep a few points so that every cluster shows up


def stratified_sample(labels: np.ndarray, cap: int, random_state: int) -> np.ndarray:
    """Sorted row indices: about `cap` rows, each cluster in proportion to its size.

    Each cluster also keeps up to `MIN_PER_CLUSTER` rows while that costs at most `cap / 2`
    rows in all, so the sample never exceeds 1.5 x `cap`; rows left over by rounding down are
    filled at random up to `cap`. All rows when there are at most `cap`.
    """
    rows = len(labels)
    if rows <= cap:
        return np.arange(rows)
    rng = np.random.default_rng(random_state)
    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    floor = min(MIN_PER_CLUSTER, cap // (2 * len(sizes)))
    quota = np.maximum(np.floor(sizes * (cap / rows)).astype(np.int64), np.minimum(sizes, floor))
    # Rows grouped by cluster in random order; keep the first `quota` of each group.
    order = np.lexsort((rng.random(rows), inverse))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(rows) - starts[inverse[order]]
    chosen = np.zeros(rows, dtype=bool)
    chosen[order[rank < quota[inverse[order]]]] = True
    short = cap - int(chosen.sum())  # rounding down left room (many small clusters): fill it
    if short > 0:
        chosen[rng.choice(np.flatnonzero(~chosen), size=short, replace=False)] = True
    return np.flatnonzero(chosen)
