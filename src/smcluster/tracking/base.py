"""The tracker seam: what a training run reports, whatever records it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..contract.errors import SmclusterError
from ..pipeline.load import ChannelInput

FINISHED = "FINISHED"
FAILED = "FAILED"
KILLED = "KILLED"

ParamValue = str | int | float | bool


class TrackingError(SmclusterError):
    kind = "TrackingError"


@dataclass
class RunInfo:
    """How the run is named and tagged where it is recorded."""

    run_name: str
    experiment_name: str
    tags: dict[str, str] = field(default_factory=dict)


class Tracker(Protocol):
    """A tracking backend. Calls may raise; `GuardedTracker` turns that into warnings."""

    name: str

    def start(self, info: RunInfo) -> None: ...

    def log_params(self, params: dict[str, ParamValue]) -> None: ...

    def log_inputs(self, inputs: list[ChannelInput]) -> None: ...

    def log_metrics(self, metrics: dict[str, float]) -> None: ...

    def log_artifacts(self, directory: Path) -> None: ...

    def set_tags(self, tags: dict[str, str]) -> None: ...

    def end(self, status: str, message: str = "") -> None: ...

    def describe(self) -> str: ...


class NoTracker:
    """`tracker=none`: records nothing."""

    name = "none"

    def start(self, info: RunInfo) -> None:
        pass

    def log_params(self, params: dict[str, ParamValue]) -> None:
        pass

    def log_inputs(self, inputs: list[ChannelInput]) -> None:
        pass

    def log_metrics(self, metrics: dict[str, float]) -> None:
        pass

    def log_artifacts(self, directory: Path) -> None:
        pass

    def set_tags(self, tags: dict[str, str]) -> None:
        pass

    def end(self, status: str, message: str = "") -> None:
        pass

    def describe(self) -> str:
        return "none"


def artifact_files(directory: Path) -> list[Path]:
    """Every published file of a model directory, sorted; hidden staging files are skipped."""
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )
