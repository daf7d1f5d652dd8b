"""Feature preparation from the seed: drop correlated features, summarise the structure by PCA.

Both work on a row sample with the backend's array module (`xp`), so they cost the same at 10k
and 10M rows and run on NumPy and CuPy alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backends.base import to_host
from .pca import pca_summary as fit_pca_summary

log = logging.getLogger(__name__)

SAMPLE_ROWS = 100_000  # correlations and PCA of 100k rows are stable to the second decimal
LEADING_COMPONENTS = 5
TOP_LOADINGS = 3


def sample_rows(data: Any, xp: Any, limit: int, random_state: int) -> Any:
    rows = data.shape[0]
    if rows <= limit:
        return data
    picked = np.sort(np.random.default_rng(random_state).choice(rows, size=limit, replace=False))
    return data[xp.asarray(picked)]


def rank_correlation(data: Any, xp: Any) -> np.ndarray:
    """Spearman correlation of the columns (NaN imputed by the column median before ranking).

    Ranks make the decision independent of `log_transform` and `scaling`, which are monotone.
    """
    filled = xp.where(xp.isfinite(data), data, xp.nan)
    median = xp.nanmedian(filled, axis=0)
    median = xp.where(xp.isfinite(median), median, 0)
    filled = xp.where(xp.isnan(filled), median[None, :], filled)
    ranks = xp.argsort(xp.argsort(filled, axis=0), axis=0).astype(xp.float64)
    ranks -= ranks.mean(axis=0)
    norms = xp.sqrt((ranks**2).sum(axis=0))
    norms = xp.where(norms > 0, norms, 1)  # a constant column correlates with nothing
    unit = ranks / norms[None, :]
    return to_host(unit.T @ unit)


@dataclass
class CorrelationDrop:
    kept: list[str]
    dropped: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → partner, rho

    def to_json(self) -> dict[str, Any]:
        return {"kept": self.kept, "dropped": self.dropped}


def drop_correlated(
    raw: Any, columns: list[str], threshold: float, xp: Any, random_state: int
) -> CorrelationDrop:
    """Walk the columns in order; drop a column correlated above `threshold` with a kept one."""
    if threshold >= 1.0 or len(columns) < 2:
        return CorrelationDrop(list(columns))
    corr = np.abs(rank_correlation(sample_rows(raw, xp, SAMPLE_ROWS, random_state), xp))
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
    return CorrelationDrop([columns[i] for i in kept_index], dropped)


def pca_summary(prepared: Any, columns: list[str], xp: Any, random_state: int) -> dict[str, Any]:
    """Log and return the explained variance of the leading components and their loadings.

    The numbers come from `smcluster.pca.pca_summary` (the same code the report plots) on a
    host-side sample of the prepared (scaled) features.
    """
    sample = to_host(sample_rows(prepared, xp, SAMPLE_ROWS, random_state))
    summary = fit_pca_summary(sample, columns, random_state)
    if summary is None:
        return {}
    leading = min(LEADING_COMPONENTS, len(summary.explained))
    vectors = summary.loadings[:, :leading]
    for component in range(leading):
        top = np.argsort(np.abs(vectors[:, component]))[::-1][:TOP_LOADINGS]
        log.info(
            "PCA component %d explains %.1f%% of the variance; top loadings: %s",
            component + 1,
            100 * summary.explained[component],
            ", ".join(f"{columns[i]} {vectors[i, component]:+.2f}" for i in top),
        )
    return {
        "explained_variance_ratio": [round(float(r), 4) for r in summary.explained[:leading]],
        "loadings": {c: [round(float(v), 4) for v in vectors[i]] for i, c in enumerate(columns)},
    }
