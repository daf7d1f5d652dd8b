"""DBSCAN's automatic settings: a radius per cluster by excess of mass, knee eps with
min_samples set, the split search, validity."""

from __future__ import annotations

import numpy as np
import pytest

from smcluster.backends.cpu import CpuBackend
from smcluster.contract.hyperparameters import parse
from smcluster.pipeline.cluster.cluster import choose_eps, cluster
from smcluster.pipeline.cluster.density import (
    DOMINANT_SHARE,
    dominant_share,
    run_candidate,
    split_share,
)
from smcluster.pipeline.cluster.mass import MIN_SAMPLES, auto_min_cluster_size, select_by_mass
from smcluster.pipeline.model import ClusterModel
from smcluster.pipeline.prepare.preparation import FeaturePrep
from smcluster.pipeline.score.validity import UNDEFINED, dbcv


def _blobs(rng: np.random.Generator, centres: list[tuple[float, float]], n: int, spread: float):
    return np.concatenate([rng.normal(c, spread, (n, 2)) for c in centres]).astype(np.float32)


def test_dbcv_agrees_with_hdbscan_and_is_undefined_for_one_cluster() -> None:
    from hdbscan.validity import validity_index

    rng = np.random.default_rng(0)
    data = _blobs(rng, [(0, 0), (6, 0), (0, 6)], 150, 0.5)
    labels = np.repeat([0, 1, 2], 150)
    expected = validity_index(data.astype(np.float64), labels)
    assert dbcv(data, labels, random_state=0) == pytest.approx(expected)
    assert dbcv(data, np.zeros(len(data), int), random_state=0) == UNDEFINED
    assert dbcv(data, labels, random_state=0) > dbcv(data, rng.permutation(labels), 0)


def test_dominant_share() -> None:
    assert dominant_share(np.array([0, 0, 0, 1, -1])) == pytest.approx(0.75)
    assert dominant_share(np.array([-1, -1])) == 1.0


def test_split_share_weighs_the_largest_against_the_next() -> None:
    rim_pieces = np.array([0] * 80 + [1] * 5 + [2] * 5 + [3] * 5 + [4] * 5)
    assert dominant_share(rim_pieces) == pytest.approx(0.8)  # passes for a split, is not one
    assert split_share(rim_pieces) == pytest.approx(80 / 85)
    assert split_share(np.array([0] * 60 + [1] * 40 + [-1] * 9)) == pytest.approx(0.6)
    assert split_share(np.array([0, 0, -1])) == 1.0


def _dense_and_sparse(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two tight groups and two groups eight times as spread out (one eps cannot suit both)."""
    rng = np.random.default_rng(seed)
    parts = [
        rng.normal((0, 0), 0.15, (300, 2)),
        rng.normal((3, 0), 0.15, (300, 2)),
        rng.normal((0, 12), 1.2, (300, 2)),
        rng.normal((12, 12), 1.2, (300, 2)),
    ]
    return np.concatenate(parts).astype(np.float32), np.repeat(np.arange(4), 300)


def test_auto_settings_give_each_cluster_its_own_radius() -> None:
    from sklearn.metrics import adjusted_rand_score

    data, truth = _dense_and_sparse(0)
    hp = parse({"random_state": "0"})
    chosen = select_by_mass(CpuBackend(), hp, data)
    labels = chosen.sample_labels
    assert len(np.unique(labels[labels >= 0])) == 4
    assert adjusted_rand_score(truth[labels >= 0], labels[labels >= 0]) == 1.0
    assert (labels < 0).mean() < 0.1
    assert chosen.min_cluster_size == auto_min_cluster_size(len(data)) == 24
    radius = {int(c): chosen.member_radii[chosen.member_labels == c][0] for c in range(4)}
    dense = {int(c) for c in np.unique(labels[:600]) if c >= 0}  # the two tight groups
    assert max(radius[c] for c in dense) * 3 < min(r for c, r in radius.items() if c not in dense)
    # a cluster's radius is the largest core distance among its rows (MIN_SAMPLES, self included)
    from sklearn.neighbors import NearestNeighbors

    core = NearestNeighbors(n_neighbors=MIN_SAMPLES).fit(data).kneighbors(data)[0][:, -1]
    for c in range(4):
        assert radius[c] == pytest.approx(core[labels == c].max(), rel=1e-5)
    assert chosen.eps.method == "per_cluster" and chosen.eps.eps == max(radius.values())


def test_rows_outside_the_sample_and_new_rows_follow_the_same_rule() -> None:
    data, truth = _dense_and_sparse(1)
    hp = parse({"random_state": "0", "eps_sample_size": "400"})
    clustering = cluster(CpuBackend(), hp, data, choose_eps(CpuBackend(), hp, data))
    labels = np.asarray(clustering.labels)
    assert clustering.info == {"min_samples": MIN_SAMPLES, "min_cluster_size": 10}
    assert len(clustering.reference_points) <= 400 and clustering.reference_radii is not None
    clustered = labels >= 0
    assert clustered.mean() > 0.9
    for group in range(4):  # each true group is one cluster
        assert len(np.unique(labels[(truth == group) & clustered])) == 1
    model = ClusterModel(
        prep=FeaturePrep(["x", "y"], "median", "none", "none"),
        reducer=None,
        core_points=clustering.reference_points,
        core_labels=clustering.reference_labels,
        eps=clustering.radius,
        radii=clustering.reference_radii,
    )
    new, _ = _dense_and_sparse(2)
    far = np.array([[6.0, 6.0], [1.5, 0.0]], dtype=np.float32)  # between groups: noise
    rows = np.concatenate([new, far])
    assigned = model.label(rows)
    assert (assigned[-2:] == -1).all()
    assert (assigned[:-2] >= 0).mean() > 0.9


def test_a_dominant_cluster_makes_the_knee_give_way_to_a_split() -> None:
    """Two uniform squares joined by a sparse bridge: the knee eps keeps one cluster."""
    rng = np.random.default_rng(2)
    left = rng.uniform((0, 0), (4, 4), (800, 2))
    right = rng.uniform((4.3, 0), (8.3, 4), (800, 2))
    bridge = rng.uniform((4, 1.5), (4.3, 2.5), (8, 2))
    data = np.concatenate([left, right, bridge]).astype(np.float32)
    hp = parse({})
    run = run_candidate(CpuBackend(), hp, data, 16)
    labels = np.asarray(run.labels)
    assert run.eps.method == "split" and run.split_quantile is not None
    assert len(run.eps.curve) and run.eps.knee_index is not None  # the knee is still plotted
    assert dominant_share(labels) <= DOMINANT_SHARE
    assert len(set(labels[:800]) - {-1}) == 1 and len(set(labels[800:1600]) - {-1}) == 1
    assert labels[0] != labels[800]
    given = run_candidate(CpuBackend(), parse({"eps": str(run.eps.eps * 3)}), data, 16)
    assert given.eps.method == "given"  # a given eps is never second-guessed


def _standardized(points: np.ndarray) -> np.ndarray:
    return ((points - points.mean(axis=0)) / points.std(axis=0)).astype(np.float32)


def test_the_split_cuts_touching_diamonds_at_the_neck_not_at_their_rims() -> None:
    """FCPS TwoDiamonds: smaller eps peels pieces off the uniform rims before the neck gives."""
    rng = np.random.default_rng(0)

    def diamond(centre_x: float) -> np.ndarray:
        return rng.uniform(-1, 1, (400, 2)) @ np.array([[1, 1], [-1, 1]]) / 2 + (centre_x, 0)

    data = _standardized(np.concatenate([diamond(-1.0), diamond(1.02)]))
    best = run_candidate(CpuBackend(), parse({}), data, 8)
    labels = np.asarray(best.labels)
    assert best.eps.method == "split"
    left, right = (np.bincount(part[part >= 0]).argmax() for part in (labels[:400], labels[400:]))
    assert left != right  # the rim-peeling rule kept one cluster for both diamonds (AMI 0.11)
    assert (labels[:400] == left).mean() > 0.6 and (labels[400:] == right).mean() > 0.6


def test_a_split_must_cut_the_dominant_cluster_not_carve_up_the_noise() -> None:
    """FCPS Atom at min_samples=32: the knee keeps the dense core and leaves the sparse shell
    as noise; a smaller eps that only makes shell pieces (core whole) is not a split."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        core = rng.normal(0, 0.6, (400, 3))
        direction = rng.normal(size=(400, 3))
        shell = direction / np.linalg.norm(direction, axis=1, keepdims=True)
        data = _standardized(np.concatenate([core, shell * rng.uniform(4, 5, (400, 1))]))
        run = run_candidate(CpuBackend(), parse({}), data, 32)
        assert run.eps.method == "knee", seed
        labels = np.asarray(run.labels)
        assert len(set(labels[:400]) - {-1}) == 1 and set(labels[400:]) == {-1}
