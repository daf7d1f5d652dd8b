"""eps from the k-distance curve: the knee, the fallback, and the given value."""

from __future__ import annotations

import numpy as np
import pytest

from smcluster.backends.cpu import CpuBackend
from smcluster.eps import choose_eps, strongest_knee

ARGS = {"sensitivity": 1.0, "fallback_quantile": 0.9, "sample_size": 100_000, "random_state": 0}


def test_knee_between_blob_scale_and_gap_scale() -> None:
    rng = np.random.default_rng(1)
    centres = rng.uniform(-50, 50, (5, 2))
    blobs = np.concatenate([c + rng.normal(0, 0.3, (300, 2)) for c in centres])
    outliers = rng.uniform(-60, 60, (40, 2))
    data = np.concatenate([blobs, outliers]).astype(np.float32)
    choice = choose_eps(CpuBackend(), data, given=None, min_samples=5, **ARGS)
    assert choice.method == "knee"
    assert 0.05 < choice.eps < 5.0  # well above within-blob spacing, well below the gaps
    assert choice.curve[choice.knee_index] == pytest.approx(choice.eps)


def test_no_knee_falls_back_to_the_quantile() -> None:
    # Evenly spaced on a circle: every k-distance is the same, so the curve has no knee.
    angles = np.linspace(0, 2 * np.pi, 300, endpoint=False)
    data = np.column_stack([np.cos(angles), np.sin(angles)]).astype(np.float32)
    choice = choose_eps(CpuBackend(), data, given=None, min_samples=3, **ARGS)
    assert choice.method == "quantile"
    assert choice.eps == pytest.approx(np.quantile(choice.curve, 0.9))


def test_straight_curve_has_no_knee() -> None:
    assert strongest_knee(np.linspace(1.0, 2.0, 500), sensitivity=1.0) is None


def test_given_eps_wins_and_curve_is_still_recorded() -> None:
    data = np.random.default_rng(0).normal(size=(100, 2)).astype(np.float32)
    choice = choose_eps(CpuBackend(), data, given=0.3, min_samples=4, **ARGS)
    assert (choice.eps, choice.method) == (0.3, "given")
    assert len(choice.curve) == 100


def test_sampled_curve_queries_all_rows() -> None:
    data = np.random.default_rng(0).normal(size=(5000, 2)).astype(np.float32)
    full = choose_eps(CpuBackend(), data, given=None, min_samples=5, **ARGS)
    sampled = choose_eps(
        CpuBackend(), data, given=None, min_samples=5, **{**ARGS, "sample_size": 1000}
    )
    # A sample queried against every row sees the same densities: the eps stays close.
    assert sampled.eps == pytest.approx(full.eps, rel=0.25)
