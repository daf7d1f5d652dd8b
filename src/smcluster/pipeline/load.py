"""Stage `load`: a channel's table files read into one data frame on the backend.

The channel's content fingerprint is taken here, once, while its files are at hand; tracking
records it instead of finding and hashing the files again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..backends.base import Backend, Frame, Frames
from ..contract.channels import Channel
from ..contract.errors import DataError, SmclusterError
from ..contract.tables import (
    TableFile,
    check_same_columns,
    discover,
    fingerprint,
    read_as_text,
    unreadable,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChannelInput:
    """What was read from one channel, as an experiment tracker records it."""

    channel: str
    source: str
    content_type: str
    files: list[str]  # relative to the channel folder, in reading order
    columns: list[str]
    rows: int
    sha256: str


@dataclass(frozen=True)
class LoadedTable:
    frame: Frame  # pandas or cuDF
    input: ChannelInput
    file_rows: tuple[int, ...] = ()  # rows per file with rows, in reading order

    def __len__(self) -> int:
        return len(self.frame)


def read_table_file(backend: Frames, table_file: TableFile, text_columns: list[str]) -> Frame:
    """One file; the readers' own errors (pandas, pyarrow, cuDF, gzip) as its `DataError`."""
    try:
        return backend.read_file(table_file, text_columns)
    except SmclusterError:
        raise
    except Exception as exc:
        raise unreadable(table_file, exc) from None


def _read_all(
    backend: Frames, channel: Channel, files: list[TableFile], text_columns: list[str]
) -> tuple[Frame, tuple[int, ...]]:
    """Every file read, unreadable ones reported together (file and line), header-only files
    left out with a log line: they add no rows, and their empty columns would read as text."""
    frames, problems, header_only = [], [], []
    # Parquet keeps its stored types, unless CSV files beside it make those columns text.
    mixed = len({table_file.format for table_file in files}) > 1
    for table_file in files:
        as_text = text_columns if mixed or table_file.format != "parquet" else []
        try:
            frame = read_table_file(backend, table_file, as_text)
        except SmclusterError as exc:
            problems.append(exc)
            continue
        if len(frame) == 0:
            header_only.append(table_file.path.relative_to(channel.path).as_posix())
        else:
            frames.append(frame)
    if problems:
        raise problems[0].combine(problems)
    if not frames:
        raise DataError(
            f"channel '{channel.name}' has a header but no rows.", "upload a table with rows."
        )
    if header_only:
        log.warning(
            "channel %s: %d file(s) hold a header and no rows, left out: %s",
            channel.name,
            len(header_only),
            ", ".join(header_only[:10]),
        )
    return backend.concat(frames), tuple(len(frame) for frame in frames)


def load(backend: Backend, channel: Channel, id_column: str = "") -> LoadedTable:
    """The channel's table; a CSV `id_column` is read as text, exactly as written (README,
    labels.parquet): as numbers, `00123` would lose its zeros and long ids their last digits."""
    files = discover(channel)
    columns = check_same_columns(files)
    frame, file_rows = _read_all(backend, channel, files, read_as_text(id_column, columns))
    digest = fingerprint(files, channel.path)
    log.info(
        "channel %s: %d rows x %d columns from %d file(s)",
        channel.name,
        len(frame),
        len(frame.columns),
        len(files),
    )
    record = ChannelInput(
        channel=channel.name,
        source=str(channel.path),
        content_type=channel.content_type or "",
        files=[f.path.relative_to(channel.path).as_posix() for f in files],
        columns=columns,
        rows=len(frame),
        sha256=digest,
    )
    return LoadedTable(frame, record, file_rows)
