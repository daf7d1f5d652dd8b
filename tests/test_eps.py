"""eps from the k-distance curve: the knee, the fallback, and the given value."""

from __future__ import annotations

import numpy as np
import pytest

from smcluster.backends.cpu import CpuBackend
from smcluster.contract.hyperparameters import parse
from smcluster.pipeline.cluster.eps import EpsChoice, choose_eps, query_neighbours, strongest_knee


def _choose(data: np.ndarray, backend=None, min_samples: str = "10", **values: str) -> EpsChoice:
    hp = parse({"eps_sample_size": "100000", "random_state": "0", **values})
    k = int(min_samples)
    return choose_eps(hp, query_neighbours(backend or CpuBackend(), hp, data, k), k)


def test_knee_between_blob_scale_and_gap_scale() -> None:
    rng = np.random.default_rng(1)
    centres = rng.uniform(-50, 50, (5, 2))
    blobs = np.concatenate([c + rng.normal(0, 0.3, (300, 2)) for c in centres])
    outliers = rng.uniform(-60, 60, (40, 2))
    data = np.concatenate([blobs, outliers]).astype(np.float32)
    choice = _choose(data, min_samples="5")
    assert choice.method == "knee"
    assert 0.05 < choice.eps < 5.0  # well above within-blob spacing, well below the gaps
    assert choice.curve[choice.knee_index] == pytest.approx(choice.eps)


def test_no_knee_falls_back_to_the_quantile() -> None:
    # Evenly spaced on a circle: every k-distance is the same, so the curve has no knee.
    angles = np.linspace(0, 2 * np.pi, 300, endpoint=False)
    data = np.column_stack([np.cos(angles), np.sin(angles)]).astype(np.float32)
    choice = _choose(data, min_samples="3")
    assert choice.method == "quantile"
    assert choice.eps == pytest.approx(np.quantile(choice.curve, 0.9))


def test_straight_curve_has_no_knee() -> None:
    assert strongest_knee(np.linspace(1.0, 2.0, 500), sensitivity=1.0) is None


def test_given_eps_wins_and_the_curve_is_drawn_only_for_the_plot() -> None:
    data = np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32)
    choice = _choose(data, eps="0.3", min_samples="4")
    assert (choice.eps, choice.method) == (0.3, "given")
    assert len(choice.curve) == 100  # plots=true (the default) draws the k-distance curve
    without_plots = _choose(data, eps="0.3", min_samples="4", plots="false")
    assert (without_plots.eps, len(without_plots.curve)) == (0.3, 0)


class LibraryFindsItsOwnCores(CpuBackend):
    """A backend whose DBSCAN finds core points itself (as cuML's does)."""

    dbscan_takes_core_distances = False


def test_no_neighbour_query_when_nothing_uses_it() -> None:
    data = np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32)
    hp = parse({"eps": "0.3", "plots": "false"})
    assert query_neighbours(LibraryFindsItsOwnCores(), hp, data, 10) is None
    sampled_hp = parse({"eps_sample_size": "100"})
    sampled = query_neighbours(LibraryFindsItsOwnCores(), sampled_hp, data, 10)
    assert sampled is not None and sampled.core_distances(10) is None


def test_one_query_gives_the_curve_and_the_core_distances() -> None:
    from sklearn.neighbors import NearestNeighbors

    data = np.random.default_rng(5).normal(size=(600, 3)).astype(np.float32)
    hp = parse({"min_samples": "7"})
    neighbours = query_neighbours(CpuBackend(), hp, data, 7)
    assert neighbours is not None and neighbours.rows is None
    expected, _ = NearestNeighbors(n_neighbors=7).fit(data).kneighbors(data)
    np.testing.assert_allclose(neighbours.core_distances(7), expected[:, -1])


def test_sampled_curve_queries_all_rows() -> None:
    data = np.random.default_rng(0).normal(size=(5000, 2)).astype(np.float32)
    full = _choose(data, min_samples="5")
    sampled = _choose(data, min_samples="5", eps_sample_size="1000")
    # A sample queried against every row sees the same densities: the eps stays close.
    assert sampled.eps == pytest.approx(full.eps, rel=0.25)
