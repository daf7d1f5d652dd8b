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
    separation = xp.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
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
