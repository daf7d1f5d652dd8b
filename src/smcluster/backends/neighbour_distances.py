"""Exact Euclidean distances to neighbours a search has already found (NumPy or CuPy).

cuML's brute-force k-NN reports sqrt(|x|^2 + |y|^2 - 2 x.y) in float32, which loses the small
distances of dense regions: about 2.5e-3 relative on an embedding spanning 0-15, and a row's
distance to itself up to 0.016. Those are the distances the k-distance knee, the outlier test
and the nearest-row assignment read, so the GPU backend recomputes them from differences.
(cuML's own `two_pass_precision` indexes the queries with the fitted rows' indices, which is
right only when the queries are the fitted rows.)
"""

from __future__ import annotations

from types import ModuleType

from .base import Array

BATCH_ELEMENTS = 2**25  # float64 differences held at once (256 MiB)


def exact_distances(
    data: Array, queries: Array, found: Array, xp: ModuleType, batch_elements: int = BATCH_ELEMENTS
) -> Array:
    """float64 distances from each query row to the rows of `data` that `found` names."""
    out = xp.empty(found.shape, dtype=xp.float64)
    per_row = max(int(found.shape[1]) * int(data.shape[1]), 1)
    step = max(batch_elements // per_row, 1)
    for start in range(0, int(found.shape[0]), step):
        stop = start + step
        rows = xp.asarray(data[found[start:stop]], dtype=xp.float64)
        diff = rows - xp.asarray(queries[start:stop], dtype=xp.float64)[:, None, :]
        out[start:stop] = xp.sqrt((diff * diff).sum(axis=-1))
    return out
