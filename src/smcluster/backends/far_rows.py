"""Rows whose k-th nearest reference row lies beyond a radius: exact, on the CPU, mostly without
a full k-NN search.

A brute-force k-NN of every row against the reference costs rows x reference distances and a
partial sort of each row's list: at 1M rows against a 50,000-row reference, 70 of the 270 s a
job took. Most rows are far *inside* the radius, and a few candidates settle that: the k-th
smallest distance to *any* k reference rows bounds the k-th nearest from above. The reference
is split into cells by its rows' nearest of a few seeded pivot rows; a row's bound comes from
the members of its own cell, and only rows whose bound is not clearly inside the radius (the
far rows themselves and a few at a cell's edge) get scikit-learn's exact search. So every answer
is the exact search's answer: bounds are computed in float64 and must clear the radius by more
than their rounding error.
"""

from __future__ import annotations

import numpy as np

from .host_index import host_neighbors

REFERENCE_PER_CELL = 800  # reference rows per cell: the work per row of the bound pass
MAX_CELLS = 256
DISTANCES_PER_BLOCK = 4_000_000  # float64 distances held at once (32 MB)
PIVOT_SEED = 0
# Relative and absolute (times the squared norms) slack for float64 rounding of |q|²+|m|²-2q·m.
RELATIVE_SLACK = 1e-9
ABSOLUTE_SLACK = 1e-12


def _nearest_pivot(rows: np.ndarray, pivots: np.ndarray) -> np.ndarray:
    pivot_norms = np.einsum("ij,ij->i", pivots, pivots)
    block = max(1, DISTANCES_PER_BLOCK // len(pivots))
    cells = np.empty(len(rows), dtype=np.int64)
    for start in range(0, len(rows), block):
        chunk = rows[start : start + block].astype(np.float64)
        # argmin of |p|² - 2 r·p is the nearest pivot (|r|² is the same for every pivot).
        cells[start : start + block] = np.argmin(pivot_norms - 2.0 * chunk @ pivots.T, axis=1)
    return cells


def _cell_bounds(reference: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Per query, the squared k-th smallest distance to its cell's reference rows (an upper
    bound on the true k-th nearest), minus a rounding margin; inf where the cell is too small."""
    n_cells = int(np.clip(len(reference) // REFERENCE_PER_CELL, 1, MAX_CELLS))
    rng = np.random.default_rng(PIVOT_SEED)
    pivots = reference[rng.choice(len(reference), n_cells, replace=False)].astype(np.float64)
    reference_cells = _nearest_pivot(reference, pivots)
    query_cells = _nearest_pivot(queries, pivots)
    order = np.argsort(query_cells, kind="stable")
    starts = np.searchsorted(query_cells[order], np.arange(n_cells + 1))
    bounds = np.full(len(queries), np.inf)
    for cell in range(n_cells):
        members = reference[reference_cells == cell].astype(np.float64)
        if len(members) < k:
            continue
        member_norms = np.einsum("ij,ij->i", members, members)
        slack = ABSOLUTE_SLACK * float(member_norms.max())
        rows = order[starts[cell] : starts[cell + 1]]
        block = max(1, DISTANCES_PER_BLOCK // len(members))
        for start in range(0, len(rows), block):
            picked = rows[start : start + block]
            chunk = queries[picked].astype(np.float64)
            norms = np.einsum("ij,ij->i", chunk, chunk)
            squared = norms[:, None] + member_norms[None, :] - 2.0 * chunk @ members.T
            kth = np.partition(squared, k - 1, axis=1)[:, k - 1]
            bounds[picked] = kth * (1 + RELATIVE_SLACK) + ABSOLUTE_SLACK * norms + slack
    return bounds


def beyond_kth_nearest(
    reference: np.ndarray, queries: np.ndarray, k: int, radius: float, chunk: int = 100_000
) -> np.ndarray:
    """True for each query row whose `k`-th nearest reference row lies farther than `radius`
    (scikit-learn's distances; `k` at most the reference's rows)."""
    reference = np.asarray(reference, dtype=np.float32)
    queries = np.asarray(queries, dtype=np.float32)
    beyond = np.zeros(len(queries), dtype=bool)
    if len(queries) == 0:
        return beyond
    inside = _cell_bounds(reference, queries, k) < radius * radius
    undecided = np.flatnonzero(~inside)
    if len(undecided):
        index = host_neighbors(len(undecided), n_neighbors=k).fit(reference)
        for start in range(0, len(undecided), chunk):
            picked = undecided[start : start + chunk]
            distances, _ = index.kneighbors(queries[picked])
            beyond[picked] = distances[:, -1] > radius
    return beyond
