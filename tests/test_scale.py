"""Scale mechanics: bounded DBSCAN memory, sampled reducer fits, float32, sampled silhouette."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.decomposition import PCA

from smcluster.backends.cpu import CpuBackend
from smcluster.contract.channels import read_channels
from smcluster.contract.hyperparameters import parse
from smcluster.contract.paths import JobPaths
from smcluster.pipeline import reduce as reducers
from smcluster.pipeline.run import fit
from smcluster.pipeline.runtime.clock import StageClock
from smcluster.pipeline.runtime.runner import StageRunner
from smcluster.pipeline.score.score import score

from .jobtree import JobTree

PEAK_SCRIPT = """
import sys
import numpy as np
from smcluster.backends import cpu_dbscan as dbscan_chunked

def peak_kib():
    # VmHWM, the peak RSS of this address space: it starts afresh at exec. (ru_maxrss does not:
    # it keeps the forked parent's peak, so inside a large pytest process it hid the growth.)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

data = np.random.default_rng(0).normal(size=(8000, 2)).astype(np.float32)
before = peak_kib()  # imports and data
if sys.argv[1] == "chunked":
    labels, _ = dbscan_chunked.dbscan(data, 1e6, 5, memory_mb=16)
    assert set(labels.tolist()) == {0}
else:
    # What an unchunked radius query holds at this eps (scikit-learn's DBSCAN does): every
    # row's 8,000 neighbour indices at once, 8000 x 8000 int64 = 488 MiB.
    neighbours = [np.arange(len(data), dtype=np.int64) for _ in range(len(data))]
    assert sum(len(n) for n in neighbours) == len(data) ** 2
print((peak_kib() - before) / 1024)
"""


def _added_peak_rss_mib(which: str) -> float:
    """Peak RSS a fresh process adds over its own imports and data: counts native allocations
    that tracemalloc cannot see, measured within one process."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, which], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def test_chunked_dbscan_memory_stays_bounded_at_a_huge_eps():
    """Every row is every row's neighbour: an unchunked query holds n² = 64M indices."""
    ours = _added_peak_rss_mib("chunked")
    unchunked = _added_peak_rss_mib("unchunked")
    assert ours < 48, f"chunked DBSCAN added {ours:.0f} MiB (budget: 16 MiB + index and arrays)"
    # The baseline shows the measurement sees such lists (it was scikit-learn's DBSCAN, whose
    # peak varies with its version; the lists it holds are the deterministic part).
    assert unchunked > max(400, 10 * ours), f"the unchunked lists added only {unchunked:.0f} MiB"


def test_sampled_reducer_fits_on_a_sample_and_transforms_the_rest_in_chunks(monkeypatch):
    monkeypatch.setattr(reducers, "TRANSFORM_CHUNK", 300)
    data = np.random.default_rng(1).normal(size=(2000, 6)).astype(np.float32)
    estimator = PCA(n_components=2, random_state=0)
    reducer = reducers.SampledReducer(estimator, "pca", fit_rows=500, random_state=0)
    embedding = reducer.fit_transform(data)
    assert embedding.shape == (2000, 2) and embedding.dtype == np.float32
    assert estimator.n_samples_ == 500
    np.testing.assert_allclose(embedding, estimator.transform(data), atol=1e-4)
    np.testing.assert_allclose(reducer.transform(data), estimator.transform(data), atol=1e-5)


def test_sampled_reducer_fits_everything_below_the_sample_size():
    data = np.random.default_rng(2).normal(size=(400, 4)).astype(np.float32)
    estimator = PCA(n_components=2)
    reducers.SampledReducer(estimator, "pca", fit_rows=1000, random_state=0).fit_transform(data)
    assert estimator.n_samples_ == 400


def test_nearest_fit_embedding_places_new_rows_at_their_nearest_fitted_row():
    data = np.random.default_rng(3).normal(size=(200, 3)).astype(np.float32)

    class Fixed:  # a deterministic stand-in for t-SNE's fit_transform: the first two columns
        def fit_transform(self, x):
            return x[:, :2] * 10

    embedding = reducers.NearestFitEmbedding(Fixed())
    fitted = embedding.fit_transform(data)
    np.testing.assert_allclose(embedding.transform(data), fitted)
    restored = pickle.loads(pickle.dumps(embedding))
    assert restored.estimator is None
    np.testing.assert_allclose(restored.transform(data[:5] + 1e-4), fitted[:5])


def test_nearest_fit_embedding_searches_with_the_backend_in_training_and_the_host_after():
    """In training the backend's 1-NN does the search (on the GPU, on the device); a loaded
    model builds one host index and keeps it for every later chunk."""
    rng = np.random.default_rng(4)
    data = rng.normal(size=(300, 3)).astype(np.float32)
    new = rng.normal(size=(500, 3)).astype(np.float32)

    class Fixed:
        def fit_transform(self, x):
            return x[:, :2] * 10

    calls = []

    def nearest(reference, queries):
        calls.append((reference.shape, queries.shape))
        return CpuBackend().nearest(reference, queries)

    embedding = reducers.NearestFitEmbedding(Fixed(), nearest)
    embedding.fit_transform(data)
    in_training = embedding.transform(new)
    assert calls == [((300, 3), (500, 3))]
    restored = pickle.loads(pickle.dumps(embedding))
    assert set(vars(restored)) == {"estimator", "fitted_rows", "fitted_embedding"}
    np.testing.assert_array_equal(restored.transform(new[:250]), in_training[:250])
    index = restored._host_index
    np.testing.assert_array_equal(restored.transform(new[250:]), in_training[250:])
    assert restored._host_index is index  # built once, not per chunk


@pytest.mark.parametrize(
    ("kind", "width", "expected"),
    [("auto", 5, "none"), ("auto", 6, "umap"), ("pca", 3, "pca"), ("tsne", 50, "tsne")],
)
def test_resolve_reducer(kind, width, expected):
    assert reducers.resolve_reducer(kind, width, 5) == expected


class SpyBackend(CpuBackend):
    """The real CPU backend, recording what reaches the clusterer and the silhouette."""

    def __init__(self) -> None:
        self.seen: dict[str, object] = {}

    def neighbor_distances(self, data, queries, n_neighbors):
        self.seen.setdefault("query_widths", []).append(data.shape[1])
        return super().neighbor_distances(data, queries, n_neighbors)

    def dbscan(self, data, eps, min_samples, memory_mb, core_distances=None):
        self.seen["dbscan_dtype"] = data.dtype
        self.seen["core_distances_given"] = core_distances is not None
        return super().dbscan(data, eps, min_samples, memory_mb, core_distances)

    def silhouette(self, data, labels):
        self.seen["silhouette_rows"] = data.shape[0]
        return super().silhouette(data, labels)


def test_pipeline_is_float32_end_to_end_with_one_neighbour_query(tmp_path):
    tree = JobTree(tmp_path).write_demo({}, rows=2000, files=2)
    channels = read_channels(JobPaths.from_env(tree.env()))
    hp = parse(
        {
            "reducer": "pca",
            "min_samples": "10",
            "label_column": "segment",
            "id_column": "customer_id",
        }
    )
    backend = SpyBackend()
    result = fit(backend, hp, StageRunner(StageClock()), channels["train"])
    assert result.train.raw_features.dtype == np.float32
    assert result.train.embedding.dtype == np.float32
    assert backend.seen["dbscan_dtype"] == np.float32
    # The k-distance curve and DBSCAN's core test come from one neighbour query in the
    # 5-D embedding (the outlier rule queries the 10 prepared features once more).
    assert backend.seen["query_widths"].count(5) == 1 and backend.seen["core_distances_given"]


def test_silhouette_is_always_sampled():
    rng = np.random.default_rng(4)
    data = np.vstack([rng.normal(0, 1, (3000, 2)), rng.normal(8, 1, (3000, 2))]).astype(np.float32)
    labels = np.repeat([0, 1], 3000).astype(np.int32)
    backend = SpyBackend()
    hp = parse({"silhouette_sample_size": "500", "random_state": "0"})
    scores = score(backend, hp, data, labels, truth=None)
    assert backend.seen["silhouette_rows"] == 500
    assert scores.values["silhouette"] > 0.7


def test_bench_extrapolates_a_skipped_reference_per_stage():
    """The 1M reference estimate: per-stage power law through the two largest measured sizes."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"
    spec = importlib.util.spec_from_file_location("bench_script", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    measured = [
        (10_000, {"stages": {"reduce": 10.0, "score": 1.0, "load": 2.0}}),
        (100_000, {"stages": {"reduce": 50.0, "score": 100.0, "load": 1.0}}),
    ]
    estimate = bench.extrapolate(measured, 1_000_000)
    # reduce grows 5x per decade: exponent 0.7 is clamped to linear; score is quadratic.
    assert estimate["estimated_stages"] == {"reduce": 500.0, "score": 10000.0, "load": 10.0}
    assert estimate["estimated_wall_s"] == 10510.0
