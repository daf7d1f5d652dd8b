"""A note when the rows take few distinct values: ratings, counts, coded answers.

On such a grid most rows sit on top of others. For `dbscan` and `hdbscan` the few-valued
columns are spread within their steps (`steps.py`), so the clusterer no longer sees stacks of
ties; but groups whose answers differ by less than one step cannot be told apart, and the
labels alone do not show it, so the metrics say how few rows are distinct. On a probe (900 rows
of three 1-5 answers from three planted groups, 76 distinct rows) the defaults found 2 clusters
(ARI 0.52), `kmeans` and `gmm` told k = 3 did no better (0.41, 0.41).
"""

from __future__ import annotations

import numpy as np

from ...contract.schema import Hyperparameters
from ..runtime.sampling import sample_index

SAMPLE_ROWS = 100_000
DISTINCT_SHARE = 0.5  # below half the rows distinct, most rows have an exact twin


def few_distinct_rows_note(rows: np.ndarray, hp: Hyperparameters) -> str | None:
    """The note for `rows` (the prepared features, host) if few of them are distinct."""
    if hp.algorithm not in {"dbscan", "hdbscan"} or len(rows) < 2:
        return None
    sampled = rows[sample_index(len(rows), SAMPLE_ROWS, hp.random_state)]
    distinct = len(np.unique(sampled, axis=0))
    if distinct >= DISTINCT_SHARE * len(sampled):
        return None
    return (
        f"only {distinct:,} of {len(sampled):,} rows are distinct (features with few values, "
        "such as ratings or counts): their steps were spread for the clusterer, but groups "
        "that differ by less than one step cannot be told apart; check the cluster sizes and "
        "profiles against what you know of the data"
    )
