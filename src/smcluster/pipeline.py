"""The clustering pipeline, written once against the backend seam.

load → select features → prepare → reduce → choose eps → DBSCAN → score (→ validation).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backends import Backend
from .channels import Channel
from .data import check_same_columns, discover
from .eps import EpsChoice, choose_eps
from .errors import DataError, HyperparameterError
from .features import FeaturePrep, select_feature_columns
from .hyperparameters import Hyperparameters
from .metrics import score
from .model import ClusterModel
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
    eps: EpsChoice
    model: ClusterModel
    train: SplitResult
    validation: SplitResult | None
    timings: dict[str, float]
    prep_report: dict[str, Any]


def _check_sizes(rows: int, width: int, hp: Hyperparameters) -> None:
    """Fail before the expensive steps when the table is too small for the parameters."""
    need = max(hp.min_samples + 1, hp.n_neighbors + 1 if hp.reducer == "umap" else 0, 3)
    if rows < need:
        raise DataError(
            f"only {rows} usable rows, too few for min_samples={hp.min_samples}"
            + (f" and n_neighbors={hp.n_neighbors}" if hp.reducer == "umap" else "")
            + f" (needs at least {need}).",
            "provide more rows, or lower min_samples and n_neighbors.",
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
        params = {k: hp[k] for k in ("n_components", "n_neighbors", "min_dist", "metric")}
        params["random_state"] = hp.random_state
        reducer = self.backend.make_reducer(hp.reducer, params)
        if reducer is None:
            return None, prepared
        with self.clock.stage(f"reduce_{hp.reducer}", rows=prepared.shape[0]):
            embedding = reducer.fit_transform(prepared)
        return reducer, self.xp.asarray(embedding, dtype=self.xp.float32)

    def fit(self, train: Channel, validation: Channel | None) -> RunResult:
        hp, xp, backend = self.hp, self.xp, self.backend
        frame, files = self.load(train)
        columns = select_feature_columns(frame, hp)
        log.info("features (%d): %s", len(columns), ", ".join(columns))
        raw = self._raw_matrix(frame, columns)
        prep = FeaturePrep.from_hyperparameters(columns, hp)
        with self.clock.stage("prepare", rows=raw.shape[0]):
            prepared, keep = prep.fit_transform(raw, xp)
        kept = backend.to_numpy(keep).astype(bool)
        _check_sizes(int(prepared.shape[0]), len(columns), hp)

        reducer, embedding = self.reduce(prepared)
        with self.clock.stage("choose_eps", rows=embedding.shape[0]):
            eps = choose_eps(
                backend,
                embedding,
                given=hp.eps,
                min_samples=hp.min_samples,
                sensitivity=hp.eps_knee_sensitivity,
                fallback_quantile=hp.eps_fallback_quantile,
                sample_size=hp.eps_sample_size,
                random_state=hp.random_state,
            )
        with self.clock.stage("cluster_dbscan", rows=embedding.shape[0]):
            labels, core = backend.dbscan(embedding, eps.eps, hp.min_samples)
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
        core_index = xp.asarray(core)
        model = ClusterModel(
            prep=prep,
            reducer=reducer,
            core_points=backend.to_numpy(embedding[core_index]),
            core_labels=backend.to_numpy(labels[core_index]).astype(np.int32),
            eps=eps.eps,
            info={"features": columns, "id_column": hp.id_column, "backend": backend.name},
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
            eps=eps,
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
            if len(model.core_points):
                distance, nearest = backend.nearest(xp.asarray(model.core_points), embedding)
                core_labels = xp.asarray(model.core_labels)
                labels = xp.where(distance <= model.eps, core_labels[nearest], -1)
            else:
                labels = xp.full(embedding.shape[0], -1, dtype=xp.int32)
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
