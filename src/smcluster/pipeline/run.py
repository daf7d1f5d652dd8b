"""The pipeline, written once against the backend seam: the stages, declared, and `fit`.

load → prepare (feature columns, correlation drop, missing values, log1p, scaling, one PCA) →
reduce (fitted on a sample) → choose_eps (DBSCAN: excess of mass, or the k-distance knee) →
cluster (dbscan, hdbscan, kmeans or gmm) → refine (outliers, sparse splits) → score →
validation (rows of the validation channel assigned by the model's rule, scored).

Each stage is a function of its arguments to a result; `runtime.runner.StageRunner` runs them,
times them and checkpoints `reduce` and `cluster`. `fit` passes results from one to the next and
returns what the job writes; the hyperparameters `auto` resolves are new values, never state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..backends.base import Array, Backend, Frame, Frames, to_host
from ..contract.channels import Channel
from ..contract.errors import DataError, HyperparameterError
from ..contract.schema import Hyperparameters
from ..version import __version__
from .cluster.cluster import Clustering, EpsPlan, choose_eps, cluster
from .cluster.eps import EpsChoice
from .cluster.mass import MIN_SAMPLES
from .ids import id_column_notes, shared_ids_note
from .load import ChannelInput, LoadedTable, load
from .model import ClusterModel
from .prepare.features import Features, prepare_features
from .prepare.pca import PcaSummary
from .prepare.preparation import FeaturePrep
from .reduce import Reduction, reduce, resolve_reducer
from .refine.refine import Border, Refinement, refine, remap
from .rows import (
    LabelledRows,
    LocalRows,
    RowLabeller,
    TrainRows,
    fit_rows,
    in_order,
    row_numbers_or_ids,
    true_labels,
)
from .runtime.checkpoints import stable_facts
from .runtime.runner import Stage, StageRunner
from .runtime.sampling import sample_index
from .score.evaluation import evaluate
from .score.score import score, score_training
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


@dataclass(frozen=True)
class Fitted:
    """What `fit` learned, as validation rows (and `predict`, through `model`) use it."""

    hp: Hyperparameters  # as run: every `auto` the run resolved, resolved
    model: ClusterModel
    evaluation: FeaturePrep  # the evaluation space the training rows were scored in
    train_ids: np.ndarray  # validation ids that repeat them are reported


def row_ids(
    backend: Frames, hp: Hyperparameters, frame: Frame, channel: str
) -> tuple[np.ndarray, list[str]]:
    """The rows' ids, and notes (also logged) if they cannot name each row once."""
    if not hp.id_column:
        return np.arange(len(frame)), []
    ids = np.asarray(backend.column_to_host(frame, hp.id_column).to_numpy())
    notes = id_column_notes(ids, hp.id_column, channel)
    for note in notes:
        log.warning(note)
    return ids, notes


def assign_rows(backend: Backend, fitted: Fitted, table: LoadedTable) -> SplitResult:
    """A channel's rows embedded with the fitted steps (under the job's
    `missing`, as its training rows), assigned by the model's rule and scored."""
    hp, model, xp = fitted.hp, fitted.model, backend.xp
    channel = table.input.channel
    check_validation_columns(backend, table.frame, model.features, hp, channel)
    ids, id_notes = row_ids(backend, hp, table.frame, channel)
    shared = shared_ids_note(ids, fitted.train_ids, hp.id_column, channel)
    if shared:
        log.warning(shared)
        id_notes.append(shared)
    where = f" in the {channel} channel"
    labelled = RowLabeller(model, hp, backend.name, where)(table.frame, backend)
    if not labelled.kept.any():
        raise DataError(
            f"every row{where} has a missing or infinite feature value and "
            "missing=drop: no rows are left to assign and score.",
            f"clean the {channel} table, or set missing to median, mean or zero.",
        )
    scores = score(  # rows left out by missing=drop are not scored
        backend,
        hp,
        xp.asarray(labelled.embedding),
        xp.asarray(labelled.labels),
        labelled.truth,
        evaluate(fitted.evaluation, labelled.raw),
    )
    return SplitResult(
        ids=ids,
        kept=labelled.kept,
        labels=labelled.labels,
        embedding=labelled.embedding,
        raw_features=labelled.raw,
        truth=labelled.truth,
        metrics=scores.values,
        notes=[*id_notes, *scores.notes],
        input=table.input,
    )


# The stages, in the order `fit` runs them (README, Architecture, is generated from this).
LOAD = Stage("load", load, timed_as="load_{channel.name}")
PREPARE = Stage("prepare", prepare_features, rows="frame")
REDUCE = Stage(  # skipped for reducer=none
    "reduce", reduce, timed_as="reduce_{hp.reducer}", rows="prepared", checkpointed=True
)
CHOOSE_EPS = Stage("choose_eps", choose_eps, rows="data")  # DBSCAN only
CLUSTER = Stage(
    "cluster", cluster, timed_as="cluster_{hp.algorithm}", rows="data", checkpointed=True
)
REFINE = Stage("refine", refine, rows="labels")


def label_rest(rows: TrainRows, fitted_index: np.ndarray, labeller: RowLabeller) -> LabelledRows:
    """The rows outside the fit sample, labelled by the fitted model (where they are held)."""
    return rows.label_all_but(fitted_index, labeller)


LABEL_REST = Stage("label_rest", label_rest, rows="rows")  # tables above fit_sample_size
SCORE = Stage("score", score_training, rows="embedding")
VALIDATION = Stage("validation", assign_rows, rows="table")
STAGES: tuple[Stage[Any, Any], ...] = (
    LOAD, PREPARE, REDUCE, CHOOSE_EPS, CLUSTER, REFINE, LABEL_REST, SCORE, VALIDATION
)  # fmt: skip


def fit(
    backend: Backend,
    requested: Hyperparameters,
    runner: StageRunner,
    train: Channel | TrainRows,
    validation: Channel | None = None,
) -> RunResult:
    """The job's work: the stages over the training rows (fitted on a sample of at most
    `fit_sample_size` rows, the others labelled by the fitted model), then the validation
    channel's rows assigned by it. `train`: a channel read here, or rows already loaded
    (on Dask workers, `smcluster.distributed`)."""
    hp = requested
    if isinstance(train, Channel):
        train = LocalRows(backend, runner.run(LOAD, backend, train, hp.id_column))
    total = len(train)
    picked = sample_index(total, fit_rows(hp), hp.random_state)
    whole = len(picked) == total
    if not whole:
        log.info(
            "fitting on a sample of %s of %s rows (fit_sample_size); the other rows are "
            "labelled by the fitted model",
            f"{len(picked):,}",
            f"{total:,}",
        )
    table = LoadedTable(train.take(picked), train.input)
    features = runner.run(PREPARE, backend, hp, table.frame)  # checks the columns
    id_notes: list[str] = []
    if whole:  # said before the long stages; a sample's ids are checked with all the others
        ids, id_notes = row_ids(backend, hp, table.frame, train.input.channel)
    columns = features.columns
    hp = hp.replace(reducer=resolve_reducer(hp.reducer, len(columns), hp.n_components))
    check_sizes(int(features.prepared.shape[0]), len(columns), hp)
    _check_backend(backend, hp)
    too_large = backend.memory_problem(
        int(features.prepared.shape[0]), len(columns), hp, len(table.frame.columns)
    )
    if too_large is not None:  # before the long stages, not in CUDA an hour in
        raise too_large
    runner.checkpoints.bind(
        {
            "hyperparameters": hp.to_json(),
            "train_sha256": table.input.sha256,
            "backend": stable_facts(backend.describe()),
            "smcluster": __version__,
        }
    )
    reduction = (
        Reduction(None, features.spread)
        if hp.reducer == "none"
        else runner.run(REDUCE, backend, hp, features.spread, features.pca)
    )
    embedding = reduction.embedding
    clustering = runner.saved(CLUSTER)
    if clustering is None:
        plan: EpsPlan | None = None
        if hp.algorithm == "dbscan":
            plan = runner.run(CHOOSE_EPS, backend, hp, embedding)
        clustering = runner.compute(CLUSTER, backend, hp, embedding, plan)
    # the `auto` settings the cluster stage resolved
    hp = hp.replace(
        **{
            name: clustering.info[name]
            for name in ("min_samples", "min_cluster_size")
            if name in clustering.info
        }
    )
    raw_kept = to_host(features.raw)[features.kept]
    refined = runner.run(
        REFINE,
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
    model = _model(backend, hp, features, reduction, clustering, refined)
    fitted_rows = LabelledRows(
        ids=picked,  # replaced below by the id column's values, where there is one
        kept=features.kept,
        labels=np.asarray(refined.labels, dtype=np.int32),
        embedding=to_host(embedding),
        raw=raw_kept,
        truth=true_labels(backend, hp.label_column, table.frame, features.kept),
    )
    if whole:
        labelled = fitted_rows
    else:
        rest = runner.run(LABEL_REST, train, picked, RowLabeller(model, hp, backend.name))
        if hp.id_column:
            fitted_ids = row_numbers_or_ids(backend, hp.id_column, table.frame)
            fitted_rows = replace(fitted_rows, ids=fitted_ids)
        rest_index = np.setdiff1d(np.arange(total), picked, assume_unique=True)
        labelled = in_order([fitted_rows, rest], [picked, rest_index])
        if not hp.id_column:
            labelled = replace(labelled, ids=np.arange(total))
        ids = labelled.ids
        id_notes = id_column_notes(ids, hp.id_column, train.input.channel)
        for note in id_notes:
            log.warning(note)
    xp = backend.xp
    scored = runner.run(
        SCORE,
        backend,
        hp,
        xp.asarray(labelled.embedding) if not whole else embedding,
        xp.asarray(labelled.labels),
        labelled.truth,
        labelled.raw,
        columns,
    )
    for note in scored.scores.notes:
        log.warning(note)
    train_result = SplitResult(
        ids=ids,
        kept=labelled.kept,
        labels=labelled.labels,
        embedding=labelled.embedding,
        raw_features=labelled.raw,
        truth=labelled.truth,
        metrics=scored.scores.values,
        notes=[*id_notes, *refined.notes, *scored.scores.notes],
        input=train.input,
    )
    fitted = Fitted(hp, model, scored.evaluation, ids)
    validation_result = None
    if validation is not None:
        validation_table = runner.run(LOAD, backend, validation, hp.id_column)
        validation_result = runner.run(VALIDATION, backend, fitted, validation_table)
    return RunResult(
        hp=hp,
        backend_info=backend.describe(),
        features=columns,
        eps=clustering.eps,
        model=model,
        train=train_result,
        validation=validation_result,
        timings=runner.clock.timings,
        prep_report=features.prep.report,  # what preparation did
        pca=features.pca,
        resumed=list(runner.checkpoints.resumed),
        requested=requested,
    )


def _model(
    backend: Backend,
    hp: Hyperparameters,
    features: Features,
    reduction: Reduction,
    clustering: Clustering,
    refined: Refinement,
) -> ClusterModel:
    """What labels new rows: the fitted steps and the clusters' rule, in the refined ids."""
    reference_labels = clustering.reference_labels
    if refined.mapping:
        reference_labels = remap(reference_labels, refined.mapping)
    return ClusterModel(
        prep=features.prep,
        reducer=reduction.reducer,
        core_points=clustering.reference_points,
        core_labels=reference_labels,
        eps=clustering.radius,
        radii=clustering.reference_radii,
        algorithm=hp.algorithm,
        info={
            "features": features.columns,
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
