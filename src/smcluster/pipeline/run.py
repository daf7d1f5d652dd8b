"""The pipeline, written once against the backend seam: one stage after another.

load → prepare (feature columns, correlation drop, missing values, log1p, scaling, one PCA) →
reduce (fitted on a sample) → cluster (dbscan with eps from the k-distance knee, hdbscan,
kmeans or gmm) → score → validation (assigned by the model's rule, scored).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..backends.base import Array, Backend, Frame, to_host
from ..contract.channels import Channel
from ..contract.errors import DataError, HyperparameterError
from ..contract.schema import Hyperparameters
from ..version import __version__
from .checkpoints import Checkpoints, stable_facts
from .clock import StageClock
from .cluster import Clustering, cluster
from .eps import EpsChoice
from .evaluation import evaluate, evaluation_space
from .features import feature_matrix, prepare_features
from .ids import id_column_notes, shared_ids_note
from .load import ChannelInput, load
from .mass import MIN_SAMPLES
from .model import ClusterModel
from .pca import PcaSummary
from .preparation import FeaturePrep
from .reduce import reduce, resolve_reducer
from .refine import Border, refine, remap
from .score import score
from .validation import check_validation_columns

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
    input: ChannelInput | None = None  # what was read, for tracking


@dataclass
class RunResult:
    hp: Hyperparameters  # as run: `reducer=auto` resolved
    backend_info: dict[str, str]
    features: list[str]
    eps: EpsChoice | None  # None unless algorithm=dbscan
    model: ClusterModel | None
    train: SplitResult
    validation: SplitResult | None
    timings: dict[str, float]
    prep_report: dict[str, Any]
    pca: PcaSummary | None = None
    resumed: list[str] = field(default_factory=list)  # stages reloaded from checkpoints
    requested: Hyperparameters | None = None  # as asked for: `auto` where the run chose


def check_sizes(rows: int, width: int, hp: Hyperparameters) -> None:
    """Fail before the expensive steps when the table is too small for the parameters."""
    needs: dict[str, int] = {}  # the parameter as set → rows it needs
    if hp.algorithm in {"dbscan", "hdbscan"}:
        min_samples = hp.min_samples if hp.min_samples is not None else MIN_SAMPLES
        shown = "auto" if hp.min_samples is None else str(hp.min_samples)
        needs[f"min_samples={shown}"] = min_samples + 1
    else:
        needs[f"n_clusters={hp.n_clusters}"] = hp.n_clusters + 1
    if hp.reducer == "umap":
        needs[f"n_neighbors={hp.n_neighbors}"] = hp.n_neighbors + 1
    need = max(*needs.values(), 3)
    if rows < need:
        binding = [name for name, wanted in needs.items() if wanted > rows]
        raise DataError(
            f"only {rows} usable rows, too few for {' and '.join(binding) or 'clustering'} "
            f"(needs at least {need}).",
            "provide more rows, or lower "
            + (" and ".join(name.split("=")[0] for name in binding) or "nothing: add rows")
            + ".",
        )
    if hp.reducer == "pca" and hp.n_components > min(rows, width):
        limit = "rows" if rows < width else "features"
        raise HyperparameterError(
            f"n_components={hp.n_components} exceeds what PCA can give from {rows} rows of "
            f"{width} features (at most the smaller, {min(rows, width)}: the {limit}).",
            f"set n_components to at most {min(rows, width)}, or use reducer=none.",
        )
    if hp.reducer == "tsne" and hp.n_components > width:
        # Both libraries start t-SNE from the first n_components principal components.
        raise HyperparameterError(
            f"reducer=tsne to n_components={hp.n_components} needs at least that many "
            f"features (it starts from the principal components); the prepared data has "
            f"{width}.",
            "use reducer=none, or add features.",
        )
    if hp.reducer == "umap" and hp.n_components >= rows - 1:
        raise HyperparameterError(
            f"n_components={hp.n_components} needs more than {rows} rows for UMAP.",
            "lower n_components or provide more rows.",
        )


def _check_backend(backend: Backend, hp: Hyperparameters) -> None:
    problems = backend.check(hp)
    if problems:
        raise HyperparameterError.combine(list(problems))


class Pipeline:
    def __init__(
        self,
        hp: Hyperparameters,
        backend: Backend,
        clock: StageClock,
        checkpoints: Checkpoints | None = None,
    ) -> None:
        self.hp = hp
        self.backend = backend
        self.clock = clock
        self.checkpoints = checkpoints or Checkpoints(None)
        self.evaluation: FeaturePrep | None = None  # fitted by `fit`, used for validation
        self.train_ids: np.ndarray = np.empty(0)  # set by `fit`: validation ids are checked

    def _ids(self, frame: Frame, channel: str) -> tuple[np.ndarray, list[str]]:
        """The rows' ids, and notes (also logged) if they cannot name each row once."""
        if not self.hp.id_column:
            return np.arange(len(frame)), []
        ids = np.asarray(self.backend.column_to_host(frame, self.hp.id_column).to_numpy())
        notes = id_column_notes(ids, self.hp.id_column, channel)
        for note in notes:
            log.warning(note)
        return ids, notes

    def _truth(self, frame: Frame, kept: np.ndarray) -> np.ndarray | None:
        if not self.hp.label_column or self.hp.label_column not in frame.columns:
            return None  # a validation table without labels (a warning) is scored without
        values = self.backend.column_to_host(frame, self.hp.label_column)
        present = values.notna().to_numpy()
        # Labels as text, None where a row has none (scored without it, see `score`).
        return np.where(present, values.astype(str).to_numpy(dtype=object), None)[kept]

    def fit(self, train: Channel, validation: Channel | None) -> RunResult:
        hp, backend, clock = self.hp, self.backend, self.clock
        requested = hp
        table = load(backend, train, clock, hp.id_column)
        features = prepare_features(backend, hp, table.frame, clock)  # checks the columns
        ids, id_notes = self._ids(table.frame, train.name)  # said before the long stages
        self.train_ids = ids
        columns = features.columns
        reducer_kind = resolve_reducer(hp.reducer, len(columns), hp.n_components)
        if reducer_kind != hp.reducer:
            hp = self.hp = hp.replace(reducer=reducer_kind)
        check_sizes(int(features.prepared.shape[0]), len(columns), hp)
        _check_backend(backend, hp)
        checkpoints = self.checkpoints
        checkpoints.bind(
            {
                "hyperparameters": hp.to_json(),
                "train_sha256": table.input.sha256,
                "backend": stable_facts(backend.describe()),
                "smcluster": __version__,
            }
        )
        reduction = checkpoints.load("reduce")
        if reduction is None:
            reduction = reduce(backend, hp, features.spread, features.pca, clock)
            checkpoints.save("reduce", reduction)
        embedding = reduction.embedding
        clustering = checkpoints.load("cluster")
        if clustering is None:
            clustering = cluster(backend, hp, embedding, clock)
            checkpoints.save("cluster", clustering)
        # `auto` settings, resolved by the cluster stage
        resolved = {
            name: clustering.info[name]
            for name in ("min_samples", "min_cluster_size")
            if name in clustering.info
        }
        if resolved:
            hp = self.hp = hp.replace(**resolved)
        raw_kept = to_host(features.raw)[features.kept]
        with clock.stage("refine", rows=embedding.shape[0]):
            refined = refine(
                backend,
                hp,
                clustering.labels,
                features.prepared,
                raw_kept,
                columns,
                reduced=reduction.reducer is not None,
                spread=features.spread,
                border=_border(clustering, embedding),
            )
        labels = backend.xp.asarray(refined.labels)
        truth = self._truth(table.frame, features.kept)
        with clock.stage("score", rows=embedding.shape[0]):
            self.evaluation = evaluation_space(raw_kept, columns, hp.random_state)
            scored = evaluate(self.evaluation, raw_kept)
            scores = score(backend, hp, embedding, labels, truth, scored)
        for note in scores.notes:
            log.warning(note)
        reference_labels = clustering.reference_labels
        if refined.mapping:
            reference_labels = remap(reference_labels, refined.mapping)
        model = ClusterModel(
            prep=features.prep,
            reducer=reduction.reducer,
            core_points=clustering.reference_points,
            core_labels=reference_labels,
            eps=clustering.radius,
            radii=clustering.reference_radii,
            algorithm=hp.algorithm,
            info={
                "features": columns,
                "id_column": hp.id_column,
                "backend": backend.name,
                "reducer": hp.reducer,
                **clustering.info,
                **refined.info,
            },
            estimator=clustering.estimator,
            outliers=refined.outliers,
            join_beyond_radius=refined.join_beyond_radius,
            outliers_everywhere=refined.outliers_everywhere,
        )
        train_result = SplitResult(
            ids=ids,
            kept=features.kept,
            labels=to_host(labels).astype(np.int32),
            embedding=to_host(embedding),
            raw_features=raw_kept,
            truth=truth,
            metrics=scores.values,
            notes=[*id_notes, *refined.notes, *scores.notes],
            input=table.input,
        )
        validation_result = None
        if validation is not None:
            validation_result = self.assign_validation(validation, model)
        return RunResult(
            hp=hp,
            backend_info=backend.describe(),
            features=columns,
            eps=clustering.eps,
            model=model,
            train=train_result,
            validation=validation_result,
            timings=clock.timings,
            prep_report=features.prep.report,  # what preparation did
            pca=features.pca,
            resumed=list(checkpoints.resumed),
            requested=requested,
        )

    def assign_validation(self, channel: Channel, model: ClusterModel) -> SplitResult:
        """Embed validation rows with the fitted steps (under the job's `missing`, as its
        training rows) and assign them by the model's rule."""
        xp, backend = self.backend.xp, self.backend
        table = load(backend, channel, self.clock, self.hp.id_column)
        columns = model.features
        check_validation_columns(backend, table.frame, columns, self.hp, channel.name)
        ids, id_notes = self._ids(table.frame, channel.name)
        shared = shared_ids_note(ids, self.train_ids, self.hp.id_column, channel.name)
        if shared:
            log.warning(shared)
            id_notes.append(shared)
        where = f" in the {channel.name} channel"
        raw = feature_matrix(backend, table.frame, columns, where)
        with self.clock.stage("validation", rows=raw.shape[0]):
            prepared, keep = model.prep.transform_rows(raw, xp, where)
            kept = to_host(keep).astype(bool)
            if not kept.any():
                raise DataError(
                    f"every row{where} has a missing or infinite feature value and "
                    "missing=drop: no rows are left to assign and score.",
                    f"clean the {channel.name} table, or set missing to median, mean or zero.",
                )
            embedding: Array = (
                prepared if model.reducer is None else model.reducer.transform(prepared)
            )
            embedding = xp.asarray(embedding, dtype=xp.float32)
            labels = model.assign_on(backend, embedding, prepared)
            truth = self._truth(table.frame, kept)
            raw_kept = to_host(raw)[kept]  # rows left out by missing=drop are not scored
            assert self.evaluation is not None, "fit() scores the training rows first"
            scored = evaluate(self.evaluation, raw_kept)
            scores = score(backend, self.hp, embedding, labels, truth, scored)
        return SplitResult(
            ids=ids,
            kept=kept,
            labels=to_host(labels).astype(np.int32),
            embedding=to_host(embedding),
            raw_features=raw_kept,
            truth=truth,
            metrics=scores.values,
            notes=[*id_notes, *scores.notes],
            input=table.input,
        )


def _border(clustering: Clustering, embedding: Array) -> Border | None:
    """Where each cluster has its own radius (`mass.py`): what the rows it left out join."""
    if clustering.reference_radii is None:
        return None
    return Border(
        clustering.reference_points,
        clustering.reference_labels,
        clustering.reference_radii,
        embedding,
    )
