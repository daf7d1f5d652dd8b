"""The backend seam: what the pipeline asks of a compute library, for the CPU and GPU alike.

Arrays on a backend are NumPy (CPU) or CuPy (GPU) arrays; the pipeline writes its arithmetic
once against the backend's array module `xp` and asks the backend for everything else. This
package is the only code that knows which library runs; `to_host` and `array_module` are the
only places outside the backends' own modules that look at an array's kind.
"""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from ..contract.errors import HyperparameterError, ResourceError
from ..contract.schema import Hyperparameters
from ..contract.tables import TableFile


# A NumPy or CuPy array (CuPy has no type stubs): the seam's arrays are typed as this alias.
class Array(Protocol):
    """A NumPy or CuPy array, as the pipeline uses one (CuPy has no type stubs)."""

    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def ndim(self) -> int: ...
    @property
    def dtype(self) -> Any: ...
    @property
    def size(self) -> int: ...
    def __len__(self) -> int: ...
    def __getitem__(self, key: Any, /) -> Any: ...
    def __setitem__(self, key: Any, value: Any, /) -> None: ...
    def __iter__(self) -> Any: ...
    def astype(self, dtype: Any, /, *args: Any, **kwargs: Any) -> Any: ...
    def __add__(self, other: Any, /) -> Any: ...
    def __sub__(self, other: Any, /) -> Any: ...
    def __mul__(self, other: Any, /) -> Any: ...
    def __truediv__(self, other: Any, /) -> Any: ...
    def __lt__(self, other: Any, /) -> Any: ...
    def __le__(self, other: Any, /) -> Any: ...
    def __gt__(self, other: Any, /) -> Any: ...
    def __ge__(self, other: Any, /) -> Any: ...
    def __eq__(self, other: Any, /) -> Any: ...
    def __ne__(self, other: Any, /) -> Any: ...
    def __neg__(self) -> Any: ...
    def __invert__(self) -> Any: ...
    def __and__(self, other: Any, /) -> Any: ...
    def __or__(self, other: Any, /) -> Any: ...
    def sum(self, *args: Any, **kwargs: Any) -> Any: ...
    def max(self, *args: Any, **kwargs: Any) -> Any: ...
    def min(self, *args: Any, **kwargs: Any) -> Any: ...
    def mean(self, *args: Any, **kwargs: Any) -> Any: ...
    def any(self, *args: Any, **kwargs: Any) -> Any: ...
    def all(self, *args: Any, **kwargs: Any) -> Any: ...
    def copy(self, *args: Any, **kwargs: Any) -> Any: ...
    def reshape(self, *args: Any, **kwargs: Any) -> Any: ...
    def tolist(self) -> Any: ...
    def __array__(self, *args: Any, **kwargs: Any) -> Any: ...


Frame = Any  # a pandas or cuDF data frame


def to_host(array: Array) -> np.ndarray:
    """A NumPy copy of a NumPy or CuPy array (CuPy's `.get()` copies device to host)."""
    return array.get() if hasattr(array, "get") else np.asarray(array)


def array_module(array: Array) -> ModuleType:
    """`numpy` or `cupy`: the module an array belongs to."""
    if type(array).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def package_version(package: str) -> str:
    try:
        return md.version(package)
    except md.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class ReducerSettings:
    """What a nonlinear reducer is built from; both libraries' estimators take these names."""

    kind: str  # "umap" or "tsne"
    n_components: int
    n_neighbors: int
    min_dist: float
    metric: str
    perplexity: float
    random_state: int
    fit_rows: int = 0  # rows the estimator is fitted on (cuML's t-SNE arguments depend on it)

    def arguments(self) -> dict[str, Any]:
        """The estimator's keyword arguments, the same for scikit-learn/umap-learn and cuML:
        one place, so the CPU and GPU reducers cannot drift apart."""
        if self.kind == "tsne":
            # init="pca" on both: cuML's default is "random", scikit-learn's "pca".
            return {
                "n_components": self.n_components,
                "perplexity": self.perplexity,
                "random_state": self.random_state,
                "init": "pca",
            }
        return {
            "n_components": self.n_components,
            "n_neighbors": self.n_neighbors,
            "min_dist": self.min_dist,
            "metric": self.metric,
            "random_state": self.random_state,
        }


class Reducer(Protocol):
    def fit_transform(self, data: Array) -> Array: ...
    def transform(self, data: Array) -> Array: ...


class HostEstimator(Protocol):
    """A fitted host-side estimator that labels new rows (scikit-learn's GaussianMixture)."""

    def predict(self, data: np.ndarray) -> np.ndarray: ...


class Device(Protocol):
    """Where arrays live: every concern below works on this backend's arrays."""

    @property
    def name(self) -> str:
        """`cpu` or `gpu`: for logs, tags and the model's record, never for branching."""
        ...

    @property
    def xp(self) -> ModuleType:
        """The array module: `numpy` or `cupy`."""
        ...


class Frames(Device, Protocol):
    """Tables: reading files, and columns as arrays or host Series."""

    def read_file(self, table_file: TableFile, text_columns: Sequence[str] = ()) -> Frame:
        """One table file as a data frame (pandas or cuDF); the reader's own exceptions pass
        through (the load stage turns them into reasons).

        Columns named in `text_columns` (all in the file's header) are text: read from a CSV
        exactly as written (an id `00123` must not become 123, nor an 18-digit id a rounded
        float), converted from a Parquet file's stored type (so that a channel mixing both
        formats has one type per column; `load` names them for Parquet only then).
        """
        ...

    def concat(self, frames: list[Frame]) -> Frame:
        """Frames with the same columns as one, in the given order and the first's column order."""
        ...

    def columns_to_array(self, frame: Frame, columns: list[str]) -> Array:
        """Selected numeric columns as a float32 matrix on the backend; missing become NaN."""
        ...

    def column_to_host(self, frame: Frame, column: str) -> Any:
        """One column as a pandas Series."""
        ...

    def series_to_host(self, series: Any) -> Any:
        """A Series of this backend's frames (a column, or one result per column of a
        reduction such as `frame.max()`) as a pandas Series."""
        ...


class Reducers(Device, Protocol):
    def make_reducer(self, settings: ReducerSettings) -> Reducer:
        """An unfitted UMAP or t-SNE estimator."""
        ...


class NeighbourSearch(Device, Protocol):
    def neighbor_distances(self, data: Array, queries: Array, n_neighbors: int) -> Array:
        """Sorted distances from each query row to its `n_neighbors` nearest rows of `data`.

        Queries are rows of `data`, so the first column is each row itself (distance 0).
        """
        ...

    def beyond_kth_nearest(
        self, reference: Array, queries: Array, k: int, radius: float
    ) -> np.ndarray:
        """Host booleans: True where a query row's `k`-th nearest reference row lies farther
        than `radius` (the same answer as `neighbor_distances(reference, queries, k)[:, -1] >
        radius`; a backend may settle most rows without the full search)."""
        ...

    def nearest(self, reference: Array, queries: Array) -> tuple[Array, Array]:
        """For each query row: distance to and index of the nearest reference row."""
        ...


class Clusterers(Device, Protocol):
    @property
    def dbscan_takes_core_distances(self) -> bool:
        """True when `dbscan` can use core distances from the eps stage's neighbour query
        (one k-NN pass serves both); False when the library finds core points itself."""
        ...

    def dbscan(
        self,
        data: Array,
        eps: float,
        min_samples: int,
        memory_mb: int,
        core_distances: Array | None = None,
    ) -> tuple[Array, Array]:
        """DBSCAN labels (-1 noise) and the indices of the core samples, memory bounded.

        `core_distances`, when given, is each row's distance to its `min_samples`-th nearest
        row (itself included), so the core test needs no second neighbour query.
        """
        ...

    def hdbscan(self, data: Array, min_cluster_size: int, min_samples: int | None) -> Array:
        """HDBSCAN labels (-1 noise); `min_samples=None` is the library's default."""
        ...

    def kmeans(self, data: Array, n_clusters: int, random_state: int) -> tuple[Array, Array]:
        """k-means labels and the cluster centres."""
        ...

    def gaussian_mixture(
        self, data: Array, n_components: int, covariance_type: str, random_state: int
    ) -> tuple[Array, HostEstimator, dict[str, Any]]:
        """Mixture labels, the fitted host estimator that labels new rows, and facts to record."""
        ...


class Metrics(Device, Protocol):
    def silhouette(self, data: Array, labels: Array) -> float: ...
    def davies_bouldin(self, data: Array, labels: Array) -> float: ...
    def calinski_harabasz(self, data: Array, labels: Array) -> float: ...


class Backend(Frames, Reducers, NeighbourSearch, Clusterers, Metrics, Protocol):
    """What the pipeline needs from a compute library: the concerns above, and what the job
    records and checks of it. A stage that needs one concern takes that protocol."""

    def describe(self) -> dict[str, str]:
        """Library versions and device facts, for logs and the resolved hyperparameters."""
        ...

    def check(self, hp: Hyperparameters) -> list[HyperparameterError]:
        """What this backend cannot do with these hyperparameters (empty: all fine)."""
        ...

    def memory_problem(
        self, rows: int, features: int, hp: Hyperparameters, table_columns: int
    ) -> ResourceError | None:
        """Why the stages after prepare would not fit this device's free memory, with the Fix
        (`memory_plan.py`), or None; checked before the long stages. The CPU's memory is the
        host's: None (its limits surface as the job's memory refusal, exit 3)."""
        ...
