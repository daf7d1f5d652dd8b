"""DBSCAN's automatic settings: min_samples by DBCV, knee eps, the split search, validity."""

from __future__ import annotations

import numpy as np
import pytest

from smcluster.backends.cpu import CpuBackend
from smcluster.contract.hyperparameters import parse
from smcluster.pipeline.density import (
    DOMINANT_SHARE,
    LADDER,
    choose_min_samples,
    dominant_share,
    run_candidate,
    split_share,
)
from smcluster.pipeline.validity import UNDEFINED, dbcv


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


def test_min_samples_auto_tries_the_ladder_and_keeps_the_best_dbcv(caplog) -> None:
    rng = np.random.default_rng(1)
    data = _blobs(rng, [(0, 0), (8, 0), (0, 8), (8, 8)], 200, 0.6)
    hp = parse({"random_state": "0"})
    with caplog.at_level("INFO", logger="smcluster.pipeline.density"):
        best = choose_min_samples(CpuBackend(), hp, data)
    tried = [m for m in LADDER if f"min_samples=auto: {m} gives" in caplog.text]
    assert tried == list(LADDER)
    assert best.min_samples in LADDER
    labels = np.asarray(best.labels)
    assert len(np.unique(labels[labels >= 0])) == 4
    assert best.validity == max(
        dbcv(data, run_candidate(CpuBackend(), hp, data, m).labels, 0) for m in LADDER
    )


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
    best = choose_min_samples(CpuBackend(), parse({}), data)
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
