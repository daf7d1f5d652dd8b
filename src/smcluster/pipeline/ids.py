"""Notes when the `id_column` cannot name every row once (empty cells, repeated ids), and when
validation rows are training rows.

`labels.parquet` is joined back to the customer table on this column. A row without an id
cannot be joined; an id on several rows joins each of them to several labels. Neither stops
the clustering, so the job goes on and says so (log, metrics, report) with what to do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXAMPLES = 3


def _as_series(ids: np.ndarray) -> pd.Series:
    """Ids as pandas sees them: text kept as objects (not pandas' string type), NaN/None empty."""
    return pd.Series(ids, dtype=object if ids.dtype == object else None)


def id_column_notes(ids: np.ndarray, id_column: str, channel: str) -> list[str]:
    """What is wrong with `ids` (one per input row of `channel`) as a join key, if anything."""
    if not id_column or len(ids) == 0:
        return []
    values = _as_series(ids)
    notes: list[str] = []
    missing = int(values.isna().sum())
    rows = len(values)
    if missing:
        notes.append(
            f"id_column '{id_column}' is empty in {missing:,} of {rows:,} {channel} rows: "
            "their labels cannot be joined back by id (labels.parquet keeps the input's row "
            "order); fill the ids, or leave id_column empty to number the rows"
        )
    present = values[values.notna()]
    counts = present.value_counts(sort=True)
    repeated = counts[counts > 1]
    if len(repeated):
        shown = ", ".join(
            f"{value!s} ({count}×)" for value, count in repeated.head(EXAMPLES).items()
        )
        notes.append(
            f"id_column '{id_column}' repeats: {len(repeated):,} ids name "
            f"{int(repeated.sum()):,} of {rows:,} {channel} rows (e.g. {shown}); a join of "
            "labels.parquet on it gives those rows several labels: check the channel for a "
            "file given twice, or choose a column that names each row once"
        )
    return notes


def shared_ids_note(
    ids: np.ndarray, train_ids: np.ndarray, id_column: str, channel: str
) -> str | None:
    """A note when rows of `channel` carry ids of training rows: their scores are then of rows
    the model was fitted on, not of new ones."""
    if not id_column or len(ids) == 0:
        return None
    shared = int(_as_series(ids).dropna().isin(_as_series(train_ids).dropna()).sum())
    if not shared:
        return None
    return (
        f"{shared:,} of {len(ids):,} {channel} rows ({shared / len(ids):.0%}) "
        f"have an id_column '{id_column}' value that is also a train row's: their scores "
        f"measure rows the model was fitted on; give the {channel} channel rows not in train"
    )
