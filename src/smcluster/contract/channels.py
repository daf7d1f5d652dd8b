"""Input channels from `inputdataconfig.json` (or the data folders), checked against what we use."""

from __future__ import annotations

import difflib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ChannelError
from .paths import JobPaths

REQUIRED_CHANNEL = "train"
OPTIONAL_CHANNELS = ("validation",)
KNOWN_CHANNELS = (REQUIRED_CHANNEL, *OPTIONAL_CHANNELS)


@dataclass(frozen=True)
class Channel:
    name: str
    path: Path
    content_type: str | None
    input_mode: str
    distribution: str = "FullyReplicated"


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except (ValueError, RecursionError) as exc:
        raise ChannelError(
            f"{path} ({what}) is not valid JSON: {exc}.", "fix or remove the file."
        ) from None
    except IsADirectoryError:
        raise ChannelError(f"{path} ({what}) is a folder.", "make it a JSON file.") from None


def _declared_channels(paths: JobPaths) -> dict[str, dict[str, Any]]:
    """Channels SageMaker declared, else those named by SM_CHANNELS or present as folders."""
    if paths.inputdataconfig_file.exists():
        config = _read_json(paths.inputdataconfig_file, "input data config")
        if not isinstance(config, dict):
            raise ChannelError(
                f"{paths.inputdataconfig_file} must hold an object of channels.",
                'let SageMaker write it, or write {"train": {"ContentType": "text/csv"}}.',
            )
        bad = sorted(
            str(name) for name, spec in config.items() if not isinstance(spec, dict | None)
        )
        if bad:
            raise ChannelError(
                f"{paths.inputdataconfig_file}: channel(s) {', '.join(bad)} hold no object of "
                "settings.",
                'let SageMaker write it, or write {"train": {"ContentType": "text/csv"}}.',
            )
        return {name: dict(spec or {}) for name, spec in config.items()}
    if paths.env.get("SM_CHANNELS"):
        return {name: {} for name in _channel_names(paths.env["SM_CHANNELS"])}
    if paths.data_dir.is_dir():
        return {p.name: {} for p in sorted(paths.data_dir.iterdir()) if p.is_dir()}
    return {}


def _channel_names(given: str) -> list[str]:
    """SM_CHANNELS as SageMaker writes it (a JSON list); a bare name or a comma list as a
    person would."""
    try:
        names = json.loads(given)
    except ValueError:
        names = given.split(",")
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ChannelError(
            f"SM_CHANNELS={given!r} is not a list of channel names.",
            "set it as SageMaker does, SM_CHANNELS='[\"train\"]', or unset it.",
        )
    return [name.strip() for name in names if name.strip()]


def _check_names(names: list[str]) -> None:
    unknown = [n for n in names if n not in KNOWN_CHANNELS]
    if REQUIRED_CHANNEL not in names:
        got = ", ".join(f"'{n}'" for n in names) or "none"
        raise ChannelError(
            f"no '{REQUIRED_CHANNEL}' channel was given (channels: {got}).",
            f"pass the table as fit({{'{REQUIRED_CHANNEL}': 's3://bucket/prefix/'}}) or put its "
            f"files under /opt/ml/input/data/{REQUIRED_CHANNEL}/.",
        )
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, KNOWN_CHANNELS, n=1)
            hints.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise ChannelError(
            f"unknown channel {', '.join(hints)}; smcluster reads only "
            f"{', '.join(repr(c) for c in KNOWN_CHANNELS)}.",
            "rename or remove the channel in fit().",
        )


def _check_mode(channel: Channel) -> None:
    pipe_fifo = channel.path.with_name(f"{channel.name}_0")
    is_fifo = pipe_fifo.exists() and stat.S_ISFIFO(os.stat(pipe_fifo).st_mode)
    if channel.input_mode.lower() == "pipe" or is_fifo:
        raise ChannelError(
            f"channel '{channel.name}' uses Pipe input mode, which smcluster does not support "
            "(clustering needs the whole table, several passes over it).",
            "use input_mode='File' (default) or 'FastFile' in the Estimator or TrainingInput.",
        )
    if not channel.path.is_dir():
        raise ChannelError(
            f"channel '{channel.name}' has no data folder at {channel.path}.",
            "check the S3 prefix given to fit(); it must hold at least one CSV or Parquet file.",
        )


def read_channels(paths: JobPaths) -> dict[str, Channel]:
    """Validated channels keyed by name; `train` is always present."""
    declared = _declared_channels(paths)
    _check_names(list(declared))
    channels: dict[str, Channel] = {}
    for name, spec in declared.items():
        channel = Channel(
            name=name,
            path=paths.channel_dir(name),
            content_type=spec.get("ContentType") or None,
            input_mode=str(spec.get("TrainingInputMode") or "File"),
            distribution=str(spec.get("S3DistributionType") or "FullyReplicated"),
        )
        _check_mode(channel)
        channels[name] = channel
    return channels


def read_resource_config(paths: JobPaths) -> dict[str, Any]:
    """`resourceconfig.json` is optional (absent in plain `docker run`)."""
    if not paths.resourceconfig_file.exists():
        return {"current_host": paths.env.get("SM_CURRENT_HOST", "local"), "hosts": []}
    config = _read_json(paths.resourceconfig_file, "resource config")
    if not isinstance(config, dict):
        return {}
    hosts = config.get("hosts")
    if hosts is not None and (
        not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts)
    ):
        raise ChannelError(
            f"{paths.resourceconfig_file}: hosts must be a list of host names, not {hosts!r}.",
            'let SageMaker write it, or write {"current_host": "algo-1", "hosts": ["algo-1"]}.',
        )
    return config


def check_hosts(resources: dict[str, Any], channels: dict[str, Channel]) -> None:
    """Several hosts share the train channel's rows (`smcluster.distributed`); the validation
    channel is read whole by the first host, so it must not be split between them."""
    hosts = list(resources.get("hosts") or [])
    if len(hosts) <= 1:
        return
    sharded = [
        c.name
        for c in channels.values()
        if c.distribution == "ShardedByS3Key" and c.name != REQUIRED_CHANNEL
    ]
    if sharded:
        raise ChannelError(
            f"channel(s) {', '.join(sharded)} are ShardedByS3Key across {len(hosts)} hosts, but "
            "the first host assigns and scores that channel's rows alone: it would see only its "
            "own part of them.",
            "give the validation channel S3DistributionType FullyReplicated (the train channel "
            "may be sharded).",
        )
