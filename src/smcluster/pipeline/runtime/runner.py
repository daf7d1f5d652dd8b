"""The one runner of the pipeline's stages.

A `Stage` is data: a name, the function that does its work, the name it is timed under (which
may depend on its arguments: `reduce_umap`, `load_validation`), the rows it works on, and
whether its result is checkpointed. `StageRunner.run` is the only place that times a stage,
names the one under way (`StageClock.current`, cleared between stages, so that an error
between two is not blamed on the last one) and loads or saves a checkpoint. The stage
functions themselves know nothing of clocks or checkpoint folders.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar, cast

from .checkpoints import Checkpoints
from .clock import StageClock

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Stage(Generic[P, R]):
    """One stage, as data. `timed_as` and `rows` read the call's arguments by name, so that
    the README can show them as they are declared."""

    name: str  # the family: its checkpoint's name, and its name unless `timed_as` says more
    work: Callable[P, R]
    timed_as: str = ""  # a template over the arguments, e.g. "reduce_{hp.reducer}"
    rows: str = ""  # the argument whose length is the rows worked on (rate, heartbeat)
    checkpointed: bool = False  # saved when done; a restarted job loads it instead

    def arguments(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        bound = inspect.signature(self.work).bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)

    def timed_name(self, arguments: dict[str, Any]) -> str:
        return self.timed_as.format(**arguments) if self.timed_as else self.name


class StageRunner:
    """Runs stages one after another on one clock, resuming from checkpoints where bound."""

    def __init__(self, clock: StageClock, checkpoints: Checkpoints | None = None) -> None:
        self.clock = clock
        self.checkpoints = checkpoints or Checkpoints(None)

    def saved(self, stage: Stage[P, R]) -> R | None:
        """The stage's checkpointed result from an earlier attempt of this job, if any."""
        if not stage.checkpointed:
            return None
        return cast("R | None", self.checkpoints.load(stage.name))

    def run(self, stage: Stage[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """The stage's checkpointed result when there is one, else `compute`."""
        saved = self.saved(stage)
        if saved is not None:
            return saved
        return self.compute(stage, *args, **kwargs)

    def compute(self, stage: Stage[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the stage (its checkpoint, if any, already looked for) and save its result."""
        arguments = stage.arguments(*args, **kwargs)
        rows = len(arguments[stage.rows]) if stage.rows else None
        with self.clock.stage(stage.timed_name(arguments), rows=rows):
            result = stage.work(*args, **kwargs)
        if stage.checkpointed:
            self.checkpoints.save(stage.name, result)
        return result
