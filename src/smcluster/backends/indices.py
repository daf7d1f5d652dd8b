"""Davies-Bouldin and Calinski-Harabasz written once over `xp` (NumPy or CuPy).

The GPU backend uses them on CuPy arrays; the tests check them against scikit-learn on NumPy.
Both are O(n * k): one pass for the centroids, one for the dispersions.
"""

from __future__ import annotations

from typing import Any


def _centroids(data: Any, labels: Any, xp: Any) -> tuple[Any, Any, Any]:
    clusters, inverse = xp.unique(labels, return_inverse=True)
    inverse = inverse.reshape(-1)
    k, width = int(clusters.shape[0]), data.shape[1]
    counts = xp.bincount(inverse, minlength=k).astype(xp.float64)
    sums = xp.zeros((k, width), dtype=xp.float64)
    for column in range(width):  # bincount per column: no (n, k) one-hot matrix
        sums[:, column] = xp.bincount(inverse, weights=data[:, column], minlength=k)
    return sums / counts[:, None], inverse, counts


def davies_bouldin(data: Any, labels: Any, xp: Any) -> float:
    data = data.astype(xp.float64)
    centres, inverse, counts = _centroids(data, labels, xp)
    k = centres.shape[0]
    distance_to_centre = xp.sqrt(((data - centres[inverse]) ** 2).sum(axis=1))
    scatter = xp.bincount(inverse, weights=distance_to_centre, minlength=k) / counts
    # |a|^2 + |b|^2 - 2 a.b: k x k temporaries, never k x k x width (24 GB at k=10,000 and 30
    # columns in float64); scikit-learn's euclidean_distances computes it the same way.
    squared = (centres**2).sum(axis=1)
    gram = squared[:, None] + squared[None, :] - 2.0 * (centres @ centres.T)
    separation = xp.sqrt(xp.maximum(gram, 0.0))
    xp.fill_diagonal(separation, 0.0)  # rounding leaves tiny values where there must be none
    if float(xp.abs(scatter).max()) == 0 or float(xp.abs(separation).max()) == 0:
        return 0.0
    separation = xp.where(separation == 0, xp.inf, separation)
    ratio = (scatter[:, None] + scatter[None, :]) / separation
    return float(ratio.max(axis=1).mean())


def calinski_harabasz(data: Any, labels: Any, xp: Any) -> float:
    data = data.astype(xp.float64)
    n = data.shape[0]
    centres, inverse, counts = _centroids(data, labels, xp)
    k = centres.shape[0]
    mean = data.mean(axis=0)
    between = float((counts * ((centres - mean) ** 2).sum(axis=1)).sum())
    within = float(((data - centres[inverse]) ** 2).sum())
    if within == 0:
        return 1.0
    return float(between * (n - k) / (within * (k - 1)))
