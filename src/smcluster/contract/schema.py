"""The hyperparameter schema: the one place that names, types, defaults and documents every knob.

`Hyperparameters` declares each knob once, as a typed field whose metadata holds its value kind,
help text, group and suggested tuning range. Everything else is derived from it: parsing and
validation (`hyperparameters.parse`), the README table (`smcluster hyperparameters`), the tuning
ranges (`smcluster tuning-ranges`, `launch-tuning`, `tune-local`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .kinds import (
    Boolean,
    Choice,
    Integer,
    IntegerOrAuto,
    NameList,
    Real,
    RealOrAuto,
    Text,
    TuningRange,
    ValueKind,
)
from .secrets import MASK, redact, redact_value

PARAM = "smcluster.param"  # the dataclass-field metadata key that makes a field a hyperparameter


@dataclass(frozen=True)
class ParamInfo:
    """What the schema knows about a field besides its name, type and default."""

    kind: ValueKind[Any]
    help: str
    group: str
    tuning: TuningRange | None = None
    secret: bool = False  # a credential: written as MASK everywhere (log, report, model, runs)


def _param(
    kind: ValueKind[Any],
    default: object,
    help: str,
    group: str,
    tuning: TuningRange | None = None,
    secret: bool = False,
) -> Any:
    """A dataclass field that is a hyperparameter (typed `Any` like `dataclasses.field`)."""
    info = ParamInfo(kind, help, group, tuning, secret=secret)
    return field(default=default, metadata={PARAM: info})


def _choices(*values: str) -> Choice:
    return Choice(tuple(values))


@dataclass(frozen=True)
class Hyperparameters:
    """Resolved hyperparameters: every knob typed and validated, defaults filled in.

    `given` names the ones the job's `hyperparameters.json` set (the others are defaults).
    """

    # --- data and features ---------------------------------------------------------------
    features: tuple[str, ...] | None = _param(
        NameList(),
        None,
        "Feature columns to cluster on; `all` takes every numeric column except the id and "
        "label columns.",
        "data",
    )
    id_column: str = _param(
        Text(),
        "",
        "Column that identifies a row; carried through to `labels.parquet`. Empty: the row "
        "number is the id.",
        "data",
    )
    label_column: str = _param(
        Text(),
        "",
        "Optional ground-truth column: never a feature; enables the ARI and AMI metrics.",
        "data",
    )
    missing: str = _param(
        _choices("error", "drop", "median", "mean", "zero"),
        "median",
        "What to do with NaN or infinite feature values: fail, drop the row, or impute the "
        "column's median, mean or zero. The count is always logged.",
        "data",
    )
    log_transform: str = _param(
        _choices("none", "auto"),
        "auto",
        "`auto` applies log1p to non-negative features whose skewness exceeds 1 (typical of "
        "RFM spend and counts); `none` keeps every feature as it is.",
        "data",
        TuningRange("Categorical", values=("none", "auto")),
    )
    scaling: str = _param(
        _choices("standard", "robust", "none"),
        "standard",
        "Feature scaling before reduction: z-score, median/IQR, or none.",
        "data",
        TuningRange("Categorical", values=("standard", "robust")),
    )
    max_mode_share: float = _param(
        Real(0.5, 1.0),
        0.99,
        "A feature whose most common value covers more than this share of the rows (on a "
        "sample of up to 100,000) is dropped (logged and recorded): after scaling, its few "
        "other values lie tens of standard deviations out and dominate the distances. Raise "
        "it (`1` keeps every feature) when a rare value marks a segment you want found, such "
        "as a flag set for under 1% of the customers.",
        "data",
    )
    correlation_threshold: float = _param(
        Real(0.0, 1.0, low_open=True),
        0.95,
        "Of each pair of features whose absolute rank (Spearman) correlation exceeds this, "
        "the later column is dropped (logged and recorded); `1` keeps every feature. Applied "
        "from 20 rows (fewer cannot tell a near-copy from chance).",
        "data",
    )
    # --- reduction -----------------------------------------------------------------------
    reducer: str = _param(
        _choices("umap", "pca", "tsne", "none", "auto"),
        "auto",
        "Dimension reduction before clustering. `auto`: UMAP when the prepared data has more "
        "than `n_components` columns, else none (density clustering on low-dimensional "
        "features themselves keeps rings, chains and nested shapes that UMAP tears apart). "
        "`tsne` has no transform: new rows take the embedding of their nearest fitted row, and "
        "it needs `n_components` <= 3 (2 on the GPU).",
        "reduce",
        TuningRange("Categorical", values=("umap", "pca")),
    )
    umap_fit_sample_size: int = _param(
        Integer(1_000, 100_000_000),
        30_000,
        "Rows UMAP (and t-SNE) is fitted on, sampled with `random_state`; the other rows are "
        "transformed in chunks, so the cost grows linearly past the sample. 30,000 fitted rows "
        "matched or beat 100,000 on every larger table measured (README, Speed).",
        "reduce",
    )
    n_components: int = _param(
        Integer(1, 100),
        5,
        "Dimensions of the embedding the clusterer sees.",
        "reduce",
        TuningRange("Integer", 2, 10),
    )
    n_neighbors: int = _param(
        Integer(2, 500),
        15,
        "UMAP neighbourhood size: larger favours global structure.",
        "reduce",
        TuningRange("Integer", 5, 100, scaling="Logarithmic"),
    )
    min_dist: float = _param(
        Real(0.0, 1.0),
        0.0,
        "UMAP minimum distance; 0 packs clusters tightly, which suits density clustering.",
        "reduce",
        TuningRange("Continuous", 0.0, 0.5),
    )
    metric: str = _param(
        _choices("euclidean", "manhattan", "cosine", "correlation", "chebyshev"),
        "euclidean",
        "Distance UMAP uses on the scaled features.",
        "reduce",
        TuningRange("Categorical", values=("euclidean", "manhattan", "cosine")),
    )
    # --- clustering ----------------------------------------------------------------------
    algorithm: str = _param(
        _choices("dbscan", "hdbscan", "kmeans", "gmm"),
        "dbscan",
        "Clustering algorithm run on the embedding. `gmm` (Gaussian mixture) is CPU-only: "
        "it runs with scikit-learn on the host even when backend=gpu.",
        "cluster",
        TuningRange("Categorical", values=("dbscan", "hdbscan", "kmeans", "gmm")),
    )
    n_clusters: int = _param(
        Integer(2, 10_000),
        8,
        "Clusters for `kmeans` and mixture components for `gmm`.",
        "cluster",
        TuningRange("Integer", 3, 20),
    )
    covariance_type: str = _param(
        _choices("full", "tied", "diag", "spherical"),
        "full",
        "`gmm` covariance form.",
        "cluster",
        TuningRange("Categorical", values=("full", "diag")),
    )
    min_cluster_size: int | None = _param(
        IntegerOrAuto(2, 10_000_000),
        None,
        "Smallest group that counts as a cluster, for `hdbscan` and for `dbscan` with `eps` and "
        "`min_samples` both `auto`. `auto`: 2% of the rows clustered (of the sample, for "
        "`dbscan`), at least 10; groups smaller than that are not reported.",
        "cluster",
        TuningRange("Integer", 20, 2000, scaling="Logarithmic"),
    )
    eps: float | None = _param(
        RealOrAuto(),
        None,
        "DBSCAN neighbourhood radius in the embedding. `auto` with `min_samples=auto`: a radius "
        "per cluster, the clusters chosen by excess of mass over the DBSCAN hierarchy (as "
        "HDBSCAN selects them) on up to `eps_sample_size` rows. `auto` with `min_samples` set: "
        "the knee of the k-distance curve (k = `min_samples`); when that radius leaves one "
        "cluster holding over 90% of the clustered rows, the largest smaller radius that cuts "
        "that cluster's rows into two parts of comparable size (the larger at most 90% of "
        "both; at most 30% noise).",
        "cluster",
    )
    min_samples: int | None = _param(
        IntegerOrAuto(2, 10_000),
        None,
        "DBSCAN and HDBSCAN core-point threshold (rows within the radius, the row itself "
        "included), and k for the k-distance curve. `auto`: 5 (for DBSCAN with `eps=auto`, "
        "with a radius per cluster, see `eps`). On the gpu HDBSCAN takes at most 1024, "
        "cuML's limit.",
        "cluster",
        TuningRange("Integer", 3, 50, scaling="Logarithmic"),
    )
    eps_knee_sensitivity: float = _param(
        Real(0.0, 100.0, low_open=True),
        1.0,
        "kneed's sensitivity S for `eps=auto`: larger is more conservative.",
        "cluster",
    )
    eps_fallback_quantile: float = _param(
        Real(0.5, 1.0, low_open=True),
        0.9,
        "When the k-distance curve has no knee, `eps` is this quantile of the k-distances.",
        "cluster",
    )
    eps_sample_size: int = _param(
        Integer(100, 10_000_000),
        50_000,
        "Rows whose k-distance is computed for `eps=auto` (queried against all rows).",
        "cluster",
    )
    outlier_threshold: float = _param(
        Real(0.0, 100.0),
        3.0,
        "DBSCAN and HDBSCAN after a reducer: rows whose distance to their 10th nearest row in "
        "the prepared features lies more than this many robust deviations (MAD of the log "
        "distance) above the median are labelled noise (-1), as the embedding would pull "
        "them into a cluster. With `eps` and `min_samples` `auto`, the rows the clusterer left "
        "out join their nearest cluster unless this test calls them far. `0` turns it off.",
        "cluster",
    )
    merge_sparse_splits: bool = _param(
        Boolean(),
        True,
        "DBSCAN and HDBSCAN: merge two clusters that differ only in whether one mostly-zero "
        "feature is zero (no other feature's mean differs by half a standard deviation); "
        "`false` keeps them apart and warns.",
        "cluster",
    )
    # --- scoring and runtime -------------------------------------------------------------
    silhouette_sample_size: int = _param(
        Integer(100, 10_000_000),
        10_000,
        "Rows (noise excluded) sampled with `random_state` for the silhouette score.",
        "score",
    )
    dbscan_memory_mb: int = _param(
        Integer(16, 1_000_000),
        1024,
        "CPU DBSCAN: most memory its neighbourhood lists may hold at once; the radius "
        "queries run in chunks sized from it (the GPU sizes its batches from free device "
        "memory).",
        "runtime",
    )
    random_state: int = _param(
        Integer(0, 2**31 - 1),
        42,
        "Seed for every random step; the same seed gives the same labels.",
        "runtime",
    )
    backend: str = _param(
        _choices("auto", "cpu", "gpu"),
        "auto",
        "`auto` uses the GPU when CUDA and cuML are usable, else the CPU.",
        "runtime",
    )
    fit_sample_size: int = _param(
        Integer(10_000, 100_000_000),
        200_000,
        "Rows every step is fitted on (preparation, UMAP, the clusters), drawn with "
        "`random_state`; each other row is then labelled by the fitted model's rule, in chunks "
        "or as tasks on the workers that hold it, so the cost past the sample grows linearly "
        "and spreads over hosts. At least `umap_fit_sample_size` and `eps_sample_size` "
        "(the larger is used). Tables up to this size are fitted whole.",
        "runtime",
    )
    workers: int | None = _param(
        IntegerOrAuto(1, 1024),
        None,
        "Dask worker processes per host for the rows outside the fit sample. `auto`: one per "
        "visible GPU on the gpu backend, else one. One worker on one host runs in the job's "
        "own process (no Dask); more, or several hosts, start a Dask cluster (README, "
        "Several hosts and GPUs).",
        "runtime",
    )
    # --- plots and report ----------------------------------------------------------------
    plots: bool = _param(
        Boolean(),
        True,
        "Draw the plots (PNG) and embed them in `report.html`; `false` skips them for fast "
        "tuning runs (`cluster_profiles.csv` and a plot-less report are still written).",
        "report",
    )
    plot_sample_size: int = _param(
        Integer(500, 1_000_000),
        20_000,
        "Rows drawn per run, stratified by cluster, for the plots and the silhouette plot: "
        "plot time stays bounded however large the table.",
        "report",
    )
    # --- experiment tracking -------------------------------------------------------------
    tracker: str = _param(
        _choices("auto", "sagemaker", "mlflow", "none"),
        "auto",
        "Where the run is recorded. `auto`: SageMaker Experiments inside a SageMaker job "
        "(`TRAINING_JOB_ARN` set), else MLflow at `mlflow_tracking_uri` or "
        "`MLFLOW_TRACKING_URI`, else a local MLflow SQLite store under the output data "
        "directory.",
        "tracking",
    )
    tracker_required: bool = _param(
        Boolean(),
        False,
        "`true`: a tracking failure fails the job. `false`: it is a logged warning.",
        "tracking",
    )
    mlflow_tracking_uri: str = _param(
        Text("a URI or ARN, or empty"),
        "",
        "MLflow tracking URI (`http(s)://...`, `sqlite:///...`, or a SageMaker managed MLflow "
        "ARN). Empty: `MLFLOW_TRACKING_URI`, else the local store.",
        "tracking",
    )
    experiment_name: str = _param(
        Text("a name"),
        "smcluster",
        "MLflow experiment that holds the run.",
        "tracking",
    )
    run_name: str = _param(
        Text("a name, or empty"),
        "",
        "Name of the tracked run. Empty: `TRAINING_JOB_NAME`, else `smcluster-<time>`.",
        "tracking",
    )
    # Not a hyperparameter: which names the job's hyperparameters.json set.
    given: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def replace(self, **changes: Any) -> Hyperparameters:
        """A copy with some values changed (already typed; names are checked)."""
        return dataclasses.replace(self, **changes)

    def value(self, name: str) -> object:
        """One value by name (for generic code such as logs; typed code uses the attribute)."""
        return getattr(self, SCHEMA[name].name)

    def shown(self, name: str) -> object:
        """One value as the project writes it (`Param.shown`)."""
        return SCHEMA[name].shown(self.value(name))

    def to_json(self) -> dict[str, object]:
        """Every hyperparameter as a JSON value (tuples become lists), as the project writes
        them: secret ones and a URI's credentials masked (`Param.shown`)."""
        return {p.name: _json_safe(p.shown(getattr(self, p.name))) for p in SCHEMA}


def _json_safe(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Param:
    """One hyperparameter as the schema describes it."""

    name: str
    kind: ValueKind[Any]
    default: Any
    help: str
    group: str
    tuning: TuningRange | None = None
    secret: bool = False

    def parse(self, value: object) -> Any:
        return self.kind.parse(value)

    def read(self, raw: object) -> Any:
        """A value as SageMaker passes it (a string, however the SDK encoded it)."""
        return self.kind.parse(self.kind.decode(raw))

    def format(self, value: Any) -> str:
        """A value as a user writes it: `auto`, `all`, `true`, `a,b` (not None, True, tuples)."""
        if value is None:
            return "auto" if isinstance(self.kind, (RealOrAuto, IntegerOrAuto)) else "all"
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (tuple, list)):
            return ",".join(str(v) for v in value)
        return str(value)

    def shown(self, value: Any) -> Any:
        """A value as the project writes it anywhere (log, report, model directory, tracker):
        a secret one as MASK once set, any other with a URI's credentials masked."""
        if self.secret and value not in ("", None):
            return MASK
        return redact_value(value)

    def shown_text(self, value: Any) -> str:
        """`shown`, as a user writes a value (`format`)."""
        return MASK if self.secret and value not in ("", None) else redact(self.format(value))

    @property
    def default_text(self) -> str:
        if self.default == "" and not isinstance(self.default, bool):
            return "(none)"
        return f"`{self.format(self.default)}`"


@dataclass(frozen=True)
class Schema:
    """The hyperparameters declared on `Hyperparameters`, in declaration order."""

    params: tuple[Param, ...]
    by_name: dict[str, Param] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {p.name: p for p in self.params})

    @classmethod
    def of(cls, declared: type[Hyperparameters]) -> Schema:
        params = []
        for item in dataclasses.fields(declared):
            info = item.metadata.get(PARAM)
            if info is None:
                continue
            params.append(
                Param(
                    item.name,
                    info.kind,
                    item.default,
                    info.help,
                    info.group,
                    info.tuning,
                    secret=info.secret,
                )
            )
        return cls(tuple(params))

    def __getitem__(self, name: str) -> Param:
        return self.by_name[name]

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def table_rows(self) -> list[dict[str, str]]:
        return [
            {
                "name": p.name,
                "type": p.kind.type_name,
                "default": p.default_text,
                "allowed": p.kind.allowed(),
                "meaning": p.help
                + (
                    f" Secret: written as `{MASK}` everywhere smcluster writes it."
                    if p.secret
                    else ""
                ),
            }
            for p in self.params
        ]

    def markdown_table(self) -> str:
        header = "| name | type | default | allowed | meaning |\n|---|---|---|---|---|\n"
        rows = [
            f"| `{r['name']}` | {r['type']} | {r['default']} | {r['allowed']} | {r['meaning']} |"
            for r in self.table_rows()
        ]
        return header + "\n".join(rows) + "\n"

    def tuning_ranges(self) -> dict[str, dict[str, Any]]:
        """Suggested ranges for a HyperparameterTuner, in a JSON-friendly form."""
        ranges: dict[str, dict[str, Any]] = {}
        for p in self.params:
            if p.tuning is None:
                continue
            entry: dict[str, Any] = {"type": p.tuning.kind}
            if p.tuning.kind == "Categorical":
                entry["values"] = list(p.tuning.values)
            else:
                entry.update(min=p.tuning.low, max=p.tuning.high, scaling=p.tuning.scaling)
            ranges[p.name] = entry
        return ranges


SCHEMA = Schema.of(Hyperparameters)

# Keys SageMaker and its SDKs add on their own; never errors, never used.
RESERVED_PREFIXES: tuple[str, ...] = ("sagemaker_", "_")


def is_reserved(name: str) -> bool:
    return name.startswith(RESERVED_PREFIXES)
