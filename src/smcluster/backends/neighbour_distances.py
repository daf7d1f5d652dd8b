"""Exact Euclidean k nearest neighbours on top of a float32 search (NumPy or CuPy).

cuML's brute-force k-NN reports sqrt(|x|^2 + |y|^2 - 2 x.y) in float32, which loses the small
distances of dense regions: about 2.5e-3 relative on an embedding spanning 0-15, and a row's
distance to itself up to 0.016. Those are the distances the k-distance knee, the outlier test
and the nearest-row assignment read, so the GPU backend recomputes them from differences.
(cuML's own `two_pass_precision` indexes the queries with the fitted rows' indices, which is
right only when the queries are the fitted rows.)
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from .base import Array

# Neighbour coordinates per batch: the gathered rows, their float64 copy, the differences and
# their squares take about 28 bytes each, so 2**23 of them about 230 MiB at once.
BATCH_ELEMENTS = 2**23
NEIGHBOUR_MARGIN = 8  # extra neighbours fetched so float32 near-ties at the k-th are not lost

# (data, queries, how many) -> indices of each query's nearest rows of data, nearest first
Search = Callable[[Array, Array, int], Array]


def exact_neighbours(
    data: Array,
    queries: Array,
    k: int,
    xp: ModuleType,
    search: Search,
    chunk_rows: int | None = None,
) -> tuple[Array, Array]:
    """The k nearest rows of `data` per query: exact float64 distances (sorted) and indices.

    `search` ranks by float32 |x|^2 + |y|^2 - 2 x.y (cuML's brute force). Centring the data
    first shrinks the norms and with them the cancellation; `NEIGHBOUR_MARGIN` extra
    neighbours are fetched so that a near-tie the float32 ranking swapped at the k-th place is
    still among them; the distances are then recomputed exactly and the k smallest kept.
    With `chunk_rows`, the queries are searched that many at a time: the same answer, with
    the search's working arrays (about 28 bytes per query per neighbour fetched, see
    `memory_plan.py`) bounded whatever the number of queries.
    """
    center = data.mean(axis=0)
    fetch = min(k + NEIGHBOUR_MARGIN, int(data.shape[0]))
    centred = data - center
    rows = int(queries.shape[0])
    step = rows if not chunk_rows else max(int(chunk_rows), 1)
    parts = []
    for start in range(0, rows, step) if rows else [0]:
        chunk = queries[start : start + step]
        found = search(centred, chunk - center, fetch)
        distances = exact_distances(data, chunk, found, xp)
        order = xp.argsort(distances, axis=1)[:, :k]
        parts.append(
            (xp.take_along_axis(distances, order, axis=1), xp.take_along_axis(found, order, axis=1))
        )
    if len(parts) == 1:
        return parts[0]
    return (
        xp.concatenate([d for d, _ in parts], axis=0),
        xp.concatenate([f for _, f in parts], axis=0),
    )


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
