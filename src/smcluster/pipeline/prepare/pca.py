"""One PCA of the prepared features: the summary the log and the report show, and the PCA reducer.

Fitted once, over every prepared row, from the covariance matrix (width x width, accumulated in
float64 chunks over `xp`), so it costs one pass on NumPy or CuPy and needs no sample. The reducer
`reducer=pca` is the projection onto its leading components.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ...backends.base import Array, array_module, to_host

log = logging.getLogger(__name__)

CHUNK_ROWS = 200_000  # rows per float64 block of the covariance pass
LEADING_COMPONENTS = 5  # components logged and recorded in hyperparameters.json
TOP_LOADINGS = 3


@dataclass
class PcaSummary:
    features: list[str]
    mean: np.ndarray  # per feature
    explained: np.ndarray  # ratio of variance per component
    cumulative: np.ndarray
    loadings: np.ndarray  # features x components (unit eigenvectors)
    correlations: np.ndarray  # features x components: corr(feature, component score)

    def projection(self, n_components: int) -> PcaProjection:
        """The PCA reducer: rows projected onto the first `n_components` components."""
        return PcaProjection(self.mean, self.loadings[:, :n_components].astype(np.float32))

    def to_json(self) -> dict[str, Any]:
        leading = min(LEADING_COMPONENTS, len(self.explained))
        return {
            "explained_variance_ratio": [round(float(r), 4) for r in self.explained[:leading]],
            "loadings": {
                c: [round(float(v), 4) for v in self.loadings[i, :leading]]
                for i, c in enumerate(self.features)
            },
        }

    def log(self) -> None:
        leading = min(LEADING_COMPONENTS, len(self.explained))
        for component in range(leading):
            column = self.loadings[:, component]
            top = np.argsort(np.abs(column))[::-1][:TOP_LOADINGS]
            log.info(
                "PCA component %d explains %.1f%% of the variance; top loadings: %s",
                component + 1,
                100 * self.explained[component],
                ", ".join(f"{self.features[i]} {column[i]:+.2f}" for i in top),
            )


class PcaProjection:
    """`reducer=pca`: (row - mean) @ components, on the array's own device."""

    def __init__(self, mean: np.ndarray, components: np.ndarray) -> None:
        self.mean = mean.astype(np.float32)
        self.components = components  # features x n_components

    def fit_transform(self, data: Array) -> Array:
        return self.transform(data)  # fitted already, by `fit_pca`

    def transform(self, data: Array) -> Array:
        xp = array_module(data)
        centred = data - xp.asarray(self.mean)[None, :]
        return (centred @ xp.asarray(self.components)).astype(xp.float32)


def _covariance(data: Array, xp: ModuleType) -> tuple[Array, Array]:
    """Column means and the sample covariance matrix, in float64, one chunk at a time."""
    rows = data.shape[0]
    total = xp.zeros(data.shape[1], dtype=xp.float64)
    for start in range(0, rows, CHUNK_ROWS):
        total += data[start : start + CHUNK_ROWS].astype(xp.float64).sum(axis=0)
    mean = total / rows
    scatter = xp.zeros((data.shape[1], data.shape[1]), dtype=xp.float64)
    for start in range(0, rows, CHUNK_ROWS):
        block = data[start : start + CHUNK_ROWS].astype(xp.float64) - mean[None, :]
        scatter += block.T @ block
    return mean, scatter / (rows - 1)


def _from_rows(data: Array, xp: ModuleType) -> tuple[Array, np.ndarray, np.ndarray, np.ndarray]:
    """Fewer rows than columns: the covariance's eigenpairs from the centred rows' SVD (the
    same components, at the cost of the rows), and each column's variance."""
    rows = data.shape[0]
    mean = data.astype(xp.float64).mean(axis=0)
    centred = data.astype(xp.float64) - mean[None, :]
    _, singular, right = xp.linalg.svd(centred, full_matrices=False)
    values = to_host(singular) ** 2 / (rows - 1)
    variances = to_host((centred**2).sum(axis=0)) / (rows - 1)
    return mean, values, to_host(right).T, variances


def fit_pca(prepared: Array, features: list[str], xp: ModuleType) -> PcaSummary | None:
    """PCA of every prepared row; None when there is nothing to fit (one row, no finite data)."""
    rows, width = prepared.shape
    components = min(rows - 1, width)
    if components < 1 or not bool(xp.isfinite(prepared).all()):
        return None
    if rows < width:  # a width x width covariance (10,000 columns: 800 MB) would not finish
        mean, values, vectors, variances = _from_rows(prepared, xp)
    else:
        mean, covariance = _covariance(prepared, xp)
        values, vectors = (to_host(a) for a in xp.linalg.eigh(covariance))
        variances = np.diag(to_host(covariance))
    order = np.argsort(values)[::-1][:components]  # eigh sorts ascending
    values = np.clip(values[order], 0.0, None)
    vectors = vectors[:, order]
    # Deterministic signs: each component's largest loading is positive.
    largest = np.abs(vectors).argmax(axis=0)
    vectors = vectors * np.sign(vectors[largest, np.arange(vectors.shape[1])])[None, :]
    total = float(np.clip(variances, 0.0, None).sum())
    explained = values / total if total > 0 else np.zeros_like(values)
    spread = np.sqrt(np.clip(variances, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        correlations = vectors * np.sqrt(values)[None, :] / spread[:, None]
    # A constant feature (or a component with no variance) correlates with nothing.
    correlations = np.nan_to_num(np.clip(correlations, -1.0, 1.0))
    return PcaSummary(
        features=list(features),
        mean=to_host(mean),
        explained=explained,
        cumulative=np.cumsum(explained),
        loadings=vectors,
        correlations=correlations,
    )
