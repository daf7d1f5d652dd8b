"""Stage by stage, two backends on the same rows: the core of `make gpu-check`.

Each stage gets the *reference's* host output of the stage before it, so a difference shows up
in the stage that made it instead of being carried downstream (UMAP's sample, the eps knee and
float rounding would otherwise make every later stage disagree a little). Seconds include
copying the stage's output to the host, which also waits for the device to finish.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sklearn.metrics import adjusted_rand_score

from smcluster.backends.base import Backend, to_host
from smcluster.contract.hyperparameters import parse
from smcluster.contract.schema import Hyperparameters
from smcluster.contract.tables import TableFile
from smcluster.pipeline.cluster.eps import strongest_knee
from smcluster.pipeline.cluster.mass import auto_min_cluster_size
from smcluster.pipeline.prepare.features import Features, prepare_features
from smcluster.pipeline.reduce import reduce
from smcluster.pipeline.runtime.sampling import sample_index
from smcluster.pipeline.score.score import silhouette_sample

# Tolerances of the issue that asked for this check (float32 on the GPU against float32 or
# float64 on the CPU, different summation orders).
PREPARED_MAX_DIFF = 1e-4
RELATIVE_TOLERANCE = 1e-3
CORE_POINT_DIFF = 1e-4  # fraction of rows whose core/non-core status may differ (eps boundary)
DBSCAN_MIN_ARI = 0.999
MIN_SAMPLES = 10  # DBSCAN's, for the k-distance curve and the fixed-eps run
PCA_COMPONENTS = 5  # the space the k-distance, DBSCAN and metric stages run in
K_DISTANCE_QUERIES = 20_000
# HDBSCAN on a sample (scikit-learn's runs on every pair's MST); the two libraries build the
# same mutual-reachability tree but may break ties differently, hence not ARI 1.
HDBSCAN_ROWS = 20_000
HDBSCAN_MIN_ARI = 0.99

T = TypeVar("T")


@dataclass
class Check:
    """One row of the table: a stage at one size, timed on both sides, with its comparison."""

    stage: str
    rows: int
    reference_s: float | None
    candidate_s: float | None
    measure: str  # what was compared and the bound, or what was measured
    passed: bool | None  # None: timed or measured only
    peak_device_mib: float | None = None

    @property
    def speedup(self) -> float | None:
        """Reference seconds / candidate seconds (above 1: the candidate is faster)."""
        if not self.reference_s or not self.candidate_s:
            return None
        return self.reference_s / self.candidate_s

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "speedup": self.speedup}


def check_hyperparameters(**overrides: str) -> Hyperparameters:
    """The job's defaults for the check's table (ids in row_id, truth in segment), with UMAP
    named (the default `auto` is resolved by the pipeline, which the stages bypass)."""
    return parse({"id_column": "row_id", "label_column": "segment", "reducer": "umap", **overrides})


class Stopwatch:
    """`with Stopwatch() as watch:` ... `watch.seconds`."""

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started


def on_both(
    reference: Stages, candidate: Stages, work: Callable[[Stages], T]
) -> tuple[T, T, float, float]:
    """`work` on the reference, then on the candidate: both results and both times."""
    with Stopwatch() as ref_watch:
        ref_result = work(reference)
    with Stopwatch() as cand_watch:
        cand_result = work(candidate)
    return ref_result, cand_result, ref_watch.seconds, cand_watch.seconds


def release_cupy_cache(cupy: Any) -> bool:
    """Empty CuPy's default pool when CuPy allocates from it (True); False when another
    allocator is set (RMM's, once cuDF is imported), whose blocks that pool never held."""
    pool = cupy.get_default_memory_pool()
    owner = getattr(cupy.cuda.get_allocator(), "__self__", None)  # a bound pool.malloc
    if owner is None or owner is not pool:
        return False
    cupy.get_default_memory_pool().free_all_blocks()
    return True


class DevicePeak:
    """Peak device memory in use during a block, above what was in use when it began.

    Polls the driver (`cudaMemGetInfo`) every few milliseconds, so it sees cuDF's and cuML's
    RMM allocations as well as CuPy's. Cached blocks would hide a stage's own, so they are
    released first where there are any: importing cuDF (which cuML does) points CuPy at RMM's
    allocator, whose default resource allocates and frees directly (nothing cached); CuPy's own
    pool is emptied only while CuPy still allocates from it. Off (peak None) for a CPU
    candidate.
    """

    def __init__(self, enabled: bool, interval_s: float = 0.002) -> None:
        self.enabled = enabled
        self.interval_s = interval_s
        self.peak_mib: float | None = None

    @contextmanager
    def measure(self) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        import cupy  # only with a GPU candidate

        release_cupy_cache(cupy)
        free, total = cupy.cuda.runtime.memGetInfo()
        baseline = total - free
        highest = [baseline]
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(self.interval_s):
                free_now, _ = cupy.cuda.runtime.memGetInfo()
                highest[0] = max(highest[0], total - free_now)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            yield
        finally:
            stop.set()
            poller.join()
            self.peak_mib = (highest[0] - baseline) / 2**20
            release_cupy_cache(cupy)


def pca_points(prepared: np.ndarray, components: int = PCA_COMPONENTS) -> np.ndarray:
    """The prepared rows projected on their top principal components (float32, host).

    Computed once on the host from the reference's prepared matrix, so both backends cluster
    and score exactly the same points.
    """
    centred = prepared.astype(np.float64) - prepared.mean(axis=0, dtype=np.float64)
    _, vectors = np.linalg.eigh(centred.T @ centred)
    top = vectors[:, ::-1][:, : min(components, prepared.shape[1])]
    return (centred @ top).astype(np.float32)


def _k_distance(side: Stages, space: np.ndarray, queries: np.ndarray) -> np.ndarray:
    return side.k_distance(space, queries)


def _score(side: Stages, metric: str, points: np.ndarray, labels: np.ndarray) -> float:
    return side.score(metric, points, labels)


def relative_difference(candidate: np.ndarray, reference: np.ndarray) -> float:
    """Largest |candidate - reference| / |reference|; reference values below a thousandth of
    the median magnitude (duplicate rows at distance 0) are measured against that floor."""
    floor = max(float(np.median(np.abs(reference))) * 1e-3, float(np.finfo(np.float32).tiny))
    scale = np.maximum(np.abs(reference), floor)
    return float(np.max(np.abs(candidate - reference) / scale)) if len(reference) else 0.0


class Stages:
    """The pipeline's stages on one backend, each returning host results."""

    def __init__(self, backend: Backend, hp: Hyperparameters) -> None:
        self.backend = backend
        self.hp = hp

    def load(self, path: Path) -> Any:
        frame = self.backend.read_file(TableFile(path, "parquet", False))
        len(frame)  # cuDF reads eagerly; this keeps the stage honest for a lazy reader too
        return frame

    def prepare(self, frame: Any) -> tuple[Features, np.ndarray]:
        features = prepare_features(self.backend, self.hp, frame)
        return features, to_host(features.prepared)

    def k_distance(self, points: np.ndarray, queries: np.ndarray) -> np.ndarray:
        xp = self.backend.xp
        on_device = xp.asarray(points)
        distances = self.backend.neighbor_distances(
            on_device, on_device[xp.asarray(queries)], MIN_SAMPLES + 1
        )
        return np.sort(to_host(distances[:, MIN_SAMPLES]).astype(np.float64))

    def dbscan(self, points: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
        labels, core = self.backend.dbscan(
            self.backend.xp.asarray(points), eps, MIN_SAMPLES, self.hp.dbscan_memory_mb
        )
        return to_host(labels), np.sort(to_host(core))

    def hdbscan(self, points: np.ndarray) -> np.ndarray:
        labels = self.backend.hdbscan(
            self.backend.xp.asarray(points),
            self.hp.min_cluster_size or auto_min_cluster_size(len(points)),
            MIN_SAMPLES,
        )
        return to_host(labels)

    def score(self, metric: str, points: np.ndarray, labels: np.ndarray) -> float:
        xp = self.backend.xp
        function = getattr(self.backend, metric)
        return float(function(xp.asarray(points), xp.asarray(labels)))

    def umap(self, prepared: np.ndarray) -> np.ndarray:
        reduction = reduce(self.backend, self.hp, self.backend.xp.asarray(prepared), None)
        return to_host(reduction.embedding)


def eps_from_curve(curve: np.ndarray, hp: Hyperparameters) -> float:
    """The job's rule on the reference's curve: the strongest knee, else the fallback quantile."""
    knee = strongest_knee(curve, hp.eps_knee_sensitivity)
    if knee is not None and curve[knee] > 0:
        return float(curve[knee])
    return float(np.quantile(curve, hp.eps_fallback_quantile))


METRICS = {
    "silhouette": "silhouette",
    "davies_bouldin": "Davies-Bouldin",
    "calinski_harabasz": "Calinski-Harabasz",
}


def compare(reference: Stages, candidate: Stages, path: Path, rows: int) -> list[Check]:
    """Every stage on both backends at one size; each stage fed the reference's prior output."""
    frame_ref, frame_cand, ref_s, cand_s = on_both(reference, candidate, lambda s: s.load(path))
    same_rows = len(frame_ref) == len(frame_cand) == rows
    checks = [
        Check("load parquet", rows, ref_s, cand_s, f"{len(frame_cand):,} rows read", same_rows)
    ]
    # Each side prepares its own frame, so not `on_both`; the frames are freed right after.
    with Stopwatch() as watch_ref:
        features_ref, prepared_ref = reference.prepare(frame_ref)
    with Stopwatch() as watch_cand:
        features_cand, prepared_cand = candidate.prepare(frame_cand)
    del frame_ref, frame_cand
    checks.append(
        compare_prepared(
            (features_ref, prepared_ref, watch_ref.seconds),
            (features_cand, prepared_cand, watch_cand.seconds),
        )
    )

    points = pca_points(prepared_ref)
    queries = sample_index(rows, K_DISTANCE_QUERIES, reference.hp.random_state)
    # Also in two columns: the shape of a t-SNE or 2-component UMAP embedding.
    curves = {}
    for name, space in (("", points), (" in 2 columns", np.ascontiguousarray(points[:, :2]))):
        curve_ref, curve_cand, ref_s, cand_s = on_both(
            reference, candidate, partial(_k_distance, space=space, queries=queries)
        )
        curves[name] = curve_ref
        relative = relative_difference(curve_cand, curve_ref)
        checks.append(
            Check(
                f"k-distance{name} (k={MIN_SAMPLES}, {len(queries):,} queries)",
                rows,
                ref_s,
                cand_s,
                f"max relative diff {relative:.1e} (< {RELATIVE_TOLERANCE:.0e})",
                relative < RELATIVE_TOLERANCE,
            )
        )

    eps = eps_from_curve(curves[""], reference.hp)
    (labels_ref, core_ref), (labels_cand, core_cand), ref_s, cand_s = on_both(
        reference, candidate, lambda side: side.dbscan(points, eps)
    )
    core_diff = len(np.setxor1d(core_ref, core_cand)) / rows
    agreement, clusters = agreement_and_clusters(labels_ref, labels_cand)
    checks.append(
        Check(
            f"DBSCAN (eps {eps:.4g}, {clusters} clusters)",
            rows,
            ref_s,
            cand_s,
            f"core points differ on {core_diff:.2e} of rows (<= {CORE_POINT_DIFF:.0e}); "
            f"ARI {agreement:.4f} (>= {DBSCAN_MIN_ARI})",
            core_diff <= CORE_POINT_DIFF and agreement >= DBSCAN_MIN_ARI,
        )
    )
    checks += compare_scores(reference, candidate, points, labels_ref, rows)

    sample = points[sample_index(rows, HDBSCAN_ROWS, reference.hp.random_state)]
    labels_ref, labels_cand, ref_s, cand_s = on_both(
        reference, candidate, lambda side: side.hdbscan(sample)
    )
    agreement, clusters = agreement_and_clusters(labels_ref, labels_cand)
    checks.append(
        Check(
            f"HDBSCAN ({len(sample):,} rows, min_samples {MIN_SAMPLES}, {clusters} clusters)",
            rows,
            ref_s,
            cand_s,
            f"ARI {agreement:.4f} (>= {HDBSCAN_MIN_ARI})",
            agreement >= HDBSCAN_MIN_ARI,
        )
    )

    _, _, ref_s, cand_s = on_both(reference, candidate, lambda side: side.umap(prepared_ref))
    checks.append(
        Check(
            "UMAP (fit on a sample, transform the rest)",
            rows,
            ref_s,
            cand_s,
            "timed only; quality in the end-to-end rows",
            None,
        )
    )
    return checks


def agreement_and_clusters(reference: np.ndarray, candidate: np.ndarray) -> tuple[float, int]:
    """ARI of the candidate's labels against the reference's, and the reference's clusters."""
    clusters = len(np.unique(reference[reference >= 0]))
    return float(adjusted_rand_score(reference, candidate)), clusters


def compare_prepared(
    reference: tuple[Features, np.ndarray, float], candidate: tuple[Features, np.ndarray, float]
) -> Check:
    """Each side's (features, prepared matrix on the host, seconds)."""
    features_ref, prepared_ref, ref_s = reference
    features_cand, prepared_cand, cand_s = candidate
    rows = len(features_ref.kept)
    same_columns = features_ref.columns == features_cand.columns
    same_kept = bool(np.array_equal(features_ref.kept, features_cand.kept))
    if same_columns and same_kept and prepared_ref.shape == prepared_cand.shape:
        diff = float(np.max(np.abs(prepared_cand.astype(np.float64) - prepared_ref)))
        measure = (
            f"max abs diff {diff:.1e} (< {PREPARED_MAX_DIFF:.0e}); "
            f"same {len(features_ref.columns)} features kept, same rows"
        )
        return Check("prepare features", rows, ref_s, cand_s, measure, diff < PREPARED_MAX_DIFF)
    measure = (
        f"features {features_cand.columns} against {features_ref.columns}; "
        f"same rows kept: {same_kept}"
    )
    return Check("prepare features", rows, ref_s, cand_s, measure, False)


def scored_rows(labels: np.ndarray, hp: Hyperparameters) -> dict[str, np.ndarray]:
    """The rows each metric is computed on, as the job does: clustered rows (noise left out),
    the job's seeded sample of them for the silhouette."""
    clustered = np.flatnonzero(labels >= 0)
    picked, _ = silhouette_sample(labels[clustered], hp.silhouette_sample_size, hp.random_state)
    sampled = clustered[picked]
    return {metric: sampled if metric == "silhouette" else clustered for metric in METRICS}


def compare_scores(
    reference: Stages, candidate: Stages, points: np.ndarray, labels: np.ndarray, rows: int
) -> list[Check]:
    if len(np.unique(labels[labels >= 0])) < 2:
        return [Check("metrics", rows, None, None, "fewer than 2 clusters: not compared", False)]
    checks = []
    for metric, index in scored_rows(labels, reference.hp).items():
        value_ref, value_cand, ref_s, cand_s = on_both(
            reference,
            candidate,
            partial(_score, metric=metric, points=points[index], labels=labels[index]),
        )
        relative = abs(value_cand - value_ref) / max(abs(value_ref), 1e-12)
        checks.append(
            Check(
                f"{METRICS[metric]} ({len(index):,} rows)",
                rows,
                ref_s,
                cand_s,
                f"{value_cand:.6g} against {value_ref:.6g}: relative diff {relative:.1e} "
                f"(< {RELATIVE_TOLERANCE:.0e})",
                relative < RELATIVE_TOLERANCE,
            )
        )
    return checks


def memory_profile(candidate: Stages, path: Path, rows: int) -> list[Check]:
    """Peak device memory of each stage on the candidate alone (a large table)."""
    probe = DevicePeak(enabled=candidate.backend.name == "gpu")
    checks: list[Check] = []
    watch = Stopwatch()

    def record(stage: str) -> None:
        checks.append(
            Check(stage, rows, None, watch.seconds, "peak device memory", None, probe.peak_mib)
        )

    with probe.measure(), watch:
        frame = candidate.load(path)
    record("load parquet")
    with probe.measure(), watch:
        _, prepared = candidate.prepare(frame)
    record("prepare features")
    del frame
    points = pca_points(prepared)
    queries = sample_index(rows, K_DISTANCE_QUERIES, candidate.hp.random_state)
    with probe.measure(), watch:
        curve = candidate.k_distance(points, queries)
    record("k-distance")
    eps = eps_from_curve(curve, candidate.hp)
    with probe.measure(), watch:
        labels, _ = candidate.dbscan(points, eps)
    record("DBSCAN")
    if len(np.unique(labels[labels >= 0])) >= 2:
        for metric, index in scored_rows(labels, candidate.hp).items():
            with probe.measure(), watch:
                candidate.score(metric, points[index], labels[index])
            record(METRICS[metric])
    with probe.measure(), watch:
        candidate.umap(prepared)
    record("UMAP")
    return checks
