"""Drop one feature of each pair whose rank correlation exceeds `correlation_threshold`.

Works on a row sample with the backend's array module (`xp`), so it costs the same at 10k and
10M rows and runs on NumPy and CuPy alike.
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

import numpy as np

from ...backends.base import Array, to_host
from .column_drops import ColumnDrop, as_prepared, decision_sample, median_filled

log = logging.getLogger(__name__)

# Below this, unrelated columns often correlate perfectly by chance (3 rows: one pair in three
# has |rho| = 1); at 20 rows |rho| > 0.95 by chance has a probability near 1e-10.
MIN_ROWS = 20


def average_ranks(column: Array, xp: ModuleType) -> Array:
    """1-based ranks of a finite 1-D column, ties given their average rank.

    The same as `scipy.stats.rankdata(method="average")`, written with `xp` only (NumPy, CuPy).
    `unique` sorts the distinct values: a value's rank span ends at the running count of
    the values up to it and holds `count` ranks, so its average is `end - (count - 1) / 2`.
    """
    _, inverse, counts = xp.unique(column, return_inverse=True, return_counts=True)
    ends = xp.cumsum(counts).astype(xp.float64)
    average = ends - (counts - 1) / 2.0
    return xp.take(average, inverse.reshape(-1))


def rank_correlation(data: Array, xp: ModuleType) -> np.ndarray:
    """Spearman correlation of the columns (NaN imputed by the column median before ranking).

    Ranks make the decision independent of `log_transform` and `scaling`, which are monotone.
    Ties take their average rank, as in `scipy.stats.spearmanr`: ranks in row order would call
    two unrelated mostly-zero columns near-copies (rho 0.96 at 99% zeros).
    """
    filled = median_filled(data, xp)
    ranks = xp.empty(filled.shape, dtype=xp.float64)
    for j in range(filled.shape[1]):
        ranks[:, j] = average_ranks(filled[:, j], xp)
    ranks -= ranks.mean(axis=0)
    norms = xp.sqrt((ranks**2).sum(axis=0))
    norms = xp.where(norms > 0, norms, 1)  # a constant column correlates with nothing
    unit = ranks / norms[None, :]
    return to_host(unit.T @ unit)


def drop_correlated(
    raw: Array,
    columns: list[str],
    threshold: float,
    xp: ModuleType,
    random_state: int,
    missing: str = "median",
) -> ColumnDrop:
    """Walk the columns in order; drop a column correlated above `threshold` with a kept one
    (missing values imputed, or incomplete rows left out, as `missing` says)."""
    if threshold >= 1.0 or len(columns) < 2:
        return ColumnDrop(list(columns))
    sample = as_prepared(decision_sample(raw, xp, random_state), missing, xp)
    if sample.shape[0] < MIN_ROWS:
        log.info(
            "correlation_threshold=%g: not applied to %d rows (it needs %d to tell a near-copy "
            "from chance)",
            threshold,
            sample.shape[0],
            MIN_ROWS,
        )
        return ColumnDrop(list(columns))
    corr = np.abs(rank_correlation(sample, xp))
    kept_index: list[int] = []
    dropped: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(columns):
        partners = [i for i in kept_index if corr[i, j] > threshold]
        if partners:
            best = max(partners, key=lambda i: corr[i, j])
            dropped[name] = {
                "correlated_with": columns[best],
                "rho": round(float(corr[best, j]), 4),
            }
        else:
            kept_index.append(j)
    for name, why in dropped.items():
        log.info(
            "correlation_threshold=%g: dropping '%s' (|rho|=%.3f with '%s')",
            threshold,
            name,
            why["rho"],
            why["correlated_with"],
        )
    if not dropped:
        log.info("correlation_threshold=%g: no feature pair above it", threshold)
    return ColumnDrop([columns[i] for i in kept_index], dropped)
