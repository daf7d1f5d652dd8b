"""Columns with few values (counts, 0/1 flags, plan lengths, ratings): their steps spread.

Customer tables are full of numeric columns that take a handful of values. Thousands of rows
tied on each value form stacks with nothing between them, and a neighbour graph (UMAP's, or
DBSCAN's on the features) links rows within a stack first: one segment comes out as one
cluster per step, or per combination of steps across several such columns. The value within a
step carries no density information, so for the matrix the reducer and the clusterer see, each
row of such a column is moved uniformly within the half-gaps to its value's neighbours (a seeded,
deterministic draw): the steps then fill the column's range without gaps or stacks, and the
column still orders the rows as before (no row moves past the midpoint to another value).

Only for `dbscan` and `hdbscan`, which read gaps and stacks (kmeans and gmm place centres, and
label a training row again exactly only when it is embedded from the same values). Only the
training rows are spread; new rows (validation, `predict`) keep their values, which lie
inside their value's spread interval. The outlier rule and the sparse-split merge read the
prepared rows as they are.
"""

from __future__ import annotations

import logging
from types import ModuleType

import numpy as np

from ...backends.base import Array

log = logging.getLogger(__name__)

# A column counts as stepped when its distinct values number at most this share of the rows
# (the average value is then shared by two rows or more): a count or a flag, not a measure.
DISTINCT_SHARE = 0.5
DENSITY_ALGORITHMS = ("dbscan", "hdbscan")  # the clusterers whose embedding is spread


def spread_steps(
    prepared: Array, columns: list[str], xp: ModuleType, seed: int
) -> tuple[Array, list[str]]:
    """(`prepared` with its stepped columns spread, their names)."""
    rows = prepared.shape[0]
    rng = np.random.default_rng(seed)
    spread = prepared
    names: list[str] = []
    for j, name in enumerate(columns):
        values, index = xp.unique(prepared[:, j], return_inverse=True)
        if len(values) < 2 or len(values) > DISTINCT_SHARE * rows:
            continue
        if not names:
            spread = prepared.copy()
        names.append(name)
        gaps = xp.diff(values)
        below = xp.concatenate([gaps[:1], gaps])[index.reshape(-1)] / 2
        above = xp.concatenate([gaps, gaps[-1:]])[index.reshape(-1)] / 2
        uniform = xp.asarray(rng.random(rows), dtype=xp.float32)
        spread[:, j] = prepared[:, j] - below + uniform * (below + above)
    if names:
        log.info(
            "%d column(s) with few distinct values (at most %.0f%% of the rows) spread within "
            "their steps for the embedding: %s",
            len(names),
            100 * DISTINCT_SHARE,
            ", ".join(names),
        )
    return xp.asarray(spread, dtype=xp.float32), names
