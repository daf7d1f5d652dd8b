"""What the validation channel's table must hold to be assigned to the fitted clusters.

Its rows are read as the training rows were: the fitted feature columns, as numbers, and the id
column that names them in `validation_labels.parquet`. Every problem is reported at once, each
naming the channel, as the train channel's column checks do.
"""

from __future__ import annotations

import logging

from ..backends.base import Backend, Frame
from ..contract.errors import DataError
from ..contract.schema import Hyperparameters
from .prepare.columns import did_you_mean, text_columns

log = logging.getLogger(__name__)


def check_validation_columns(
    backend: Backend, frame: Frame, features: list[str], hp: Hyperparameters, channel: str
) -> None:
    """Raise one DataError for every column problem of the `channel` table; a missing label
    column only means no ARI and AMI for it, so it is a warning."""
    columns = [str(c) for c in frame.columns]
    shown = ", ".join(columns[:20])
    problems: list[DataError] = []
    absent = [c for c in features if c not in columns]
    if absent:
        problems.append(
            DataError(
                f"the {channel} channel lacks feature columns: {', '.join(absent)} "
                f"(columns: {shown}).",
                f"give the {channel} table the same feature columns as the train table.",
            )
        )
    if hp.id_column and hp.id_column not in columns:
        problems.append(
            DataError(
                f"the {channel} channel lacks the id_column '{hp.id_column}'"
                f"{did_you_mean(hp.id_column, columns)} (columns: {shown}).",
                f"add the id column to the {channel} table: it names its rows in "
                f"{channel}_labels.parquet.",
            )
        )
    present = [c for c in features if c in columns]
    text = text_columns(backend, frame, present, where=f" of the {channel} channel")
    if text is not None:
        problems.append(text)
    if problems:
        raise DataError.combine(problems)
    if hp.label_column and hp.label_column not in columns:
        log.warning(
            "the %s channel has no label_column '%s': its rows are scored without ARI and AMI",
            channel,
            hp.label_column,
        )
