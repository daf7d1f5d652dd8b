"""The embedding the clusterer sees (UMAP, t-SNE, PCA or the prepared rows).

UMAP's fit grows faster than linearly with the rows it sees; `transform` of new rows is linear.
Fitting on `umap_fit_sample_size` rows and transforming the others keeps the cost linear past
the sample. t-SNE has no `transform` in scikit-learn or cuML: `NearestFitEmbedding` gives a new
row the embedding of its nearest fitted row in the prepared feature space. PCA is the projection
onto the leading components of the one PCA the `prepare` stage fitted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ..backends.base import Array, Backend, Reducer, ReducerSettings, array_module, to_host
from ..contract.schema import Hyperparameters
from .prepare.pca import PcaSummary
from .runtime.sampling import sample_index

log = logging.getLogger(__name__)

TRANSFORM_CHUNK = 200_000  # rows per transform call: bounds the k-NN graph of new rows


def resolve_reducer(kind: str, width: int, n_components: int) -> str:
    """`auto` is UMAP unless the prepared data already has ≤ `n_components` columns."""
    if kind != "auto":
        return kind
    if width <= n_components:
        log.info(
            "reducer=auto: the data has %d columns, not more than n_components=%d; "
            "clustering the prepared features without reduction",
            width,
            n_components,
        )
        return "none"
    log.info("reducer=auto: UMAP from %d columns to n_components=%d", width, n_components)
    return "umap"


class NearestFitEmbedding:
    """t-SNE as a reducer: new rows take the embedding of their nearest fitted row.

    In training, `nearest` (the backend's exact 1-NN) keeps the search on the backend, so a GPU
    run never copies its rows to the host for it; a loaded model (`predict`) searches on the
    host with one scikit-learn index, built at its first use and kept for every later chunk.
    """

    def __init__(
        self, estimator: Any, nearest: Callable[[Array, Array], tuple[Array, Array]] | None = None
    ) -> None:
        self.estimator = estimator
        self.fitted_rows: np.ndarray | None = None
        self.fitted_embedding: np.ndarray | None = None
        self._nearest = nearest
        self._backend_rows: Array | None = None  # the fitted rows and embedding, on the backend
        self._backend_embedding: Array | None = None
        self._host_index: Any = None

    def fit_transform(self, data: Array) -> Array:
        embedding = self.estimator.fit_transform(data)
        self.fitted_rows = to_host(data).astype(np.float32)
        self.fitted_embedding = to_host(embedding).astype(np.float32)
        self._backend_rows, self._backend_embedding = data, embedding
        return embedding

    def transform(self, data: Array) -> Array:
        assert self.fitted_rows is not None and self.fitted_embedding is not None, "not fitted"
        nearest = getattr(self, "_nearest", None)  # these three are absent from a loaded model
        rows = getattr(self, "_backend_rows", None)
        embedding = getattr(self, "_backend_embedding", None)
        if nearest is not None and rows is not None and embedding is not None:
            _, found = nearest(rows, data)
            return embedding[found]
        if getattr(self, "_host_index", None) is None:
            from sklearn.neighbors import NearestNeighbors

            self._host_index = NearestNeighbors(n_neighbors=1).fit(self.fitted_rows)
        from ..backends.host_index import query_jobs

        # One index serves every chunk; each query picks its threads by its own size.
        self._host_index.set_params(n_jobs=query_jobs(len(data)))
        _, found = self._host_index.kneighbors(to_host(data))
        return np.asarray(self.fitted_embedding[found[:, 0]])

    def __getstate__(self) -> dict[str, Any]:
        # Only the fitted rows and their embedding travel: the t-SNE object is not needed to
        # place new rows (and cuML's does not pickle), nor the backend's arrays and search.
        kept = ("fitted_rows", "fitted_embedding")
        return {**{key: self.__dict__[key] for key in kept}, "estimator": None}


class SampledReducer:
    """Fit `estimator` on at most `fit_rows` rows; transform every other row in chunks."""

    def __init__(self, estimator: Reducer, kind: str, fit_rows: int, random_state: int) -> None:
        self.estimator = estimator
        self.kind = kind
        self.fit_rows = fit_rows
        self.random_state = random_state

    def fit_transform(self, data: Array, xp: ModuleType = np) -> Array:
        rows = data.shape[0]
        if rows <= self.fit_rows:
            return xp.asarray(self.estimator.fit_transform(data), dtype=xp.float32)
        picked = sample_index(rows, self.fit_rows, self.random_state)
        log.info(
            "%s: fitting on a sample of %s of %s rows (umap_fit_sample_size), transforming "
            "the rest in chunks of %s",
            self.kind,
            f"{self.fit_rows:,}",
            f"{rows:,}",
            f"{TRANSFORM_CHUNK:,}",
        )
        fitted = xp.asarray(self.estimator.fit_transform(data[xp.asarray(picked)]), xp.float32)
        out = xp.empty((rows, fitted.shape[1]), dtype=xp.float32)
        out[xp.asarray(picked)] = fitted
        rest = np.ones(rows, dtype=bool)
        rest[picked] = False
        rest_index = np.flatnonzero(rest)
        started = time.perf_counter()
        for start in range(0, len(rest_index), TRANSFORM_CHUNK):
            chunk = xp.asarray(rest_index[start : start + TRANSFORM_CHUNK])
            out[chunk] = xp.asarray(self.estimator.transform(data[chunk]), dtype=xp.float32)
            done = min(start + TRANSFORM_CHUNK, len(rest_index))
            elapsed = time.perf_counter() - started
            log.info(
                "%s transform: %s/%s rows (%.1fs, %s rows/s)",
                self.kind,
                f"{done:,}",
                f"{len(rest_index):,}",
                elapsed,
                f"{done / elapsed:,.0f}" if elapsed > 0 else "-",
            )
        return out

    def transform(self, data: Array) -> Array:
        rows = data.shape[0]
        if rows <= TRANSFORM_CHUNK:
            return self.estimator.transform(data)
        parts = [
            self.estimator.transform(data[start : start + TRANSFORM_CHUNK])
            for start in range(0, rows, TRANSFORM_CHUNK)
        ]
        return array_module(parts[0]).concatenate(parts)


@dataclass(frozen=True)
class Reduction:
    reducer: Reducer | None  # fitted; None for reducer=none
    embedding: Array  # float32 per kept row, on the backend


def reduce(
    backend: Backend,
    hp: Hyperparameters,
    prepared: Array,
    pca: PcaSummary | None,
) -> Reduction:
    """The embedding of the prepared rows, by UMAP or t-SNE fitted on a sample
    (`umap_fit_sample_size`), by the prepare stage's PCA, or none."""
    xp = backend.xp
    if hp.reducer == "none":
        return Reduction(None, prepared)
    rows = prepared.shape[0]
    reducer: Reducer
    if hp.reducer == "pca":
        assert pca is not None, "the prepare stage fits the PCA whenever there are rows"
        reducer = pca.projection(hp.n_components)
        embedding = reducer.transform(prepared)
    else:
        fit_rows = min(hp.umap_fit_sample_size, rows)
        settings = ReducerSettings(
            kind=hp.reducer,
            n_components=hp.n_components,
            n_neighbors=hp.n_neighbors,
            min_dist=hp.min_dist,
            metric=hp.metric,
            # t-SNE's perplexity plays n_neighbors' part; it must stay below the rows seen.
            perplexity=float(max(2, min(hp.n_neighbors, (fit_rows - 1) // 3))),
            random_state=hp.random_state,
            fit_rows=fit_rows,
        )
        estimator = backend.make_reducer(settings)
        if hp.reducer == "tsne":
            estimator = NearestFitEmbedding(estimator, backend.nearest)
        sampled = SampledReducer(estimator, hp.reducer, hp.umap_fit_sample_size, hp.random_state)
        embedding = sampled.fit_transform(prepared, xp)
        reducer = sampled
    return Reduction(reducer, xp.asarray(embedding, dtype=xp.float32))
