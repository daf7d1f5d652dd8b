"""Stage `choose_eps`: DBSCAN's `eps` from the k-distance curve's knee (kneed), or as given.

One neighbour query serves the curve and, where the backend's DBSCAN can use it, DBSCAN's core
test: the distances from each row to its `min_samples + 1` nearest rows. The curve is built only
when it is used: for `eps=auto`, or for the k-distance plot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...backends.base import Array, Backend, to_host
from ...contract.schema import Hyperparameters
from ..runtime.sampling import sample_index

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


def downsample_sorted(values: np.ndarray, points: int) -> np.ndarray:
    if len(values) <= points:
        return values
    positions = np.linspace(0, len(values) - 1, points).round().astype(int)
    return np.asarray(values[positions])


def strongest_knee(curve: np.ndarray, sensitivity: float) -> int | None:
    """Index of the candidate knee that lies farthest below the curve's chord.

    kneed scans a convex increasing curve from its right end and stops at the first knee, which
    on real data is often a bump inside the outlier tail; with `online=True` it lists every
    candidate instead, and the strongest of those is the bend between clusters and noise.
    """
    if curve[-1] - curve[0] <= FLAT_TOLERANCE * abs(curve[-1]):
        return None  # flat up to float32 rounding: no bend to find
    from kneed import KneeLocator

    x = np.arange(len(curve))
    locator = KneeLocator(
        x, curve, curve="convex", direction="increasing", S=sensitivity, online=True
    )
    candidates = np.array(sorted(locator.all_knees), dtype=int)
    if len(candidates) == 0:
        return None
    below_chord = candidates / x[-1] - (curve[candidates] - curve[0]) / (curve[-1] - curve[0])
    return int(candidates[np.argmax(below_chord)])


@dataclass
class Neighbours:
    """Sorted distances from queried rows to their nearest rows (the first is the row itself)."""

    distances: Array  # (queried rows x n), float64, on the backend
    rows: np.ndarray | None  # indices of the queried rows; None: every row, in order

    def core_distances(self, min_samples: int) -> Array | None:
        """Each row's distance to its `min_samples`-th nearest row (itself included)."""
        if self.rows is not None or self.distances.shape[1] < min_samples:
            return None
        return self.distances[:, min_samples - 1]

    def core_distance_quantile(self, min_samples: int, quantile: float) -> float:
        """A quantile of the queried rows' core distances (all rows, or the sample queried)."""
        return float(np.quantile(to_host(self.distances[:, min_samples - 1]), quantile))


def query_neighbours(
    backend: Backend, hp: Hyperparameters, data: Array, min_samples: int
) -> Neighbours | None:
    """The one neighbour query of a DBSCAN run, or None when nothing would use it."""
    need_curve = hp.eps is None or hp.plots
    need_core = backend.dbscan_takes_core_distances
    if not (need_curve or need_core):
        return None
    rows = data.shape[0]
    n_neighbors = min_samples + 1 if need_curve else min_samples
    if need_core:
        return Neighbours(backend.neighbor_distances(data, data, n_neighbors), None)
    picked = sample_index(rows, hp.eps_sample_size, hp.random_state)
    queries = data if len(picked) == rows else data[backend.xp.asarray(picked)]
    return Neighbours(backend.neighbor_distances(data, queries, n_neighbors), picked)


def k_distance_curve(neighbours: Neighbours, k: int, sample_size: int, seed: int) -> np.ndarray:
    """Sorted distances to the k-th neighbour (itself excluded) of up to `sample_size` rows."""
    column = to_host(neighbours.distances[:, k])
    if neighbours.rows is None:  # every row was queried: keep the rows a sampled query would
        column = column[sample_index(len(column), sample_size, seed)]
    return np.sort(column.astype(np.float64))


def choose_eps(hp: Hyperparameters, neighbours: Neighbours | None, min_samples: int) -> EpsChoice:
    """`eps` as given, or the knee of the k-distance curve with k = `min_samples`."""
    k = min_samples
    curve = np.empty(0, np.float64)
    if neighbours is not None and neighbours.distances.shape[1] > k:
        curve = downsample_sorted(
            k_distance_curve(neighbours, k, hp.eps_sample_size, hp.random_state), CURVE_POINTS
        )
    if hp.eps is not None:
        log.info("eps=%.6g (given)", hp.eps)
        return EpsChoice(hp.eps, "given", k, curve)
    knee_index = strongest_knee(curve, hp.eps_knee_sensitivity) if len(curve) >= 3 else None
    if knee_index is not None and curve[knee_index] > 0:
        eps = float(curve[knee_index])
        log.info("eps=%.6g from the knee of the %d-distance curve (point %d)", eps, k, knee_index)
        return EpsChoice(eps, "knee", k, curve, knee_index)
    eps = float(np.quantile(curve, hp.eps_fallback_quantile))
    if eps <= 0:
        eps = float(curve[curve > 0][0]) if (curve > 0).any() else 1e-6
    log.warning(
        "the %d-distance curve has no knee; eps=%.6g is its %.0f%% quantile "
        "(eps_fallback_quantile); consider setting eps explicitly",
        k,
        eps,
        100 * hp.eps_fallback_quantile,
    )
    return EpsChoice(eps, "quantile", k, curve)
