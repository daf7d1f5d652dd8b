"""The compiled placement of new rows gives umap-learn's own result, to the bit."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from smcluster.backends.numba_cache import enable_numba_cache


def random_graph(rng: np.random.Generator, rows: int, columns: int) -> sp.csr_matrix:
    """Rows of 0 to 40 strengths in (0, 1], some exactly 1 (a new row equal to a fitted one)."""
    counts = rng.integers(0, 41, rows)
    counts[:3] = [0, 1, 15]
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = np.concatenate([rng.choice(columns, c, replace=False) for c in counts])
    data = (rng.random(indptr[-1]) ** 3).astype(np.float32)
    data[rng.random(data.size) < 0.01] = 1.0
    return sp.csr_matrix((data, indices, indptr), shape=(rows, columns))


def test_placement_equals_umap_learns_loop_bit_for_bit():
    import umap  # noqa: F401  (loads umap.umap_)
    from umap.umap_ import init_graph_transform as umaps

    from smcluster.backends.umap_transform import init_graph_transform

    rng = np.random.default_rng(0)
    embedding = rng.normal(size=(500, 5)).astype(np.float32)
    graph = random_graph(rng, 2_000, 500)
    expected = umaps(graph, embedding)
    got = init_graph_transform(graph, embedding)
    assert got.dtype == np.float32
    assert np.isnan(got[0]).all() and np.isnan(expected[0]).all()
    np.testing.assert_array_equal(got, expected)  # NaN rows compare equal here


def test_installed_transform_gives_the_same_embedding_as_umap_learns():
    import umap
    import umap.umap_ as umap_module

    from smcluster.backends import umap_transform

    enable_numba_cache()
    rng = np.random.default_rng(1)
    fitted = rng.normal(size=(1_500, 8)).astype(np.float32)
    new = rng.normal(size=(2_000, 8)).astype(np.float32)
    model = umap.UMAP(n_components=3, random_state=0).fit(fitted)
    original = umap_module.init_graph_transform
    if umap_transform._original is not None:  # installed earlier in this process
        original = umap_transform._original
        umap_module.init_graph_transform = original
    expected = model.transform(new)
    umap_transform._original = None
    assert umap_transform.install() is True
    assert umap_module.init_graph_transform is umap_transform.init_graph_transform
    assert umap_transform.install() is False  # once per process
    np.testing.assert_array_equal(model.transform(new), expected)
