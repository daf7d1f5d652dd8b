"""`smcluster predict`'s rows: read with a channel's checks, written with their clusters.

`--input` is a CSV or Parquet file, or `-` (standard input) or a pipe such as `/dev/stdin`: a
stream is first copied into a temporary file, its format told by its first bytes, so that it gets
the same checks (which read a file twice: its header, then its rows). `--output` is written
whole (see `output.atomic`), as Parquet when its name ends in `.parquet`, gzipped CSV for `.gz`,
CSV otherwise.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..backends.cpu import CpuBackend
from ..contract.errors import DataError
from ..contract.output_columns import predict_input_clash
from ..contract.tables import TableFile, format_of, read_as_text, read_columns, unreadable
from ..output.atomic import write_whole
from ..pipeline.prepare.columns import text_columns

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"


def _is_stream(path: Path, given: str) -> bool:
    """Standard input, or a pipe, socket or device (`/dev/stdin`, `<(zcat rows.csv.gz)`)."""
    if given == STDIN or str(path.absolute()).startswith("/dev/"):
        return True
    return path.exists() and not path.is_file() and not path.is_dir()


def spool(given: str) -> Path:
    """The stream's bytes in a temporary file (removed at exit) named for their format."""
    folder = Path(tempfile.mkdtemp(prefix="smcluster-input-"))
    atexit.register(shutil.rmtree, folder, True)
    raw = folder / "stdin"
    with open(raw, "wb") as copy:
        if given == STDIN:
            shutil.copyfileobj(sys.stdin.buffer, copy)
        else:
            with open(given, "rb") as source:
                shutil.copyfileobj(source, copy)
    with open(raw, "rb") as head:
        magic = head.read(4)
    if not magic:  # else the message would name the temporary file
        raise DataError(f"--input {given} is empty.", "pass rows to assign, with a header row.")
    if magic.startswith(GZIP_MAGIC):
        return raw.rename(folder / "stdin.csv.gz")
    return raw.rename(folder / ("stdin.parquet" if magic == PARQUET_MAGIC else "stdin.csv"))


def input_file(given: str) -> TableFile:
    """The table `--input` names, or a message that says what it is instead."""
    path = Path(given)
    if _is_stream(path, given):
        path = spool(given)
    elif path.is_dir():
        raise DataError(
            f"--input {given} is a directory (give a file).",
            "pass one CSV or Parquet file of rows to assign; `-` reads standard input.",
        )
    elif not path.is_file():
        raise DataError(
            f"--input {given}: no such file.", "pass a CSV or Parquet file of rows to assign."
        )
    fmt, gzipped = format_of(path, "text/csv")
    if fmt is None:
        raise DataError(
            f"--input {given} is not a .csv, .csv.gz or .parquet file.",
            "pass a CSV or Parquet file of rows to assign.",
        )
    return TableFile(path, fmt, gzipped)


def read_rows(given: str, id_column: str = "") -> pd.DataFrame:
    """The rows to assign, read with the checks a training channel's files get, and read as a
    channel is: a CSV `id_column` as text, so that the output keeps each id as written."""
    table_file = input_file(given)
    columns = read_columns(table_file)
    clash = predict_input_clash(columns, f"--input {given}")
    if clash is not None:
        raise clash
    try:
        frame = CpuBackend().read_file(table_file, read_as_text(id_column, columns))
    except Exception as exc:
        raise unreadable(table_file, exc) from None
    if len(frame) == 0:
        raise DataError(f"--input {given} has a header but no rows.", "pass rows to assign.")
    return frame


def check_feature_types(frame: pd.DataFrame, features: Sequence[str], given: str) -> None:
    """Refuse typed feature columns `train` refuses (dates, durations): pandas reads them as
    numbers (nanoseconds), which would put every row far from every cluster, without an error."""
    # Text (kind "O") is left to the model's check, whose message names the rows; absent
    # columns too.
    typed = [c for c in features if c in frame.columns and frame[c].dtype.kind != "O"]
    problem = text_columns(CpuBackend(), frame, typed, where=f" of --input {given}")
    if problem is not None:
        raise problem


def _write_table(frame: pd.DataFrame, target: Path, name: str) -> None:
    if name.endswith(".parquet"):
        frame.to_parquet(target, index=False)
    else:  # the name decides, not the temporary file's `.tmp`
        frame.to_csv(target, index=False, compression="gzip" if name.endswith(".gz") else None)


def write_rows(frame: pd.DataFrame, output: str | None) -> None:
    """The rows to standard output (CSV), or to `output` whole, in the format its name says."""
    if not output:
        frame.to_csv(sys.stdout, index=False)
        return
    target = Path(output)
    name = target.name.lower()
    write_whole(target, lambda path: _write_table(frame, path, name), "--output")
