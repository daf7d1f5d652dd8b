"""A channel's table files: which files, in which format, whether they agree, their fingerprint.

Reading their rows is a backend's job (pandas or cuDF); this module only finds and checks them.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .channels import Channel
from .errors import DataError

CSV_TYPES = {"text/csv", "text/csv;header=present", "application/csv"}
PARQUET_TYPES = {"application/x-parquet", "application/parquet", "application/vnd.apache.parquet"}


@dataclass(frozen=True)
class TableFile:
    path: Path
    format: str  # "csv" or "parquet"
    gzipped: bool

    def open_binary(self) -> BinaryIO:
        """The file's bytes, decompressed when it is gzipped."""
        if self.gzipped:
            return gzip.open(self.path, "rb")  # type: ignore[return-value]
        return open(self.path, "rb")


def _format_of(path: Path, content_type: str | None) -> tuple[str | None, bool]:
    suffixes = [s.lower() for s in path.suffixes]
    gzipped = bool(suffixes) and suffixes[-1] in {".gz", ".gzip"}
    core = suffixes[-2] if gzipped and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    if core in {".csv", ".txt"}:
        return "csv", gzipped
    if core in {".parquet", ".pq"}:
        return "parquet", gzipped
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in {t.split(";")[0] for t in CSV_TYPES}:
        return "csv", gzipped
    if kind in PARQUET_TYPES:
        return "parquet", gzipped
    return None, gzipped


def _is_hidden(path: Path, root: Path) -> bool:
    # Spark and Hadoop leave _SUCCESS and .crc files beside the data; editors leave dotfiles.
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def discover(channel: Channel) -> list[TableFile]:
    """Table files under the channel folder (nested too), in a stable, sorted order."""
    files: list[TableFile] = []
    skipped: list[str] = []
    for path in sorted(channel.path.rglob("*")):
        if not path.is_file() or _is_hidden(path, channel.path):
            continue
        fmt, gzipped = _format_of(path, channel.content_type)
        if fmt is None:
            skipped.append(path.name)
            continue
        files.append(TableFile(path, fmt, gzipped))
    if not files:
        extra = f" (ignored: {', '.join(skipped[:5])})" if skipped else ""
        raise DataError(
            f"channel '{channel.name}' at {channel.path} holds no CSV or Parquet file{extra}.",
            "upload .csv, .csv.gz or .parquet files, or set the channel's ContentType to "
            "text/csv or application/x-parquet for files without those extensions.",
        )
    return files


def read_columns(table_file: TableFile) -> list[str]:
    """The column names of one file, read cheaply (header line or Parquet footer)."""
    try:
        if table_file.format == "parquet":
            import pyarrow.parquet as pq

            with table_file.open_binary() as handle:
                return list(pq.read_schema(handle).names)
        with table_file.open_binary() as handle:
            header = handle.readline().decode("utf-8-sig").strip()
    except Exception as exc:
        raise DataError(
            f"cannot read {table_file.path}: {exc}.",
            "check that the file is a valid, uncorrupted CSV or Parquet file.",
        ) from None
    if not header:
        raise DataError(
            f"{table_file.path} is empty.", "remove it or upload the table with a header row."
        )
    return [name.strip().strip('"') for name in header.split(",")]


def check_same_columns(files: list[TableFile]) -> list[str]:
    """All files must share one set of columns; name the ones that differ."""
    reference = read_columns(files[0])
    for table_file in files[1:]:
        columns = read_columns(table_file)
        if set(columns) != set(reference):
            missing = sorted(set(reference) - set(columns))
            extra = sorted(set(columns) - set(reference))
            raise DataError(
                f"files disagree on columns: {table_file.path} differs from {files[0].path} "
                f"(missing: {missing or 'none'}; extra: {extra or 'none'}).",
                "give every file in a channel the same header, or split them into separate jobs.",
            )
    duplicates = sorted({c for c in reference if reference.count(c) > 1})
    if duplicates:
        raise DataError(
            f"{files[0].path} repeats column names: {', '.join(duplicates)}.",
            "give every column a unique name.",
        )
    return reference


def fingerprint(files: list[TableFile], root: Path) -> str:
    """One SHA-256 over every file's path relative to `root` and its bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(table_file.path for table_file in files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
