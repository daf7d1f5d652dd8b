"""Which columns the job clusters on: the `features` list, or every numeric column.

Checks that named columns exist and hold numbers, and says which text values are in the way.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...backends.base import Frame, Frames
from ...contract.errors import DataError
from ...contract.schema import Hyperparameters

log = logging.getLogger(__name__)

UNNAMED = re.compile(r"Unnamed: \d+")  # how pandas names a column whose header field is empty
MOSTLY_NUMERIC_SHARE = 0.8  # a text column this numeric is a numeric column with typos
PARTLY_NUMERIC_SHARE = 0.2  # this numeric, a text column is worth a warning when left out
TYPE_PROBE_ROWS = 10_000


def did_you_mean(name: str, columns: list[str]) -> str:
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in columns}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return f" (did you mean '{close[0]}'?)" if close else ""


def _is_numeric(dtype: object) -> bool:
    return getattr(dtype, "kind", "O") in "biuf"


def _is_nested(values: pd.Series) -> bool:
    """A host column of lists, structs or maps (as Parquet holds them): no value is a number,
    and its values cannot be compared or hashed as text can."""
    present = values.dropna().head(TYPE_PROBE_ROWS)
    return any(isinstance(v, list | tuple | dict | np.ndarray) for v in present)


def _text_examples(values: pd.Series, limit: int = 3) -> list[str]:
    """Up to `limit` distinct values of a host column that do not read as numbers."""
    present = values.dropna()
    as_numbers = pd.to_numeric(present.astype(str), errors="coerce")
    return [repr(v) for v in present[as_numbers.isna()].unique()[:limit]]


def _numeric_share(values: pd.Series) -> float:
    """Share of the (first `TYPE_PROBE_ROWS`) present values that read as numbers."""
    sample = values.dropna().head(TYPE_PROBE_ROWS)
    if len(sample) == 0:
        return 0.0
    return float(pd.to_numeric(sample.astype(str), errors="coerce").notna().mean())


def _is_date(dtype: object) -> bool:
    return getattr(dtype, "kind", "O") in "mM"  # datetime64 (with or without zone), timedelta


def text_columns(
    backend: Frames, frame: Frame, columns: Sequence[str], where: str = ""
) -> DataError | None:
    """The error for those `columns` that are not numeric (with examples of the first), if any.

    `where` names the table for a channel other than train, e.g. " of the validation channel".
    """
    text = [c for c in columns if not _is_numeric(frame[c].dtype)]
    if not text:
        return None
    dates = [c for c in text if _is_date(frame[c].dtype)]
    if dates:
        return DataError(
            f"feature column{'s' if len(dates) > 1 else ''} {', '.join(map(repr, dates))}{where} "
            f"hold{'' if len(dates) > 1 else 's'} dates or durations "
            f"({frame[dates[0]].dtype}), not numbers.",
            "turn them into numbers before the job, such as days since the date (recency) or "
            "the duration in days, or drop them from `features`.",
        )
    nested = [c for c in text if _is_nested(backend.column_to_host(frame, c))]
    if nested:
        return DataError(
            f"feature column{'s' if len(nested) > 1 else ''} {', '.join(map(repr, nested))}"
            f"{where} hold{'' if len(nested) > 1 else 's'} lists, structs or maps (nested "
            "Parquet values), not numbers.",
            "turn them into numeric columns before the job (a count, a flag per item, one "
            "column per field), or drop them from `features`.",
        )
    examples = _text_examples(backend.column_to_host(frame, text[0]))
    return DataError(
        f"feature column '{text[0]}'{where} holds text, e.g. "
        f"{', '.join(examples) or 'non-numbers'}"
        + (f" (also: {', '.join(text[1:])})" if len(text) > 1 else "")
        + ".",
        "clean the values to numbers (missing values may be empty), or drop the column "
        "from `features`.",
    )


def select_feature_columns(backend: Frames, frame: Frame, hp: Hyperparameters) -> list[str]:
    """The columns to cluster on, after checking names and numeric types."""
    columns = [str(c) for c in frame.columns]
    problems = [
        DataError(
            f"{role} '{name}' is not a column of the table{did_you_mean(name, columns)} "
            f"(columns: {', '.join(columns[:20])}).",
            f"set {role} to one of the table's columns, or leave it empty.",
        )
        for role, name in (("id_column", hp.id_column), ("label_column", hp.label_column))
        if name and name not in columns
    ]
    excluded = {hp.id_column, hp.label_column} - {""}
    missing = [c for c in hp.features or () if c not in columns]
    if missing:
        problems.append(
            DataError(
                "feature columns not in the table: "
                f"{', '.join(f'{c!r}{did_you_mean(c, columns)}' for c in missing)}.",
                f"choose from: {', '.join(c for c in columns if c not in excluded)}.",
            )
        )
    if problems:
        raise DataError.combine(problems)
    if hp.features is not None:
        clash = [c for c in hp.features if c in excluded]
        if clash:
            raise DataError(
                f"{', '.join(clash)} cannot be both a feature and the id or label column.",
                "remove it from `features`.",
            )
        text = text_columns(backend, frame, hp.features)
        if text is not None:
            raise text
        return list(hp.features)
    unnamed = [c for c in columns if UNNAMED.fullmatch(c) and c not in excluded]
    if unnamed:
        # A header field left empty: most often a data frame's index saved with the table
        # (`to_csv` without index=False). As a feature it would cluster rows by their position.
        log.warning(
            "features=all: leaving out column(s) without a name in the header (%s), most often "
            "a saved row index; name them, and list them in `features`, to use them",
            ", ".join(unnamed),
        )
    candidates = [c for c in columns if c not in excluded and c not in unnamed]
    chosen = [c for c in candidates if _is_numeric(frame[c].dtype)]
    for column in candidates:
        if column in chosen:
            continue
        values = backend.column_to_host(frame, column)
        if _is_nested(values):
            log.info(
                "features=all: skipping column '%s': it holds lists, structs or maps (nested "
                "Parquet values), not numbers",
                column,
            )
            continue
        examples = _text_examples(values)
        share = _numeric_share(values)
        if examples and share >= MOSTLY_NUMERIC_SHARE:
            raise DataError(
                f"column '{column}' looks numeric but holds text such as {', '.join(examples)}.",
                "clean those values (leave missing values empty), or list the features to use "
                "explicitly in `features`.",
            )
        if examples and share >= PARTLY_NUMERIC_SHARE:
            # Too mixed to call typos (a code column may be all digits in places), too numeric
            # to drop quietly: part files that disagree on the column look like this.
            log.warning(
                "features=all: leaving out column '%s' as text, though %.0f%% of its values are "
                "numbers (text such as %s); clean it and name it in `features` to use it",
                column,
                100 * share,
                ", ".join(examples),
            )
            continue
        kind = "dates" if _is_date(values.dtype) else "non-numeric"
        log.info("features=all: skipping %s column '%s'", kind, column)
    if not chosen:
        raise DataError(
            "the table has no numeric feature columns"
            + (f" besides {', '.join(sorted(excluded))}" if excluded else "")
            + f" (columns: {', '.join(columns[:20])}).",
            "provide numeric columns, or name them in `features`.",
        )
    return chosen
