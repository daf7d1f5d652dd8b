"""umap-learn's `transform` without its per-row Python loop.

`UMAP.transform` places each new row at the weighted mean of its fitted neighbours' positions
(`umap.umap_.init_graph_transform`) before optimising. umap-learn 0.5 does that in a Python loop
that slices a SciPy sparse row per new row: 55% of the time of a transform (8.3 of 14.9 s for
50,000 rows, measured on this project's 2-core machine). The numba function here runs the same
arithmetic in the same order (float32, the row sum as NumPy sums it), so its result is the same
to the bit (`tests/test_umap_transform.py` compares the two). It replaces the module attribute
that `transform` calls; the pinned umap-learn is the one it is tested against. Imported only
where UMAP is used (numba is loaded by then).
"""

from __future__ import annotations

import logging
from typing import Any

import numba
import numpy as np

log = logging.getLogger(__name__)

_original: Any = None  # umap-learn's own function, once `install` has replaced it


@numba.njit(cache=True, fastmath=False)  # type: ignore[untyped-decorator]
def numpy_sum(values: np.ndarray) -> Any:
    """float32 sum in NumPy's order: sequential below 8 values, else 8 partial sums combined
    pairwise, then the remainder (NumPy's pairwise sum for up to 128 values; rows of the
    transform graph have `n_neighbors` values)."""
    n = values.size
    if n < 8:
        total = np.float32(-0.0)  # as NumPy starts
        for i in range(n):
            total += values[i]
        return total
    partial = values[:8].copy()
    i = 8
    while i < n - (n % 8):
        for lane in range(8):
            partial[lane] += values[i + lane]
        i += 8
    total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + (
        (partial[4] + partial[5]) + (partial[6] + partial[7])
    )
    while i < n:
        total += values[i]
        i += 1
    return total


@numba.njit(cache=True, fastmath=False)  # type: ignore[untyped-decorator]
def init_graph_transform_csr(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, embedding: np.ndarray
) -> np.ndarray:
    rows = indptr.size - 1
    result = np.zeros((rows, embedding.shape[1]), dtype=np.float32)
    for row in range(rows):
        start, stop = indptr[row], indptr[row + 1]
        if start == stop:
            result[row, :] = np.nan
            continue
        row_sum = numpy_sum(data[start:stop])
        for j in range(start, stop):
            value = data[j]
            if value == 1:
                result[row, :] = embedding[indices[j], :]
                break
            weight = value / row_sum
            for d in range(embedding.shape[1]):
                result[row, d] += weight * embedding[indices[j], d]
    return result


def init_graph_transform(graph: Any, embedding: np.ndarray) -> np.ndarray:
    """Drop-in for `umap.umap_.init_graph_transform` (a CSR graph of float32 strengths)."""
    csr = graph.tocsr()
    if csr.dtype != np.float32 or embedding.dtype != np.float32:  # not what umap-learn passes
        return _original(graph, embedding)
    if not csr.has_canonical_format:
        # umap-learn's `graph_row.sum()` puts each row in canonical form (columns sorted,
        # duplicates summed) before its loop reads it: do the same, on a copy.
        csr = csr.copy()
        csr.sum_duplicates()
    placed = init_graph_transform_csr(
        csr.indptr, csr.indices, csr.data, np.ascontiguousarray(embedding)
    )
    return np.asarray(placed, dtype=np.float32)


def install() -> bool:
    """Point umap-learn's `transform` at the compiled placement; once per process."""
    global _original
    if _original is not None:
        return False
    import umap.umap_ as umap_module

    if not hasattr(umap_module, "init_graph_transform"):
        log.info("umap-learn has no init_graph_transform; its own transform is used as it is")
        return False
    _original = umap_module.init_graph_transform
    umap_module.init_graph_transform = init_graph_transform
    return True


def prepare_umap_learn() -> None:
    """What every process that fits or applies umap-learn's UMAP does first, after `import umap`:
    numba's cache on, and the compiled placement of new rows in place."""
    from .numba_cache import enable_numba_cache

    enable_numba_cache()
    install()
