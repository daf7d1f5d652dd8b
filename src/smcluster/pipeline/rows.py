"""The training rows, wherever they are held: in this process, or in partitions on Dask workers.

`fit` fits every step on a seeded sample of at most `fit_sample_size` rows (all rows when there
are fewer) and labels every other row by the fitted model's rule: in chunks in this process
(`LocalRows`), or as tasks on the workers that hold the rows (`smcluster.distributed`). The rows
are numbered in one global order, the files in reading order and each file's rows in order, so
the same seed draws the same sample however the rows are spread: one process and several
workers give the same labels.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..backends import select_backend
from ..backends.base import Backend, Frame, Frames, to_host
from ..contract.schema import Hyperparameters
from .load import ChannelInput, LoadedTable
from .model import ClusterModel
from .prepare.features import feature_matrix

log = logging.getLogger(__name__)

# Rows labelled at once (a Dask task each): bounds the k-NN graphs of UMAP's transform, and
# gives a progress line every few seconds on one core.
LABEL_CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class LabelledRows:
    """Rows labelled by the fitted model: ids and `kept` per input row, the rest per kept row."""

    ids: np.ndarray
    kept: np.ndarray
    labels: np.ndarray  # int32, -1 noise
    embedding: np.ndarray  # float32
    raw: np.ndarray  # the feature columns in original units (NaN where missing)
    truth: np.ndarray | None  # `label_column` as text, None where a row has none

    def __len__(self) -> int:
        return len(self.ids)


def in_order(parts: Sequence[LabelledRows], positions: Sequence[np.ndarray]) -> LabelledRows:
    """Parts of one table put back in its row order: `positions[i]` holds the global row
    numbers of `parts[i]`'s input rows."""
    where = np.concatenate([np.asarray(p, dtype=np.int64) for p in positions])
    order = np.argsort(where, kind="stable")
    kept_where = np.concatenate(
        [np.asarray(p, dtype=np.int64)[part.kept] for part, p in zip(parts, positions, strict=True)]
    )
    kept_order = np.argsort(kept_where, kind="stable")
    truths = [part.truth for part in parts]
    truth = None
    if all(t is not None for t in truths):
        truth = np.concatenate([np.asarray(t, dtype=object) for t in truths])[kept_order]
    return LabelledRows(
        ids=np.concatenate([part.ids for part in parts])[order],
        kept=np.concatenate([part.kept for part in parts])[order],
        labels=np.concatenate([part.labels for part in parts]).astype(np.int32)[kept_order],
        embedding=np.concatenate([part.embedding for part in parts])[kept_order],
        raw=np.concatenate([part.raw for part in parts])[kept_order],
        truth=truth,
    )


@dataclass
class RowLabeller:
    """The fitted model's rule for rows it was not fitted on, as a task a worker can run:
    its backend is the job's kind, chosen again in the worker's own process."""

    model: ClusterModel
    hp: Hyperparameters
    backend_name: str
    where: str = " in the train channel"

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "umap" in sys.modules:  # a worker unpickled a fitted UMAP: as `load_model` does
            from ..backends.umap_transform import prepare_umap_learn

            prepare_umap_learn()  # numba's cache, and the compiled placement of new rows

    def __call__(self, frame: Frame, backend: Backend | None = None) -> LabelledRows:
        backend = backend or worker_backend(self.backend_name)
        xp, model, hp = backend.xp, self.model, self.hp
        ids = row_numbers_or_ids(backend, hp.id_column, frame)
        raw = feature_matrix(backend, frame, model.features, self.where)
        prepared, keep = model.prep.transform_rows(raw, xp, self.where)
        kept = to_host(keep).astype(bool)
        width = 0 if model.reducer is None else int(hp.n_components)
        if not kept.any():  # the reducer cannot transform zero rows
            empty = np.zeros((0, width or prepared.shape[1]), np.float32)
            truth = None if not hp.label_column else np.empty(0, dtype=object)
            return LabelledRows(ids, kept, np.empty(0, np.int32), empty, to_host(raw)[kept], truth)
        embedding = prepared if model.reducer is None else model.reducer.transform(prepared)
        embedding = xp.asarray(embedding, dtype=xp.float32)
        labels = model.assign_on(backend, embedding, prepared)
        return LabelledRows(
            ids=ids,
            kept=kept,
            labels=to_host(labels).astype(np.int32),
            embedding=to_host(embedding),
            raw=to_host(raw)[kept],
            truth=true_labels(backend, hp.label_column, frame, kept),
        )


def row_numbers_or_ids(backend: Frames, id_column: str, frame: Frame) -> np.ndarray:
    """The `id_column` values per row, or the row numbers within `frame` without one."""
    if not id_column:
        return np.arange(len(frame))
    return np.asarray(backend.column_to_host(frame, id_column).to_numpy())


_BACKENDS: dict[str, Backend] = {}


def worker_backend(name: str) -> Backend:
    """One backend per worker process, made at its first task."""
    if name not in _BACKENDS:
        _BACKENDS[name] = select_backend(name)
    return _BACKENDS[name]


def true_labels(
    backend: Frames, label_column: str, frame: Frame, kept: np.ndarray
) -> np.ndarray | None:
    """`label_column` as text per kept row, None where a row has none (scored without it)."""
    if not label_column or label_column not in frame.columns:
        return None  # a validation table without labels (a warning) is scored without
    values = backend.column_to_host(frame, label_column)
    present = values.notna().to_numpy()
    return np.where(present, values.astype(str).to_numpy(dtype=object), None)[kept]


Progress = Callable[[int, int], None]  # rows done, rows in all


class TrainRows(Protocol):
    """The training channel's rows, numbered in one global order."""

    input: ChannelInput

    def __len__(self) -> int: ...

    def take(self, index: np.ndarray) -> Frame:
        """The rows at sorted global positions `index`, in order, as one frame."""
        ...

    def label_all_but(self, index: np.ndarray, labeller: RowLabeller) -> LabelledRows:
        """Every row not in `index` (sorted global positions) labelled, in global order."""
        ...


class LocalRows:
    """The rows in this process: the whole table as one frame on the backend."""

    def __init__(self, backend: Backend, table: LoadedTable) -> None:
        self.backend = backend
        self.table = table
        self.input = table.input

    def __len__(self) -> int:
        return len(self.table)

    def take(self, index: np.ndarray) -> Frame:
        if len(index) == len(self.table):
            return self.table.frame
        return self.table.frame.iloc[index].reset_index(drop=True)

    def label_all_but(self, index: np.ndarray, labeller: RowLabeller) -> LabelledRows:
        rest = np.setdiff1d(np.arange(len(self.table)), index, assume_unique=True)
        report = ProgressLog("labelling the rows outside the fit sample", len(rest))
        parts, positions, done = [], [], 0
        for batch in batches(rest, self.table.file_rows or (len(self.table),)):
            parts.append(labeller(self.take(batch), self.backend))
            positions.append(batch)
            done += len(batch)
            report(done)
        return in_order(parts, positions)


def batches(rows: np.ndarray, part_rows: Sequence[int]) -> list[np.ndarray]:
    """`rows` (sorted positions) in the batches the model labels at once: within one file
    (partition) each, at most `LABEL_CHUNK_ROWS` each. UMAP's transform of a row depends on
    the batch it is in (its optimisation samples across the batch), so one process and the
    workers, which hold one file each, must cut the same batches to give the same labels."""
    out = []
    ends = np.cumsum(part_rows)
    starts = ends - np.asarray(part_rows)
    for start, end in zip(starts, ends, strict=True):
        low, high = np.searchsorted(rows, [start, end])
        for first in range(int(low), int(high), LABEL_CHUNK_ROWS):
            out.append(rows[first : min(first + LABEL_CHUNK_ROWS, int(high))])
    return out


class ProgressLog:
    """A progress line per step, at most every `every_s` seconds: share done and an estimate."""

    def __init__(self, what: str, total: int, every_s: float = 5.0) -> None:
        self.what, self.total, self.every_s = what, total, every_s
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int) -> None:
        elapsed = time.perf_counter() - self.started
        if done < self.total and elapsed - self.last < self.every_s:
            return
        self.last = elapsed
        share = done / max(self.total, 1)
        left = elapsed * (1 - share) / share if share > 0 else float("nan")
        log.info(
            "%s: %s of %s rows (%.0f%%) in %.1fs, about %.0fs left",
            self.what,
            f"{done:,}",
            f"{self.total:,}",
            100 * share,
            elapsed,
            left,
        )


def fit_rows(hp: Hyperparameters) -> int:
    """The fit sample's size: `fit_sample_size`, or the larger sample another step asks for
    (the UMAP fit and the eps choice draw their own samples from within it)."""
    return max(hp.fit_sample_size, hp.umap_fit_sample_size, hp.eps_sample_size)
