"""Notes when the `id_column` cannot name every row once: empty cells, repeated ids.

`labels.parquet` is joined back to the customer table on this column. A row without an id
cannot be joined; an id on several rows joins each of them to several labels. Neither stops
the clustering, so the job goes on and says so (log, metrics, report) with what to do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXAMPLES = 3


def id_column_notes(ids: np.ndarray, id_column: str, channel: str) -> list[str]:
    """What is wrong with `ids` (one per input row of `channel`) as a join key, if anything."""
    if not id_column or len(ids) == 0:
        return []
    values = pd.Series(ids, dtype=object if ids.dtype == object else None)
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
