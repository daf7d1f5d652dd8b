"""DBSCAN's `eps` from the k-distance curve: its knee (kneed), or a documented fallback."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from kneed import KneeLocator

from .backends.base import Backend

log = logging.getLogger(__name__)

FLAT_TOLERANCE = 1e-4
CURVE_POINTS = 2_000  # enough to draw and to locate the knee; the curve is sorted and smooth


@dataclass
class EpsChoice:
    eps: float
    method: str  # "given", "knee" or "quantile"
    k: int
    curve: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    knee_index: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"eps": self.eps, "method": self.method, "k": self.k, "knee_index": self.knee_index}


def _downsample_sorted(values: np.ndarray, points: int) -> np.ndarray:
    if len(values) <= points:
        return values
    positions = np.linspace(0, len(values) - 1, points).round().astype(int)
    return values[positions]


def strongest_knee(curve: np.ndarray, sensitivity: float) -> int | None:
    """Index of the candidate knee that lies farthest below the curve's chord.

    kneed scans a convex increasing curve from its right end and stops at the first knee, which
    on real data is often a bump inside the outlier tail; with `online=True` it lists every
    candidate instead, and the strongest of those is the bend between clusters and noise.
    """
    if curve[-1] - curve[0] <= FLAT_TOLERANCE * abs(curve[-1]):
        return None  # flat up to float32 rounding: no bend to find
    x = np.arange(len(curve))
    locator = KneeLocator(
        x, curve, curve="convex", direction="increasing", S=sensitivity, online=True
    )
    candidates = np.array(sorted(locator.all_knees), dtype=int)
    if len(candidates) == 0:
        return None
    below_chord = candidates / x[-1] - (curve[candidates] - curve[0]) / (curve[-1] - curve[0])
    return int(candidates[np.argmax(below_chord)])


def k_distance_curve(
    backend: Backend, data: Any, k: int, sample_size: int, random_state: int
) -> np.ndarray:
    """Sorted distances to the k-th neighbour, for a sample queried against all rows."""
    rows = data.shape[0]
    if rows > sample_size:
        rng = np.random.default_rng(random_state)
        picked = np.sort(rng.choice(rows, size=sample_size, replace=False))
        queries = data[backend.xp.asarray(picked)]
    else:
        queries = data
    distances = backend.to_numpy(backend.kth_neighbor_distance(data, queries, k))
    return np.sort(distances.astype(np.float64))


def choose_eps(
    backend: Backend,
    data: Any,
    *,
    given: float | None,
    min_samples: int,
    sensitivity: float,
    fallback_quantile: float,
    sample_size: int,
    random_state: int,
) -> EpsChoice:
    """`given` wins; otherwise the knee of the k-distance curve with k = `min_samples`."""
    k = min_samples
    curve = _downsample_sorted(
        k_distance_curve(backend, data, k, sample_size, random_state), CURVE_POINTS
    )
    if given is not None:
        log.info("eps=%.6g (given)", given)
        return EpsChoice(given, "given", k, curve)
    knee_index = strongest_knee(curve, sensitivity) if len(curve) >= 3 else None
    if knee_index is not None and curve[knee_index] > 0:
        eps = float(curve[knee_index])
        log.info("eps=%.6g from the knee of the %d-distance curve (point %d)", eps, k, knee_index)
        return EpsChoice(eps, "knee", k, curve, knee_index)
    eps = float(np.quantile(curve, fallback_quantile))
    if eps <= 0:
        eps = float(curve[curve > 0][0]) if (curve > 0).any() else 1e-6
    log.warning(
        "the %d-distance curve has no knee; eps=%.6g is its %.0f%% quantile "
        "(eps_fallback_quantile); consider setting eps explicitly",
        k,
        eps,
        100 * fallback_quantile,
    )
    return EpsChoice(eps, "quantile", k, curve)
