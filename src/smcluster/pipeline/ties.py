"""A note when the rows take few distinct values: ratings, counts, coded answers.

Density clustering reads distances between neighbours; on such a grid most rows sit on top of
others (distance 0), so DBSCAN's k-distance curve and HDBSCAN's core distances see steps of the
grid instead of gaps between groups: the result splits at grid steps or merges into one. The
job cannot tell that from the labels alone, so the metrics say it, with what to try instead.
"""

from __future__ import annotations

import numpy as np

from ..contract.schema import Hyperparameters
from .sampling import sample_index

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
        f"such as ratings or counts): {hp.algorithm} sees the steps of that grid rather than "
        "gaps between groups, and may split or merge groups at them; compare algorithm=gmm "
        "or kmeans (n_clusters), and check the cluster sizes"
    )
