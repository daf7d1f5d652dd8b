"""The clustering pipeline, written once against the backend seam.

load → select features → drop correlated features → prepare (PCA summary logged) → reduce
(fitted on a sample) → cluster (dbscan with eps from the k-distance knee, hdbscan, kmeans or gmm;
see `algorithms.py`) → score (→ validation).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .algorithms import cluster
from .backends import Backend
from .channels import Channel
from .data import check_same_columns, discover
from .eps import EpsChoice
from .errors import DataError, HyperparameterError
from .feature_selection import drop_correlated, pca_summary
from .features import FeaturePrep, select_feature_columns
from .hyperparameters import Hyperparameters
from .metrics import score
from .model import ClusterModel
from .reducers import NearestFitEmbedding, SampledReducer, resolve_reducer
from .stages import StageClock

log = logging.getLogger(__name__)


@dataclass
class SplitResult:
    """One channel's outcome, on the host: everything reports and artifacts need."""

    ids: np.ndarray  # one per input row
    kept: np.ndarray  # bool per input row: False when missing=drop removed it
    labels: np.ndarray  # cluster per kept row (-1 noise)
    embedding: np.ndarray  # per kept row
    raw_features: np.ndarray  # per kept row, original units (NaN where missing)
    truth: np.ndarray | None
    metrics: dict[str, float]
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    hp: Hyperparameters
    backend_info: dict[str, str]
    features: list[str]
    prepared: np.ndarray  # scaled features per kept training row
    eps: EpsChoice | None  # None unless algorithm=dbscan
    model: ClusterModel
    train: SplitResult
    validation: SplitResult | None
    timings: dict[str, float]
    prep_report: dict[str, Any]


def _check_sizes(rows: int, width: int, hp: Hyperparameters, backend_name: str) -> None:
    """Fail before the expensive steps when the table is too small for the parameters."""
    need = max(hp.min_samples + 1, hp.n_neighbors + 1 if hp.reducer == "umap" else 0, 3)
    if hp.algorithm in {"kmeans", "gmm"}:
        need = max(need, hp.n_clusters + 1)
    if rows < need:
        raise DataError(
            f"only {rows} usable rows, too few for min_samples={hp.min_samples}"
            + (f" and n_neighbors={hp.n_neighbors}" if hp.reducer == "umap" else "")
            + (f" and n_clusters={hp.n_clusters}" if hp.algorithm in {"kmeans", "gmm"} else "")
            + f" (needs at least {need}).",
            "provide more rows, or lower min_samples, n_neighbors and n_clusters.",
        )
    if hp.reducer == "pca" and hp.n_components > min(rows, width):
        raise HyperparameterError(
            f"n_components={hp.n_components} exceeds what PCA can give for {width} features.",
            f"set n_components to at most {min(rows, width)}, or use reducer=none.",
        )
    if hp.reducer == "umap" and hp.n_components >= rows - 1:
        raise HyperparameterError(
            f"n_components={hp.n_components} needs more than {rows} rows for UMAP.",
            "lower n_components or provide more rows.",
        )
    most = 2 if backend_name == "gpu" else 3
    if hp.reducer == "tsne" and hp.n_components > most:
        raise HyperparameterError(
            f"reducer=tsne gives at most {most} dimensions on the {backend_name} "
            f"(Barnes-Hut t-SNE), n_components={hp.n_components} was asked for.",
            f"set n_components to {most} or less, or use reducer=umap.",
        )


class Pipeline:
    def __init__(self, hp: Hyperparameters, backend: Backend, clock: StageClock) -> None:
        self.hp = hp
        self.backend = backend
        self.clock = clock
        self.xp = backend.xp

    def load(self, channel: Channel) -> tuple[Any, list[str]]:
        files = discover(channel)
        check_same_columns(files)
        with self.clock.stage(f"load_{channel.name}"):
            frame = self.backend.read_table(files)
        if len(frame) == 0:
            raise DataError(
                f"channel '{channel.name}' has a header but no rows.", "upload a table with rows."
            )
        log.info(
            "channel %s: %d rows x %d columns from %d file(s)",
            channel.name,
            len(frame),
            len(frame.columns),
            len(files),
        )
        return frame, [str(f.path) for f in files]

    def _ids(self, frame: Any) -> np.ndarray:
        if not self.hp.id_column:
            return np.arange(len(frame))
        column = frame[self.hp.id_column]
        return (
            column.to_numpy() if not hasattr(column, "to_pandas") else column.to_pandas().to_numpy()
        )

    def _truth(self, frame: Any, kept: np.ndarray) -> np.ndarray | None:
        if not self.hp.label_column:
            return None
        column = frame[self.hp.label_column]
        values = column.to_pandas() if hasattr(column, "to_pandas") else column
        return values.astype(str).to_numpy()[kept]

    def _raw_matrix(self, frame: Any, columns: list[str]) -> Any:
        try:
            return self.backend.columns_to_array(frame, columns)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"feature columns could not be read as numbers: {exc}.",
                "clean the feature columns to numeric values.",
            ) from None

    def reduce(self, prepared: Any) -> tuple[Any, Any]:
        hp = self.hp
        if hp.reducer == "none":
            return None, prepared
        fit_rows = min(hp.umap_fit_sample_size, prepared.shape[0])
        params = {k: hp[k] for k in ("n_components", "n_neighbors", "min_dist", "metric")}
        params["random_state"] = hp.random_state
        # t-SNE's perplexity plays n_neighbors' part; it must stay below the rows it sees.
        params["perplexity"] = float(max(2, min(hp.n_neighbors, (fit_rows - 1) // 3)))
        estimator = self.backend.make_reducer(hp.reducer, params)
        if hp.reducer == "tsne":
            estimator = NearestFitEmbedding(estimator)
        reducer = SampledReducer(estimator, hp.reducer, hp.umap_fit_sample_size, hp.random_state)
        with self.clock.stage(f"reduce_{hp.reducer}", rows=prepared.shape[0]):
            embedding = reducer.fit_transform(prepared, self.xp)
        return reducer, self.xp.asarray(embedding, dtype=self.xp.float32)

    def select(self, raw: Any, columns: list[str]) -> tuple[Any, list[str], dict[str, Any]]:
        """Drop one of each pair of features correlated above `correlation_threshold`."""
        hp = self.hp
        choice = drop_correlated(raw, columns, hp.correlation_threshold, self.xp, hp.random_state)
        if not choice.dropped:
            return raw, columns, choice.to_json()
        keep = self.xp.asarray([columns.index(c) for c in choice.kept])
        return raw[:, keep], choice.kept, choice.to_json()

    def fit(self, train: Channel, validation: Channel | None) -> RunResult:
        hp, xp, backend = self.hp, self.xp, self.backend
        frame, files = self.load(train)
        columns = select_feature_columns(frame, hp)
        log.info("features (%d): %s", len(columns), ", ".join(columns))
        raw = self._raw_matrix(frame, columns)
        raw, columns, correlation = self.select(raw, columns)
        prep = FeaturePrep.from_hyperparameters(columns, hp)
        with self.clock.stage("prepare", rows=raw.shape[0]):
            prepared, keep = prep.fit_transform(raw, xp)
            prep.report["correlation"] = correlation
            prep.report["pca"] = pca_summary(prepared, columns, xp, hp.random_state)
        kept = backend.to_numpy(keep).astype(bool)
        reducer_kind = resolve_reducer(hp.reducer, len(columns), hp.n_components)
        if reducer_kind != hp.reducer:
            hp = self.hp = hp.replace(reducer=reducer_kind)
        _check_sizes(int(prepared.shape[0]), len(columns), hp, backend.name)

        reducer, embedding = self.reduce(prepared)
        clustering = cluster(backend, embedding, hp, self.clock)
        labels = clustering.labels
        truth = self._truth(frame, kept)
        with self.clock.stage("score", rows=embedding.shape[0]):
            values, notes = score(
                backend,
                embedding,
                labels,
                truth=truth,
                sample_size=hp.silhouette_sample_size,
                random_state=hp.random_state,
            )
        for note in notes:
            log.warning(note)
        model = ClusterModel(
            prep=prep,
            reducer=reducer,
            core_points=clustering.reference_points,
            core_labels=clustering.reference_labels,
            eps=clustering.radius,
            algorithm=hp.algorithm,
            info={
                "features": columns,
                "id_column": hp.id_column,
                "backend": backend.name,
                "reducer": hp.reducer,
                **clustering.info,
            },
            estimator=clustering.estimator,
        )
        train_result = SplitResult(
            ids=self._ids(frame),
            kept=kept,
            labels=backend.to_numpy(labels).astype(np.int32),
            embedding=backend.to_numpy(embedding),
            raw_features=backend.to_numpy(raw)[kept],
            truth=truth,
            metrics=values,
            notes=notes,
            files=files,
        )
        validation_result = None
        if validation is not None:
            validation_result = self.assign_validation(validation, model, columns)
        return RunResult(
            hp=hp,
            backend_info=backend.describe(),
            features=columns,
            prepared=backend.to_numpy(prepared),
            eps=clustering.eps,
            model=model,
            train=train_result,
            validation=validation_result,
            timings=self.clock.timings,
            prep_report=prep.report,
        )

    def assign_validation(
        self, channel: Channel, model: ClusterModel, columns: list[str]
    ) -> SplitResult:
        """Embed validation rows with the fitted steps and assign them by the model's rule."""
        xp, backend = self.xp, self.backend
        frame, files = self.load(channel)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"the validation channel lacks feature columns: {', '.join(missing)}.",
                "give the validation table the same feature columns as the train table.",
            )
        raw = self._raw_matrix(frame, columns)
        with self.clock.stage("validation", rows=raw.shape[0]):
            prepared = model.prep.transform(raw, xp)
            embedding = prepared if model.reducer is None else model.reducer.transform(prepared)
            embedding = xp.asarray(embedding, dtype=xp.float32)
            labels = model.assign_on(backend, embedding)
            kept = np.ones(len(frame), dtype=bool)
            truth = self._truth(frame, kept)
            values, notes = score(
                backend,
                embedding,
                labels,
                truth=truth,
                sample_size=self.hp.silhouette_sample_size,
                random_state=self.hp.random_state,
            )
        return SplitResult(
            ids=self._ids(frame),
            kept=kept,
            labels=backend.to_numpy(labels).astype(np.int32),
            embedding=backend.to_numpy(embedding),
            raw_features=backend.to_numpy(raw),
            truth=truth,
            metrics=values,
            notes=notes,
            files=files,
        )
