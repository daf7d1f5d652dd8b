"""Stage `load`: a channel's table files read into one data frame on the backend.

The channel's content fingerprint is taken here, once, while its files are at hand; tracking
records it instead of finding and hashing the files again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..backends.base import Backend, Frame
from ..contract.channels import Channel
from ..contract.errors import DataError
from ..contract.tables import check_same_columns, discover, fingerprint
from .clock import StageClock

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


@dataclass
class LoadedTable:
    frame: Frame  # pandas or cuDF
    input: ChannelInput


def load(backend: Backend, channel: Channel, clock: StageClock) -> LoadedTable:
    files = discover(channel)
    columns = check_same_columns(files)
    with clock.stage(f"load_{channel.name}"):
        frame = backend.read_table(files)
        digest = fingerprint(files, channel.path)
    if len(frame) == 0:
        raise DataError(
            f"channel '{channel.name}' has a header but no rows.", "upload a table with rows."
        )
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
    return LoadedTable(frame, record)
