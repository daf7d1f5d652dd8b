"""The columns smcluster writes beside the input's own: in `labels.parquet` (and
`validation_labels.parquet`) and in `smcluster predict`'s output.

An input column that carried one of these names would be overwritten, or would overwrite the
labels, without a word; the checks here refuse that before any work is done.
"""

from __future__ import annotations

import re

from .errors import DataError, HyperparameterError

ROW_ID = "row"  # the id column's name in labels.parquet when `id_column` is empty
CLUSTER = "cluster"
DROPPED = -2  # the cluster of a row missing=drop left out: kept, so that no id goes missing
EMBEDDING_PREFIX = "embedding_"
EMBEDDING = re.compile(rf"{EMBEDDING_PREFIX}\d+")


def embedding_column(axis: int) -> str:
    return f"{EMBEDDING_PREFIX}{axis}"


def id_column_clash(id_column: str) -> HyperparameterError | None:
    """`id_column` named like a column labels.parquet adds (`cluster`, `embedding_<n>`)."""
    if id_column != CLUSTER and not EMBEDDING.fullmatch(id_column):
        return None
    return HyperparameterError(
        f"id_column '{id_column}' has the name of a column that labels.parquet adds "
        f"('{CLUSTER}', '{EMBEDDING_PREFIX}0', '{EMBEDDING_PREFIX}1', ...): the ids and the "
        "labels would share one column, and the ids would be lost.",
        "rename that column of the table (for example to 'record_id') and set id_column to the "
        "new name.",
    )


def predict_input_clash(columns: list[str], source: str) -> DataError | None:
    """Rows to assign that already hold the `cluster` column predict adds."""
    if CLUSTER not in columns:
        return None
    return DataError(
        f"{source} already has a column named '{CLUSTER}', which predict would overwrite with "
        "the assigned clusters.",
        "rename or drop that column before predicting (predict writes the input's columns and "
        f"a '{CLUSTER}' column).",
    )
