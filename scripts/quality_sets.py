"""The labelled quality battery behind `make quality`: seeded tables with known groups.

Every set is a function of a seed returning `(features, truth)`: a pandas DataFrame of numeric
feature columns (customer tables may hold NaN and skewed or zero-inflated columns) and one label
per row, planted outliers labelled `"noise"`. Nothing is downloaded: scikit-learn's bundled
tables, its generators, and look-alikes of the FCPS and SIPU benchmark shapes written here from
their published descriptions (sizes and cluster counts follow the originals; the points are
drawn afresh, so scores are comparable in kind, not to the digit, with published ones).

Families: shape-2d, shape-3d, gaussian, noisy, real, customer, high-dim, and `benchmark`: the
real files of a folder in the format of Gagolewski's clustering benchmark suite
(`<battery>_<name>.data.gz` whitespace-separated rows, `<battery>_<name>.labels0.gz` one integer
label a row, 0 = noise), read by `benchmark_sets` and never copied into the repository.

    python scripts/quality_sets.py          # list the sets (name, family, rows, features)
    python scripts/quality_sets.py --benchmarks ../shared/benchmarks
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets

NOISE = "noise"
FAMILIES = (
    "shape-2d",
    "shape-3d",
    "gaussian",
    "noisy",
    "real",
    "customer",
    "high-dim",
    "benchmark",
)
BENCHMARK_ENV = "SMCLUSTER_BENCHMARKS"  # a folder of benchmark-suite files (see benchmark_sets)
DEFAULT_BENCHMARKS = Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks"

Table = tuple[pd.DataFrame, np.ndarray]


@dataclass(frozen=True)
class QualitySet:
    name: str
    family: str
    description: str
    make: Callable[[int], Table]
    seed: int = 0

    def load(self) -> Table:
        features, truth = self.make(self.seed)
        truth = np.asarray(truth).astype(str)
        if len(features) != len(truth):
            raise ValueError(f"{self.name}: {len(features)} rows but {len(truth)} labels")
        return features.reset_index(drop=True), truth


REGISTRY: dict[str, QualitySet] = {}


def register(name: str, family: str, description: str, seed: int = 0):
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")

    def wrap(make: Callable[[int], Table]) -> Callable[[int], Table]:
        REGISTRY[name] = QualitySet(name, family, description, make, seed)
        return make

    return wrap


# --- helpers ---------------------------------------------------------------------------------


def _frame(points: np.ndarray, prefix: str = "x") -> pd.DataFrame:
    return pd.DataFrame(points, columns=[f"{prefix}{i}" for i in range(points.shape[1])])


def _stack(parts: list[tuple[np.ndarray, str]], rng: np.random.Generator) -> Table:
    """Concatenate (points, label) parts and shuffle the rows."""
    points = np.vstack([p for p, _ in parts])
    truth = np.concatenate([np.full(len(p), label, dtype=object) for p, label in parts])
    order = rng.permutation(len(points))
    return _frame(points[order]), truth[order]


def _uniform_box(rng: np.random.Generator, n: int, low, high) -> np.ndarray:
    return rng.uniform(low, high, size=(n, len(low)))


def _disk(rng: np.random.Generator, n: int, centre, radius: float, inner: float = 0.0):
    """Uniform in a disk (or annulus from `inner` to `radius`)."""
    r = np.sqrt(rng.uniform(inner**2, radius**2, n))
    t = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([centre[0] + r * np.cos(t), centre[1] + r * np.sin(t)])


def _sphere_surface(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _with_uniform_noise(
    points: np.ndarray, truth: np.ndarray, share: float, rng: np.random.Generator, pad=0.1
) -> Table:
    """Add `share` (of the final rows) uniform points over the padded bounding box as noise."""
    n_noise = round(len(points) * share / (1 - share))
    low, high = points.min(axis=0), points.max(axis=0)
    span = high - low
    noise = rng.uniform(low - pad * span, high + pad * span, size=(n_noise, points.shape[1]))
    return _stack([*_split(points, truth), (noise, NOISE)], rng)


def _split(points: np.ndarray, truth: np.ndarray) -> list[tuple[np.ndarray, str]]:
    truth = np.asarray(truth).astype(str)
    return [(points[truth == label], label) for label in np.unique(truth)]


# --- real tables (scikit-learn's bundled copies; no download) --------------------------------


def _bundled(loader) -> Table:
    bunch = loader(as_frame=True)
    return bunch.data.astype(float), bunch.target.to_numpy()


@register("iris", "real", "UCI iris: 3 species, 4 measurements (150 x 4)")
def _iris(seed: int) -> Table:
    return _bundled(datasets.load_iris)


@register("wine", "real", "UCI wine: 3 cultivars, 13 chemical measurements in mixed units")
def _wine(seed: int) -> Table:
    return _bundled(datasets.load_wine)


@register("breast_cancer", "real", "UCI breast cancer Wisconsin: benign/malignant, 30 features")
def _breast_cancer(seed: int) -> Table:
    return _bundled(datasets.load_breast_cancer)


@register("digits", "real", "UCI handwritten digits: 10 classes, 8x8 pixel counts (64 features)")
def _digits(seed: int) -> Table:
    return _bundled(datasets.load_digits)


# --- FCPS look-alikes (Ultsch 2005, Fundamental Clustering Problems Suite) ------------------


@register(
    "atom", "shape-3d", "FCPS Atom: dense core ball inside a sparse spherical shell (800 x 3)"
)
def _atom(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    core = rng.normal(0, 0.6, size=(400, 3))
    shell = _sphere_surface(rng, 400) * rng.uniform(4.0, 5.0, size=(400, 1))
    return _stack([(core, "core"), (shell, "shell")], rng)


@register("chainlink", "shape-3d", "FCPS Chainlink: two interlocked 3-D rings (1000 x 3)")
def _chainlink(seed: int) -> Table:
    rng = np.random.default_rng(seed)

    def ring(n: int) -> np.ndarray:
        t = rng.uniform(0, 2 * np.pi, n)
        r = 1 + rng.normal(0, 0.08, n)
        return np.column_stack([r * np.cos(t), r * np.sin(t), rng.normal(0, 0.08, n)])

    a = ring(500)  # in the x-y plane around the origin
    b = ring(500)[:, [0, 2, 1]] + [1.0, 0.0, 0.0]  # in the x-z plane through a's rim
    return _stack([(a, "ring_a"), (b, "ring_b")], rng)


@register(
    "target",
    "shape-2d",
    "FCPS Target: centre blob inside a ring, 4 small outlier groups in the corners (770 x 2)",
)
def _target(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    centre = _disk(rng, 363, (0, 0), 0.6)
    ring = _disk(rng, 395, (0, 0), 2.4, inner=2.0)
    corners = [
        rng.normal(c, 0.08, size=(3, 2))
        for c in ((3.3, 3.3), (-3.3, 3.3), (3.3, -3.3), (-3.3, -3.3))
    ]
    return _stack([(centre, "centre"), (ring, "ring"), (np.vstack(corners), NOISE)], rng)


@register("hepta", "shape-3d", "FCPS Hepta: 7 well-separated 3-D gaussians, one denser (212 x 3)")
def _hepta(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    centres = [(0, 0, 0), (3, 0, 0), (-3, 0, 0), (0, 3, 0), (0, -3, 0), (0, 0, 3), (0, 0, -3)]
    sizes = [32, 30, 30, 30, 30, 30, 30]
    parts = [
        (rng.normal(c, 0.3 if i == 0 else 0.45, size=(n, 3)), f"c{i}")
        for i, (c, n) in enumerate(zip(centres, sizes, strict=True))
    ]
    return _stack(parts, rng)


@register("tetra", "shape-3d", "FCPS Tetra: 4 almost-touching gaussians on a tetrahedron (400 x 3)")
def _tetra(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    vertices = np.array([(1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)], dtype=float)
    parts = [(rng.normal(v, 0.45, size=(100, 3)), f"v{i}") for i, v in enumerate(vertices)]
    return _stack(parts, rng)


@register(
    "lsun", "shape-2d", "FCPS Lsun: two bars forming an L and a ball, uneven spread (400 x 2)"
)
def _lsun(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    vertical = _uniform_box(rng, 100, (0.0, 0.0), (1.0, 4.0))
    horizontal = _uniform_box(rng, 100, (1.5, 0.0), (5.5, 1.0))
    ball = rng.normal((4.0, 3.2), 0.5, size=(200, 2))
    return _stack([(vertical, "vertical"), (horizontal, "horizontal"), (ball, "ball")], rng)


@register(
    "twodiamonds",
    "shape-2d",
    "FCPS TwoDiamonds: two uniform diamonds touching at one corner (800 x 2)",
)
def _twodiamonds(seed: int) -> Table:
    rng = np.random.default_rng(seed)

    def diamond(n: int, cx: float) -> np.ndarray:
        square = rng.uniform(-1, 1, size=(n, 2))
        rotated = square @ np.array([[1, 1], [-1, 1]]) / 2  # |x| + |y| <= 1
        return rotated + np.array([cx, 0.0])

    return _stack([(diamond(400, -1.0), "left"), (diamond(400, 1.02), "right")], rng)


@register(
    "wingnut",
    "shape-2d",
    "FCPS WingNut: two rectangles whose density falls off away from a narrow gap (1016 x 2)",
)
def _wingnut(seed: int) -> Table:
    rng = np.random.default_rng(seed)

    def half(n: int, y_offset: float) -> np.ndarray:
        # density grows linearly from the gap (x = 0) to the outer end (x = 4)
        x = 0.15 + rng.triangular(0.0, 4.0, 4.0, n)
        return np.column_stack([x, rng.uniform(0, 2, n) + y_offset])

    left = half(508, 0.0) * [-1, 1]
    right = half(508, 0.4)
    return _stack([(left, "left"), (right, "right")], rng)


@register(
    "engytime",
    "shape-2d",
    "FCPS EngyTime: two overlapping gaussians of different shape, no density gap (4096 x 2)",
)
def _engytime(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    a = rng.multivariate_normal((2.0, 2.0), [[1.0, 0.5], [0.5, 1.0]], 2048)
    b = rng.multivariate_normal((5.0, 5.0), [[1.2, -0.6], [-0.6, 0.9]], 2048)
    return _stack([(a, "a"), (b, "b")], rng)


# --- SIPU look-alikes (Fränti et al., clustering basic benchmark) ----------------------------


@register(
    "aggregation",
    "shape-2d",
    "SIPU Aggregation: 7 blobs of different size, two pairs joined by narrow bridges (788 x 2)",
)
def _aggregation(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    blobs = [  # centre, radius, rows
        ((9, 22), 4.5, 170),
        ((18, 23), 3.8, 130),  # bridged to the first
        ((33, 22), 4.0, 160),
        ((8, 8), 2.5, 45),
        ((12.5, 6.5), 2.2, 35),  # touching the fourth
        ((26, 8), 3.5, 120),
        ((33, 9), 2.0, 34),  # joined to the sixth by a bridge
    ]
    parts = [(_disk(rng, n, c, r), f"b{i}") for i, (c, r, n) in enumerate(blobs)]
    # bridges: a thin line of points, each half labelled with the blob it leaves from
    for a, b, n in ((0, 1, 40), (5, 6, 54)):
        ca, cb = blobs[a][0], blobs[b][0]
        t = rng.uniform(0, 1, n)
        line = np.outer(1 - t, ca) + np.outer(t, cb) + rng.normal(0, 0.35, (n, 2))
        parts.append((line[t < 0.5], f"b{a}"))
        parts.append((line[t >= 0.5], f"b{b}"))
    return _stack(parts, rng)


@register(
    "compound",
    "shape-2d",
    "SIPU Compound: 6 groups of different density, a blob in a ring, a dense blob inside a sparse "
    "field (399 x 2)",
)
def _compound(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    parts = [
        (_disk(rng, 50, (8, 22), 2.5), "touch_a"),  # two touching dense blobs
        (_disk(rng, 45, (12.8, 22), 2.2), "touch_b"),
        (_disk(rng, 38, (10, 8), 1.0), "ring_core"),  # a small blob inside a ring
        (_disk(rng, 92, (10, 8), 4.2, inner=3.2), "ring"),
        (_disk(rng, 60, (30, 15), 2.0), "dense"),  # dense blob inside a sparse field
    ]
    field = _uniform_box(rng, 250, (22, 5), (40, 27))
    field = field[np.hypot(field[:, 0] - 30, field[:, 1] - 15) > 3.0][:114]
    parts.append((field, "sparse_field"))
    return _stack(parts, rng)


@register("jain", "shape-2d", "SIPU Jain: two crescents of very different density (373 x 2)")
def _jain(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.1 * np.pi, 0.9 * np.pi, 276)
    upper = np.column_stack([10 * np.cos(t), 6 * np.sin(t) - 1]) + rng.normal(0, 0.35, (276, 2))
    s = rng.uniform(1.1 * np.pi, 1.9 * np.pi, 97)
    lower = np.column_stack([7 * np.cos(s) + 9, 5 * np.sin(s) + 4]) + rng.normal(0, 0.6, (97, 2))
    return _stack([(upper, "dense"), (lower, "sparse")], rng)


@register("spiral", "shape-2d", "SIPU Spiral: three interleaved spiral arms (312 x 2)")
def _spiral(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    parts = []
    for arm, n in enumerate((106, 101, 105)):
        t = np.sqrt(rng.uniform(0.02, 1, n)) * 3.2 * np.pi
        angle = t + arm * 2 * np.pi / 3
        arm_points = np.column_stack([t * np.cos(angle), t * np.sin(angle)])
        parts.append((arm_points + rng.normal(0, 0.12, (n, 2)), f"arm{arm}"))
    return _stack(parts, rng)


@register(
    "pathbased",
    "shape-2d",
    "SIPU Pathbased: two blobs inside an almost-closed circular band (300 x 2)",
)
def _pathbased(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.62 * np.pi, 2.38 * np.pi, 110)  # the band opens at the bottom
    r = rng.uniform(10.0, 11.5, 110)
    band = np.column_stack([r * np.cos(t), r * np.sin(t)])
    left = rng.normal((-3.5, 1.0), (1.4, 2.2), size=(97, 2))
    right = rng.normal((3.5, 1.0), (1.4, 2.2), size=(93, 2))
    return _stack([(band, "band"), (left, "left"), (right, "right")], rng)


@register("r15", "gaussian", "SIPU R15: 15 small gaussians, 8 on a ring around 7 (600 x 2)")
def _r15(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    inner = [(0.0, 0.0)] + [(2.2 * np.cos(a), 2.2 * np.sin(a)) for a in np.arange(6) * np.pi / 3]
    outer = [(7 * np.cos(a), 7 * np.sin(a)) for a in np.arange(8) * np.pi / 4 + np.pi / 8]
    parts = [(rng.normal(c, 0.33, size=(40, 2)), f"g{i}") for i, c in enumerate(inner + outer)]
    return _stack(parts, rng)


@register(
    "s_set",
    "gaussian",
    "SIPU S2-like: 15 gaussians of varied shape and moderate overlap (5000 x 2)",
)
def _s_set(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100, size=(60, 2))
    keep = [centres[0]]
    for c in centres[1:]:  # spread the centres out: at least 17 apart
        if min(np.hypot(*(c - k)) for k in keep) > 17 and len(keep) < 15:
            keep.append(c)
    sizes = rng.multinomial(5000, np.full(len(keep), 1 / len(keep)))
    parts = []
    for i, (c, n) in enumerate(zip(keep, sizes, strict=True)):
        a = rng.normal(size=(2, 2)) * 2.4
        parts.append((rng.multivariate_normal(c, a @ a.T + 4 * np.eye(2), n), f"g{i}"))
    return _stack(parts, rng)


@register(
    "unbalance",
    "gaussian",
    "SIPU Unbalance: 3 dense clusters of 2000 and 5 sparse ones of 100 (6500 x 2)",
)
def _unbalance(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    dense = [
        (rng.normal(c, 1.0, size=(2000, 2)), f"d{i}")
        for i, c in enumerate([(0, 0), (8, 0), (4, 7)])
    ]
    sparse_centres = [(30, 5), (40, 15), (30, 25), (45, 30), (52, 5)]
    sparse = [(rng.normal(c, 2.5, size=(100, 2)), f"s{i}") for i, c in enumerate(sparse_centres)]
    return _stack(dense + sparse, rng)


# --- scikit-learn generators with planted noise --------------------------------------------


@register(
    "blobs_uneven",
    "gaussian",
    "make_blobs, 5-D: 6 blobs of uneven size (60 to 1500) and spread, plus 3% uniform noise",
)
def _blobs_uneven(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    sizes = [1500, 900, 500, 250, 120, 60]
    points, labels = datasets.make_blobs(
        n_samples=sizes,
        n_features=5,
        cluster_std=[2.2, 1.0, 1.6, 0.6, 0.9, 0.4],
        center_box=(-20, 20),
        random_state=seed,
    )
    return _with_uniform_noise(points, labels, 0.03, rng)


@register(
    "blobs_aniso",
    "gaussian",
    "make_blobs sheared (anisotropic), 3 elongated clusters in 2-D, plus 3% uniform noise",
)
def _blobs_aniso(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    points, labels = datasets.make_blobs(n_samples=1500, centers=3, random_state=170)
    points = points @ np.array([[0.6, -0.64], [-0.41, 0.85]])
    return _with_uniform_noise(points, labels, 0.03, rng)


@register("moons_noise", "noisy", "make_moons (jitter 0.08) plus 5% uniform background noise")
def _moons_noise(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    points, labels = datasets.make_moons(n_samples=1500, noise=0.08, random_state=seed)
    return _with_uniform_noise(points, labels, 0.05, rng)


@register("circles_noise", "noisy", "make_circles (factor 0.5, jitter 0.05) plus 5% uniform noise")
def _circles_noise(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    points, labels = datasets.make_circles(
        n_samples=1500, factor=0.5, noise=0.05, random_state=seed
    )
    return _with_uniform_noise(points, labels, 0.05, rng)


# --- high-dimensional gaussians ---------------------------------------------------------------


@register(
    "gauss_60d",
    "high-dim",
    "10 isotropic gaussians in 60 features, uneven sizes, 2% uniform noise (3000 rows)",
)
def _gauss_60d(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    sizes = rng.multinomial(2940, rng.dirichlet(np.full(10, 3.0)))
    points, labels = datasets.make_blobs(
        n_samples=sizes, n_features=60, cluster_std=3.0, center_box=(-6, 6), random_state=seed
    )
    return _with_uniform_noise(points, labels, 0.02, rng, pad=0.0)


# --- customer tables ---------------------------------------------------------------------------


def _demo_customers(rows: int, seed: int) -> pd.DataFrame:
    from smcluster.synthetic import make_customers

    return make_customers(rows, seed=seed)


@register(
    "customers_demo",
    "customer",
    "make_customers: 6 RFM segments, skewed spend, 2% missing opens, 3% uniform outliers",
    seed=7,
)
def _customers_demo(seed: int) -> Table:
    table = _demo_customers(6000, seed)
    return table.drop(columns=["customer_id", "segment"]), table["segment"].to_numpy()


CUSTOMER_SEGMENTS = {  # share, visits/yr, basket, categories bought (of 5), promo, tenure yrs
    "big_spenders": (0.10, 40, 180, (1, 1, 1, 1, 0), 0.05, 6),
    "grocery_regulars": (0.30, 60, 35, (1, 0, 0, 0, 0), 0.20, 4),
    "fashion_fans": (0.20, 12, 90, (0, 1, 0, 1, 0), 0.40, 3),
    "home_improvers": (0.15, 6, 140, (0, 0, 1, 0, 1), 0.10, 5),
    "lapsed": (0.25, 2, 40, (1, 0, 0, 0, 0), 0.60, 2),
}


@register(
    "customers_zero_inflated",
    "customer",
    "5 segments told apart by which of 5 spend columns are non-zero (most are 0), skewed counts",
    seed=11,
)
def _customers_zero_inflated(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    rows, categories = 5000, ("grocery", "fashion", "home", "beauty", "garden")
    shares = np.array([s[0] for s in CUSTOMER_SEGMENTS.values()])
    counts = rng.multinomial(rows, shares / shares.sum())
    frames = []
    for (name, (_, visits, basket, buys, promo, tenure)), n in zip(
        CUSTOMER_SEGMENTS.items(), counts, strict=True
    ):
        part = {"visits": rng.poisson(rng.lognormal(np.log(visits), 0.5, n))}
        for cat, bought in zip(categories, buys, strict=True):
            # a segment buys its categories most of the time and the others rarely
            active = rng.random(n) < (0.85 if bought else 0.04)
            spend = rng.lognormal(np.log(basket * max(visits, 1) / 4), 0.8, n)
            part[f"spend_{cat}"] = np.where(active, spend, 0.0).round(2)
        part["promo_share"] = rng.beta(1 + 10 * promo, 1 + 10 * (1 - promo), n).round(3)
        part["tenure_days"] = rng.gamma(3.0, tenure * 365 / 3.0, n).round()
        frame = pd.DataFrame(part)
        frame["segment"] = name
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed)
    return table.drop(columns="segment").reset_index(drop=True), table["segment"].to_numpy()


@register(
    "customers_mixed_scale",
    "customer",
    "5 segments in wildly different units (cents to years), skewed spend and counts, ~1% NaN, "
    "3% scattered outliers",
    seed=13,
)
def _customers_mixed_scale(seed: int) -> Table:
    rng = np.random.default_rng(seed)
    rows = 8000
    segments = {  # share, annual spend $, orders, recency days, age yrs, app sessions/mo, returns
        "premium": (0.12, 6000, 30, 10, 45, 40, 0.02),
        "regular": (0.33, 1200, 12, 30, 38, 12, 0.05),
        "discount_seekers": (0.25, 400, 15, 25, 29, 25, 0.15),
        "occasional": (0.20, 250, 3, 120, 55, 2, 0.04),
        "dormant": (0.10, 80, 1, 400, 62, 0.3, 0.01),
    }
    n_noise = round(rows * 0.03)
    shares = np.array([s[0] for s in segments.values()])
    counts = rng.multinomial(rows - n_noise, shares / shares.sum())
    frames = []
    for (name, (_, spend, orders, recency, age, sessions, returns)), n in zip(
        segments.items(), counts, strict=True
    ):
        n_orders = rng.poisson(rng.lognormal(np.log(orders), 0.4, n)) + 1
        frames.append(
            pd.DataFrame(
                {
                    "annual_spend_cents": (rng.lognormal(np.log(spend), 0.5, n) * 100).round(),
                    "orders": n_orders,
                    "recency_days": rng.gamma(3.0, recency / 3.0, n).round(),
                    "age_years": rng.normal(age, 6, n).clip(18, 90).round(),
                    "app_sessions_per_month": rng.gamma(2.0, sessions / 2.0, n).round(1),
                    "return_rate": rng.beta(1 + 60 * returns, 60 * (1 - returns) + 1, n).round(3),
                    "account_age_seconds": rng.gamma(4.0, 2.5e7, n).round(),
                    "segment": name,
                }
            )
        )
    noise = pd.DataFrame(
        {
            "annual_spend_cents": rng.uniform(0, 1.2e6, n_noise).round(),
            "orders": rng.integers(1, 80, n_noise),
            "recency_days": rng.uniform(0, 900, n_noise).round(),
            "age_years": rng.uniform(18, 90, n_noise).round(),
            "app_sessions_per_month": rng.uniform(0, 80, n_noise).round(1),
            "return_rate": rng.uniform(0, 0.5, n_noise).round(3),
            "account_age_seconds": rng.uniform(0, 3e8, n_noise).round(),
            "segment": NOISE,
        }
    )
    table = pd.concat([*frames, noise], ignore_index=True).sample(frac=1.0, random_state=seed)
    table = table.reset_index(drop=True)
    for column in ("age_years", "app_sessions_per_month", "return_rate"):
        table.loc[rng.random(rows) < 0.01, column] = np.nan
    return table.drop(columns="segment"), table["segment"].to_numpy()


COUNT_SEGMENTS = {  # share, spend $, basket $, tenure months, tickets/yr, returns: P(0), mean
    "loyal_high": (0.15, 4000, 120, 60, 1.0, (0.50, 1.5)),
    "family_weekly": (0.30, 1800, 60, 36, 0.5, (0.80, 1.0)),
    "bargain_hunters": (0.25, 600, 25, 24, 2.0, (0.30, 2.5)),
    "new_customers": (0.18, 300, 45, 4, 3.0, (0.95, 1.0)),
    "lapsing": (0.12, 150, 35, 48, 0.2, (0.90, 1.0)),
}


def customers_with_counts(seed: int, rows: int = 8000) -> Table:
    """5 segments told apart by skewed spend, basket and tenure; among the columns two
    small-integer counts (support tickets, Poisson; returns, zero-inflated with a zero share
    that differs by segment) and household size 1-6; ~1% NaN; 3% scattered outliers."""
    rng = np.random.default_rng(seed)
    n_noise = round(rows * 0.03)
    shares = np.array([s[0] for s in COUNT_SEGMENTS.values()])
    counts = rng.multinomial(rows - n_noise, shares / shares.sum())
    frames = []
    for (name, (_, spend, basket, tenure, tickets, (zero, returns))), n in zip(
        COUNT_SEGMENTS.items(), counts, strict=True
    ):
        frames.append(
            pd.DataFrame(
                {
                    "annual_spend": rng.lognormal(np.log(spend), 0.25, n).round(2),
                    "avg_basket": rng.lognormal(np.log(basket), 0.2, n).round(2),
                    "tenure_months": rng.gamma(25.0, tenure / 25.0, n).round(1),
                    "support_tickets": rng.poisson(tickets, n),
                    "returns": np.where(rng.random(n) < zero, 0, 1 + rng.poisson(returns, n)),
                    "household_size": rng.integers(1, 7, n),
                    "segment": name,
                }
            )
        )
    noise = pd.DataFrame(
        {
            "annual_spend": rng.uniform(50, 20000, n_noise).round(2),
            "avg_basket": rng.uniform(5, 600, n_noise).round(2),
            "tenure_months": rng.uniform(0, 150, n_noise).round(1),
            "support_tickets": rng.integers(0, 12, n_noise),
            "returns": rng.integers(0, 10, n_noise),
            "household_size": rng.integers(1, 7, n_noise),
            "segment": NOISE,
        }
    )
    table = pd.concat([*frames, noise], ignore_index=True).sample(frac=1.0, random_state=seed)
    table = table.reset_index(drop=True)
    for column in ("avg_basket", "support_tickets"):
        table.loc[rng.random(rows) < 0.01, column] = np.nan
    return table.drop(columns="segment"), table["segment"].to_numpy()


ACCOUNT_SEGMENTS = {  # share, seats, monthly $, API calls/day, P(sso, api, annual, premium
    # support), plan months (1, 12, 24, 36) probabilities
    "startups": (0.25, 5, 80, 200, (0.05, 0.7, 0.2, 0.05), (0.7, 0.25, 0.05, 0.0)),
    "smb": (0.25, 25, 400, 50, (0.2, 0.3, 0.5, 0.2), (0.3, 0.5, 0.15, 0.05)),
    "mid_market": (0.18, 120, 2500, 2000, (0.6, 0.6, 0.7, 0.5), (0.1, 0.5, 0.3, 0.1)),
    "enterprise": (0.08, 900, 20000, 20000, (0.95, 0.8, 0.9, 0.9), (0.0, 0.2, 0.4, 0.4)),
    "agencies": (0.12, 12, 900, 8000, (0.1, 0.95, 0.4, 0.3), (0.4, 0.4, 0.2, 0.0)),
    "education": (0.12, 300, 600, 100, (0.8, 0.1, 0.9, 0.1), (0.0, 0.9, 0.1, 0.0)),
}
PLAN_MONTHS = (1, 12, 24, 36)


def business_accounts(seed: int, rows: int = 6000) -> Table:
    """6 segments of business accounts told apart by skewed seats, spend and API use; among
    the columns four 0/1 flags set with segment-dependent probability and a plan length of
    1, 12, 24 or 36 months; 3% scattered outliers."""
    rng = np.random.default_rng(seed)
    n_noise = round(rows * 0.03)
    shares = np.array([s[0] for s in ACCOUNT_SEGMENTS.values()])
    counts = rng.multinomial(rows - n_noise, shares / shares.sum())
    flags = ("has_sso", "uses_api", "annual_billing", "premium_support")
    frames = []
    for (name, (_, seats, monthly, calls, flag_p, plan_p)), n in zip(
        ACCOUNT_SEGMENTS.items(), counts, strict=True
    ):
        part = {
            "seats": np.maximum(1, rng.lognormal(np.log(seats), 0.25, n).round()),
            "monthly_spend": rng.lognormal(np.log(monthly), 0.25, n).round(2),
            "api_calls_per_day": rng.lognormal(np.log(calls), 0.3, n).round(),
        }
        for flag, p in zip(flags, flag_p, strict=True):
            part[flag] = (rng.random(n) < p).astype(int)
        part["plan_months"] = rng.choice(PLAN_MONTHS, n, p=plan_p)
        frame = pd.DataFrame(part)
        frame["segment"] = name
        frames.append(frame)
    noise = pd.DataFrame(
        {
            "seats": rng.integers(1, 3000, n_noise).astype(float),
            "monthly_spend": rng.uniform(10, 60000, n_noise).round(2),
            "api_calls_per_day": rng.uniform(0, 60000, n_noise).round(),
            **{flag: rng.integers(0, 2, n_noise) for flag in flags},
            "plan_months": rng.choice(PLAN_MONTHS, n_noise),
            "segment": NOISE,
        }
    )
    table = pd.concat([*frames, noise], ignore_index=True).sample(frac=1.0, random_state=seed)
    table = table.reset_index(drop=True)
    return table.drop(columns="segment"), table["segment"].to_numpy()


FEW_VALUED_SEEDS = (1, 2, 3, 4, 5)
for _seed in FEW_VALUED_SEEDS:
    register(
        f"customers_counts_s{_seed}",
        "customer",
        "5 segments; skewed spend, two small-integer counts (one zero-inflated, its zero share "
        "by segment), household size 1-6, ~1% NaN, 3% scattered outliers",
        seed=_seed,
    )(customers_with_counts)
    register(
        f"business_flags_s{_seed}",
        "customer",
        "6 segments of accounts; skewed seats, spend and API use, four 0/1 flags by segment, "
        "plan length 1/12/24/36 months, 3% scattered outliers",
        seed=_seed,
    )(business_accounts)


# --- real benchmark files (read from a folder outside the repository) --------------------------


def _benchmark_table(data: Path, labels: Path, seed: int) -> Table:
    """One suite set: its points as columns x0.., label 0 as planted noise (seed unused)."""
    points = np.loadtxt(data, ndmin=2)
    truth = np.loadtxt(labels, dtype=int, ndmin=1)
    named = np.where(truth == 0, NOISE, truth.astype(str))
    return _frame(points), named


def benchmark_folder(given: str | None) -> Path | None:
    """The benchmark folder: `given`, else $SMCLUSTER_BENCHMARKS, else ../shared/benchmarks
    when it exists; None for `none` (or nothing found)."""
    chosen = given if given is not None else os.environ.get(BENCHMARK_ENV)
    if chosen is not None:
        if chosen.lower() == "none":
            return None
        folder = Path(chosen)
        if not folder.is_dir():
            raise SystemExit(f"benchmark folder {folder} does not exist (--benchmarks)")
        return folder
    return DEFAULT_BENCHMARKS if DEFAULT_BENCHMARKS.is_dir() else None


def benchmark_sets(folder: Path) -> list[QualitySet]:
    """Every `<name>.data.gz` with its `<name>.labels0.gz` in `folder`, as family benchmark."""
    sets = []
    for data in sorted(folder.glob("*.data.gz")):
        name = data.name.removesuffix(".data.gz")
        labels = data.with_name(f"{name}.labels0.gz")
        if not labels.exists():
            raise SystemExit(f"{data} has no labels file {labels.name}")
        make = partial(_benchmark_table, data, labels)
        sets.append(QualitySet(name, "benchmark", f"benchmark suite file {data.name}", make))
    if not sets:
        raise SystemExit(f"no <name>.data.gz files in benchmark folder {folder}")
    return sets


def select(names: str | None = None, benchmarks: Path | None = None) -> list[QualitySet]:
    """The sets named in a comma-separated list (all when empty): the registry's, then the
    benchmark folder's."""
    known = dict(REGISTRY)
    if benchmarks is not None:
        known.update({qs.name: qs for qs in benchmark_sets(benchmarks)})
    if not names:
        return list(known.values())
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise SystemExit(f"unknown set(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in wanted]


def main() -> int:
    parser = argparse.ArgumentParser(description="List the quality battery's sets.")
    parser.add_argument(
        "--benchmarks",
        help=f"benchmark folder (default ${BENCHMARK_ENV}, "
        "../shared/benchmarks when present; 'none' for the generated sets only)",
    )
    args = parser.parse_args()
    print("| set | family | rows | features | planted outliers | description |")
    print("|---|---|---:|---:|---:|---|")
    for qs in select(None, benchmark_folder(args.benchmarks)):
        features, truth = qs.load()
        outliers = int((truth == NOISE).sum())
        print(
            f"| {qs.name} | {qs.family} | {len(features)} | {features.shape[1]} | "
            f"{outliers or 'no'} | {qs.description} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
