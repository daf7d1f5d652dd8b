"""The GPU's memory plan: the peak device memory of every stage, before the stages run.

From rows, features and hyperparameters, each stage's working arrays are counted with the
allocation formulas of the libraries themselves (cuML 26.x, cuVS, RAFT; file and line cited
beside each formula), plus what stays on the device from the stages before. `train` checks the
plan against the free device memory before the long stages and refuses with a reason and a Fix
(exit 3) where cuML would otherwise die in CUDA an hour in. Pure arithmetic: importable and
tested without CUDA; `backends/gpu.py` applies it. Estimates, not measurements: no GPU has run
them yet (README, GPU).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..contract.errors import ResourceError
from ..contract.schema import Hyperparameters
from .device import silhouette_chunk
from .neighbour_distances import NEIGHBOUR_MARGIN

# Shares of the free device memory the GPU backend hands to cuML's batched steps.
DBSCAN_BATCH_SHARE = 0.4  # DBSCAN's max_mbytes_per_batch
SILHOUETTE_BATCH_SHARE = 0.4  # the batched silhouette's tiles
# What the plan may fill of the free memory: the rest is the CUDA context's growth, RMM's
# fragmentation and the libraries' small buffers no formula here counts.
USABLE_SHARE = 0.9
QUERY_CHUNK_ROWS = 1_000_000  # queries per k-NN search pass (gpu.py): bounds its arrays
TRANSFORM_CHUNK = 200_000  # rows per UMAP transform call (pipeline/reduce.py)

F32, I32, I64 = 4, 4, 8
# cuVS tiled brute-force k-NN: the distance tile is at most half the target, and the target
# is 1 GiB on a GPU with more than 8 GiB (cuvs/cpp/src/neighbors/detail/
# faiss_distance_utils.h:24-49): at most 512 MiB.
BRUTE_FORCE_TILE = 512 * 2**20
# smcluster's exact re-ranking per query per neighbour fetched: cuML's int64 index and
# float32 distance (12, cuml/cpp/src/knn/knn.cu:137-142), CuPy's copy of the indices (8), the
# float64 distances recomputed (8): `neighbour_distances.py`.
SEARCH_BYTES_PER_FETCH = 28
KEPT_BYTES_PER_NEIGHBOUR = 16  # the k kept per query: float64 distance, int64 index
# The pipeline's own constants (the layers keep backends from importing the pipeline;
# tests/test_memory_plan.py checks that each still agrees with its source):
OUTLIER_K = 10  # refine/outliers.K
OUTLIER_REFERENCE_ROWS = 50_000  # refine/outliers.REFERENCE_ROWS
MASS_MIN_SAMPLES = 5  # cluster/mass.MIN_SAMPLES
MIN_CLUSTER_SHARE, MIN_CLUSTER_FLOOR = 0.02, 10  # cluster/mass.auto_min_cluster_size
HDBSCAN_MAX_K = 1024  # cuML: min_samples <= 1023 (hdbscan.pyx), k = min_samples + 1
LOAD_COLUMN_BYTES = 8  # a parsed numeric column value (float64 / int64)
# cuDF holds the file's bytes and the parsed columns while it reads (a maintainer's account,
# rapidsai/cudf#6126 and #971; cuDF documents no factor): about twice the frame.
LOAD_PARSE_FACTOR = 2


@dataclass(frozen=True)
class StageMemory:
    """One stage's peak: what it adds, what it finds resident, and the term that dominates."""

    stage: str
    working: int  # bytes the stage allocates at its peak
    resident: int  # bytes earlier stages leave on the device meanwhile
    what: str  # the dominant term, in words
    source: str  # where the formula comes from

    @property
    def peak(self) -> int:
        return self.working + self.resident


@dataclass(frozen=True)
class MemoryPlan:
    rows: int
    features: int
    stages: tuple[StageMemory, ...]

    @property
    def peak(self) -> StageMemory:
        return max(self.stages, key=lambda s: s.peak)

    def over(self, free_bytes: int) -> list[StageMemory]:
        """The stages whose peak exceeds the usable share of `free_bytes`."""
        return [s for s in self.stages if s.peak > USABLE_SHARE * free_bytes]


def gib(value: float) -> str:
    return f"{value / 2**30:.1f} GiB"


def _knn_search(queries: int, k: int, kept: bool = True) -> int:
    """smcluster's exact k-NN of `queries` rows, searched in chunks of QUERY_CHUNK_ROWS; the
    k distances and indices of every query `kept` on the device, or only a chunk's (the
    outlier test keeps one boolean per row, on the host)."""
    fetch = k + NEIGHBOUR_MARGIN
    chunk = min(queries, QUERY_CHUNK_ROWS)
    output = (queries if kept else chunk) * k * KEPT_BYTES_PER_NEIGHBOUR
    return chunk * fetch * SEARCH_BYTES_PER_FETCH + output + BRUTE_FORCE_TILE


def _dbscan_fixed(rows: int, index_bytes: int) -> int:
    """cuML DBSCAN beside its batches: the temporary labels and core mask (dbscan.cuh:60,
    n*(I+1)), two label arrays (runner.cuh:169-177, 2*n*I), and the labels and core sample
    indices returned (dbscan.pyx:374-378, 2*n*I)."""
    return rows * (index_bytes + 1) + 4 * rows * index_bytes


def dbscan_batch_row_bytes(rows: int, index_bytes: int) -> int:
    """Bytes per batch row in cuML's own estimate (dbscan.cuh:55): the dense adjacency row
    (one bool per row) and the worst case of its sparse column list, (n + 2) indices."""
    return rows + (rows + 2) * index_bytes


INT32_MAX = 2**31 - 1


def dbscan_batch_rows(rows: int, budget_bytes: int, index_bytes: int) -> int:
    """Rows per batch cuML's DBSCAN takes within `budget_bytes` (dbscan.cuh:55-66): the budget
    less the fixed arrays, over the bytes per batch row; with 32-bit indices also at most
    INT32_MAX / rows, so that a batch's adjacency stays indexable (dbscan.cuh:73-82)."""
    fixed = rows * (index_bytes + 1)
    batch = max((budget_bytes - fixed) // dbscan_batch_row_bytes(rows, index_bytes), 0)
    if index_bytes == I32:
        batch = min(batch, INT32_MAX // max(rows, 1))
    return int(min(batch, rows))


def dbscan_index_bytes(rows: int, budget_bytes: int) -> int:
    """4 or 8: the index width that gives cuML's DBSCAN the larger batches. 64-bit indices
    nearly double the bytes per batch row, so they pay only when the 32-bit cap on a batch
    (INT32_MAX / rows) binds before the budget does: a budget over about 9 * INT32_MAX bytes
    (19 GB; 48 GB free at DBSCAN_BATCH_SHARE). With 32-bit, 211 rows per batch at 5M rows on
    a 16 GB T4 instead of 117."""
    narrow = dbscan_batch_rows(rows, budget_bytes, I32)
    wide = dbscan_batch_rows(rows, budget_bytes, I64)
    return I64 if wide > narrow else I32


def hdbscan_k(hp: Hyperparameters, rows: int) -> int:
    """cuML's neighbours per row for smcluster's HDBSCAN: smcluster's `min_samples` (the row
    itself counted), defaulting to `min_cluster_size` (`auto`: 2% of the rows, at least 10),
    capped at cuML's 1024 (cpp/src/hdbscan/runner.h:79-91, k = min_samples + 1)."""
    size = hp.min_cluster_size or max(MIN_CLUSTER_FLOOR, round(MIN_CLUSTER_SHARE * rows))
    return min(hp.min_samples or size, HDBSCAN_MAX_K, rows)


def _hdbscan(rows: int, k: int) -> int:
    """cuML HDBSCAN on `rows` rows with k neighbours: the mutual-reachability COO (rows, indices
    int64, distances float32: 20*n*k, cuvs reachability.cuh:207-209), its symmetrisation's
    2*n*k (8+8+4) temporaries (raft symmetrize.cuh:340-342) and output (40*n*k): about 100
    bytes per row per neighbour; then about 204 bytes per row of tree (MST, children, lambdas,
    labels: hdbscan.pyx; condense.cuh:92-115) and the brute-force tile."""
    return 100 * rows * k + 204 * rows + BRUTE_FORCE_TILE


def _umap_fit(rows: int, features: int, k: int, components: int) -> int:
    """cuML UMAP fit: the sample, its k-NN (int64 + float32: 12*n*k, umap runner.cuh:187-188),
    the graph built from it (COO 12*n*k, :177-179; symmetrised 24*n*k, symmetrize.cuh:149;
    sorted and cleaned beside it: about 48*n*k at once) and the embedding (n*c*4, :330-332)."""
    return rows * features * F32 + 60 * rows * k + rows * components * F32 + BRUTE_FORCE_TILE


def _umap_transform(rows: int, k: int, components: int) -> int:
    """cuML UMAP transform of `rows` new rows, not batched by cuML (runner.cuh:448-561): k-NN
    12*q*k, COO 12*q*k, normalised values and the optimiser's three arrays 16*q*k."""
    return 40 * rows * k + rows * components * F32 + BRUTE_FORCE_TILE


def _tsne(rows: int, perplexity: float) -> int:
    """cuML TSNE on `rows` rows with 3*perplexity+1 neighbours (the rule both backends use):
    k-NN 12*n*k (tsne_runner.cuh:207-208), P 4*n*k (:240), the symmetrised COO about 40*n*k."""
    k = int(3 * perplexity + 1)
    return 56 * rows * k + BRUTE_FORCE_TILE


def _silhouette(rows: int, labels: int, chunk: int) -> int:
    """cuVS batched silhouette: one chunk x chunk float32 tile, the n x labels matrix and a
    per-row vector (cuvs batched/silhouette_score.cuh:146, :200)."""
    return chunk * chunk * F32 + rows * (labels + 1) * F32


def _frame_bytes(rows: int, features: int, table_columns: int | None) -> int:
    """The cuDF frame: every column of the table (the features, an id and a label when no
    count is given) at 8 bytes a value."""
    return rows * (table_columns or features + 2) * LOAD_COLUMN_BYTES


def _prepared_bytes(rows: int, features: int) -> int:
    """The raw float32 features, the prepared copy and the spread (scaled) copy."""
    return 3 * rows * features * F32


def held_after_prepare(rows: int, features: int, table_columns: int | None = None) -> int:
    """What load and prepare leave on the device: the frame and the feature arrays."""
    return _frame_bytes(rows, features, table_columns) + _prepared_bytes(rows, features)


def plan(
    rows: int,
    features: int,
    hp: Hyperparameters,
    free_bytes: int,
    table_columns: int | None = None,
) -> MemoryPlan:
    """Each stage's peak on the GPU for a table of `rows` x `features` (the columns
    clustered) with `hp` as resolved, `free_bytes` free when the job starts."""
    n, d, c = rows, features, hp.n_components
    if hp.reducer == "auto":  # as pipeline/reduce.resolve_reducer resolves it
        hp = hp.replace(reducer="umap" if d > c else "none")
    stages: list[StageMemory] = []
    frame = _frame_bytes(n, d, table_columns)
    stages.append(
        StageMemory(
            "load",
            frame * LOAD_PARSE_FACTOR,
            0,
            f"the cuDF frame ({gib(frame)}) and the bytes it is parsed from",
            "cuDF maintainers: reading holds the input and the columns (rapidsai/cudf#6126)",
        )
    )
    prepared = _prepared_bytes(n, d)
    stages.append(
        StageMemory("prepare", prepared, frame, "three float32 copies of the features", "smcluster")
    )
    resident = frame + prepared
    embedding = n * c * F32 if hp.reducer != "none" else 0
    fit_rows = min(n, hp.umap_fit_sample_size)
    if hp.reducer == "umap":
        fit = _umap_fit(fit_rows, d, hp.n_neighbors, c)
        rest = n - fit_rows
        transform = _umap_transform(min(rest, TRANSFORM_CHUNK), hp.n_neighbors, c) if rest else 0
        work = max(fit, transform) + embedding
        what = f"UMAP's graph of {fit_rows:,} rows x {hp.n_neighbors} neighbours"
        stages.append(StageMemory("reduce", work, resident, what, "cuml umap runner.cuh"))
    elif hp.reducer == "tsne":
        perplexity = float(max(2, min(hp.n_neighbors, (fit_rows - 1) // 3)))
        work = _tsne(fit_rows, perplexity) + embedding
        what = f"t-SNE's graph of {fit_rows:,} rows"
        stages.append(StageMemory("reduce", work, resident, what, "cuml tsne_runner.cuh"))
    elif hp.reducer == "pca":
        stages.append(StageMemory("reduce", 2 * embedding, resident, "the projection", "cuml"))
    resident += embedding
    space = c if hp.reducer != "none" else d
    if hp.algorithm == "dbscan" and (hp.eps is None or hp.plots):
        sample = min(n, hp.eps_sample_size)
        k = (hp.min_samples or MASS_MIN_SAMPLES) + 1
        work = _knn_search(sample, k) + n * space * F32
        what = f"the k-distance query of {sample:,} rows"
        stages.append(StageMemory("choose_eps", work, resident, what, "cuvs brute force"))
    if hp.algorithm == "dbscan" and hp.min_samples is None and hp.eps is None:
        sample = min(n, hp.eps_sample_size)
        work = max(
            _hdbscan(sample, MASS_MIN_SAMPLES),
            _knn_search(n, 1) + n * space * F32,  # every row's nearest clustered row
        )
        what = f"the hierarchy of {sample:,} rows, then every row's nearest clustered row"
        stages.append(StageMemory("cluster", work, resident, what, "cuml hdbscan, cuvs"))
    elif hp.algorithm == "dbscan":
        budget = int(DBSCAN_BATCH_SHARE * max(free_bytes - resident, 0))
        index = dbscan_index_bytes(n, budget)
        fixed = _dbscan_fixed(n, index)
        one_row = dbscan_batch_row_bytes(n, index)
        batch_rows = max(dbscan_batch_rows(n, budget, index), 1)
        what = (
            f"DBSCAN's labels and batches ({batch_rows:,} rows per batch, {8 * index}-bit indices)"
        )
        work = fixed + batch_rows * one_row
        stages.append(StageMemory("cluster", work, resident, what, "cuml dbscan.cuh"))
    elif hp.algorithm == "hdbscan":
        k = hdbscan_k(hp, n)
        what = f"HDBSCAN's reachability graph, {n:,} rows x {k} neighbours"
        stages.append(
            StageMemory("cluster", _hdbscan(n, k), resident, what, "cuvs reachability.cuh")
        )
    elif hp.algorithm == "kmeans":
        # An estimate: one float32 distance per row per centre, and the labels.
        work = n * hp.n_clusters * F32 + n * I32
        stages.append(StageMemory("cluster", work, resident, "k-means distances", "estimate"))
    resident += n * I64  # labels
    if hp.algorithm in {"dbscan", "hdbscan"} and hp.outlier_threshold > 0:
        work = _knn_search(n, OUTLIER_K, kept=False) + min(n, OUTLIER_REFERENCE_ROWS) * d * F32
        what = f"the outlier test's {OUTLIER_K}-NN of {n:,} rows"
        stages.append(StageMemory("refine", work, resident, what, "cuvs brute force"))
    sample = min(n, hp.silhouette_sample_size)
    chunk = silhouette_chunk(free_bytes - resident, sample, 1_000, SILHOUETTE_BATCH_SHARE)
    work = _silhouette(sample, 1_000, chunk)
    stages.append(StageMemory("score", work, resident, "the silhouette's tiles", "cuvs"))
    return MemoryPlan(rows, features, tuple(stages))


def problem(
    memory: MemoryPlan,
    hp: Hyperparameters,
    free_bytes: int,
    device: str,
    after: str | None = None,
) -> ResourceError | None:
    """Why the plan does not fit `free_bytes` on `device`, with the Fix, or None. `after`: the
    last stage already run (its peak has passed; only the stages after it are checked)."""
    order = [s.stage for s in memory.stages]
    start = order.index(after) + 1 if after in order else 0
    over = [s for s in memory.over(free_bytes) if order.index(s.stage) >= start]
    if not over:
        return None
    worst = max(over, key=lambda s: s.peak)
    listed = ", ".join(f"{s.stage} {gib(s.peak)}" for s in over)
    return ResourceError(
        f"the GPU plan for {memory.rows:,} rows x {memory.features} features needs more device "
        f"memory than {device} has free ({gib(free_bytes)}, of which {USABLE_SHARE:.0%} is "
        f"planned): {listed}; the largest, {worst.stage}, is {worst.what}.",
        _fix(worst, hp, memory),
    )


def _fix(worst: StageMemory, hp: Hyperparameters, memory: MemoryPlan) -> str:
    larger = "a GPU instance with more memory (ml.g5 24 GB, ml.p4d A100 40 GB, ml.p5 H100 80 GB)"
    if worst.stage == "reduce":
        return (
            f"lower umap_fit_sample_size (now {hp.umap_fit_sample_size:,}) or n_neighbors, "
            f"use reducer=pca, or {larger}."
        )
    if worst.stage == "cluster" and hp.algorithm == "hdbscan":
        return (
            f"set min_samples lower (now {hdbscan_k(hp, memory.rows)} neighbours per row; "
            f"HDBSCAN needs about 100 bytes per row per neighbour), use algorithm=dbscan, "
            f"or {larger}."
        )
    if worst.stage in {"load", "prepare"}:
        return f"cluster fewer columns or rows, use backend=cpu, or {larger}."
    return f"use {larger}, or backend=cpu."


@dataclass(frozen=True)
class Gpu:
    """A GPU of SageMaker's instance families: its memory as nvidia-smi reports the total."""

    name: str
    total_mib: int
    instances: str

    @property
    def free_at_start(self) -> int:
        """Free when a job starts: the total less the CUDA context and the libraries' own
        start (about 5%, `FREE_AT_START`)."""
        return int(self.total_mib * 2**20 * FREE_AT_START)


FREE_AT_START = 0.95
GPUS = (
    Gpu("T4", 15_360, "ml.g4dn"),
    Gpu("A10G", 23_028, "ml.g5"),
    Gpu("L4", 23_034, "ml.g6"),
    Gpu("A100 40 GB", 40_960, "ml.p4d"),
    Gpu("A100 80 GB", 81_920, "ml.p4de"),
    Gpu("H100", 81_559, "ml.p5"),
    Gpu("H200", 143_771, "ml.p5e"),
)
