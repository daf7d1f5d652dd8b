"""The training rows as partitions on Dask workers: one partition per table file, read by a
worker of the host that holds the file, kept in that worker's memory until the job ends.

The functions named `_on_worker_*` run in the workers' processes; the driver only ever holds
the fit sample, the labels and what the report needs.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends.base import Frame
from ..contract.channels import Channel, read_channels
from ..contract.errors import DataError
from ..contract.paths import JobPaths
from ..contract.tables import (
    TableFile,
    check_same_columns,
    discover,
    fingerprint,
    read_as_text,
)
from ..pipeline.load import ChannelInput, read_table_file
from ..pipeline.rows import (
    LabelledRows,
    ProgressLog,
    RowLabeller,
    batches,
    in_order,
    worker_backend,
)
from ..pipeline.runtime.runner import Stage
from .engine import HOST_VARIABLE, DaskCluster

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostFiles:
    """What one host's channel holds, as its worker found it."""

    host: str
    files: list[str]  # relative to the channel folder, in reading order
    formats: list[tuple[str, bool]]  # (format, gzipped) per file
    columns: list[str]
    sha256: str


def _on_worker_list(channel_name: str) -> HostFiles:
    """This host's files of the channel (its own `/opt/ml/input/data/<channel>`)."""
    channel = read_channels(JobPaths.from_env())[channel_name]
    files = discover(channel)
    columns = check_same_columns(files)
    return HostFiles(
        host=os.environ.get(HOST_VARIABLE, "local"),
        files=[f.path.relative_to(channel.path).as_posix() for f in files],
        formats=[(f.format, f.gzipped) for f in files],
        columns=columns,
        sha256=fingerprint(files, channel.path),
    )


def _on_worker_read(
    channel_name: str, relative: str, fmt: tuple[str, bool], text: list[str], backend_name: str
) -> Frame:
    """One file of this host's channel as a frame on the job's kind of backend."""
    channel = read_channels(JobPaths.from_env())[channel_name]
    table_file = TableFile(channel.path / relative, fmt[0], fmt[1])
    return read_table_file(worker_backend(backend_name), table_file, text)


def _on_worker_take(frame: Frame, index: np.ndarray) -> Frame:
    return frame.iloc[index].reset_index(drop=True)


def _on_worker_label(frame: Frame, rows: np.ndarray, labeller: RowLabeller) -> LabelledRows:
    """One batch of a file's rows outside the fit sample, as one process cuts it."""
    return labeller(_on_worker_take(frame, rows))


@dataclass
class Part:
    host: str
    file: str
    frame: Any  # the future of the file's frame, on a worker of `host`
    rows: int
    offset: int  # global number of its first row


class DaskRows:
    """The train channel's rows, read and held by the cluster's workers (`TrainRows`)."""

    def __init__(self, cluster: DaskCluster, parts: list[Part], source: ChannelInput) -> None:
        self.cluster = cluster
        self.parts = parts
        self.input = source

    def __len__(self) -> int:
        return sum(part.rows for part in self.parts)

    def _split(self, index: np.ndarray) -> list[np.ndarray]:
        """`index` (sorted global positions) as local positions per part."""
        out = []
        for part in self.parts:
            low, high = np.searchsorted(index, [part.offset, part.offset + part.rows])
            out.append(index[low:high] - part.offset)
        return out

    def take(self, index: np.ndarray) -> Frame:
        client = self.cluster.client
        futures = [
            client.submit(_on_worker_take, part.frame, local, pure=False)
            for part, local in zip(self.parts, self._split(index), strict=True)
            if len(local)
        ]
        frames = self.cluster.gather(futures, "gathering the fit sample")
        if not self.cluster.warming:  # the workers idle while the driver fits: warm them
            self.cluster.warm_up()
        return self.cluster.backend.concat(frames)

    def label_all_but(self, index: np.ndarray, labeller: RowLabeller) -> LabelledRows:
        """One task per batch (`batches`): progress as batches finish, and an idle worker
        may take a batch of a file another worker holds."""
        client = self.cluster.client
        shared = client.scatter(labeller, broadcast=True)
        futures, positions = [], []
        for part, skip in zip(self.parts, self._split(index), strict=True):
            rest = np.setdiff1d(np.arange(part.rows), skip, assume_unique=True)
            for batch in batches(rest, (part.rows,)):
                futures.append(
                    client.submit(_on_worker_label, part.frame, batch, shared, pure=False)
                )
                positions.append(batch + part.offset)
        sizes = {future.key: len(batch) for future, batch in zip(futures, positions, strict=True)}
        progress = ProgressLog("labelling the rows outside the fit sample", sum(sizes.values()))
        parts = self.cluster.gather(
            futures, "labelling the rows outside the fit sample", progress, sizes
        )
        return in_order(parts, positions)


def load_partitions(cluster: DaskCluster, channel: Channel, id_column: str) -> DaskRows:
    """Every host's files of `channel` read by its own workers: under `ShardedByS3Key` each
    host's own, under `FullyReplicated` the first host's list shared out by host (each file
    read once), in one global order: the files by path, then by host."""
    client = cluster.client
    listings: list[HostFiles] = cluster.gather(
        [
            client.submit(_on_worker_list, channel.name, workers=addresses, pure=False)
            for addresses in cluster.workers_by_host().values()
        ],
        f"listing the {channel.name} channel on every host",
    )
    problems = [
        f"{h.host}: {', '.join(h.columns)}" for h in listings if h.columns != listings[0].columns
    ]
    if problems and set(listings[0].columns) != {c for h in listings for c in h.columns}:
        raise DataError(
            f"the hosts' {channel.name} files disagree on columns: {listings[0].host}: "
            f"{', '.join(listings[0].columns)}; {'; '.join(problems)}.",
            "give every file of the channel the same header.",
        )
    hosts = sorted(cluster.workers_by_host())
    assigned: list[tuple[str, str, tuple[str, bool]]] = []  # (file, host, format)
    if channel.distribution == "ShardedByS3Key":
        # SageMaker gives each host its own S3 keys; local mode mounts the whole folder on
        # every host. A path several hosts list is one object: read once, by the first.
        owner: dict[str, tuple[str, tuple[str, bool]]] = {}
        for listing in sorted(listings, key=lambda h: h.host):
            for file, fmt in zip(listing.files, listing.formats, strict=True):
                owner.setdefault(file, (listing.host, fmt))
        repeated = sum(len(h.files) for h in listings) - len(owner)
        if repeated:
            log.info(
                "channel %s: %d file(s) are on several hosts although ShardedByS3Key (SageMaker "
                "local mode mounts the folder on each): each is read once",
                channel.name,
                repeated,
            )
        assigned = [(file, host, fmt) for file, (host, fmt) in sorted(owner.items())]
        digest = hashlib.sha256("".join(sorted(h.sha256 for h in listings)).encode()).hexdigest()
    else:
        first = next(h for h in listings if h.host == hosts[0])
        share = np.array_split(np.arange(len(first.files)), len(hosts))
        for host, block in zip(hosts, share, strict=True):
            assigned += [(first.files[i], host, first.formats[i]) for i in block]
        digest = first.sha256
    columns = listings[0].columns
    text = read_as_text(id_column, columns)
    # As `load` reads them: Parquet keeps its types unless CSV files beside it make them text.
    mixed = len({fmt[0] for _, _, fmt in assigned}) > 1
    by_host = cluster.workers_by_host()
    futures = [
        client.submit(
            _on_worker_read, channel.name, file, fmt,
            text if mixed or fmt[0] != "parquet" else [], cluster.backend.name,
            workers=by_host[host], pure=False,
        )
        for file, host, fmt in assigned
    ]  # fmt: skip
    lengths = cluster.gather(
        [client.submit(len, future, pure=False) for future in futures],
        f"reading the {channel.name} channel",
    )
    parts, offset = [], 0
    for (file, host, _), future, rows in zip(assigned, futures, lengths, strict=True):
        if rows:
            parts.append(Part(host, file, future, int(rows), offset))
            offset += int(rows)
    if not parts:
        raise DataError(
            f"channel '{channel.name}' has a header but no rows.", "upload a table with rows."
        )
    log.info(
        "channel %s: %d rows x %d columns from %d file(s) on %d host(s), held by %d worker(s)",
        channel.name,
        offset,
        len(columns),
        len(assigned),
        len(hosts),
        sum(len(a) for a in by_host.values()),
    )
    source = ChannelInput(
        channel=channel.name,
        source=str(channel.path),
        content_type=channel.content_type or "",
        files=[file if len(hosts) == 1 else f"{host}:{file}" for file, host, _ in assigned],
        columns=columns,
        rows=offset,
        sha256=digest,
    )
    return DaskRows(cluster, parts, source)


LOAD_PARTITIONS = Stage("load", load_partitions, timed_as="load_{channel.name}")
