"""PCA summary of the prepared (scaled) features: variance explained, loadings, correlations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA


@dataclass
class PcaSummary:
    features: list[str]
    explained: np.ndarray  # ratio of variance per component
    cumulative: np.ndarray
    loadings: np.ndarray  # features x components (unit eigenvectors)
    correlations: np.ndarray  # features x components: corr(original feature, component score)


def pca_summary(prepared: np.ndarray, features: list[str], random_state: int) -> PcaSummary | None:
    """Fit a full PCA on (a sample of) the prepared rows; None when there is nothing to fit."""
    data = np.asarray(prepared, dtype=np.float64)
    rows, width = data.shape
    components = min(rows - 1, width)
    if components < 1 or not np.isfinite(data).all():
        return None
    pca = PCA(n_components=components, random_state=random_state)
    scores = pca.fit_transform(data)
    centred = data - data.mean(axis=0)
    deviation = np.sqrt((centred**2).sum(axis=0))
    score_deviation = np.sqrt((scores**2).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        correlations = (centred.T @ scores) / np.outer(deviation, score_deviation)
    # A constant feature (or a component with no variance) correlates with nothing.
    correlations = np.nan_to_num(np.clip(correlations, -1.0, 1.0))
    explained = np.nan_to_num(pca.explained_variance_ratio_)
    return PcaSummary(
        features=list(features),
        explained=explained,
        cumulative=np.cumsum(explained),
        loadings=pca.components_.T,
        correlations=correlations,
    )
