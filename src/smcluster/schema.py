"""The hyperparameter schema: the one place that names, types, defaults and documents every knob.

Parsing, validation, the README table (`smcluster hyperparameters`) and the tuning ranges
(`smcluster tuning-ranges`) are all derived from `SCHEMA`.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class ValueKind:
    """How a raw (already JSON-decoded where possible) value becomes a typed one."""

    type_name = "str"

    def parse(self, value: Any) -> Any:
        raise NotImplementedError

    def allowed(self) -> str:
        return "any"


@dataclass(frozen=True)
class Text(ValueKind):
    meaning: str = "a column name, or empty for none"
    type_name = "str"

    def parse(self, value: Any) -> str:
        if isinstance(value, (dict, list)):
            raise ValueError(f"expected a single name, got {value!r}")
        return "" if value is None else str(value).strip()

    def allowed(self) -> str:
        return self.meaning


@dataclass(frozen=True)
class Choice(ValueKind):
    values: tuple[str, ...]
    type_name = "str"

    def parse(self, value: Any) -> str:
        text = str(value).strip().lower()
        if text not in self.values:
            raise ValueError(f"{value!r} is not one of {', '.join(self.values)}")
        return text

    def allowed(self) -> str:
        return ", ".join(f"`{v}`" for v in self.values)


@dataclass(frozen=True)
class Boolean(ValueKind):
    type_name = "bool"

    def parse(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{value!r} is not a boolean (use true or false)")

    def allowed(self) -> str:
        return "`true`, `false`"


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean, not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _range_text(low: float | None, high: float | None, low_open: bool = False) -> str:
    left = "(" if low_open else "["
    low_text = "-inf" if low is None else f"{low:g}"
    high_text = "inf" if high is None else f"{high:g}"
    return f"{left}{low_text}, {high_text}]"


@dataclass(frozen=True)
class Integer(ValueKind):
    low: int | None = None
    high: int | None = None
    type_name = "int"

    def parse(self, value: Any) -> int:
        number = _number(value)
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        integer = int(number)
        if (self.low is not None and integer < self.low) or (
            self.high is not None and integer > self.high
        ):
            raise ValueError(f"{integer} is outside {self.allowed()}")
        return integer

    def allowed(self) -> str:
        return _range_text(self.low, self.high)


@dataclass(frozen=True)
class Real(ValueKind):
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    type_name = "float"

    def parse(self, value: Any) -> float:
        number = _number(value)
        too_low = self.low is not None and (
            number <= self.low if self.low_open else number < self.low
        )
        if too_low or (self.high is not None and number > self.high):
            raise ValueError(f"{number:g} is outside {self.allowed()}")
        return number

    def allowed(self) -> str:
        return _range_text(self.low, self.high, self.low_open)


@dataclass(frozen=True)
class RealOrAuto(ValueKind):
    """A positive number, or the word `auto` (returned as None)."""

    type_name = "float|auto"

    def parse(self, value: Any) -> float | None:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return None
        number = _number(value)
        if number <= 0:
            raise ValueError(f"{number:g} must be greater than 0, or `auto`")
        return number

    def allowed(self) -> str:
        return "`auto` or a number > 0"


@dataclass(frozen=True)
class NameList(ValueKind):
    """Column names: a JSON list, a Python list repr (SDK v2 `str(list)`), or `a,b,c`.

    The word `all` (or an empty value) means every usable column and is returned as None.
    """

    type_name = "list[str]|all"

    def parse(self, value: Any) -> tuple[str, ...] | None:
        if isinstance(value, str):
            text = value.strip()
            if text.lower() in {"", "all", "none"}:
                return None
            if text.startswith("["):
                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    raise ValueError(f"{text!r} is not a valid list") from None
            else:
                value = [part.strip() for part in text.split(",")]
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{value!r} is not a list of column names")
        names = tuple(str(item).strip() for item in value if str(item).strip())
        if not names:
            return None
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"columns listed twice: {', '.join(duplicates)}")
        return names

    def allowed(self) -> str:
        return '`all`, or a list such as `["a", "b"]` or `a,b`'


@dataclass(frozen=True)
class TuningRange:
    """A SageMaker tuning range: `Continuous`, `Integer` or `Categorical`."""

    kind: str
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = ()
    scaling: str = "Auto"


@dataclass(frozen=True)
class Param:
    name: str
    kind: ValueKind
    default: Any
    help: str
    group: str
    tuning: TuningRange | None = None
    notes: str = ""

    def parse(self, value: Any) -> Any:
        return self.kind.parse(value)

    @property
    def default_text(self) -> str:
        if self.default is None:
            return "`auto`" if isinstance(self.kind, RealOrAuto) else "`all`"
        if isinstance(self.default, bool):
            return f"`{str(self.default).lower()}`"
        if self.default == "":
            return "(none)"
        return f"`{self.default}`"


@dataclass(frozen=True)
class Schema:
    params: tuple[Param, ...]
    by_name: dict[str, Param] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {p.name: p for p in self.params})

    def __getitem__(self, name: str) -> Param:
        return self.by_name[name]

    def __iter__(self):
        return iter(self.params)

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
                "meaning": p.help + (f" {p.notes}" if p.notes else ""),
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


def _choices(*values: str) -> Choice:
    return Choice(tuple(values))


SCHEMA = Schema(
    (
        # --- data and features -------------------------------------------------------------
        Param(
            "features",
            NameList(),
            None,
            "Feature columns to cluster on; `all` takes every numeric column except the id and "
            "label columns.",
            "data",
        ),
        Param(
            "id_column",
            Text(),
            "",
            "Column that identifies a row; carried through to `labels.parquet`. Empty: the row "
            "number is the id.",
            "data",
        ),
        Param(
            "label_column",
            Text(),
            "",
            "Optional ground-truth column: never a feature; enables the ARI and AMI metrics.",
            "data",
        ),
        Param(
            "missing",
            _choices("error", "drop", "median", "mean", "zero"),
            "median",
            "What to do with NaN or infinite feature values: fail, drop the row, or impute the "
            "column's median, mean or zero. The count is always logged.",
            "data",
        ),
        Param(
            "log_transform",
            _choices("none", "auto"),
            "none",
            "`auto` applies log1p to non-negative features whose skewness exceeds 1 (typical of "
            "RFM spend and counts).",
            "data",
            TuningRange("Categorical", values=("none", "auto")),
        ),
        Param(
            "scaling",
            _choices("standard", "robust", "none"),
            "standard",
            "Feature scaling before reduction: z-score, median/IQR, or none.",
            "data",
            TuningRange("Categorical", values=("standard", "robust")),
        ),
        Param(
            "correlation_threshold",
            Real(0.0, 1.0, low_open=True),
            0.95,
            "Of each pair of features whose absolute rank (Spearman) correlation exceeds this, "
            "the later column is dropped (logged and recorded); `1` keeps every feature.",
            "data",
        ),
        # --- reduction ---------------------------------------------------------------------
        Param(
            "reducer",
            _choices("umap", "pca", "tsne", "none", "auto"),
            "umap",
            "Dimension reduction before clustering. `auto`: UMAP, skipped when the prepared data "
            "already has no more than `n_components` columns. `tsne` has no transform: new rows "
            "take the embedding of their nearest fitted row, and it needs `n_components` <= 3 "
            "(2 on the GPU).",
            "reduce",
            TuningRange("Categorical", values=("umap", "pca")),
        ),
        Param(
            "umap_fit_sample_size",
            Integer(1_000, 100_000_000),
            100_000,
            "Rows UMAP (and t-SNE) is fitted on, sampled with `random_state`; the other rows are "
            "transformed in chunks, so the cost grows linearly past the sample.",
            "reduce",
        ),
        Param(
            "n_components",
            Integer(1, 100),
            5,
            "Dimensions of the embedding the clusterer sees.",
            "reduce",
            TuningRange("Integer", 2, 10),
        ),
        Param(
            "n_neighbors",
            Integer(2, 500),
            15,
            "UMAP neighbourhood size: larger favours global structure.",
            "reduce",
            TuningRange("Integer", 5, 100, scaling="Logarithmic"),
        ),
        Param(
            "min_dist",
            Real(0.0, 1.0),
            0.0,
            "UMAP minimum distance; 0 packs clusters tightly, which suits density clustering.",
            "reduce",
            TuningRange("Continuous", 0.0, 0.5),
        ),
        Param(
            "metric",
            _choices("euclidean", "manhattan", "cosine", "correlation", "chebyshev"),
            "euclidean",
            "Distance UMAP uses on the scaled features.",
            "reduce",
            TuningRange("Categorical", values=("euclidean", "manhattan", "cosine")),
        ),
        # --- clustering --------------------------------------------------------------------
        Param(
            "algorithm",
            _choices("dbscan", "hdbscan", "kmeans", "gmm"),
            "dbscan",
            "Clustering algorithm run on the embedding. `gmm` (Gaussian mixture) is CPU-only: "
            "it runs with scikit-learn on the host even when backend=gpu.",
            "cluster",
            TuningRange("Categorical", values=("dbscan", "hdbscan", "kmeans", "gmm")),
        ),
        Param(
            "n_clusters",
            Integer(2, 10_000),
            8,
            "Clusters for `kmeans` and mixture components for `gmm`.",
            "cluster",
            TuningRange("Integer", 3, 20),
        ),
        Param(
            "covariance_type",
            _choices("full", "tied", "diag", "spherical"),
            "full",
            "`gmm` covariance form.",
            "cluster",
            TuningRange("Categorical", values=("full", "diag")),
        ),
        Param(
            "min_cluster_size",
            Integer(2, 10_000_000),
            100,
            "`hdbscan`: smallest group that counts as a cluster (its `min_samples` is "
            "`min_samples`).",
            "cluster",
            TuningRange("Integer", 20, 2000, scaling="Logarithmic"),
        ),
        Param(
            "eps",
            RealOrAuto(),
            None,
            "DBSCAN neighbourhood radius in the embedding. `auto`: the knee of the k-distance "
            "curve (k = `min_samples`).",
            "cluster",
        ),
        Param(
            "min_samples",
            Integer(2, 10_000),
            10,
            "DBSCAN and HDBSCAN core-point threshold, and k for the k-distance curve.",
            "cluster",
            TuningRange("Integer", 3, 50, scaling="Logarithmic"),
        ),
        Param(
            "eps_knee_sensitivity",
            Real(0.0, 100.0, low_open=True),
            1.0,
            "kneed's sensitivity S for `eps=auto`: larger is more conservative.",
            "cluster",
        ),
        Param(
            "eps_fallback_quantile",
            Real(0.5, 1.0, low_open=True),
            0.9,
            "When the k-distance curve has no knee, `eps` is this quantile of the k-distances.",
            "cluster",
        ),
        Param(
            "eps_sample_size",
            Integer(100, 10_000_000),
            50_000,
            "Rows whose k-distance is computed for `eps=auto` (queried against all rows).",
            "cluster",
        ),
        # --- scoring and runtime -----------------------------------------------------------
        Param(
            "silhouette_sample_size",
            Integer(100, 10_000_000),
            10_000,
            "Rows (noise excluded) sampled with `random_state` for the silhouette score.",
            "score",
        ),
        Param(
            "dbscan_memory_mb",
            Integer(16, 1_000_000),
            1024,
            "CPU DBSCAN: most memory its neighbourhood lists may hold at once; the radius "
            "queries run in chunks sized from it (the GPU sizes its batches from free device "
            "memory).",
            "runtime",
        ),
        Param(
            "random_state",
            Integer(0, 2**31 - 1),
            42,
            "Seed for every random step; the same seed gives the same labels.",
            "runtime",
        ),
        Param(
            "backend",
            _choices("auto", "cpu", "gpu"),
            "auto",
            "`auto` uses the GPU when CUDA and cuML are usable, else the CPU.",
            "runtime",
        ),
        # --- plots and report --------------------------------------------------------------
        Param(
            "plots",
            Boolean(),
            True,
            "Draw the plots (PNG) and embed them in `report.html`; `false` skips them for fast "
            "tuning runs (`cluster_profiles.csv` and a plot-less report are still written).",
            "report",
        ),
        Param(
            "plot_sample_size",
            Integer(500, 1_000_000),
            20_000,
            "Rows drawn per run, stratified by cluster, for the plots, the PCA summary and the "
            "silhouette plot: plot time stays bounded however large the table.",
            "report",
        ),
        # --- experiment tracking -----------------------------------------------------------
        Param(
            "tracker",
            _choices("auto", "sagemaker", "mlflow", "none"),
            "auto",
            "Where the run is recorded. `auto`: SageMaker Experiments inside a SageMaker job "
            "(`TRAINING_JOB_ARN` set), else MLflow at `mlflow_tracking_uri` or "
            "`MLFLOW_TRACKING_URI`, else a local MLflow SQLite store under the output data "
            "directory.",
            "tracking",
        ),
        Param(
            "tracker_required",
            Boolean(),
            False,
            "`true`: a tracking failure fails the job. `false`: it is a logged warning.",
            "tracking",
        ),
        Param(
            "mlflow_tracking_uri",
            Text("a URI or ARN, or empty"),
            "",
            "MLflow tracking URI (`http(s)://...`, `sqlite:///...`, or a SageMaker managed MLflow "
            "ARN). Empty: `MLFLOW_TRACKING_URI`, else the local store.",
            "tracking",
        ),
        Param(
            "experiment_name",
            Text("a name"),
            "smcluster",
            "MLflow experiment that holds the run.",
            "tracking",
        ),
        Param(
            "run_name",
            Text("a name, or empty"),
            "",
            "Name of the tracked run. Empty: `TRAINING_JOB_NAME`, else `smcluster-<time>`.",
            "tracking",
        ),
    )
)

# Keys SageMaker and its SDKs add on their own; never errors, never used.
RESERVED_PREFIXES: tuple[str, ...] = ("sagemaker_", "_")


def is_reserved(name: str) -> bool:
    return name.startswith(RESERVED_PREFIXES)


def to_json_safe(value: Any) -> Any:
    """Typed hyperparameter value → JSON value (tuples become lists)."""
    if isinstance(value, tuple):
        return list(value)
    return value
