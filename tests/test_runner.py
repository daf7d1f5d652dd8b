"""The stage runner: the one place that times stages, names the one under way and checkpoints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smcluster.contract.hyperparameters import parse
from smcluster.pipeline.run import STAGES
from smcluster.pipeline.runtime.checkpoints import Checkpoints
from smcluster.pipeline.runtime.clock import StageClock
from smcluster.pipeline.runtime.runner import Stage, StageRunner


def _double(rows: np.ndarray, hp: object, calls: list[int]) -> np.ndarray:
    calls.append(len(rows))
    return rows * 2


DOUBLE = Stage("double", _double, timed_as="double_{hp.reducer}", rows="rows", checkpointed=True)


def test_a_stage_is_timed_under_its_arguments_name_and_cleared_when_done(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock, calls = StageClock(), []
    caplog.set_level("INFO", logger="smcluster.stage")
    out = StageRunner(clock).run(DOUBLE, np.arange(5), parse({"reducer": "pca"}), calls)
    assert out.tolist() == [0, 2, 4, 6, 8] and calls == [5]
    assert list(clock.timings) == ["double_pca"]
    assert clock.current is None and clock.last == "double_pca"
    assert "stage double_pca: started" in caplog.text


def test_a_failing_stage_stays_named() -> None:
    def fail(rows: np.ndarray) -> None:
        raise ValueError("no")

    clock = StageClock()
    with pytest.raises(ValueError):
        StageRunner(clock).run(Stage("boom", fail, rows="rows"), np.zeros(3))
    assert clock.position == "stage 'boom'" and "boom" not in clock.timings


def test_a_checkpointed_stage_is_loaded_instead_of_run_again(tmp_path: Path) -> None:
    work = {"data": "same"}
    first, again = Checkpoints(tmp_path), Checkpoints(tmp_path)
    first.bind(work)
    calls: list[int] = []
    hp = parse({})
    StageRunner(StageClock(), first).run(DOUBLE, np.arange(3), hp, calls)
    again.bind(work)
    runner = StageRunner(StageClock(), again)
    assert runner.run(DOUBLE, np.arange(3), hp, calls).tolist() == [0, 2, 4]
    assert calls == [3] and again.resumed == ["double"]
    assert runner.clock.timings == {}  # a loaded stage is not timed


def test_every_declared_stage_names_arguments_its_function_takes() -> None:
    """A template or `rows` naming an argument the function lacks would fail only at run time."""
    import inspect
    import string

    for stage in STAGES:
        parameters = inspect.signature(stage.work).parameters
        fields = [f for _, f, _, _ in string.Formatter().parse(stage.timed_as) if f]
        named = {f.split(".")[0] for f in fields} | ({stage.rows} if stage.rows else set())
        assert named <= set(parameters), (stage.name, named - set(parameters))
        assert inspect.getdoc(stage.work), f"{stage.name}: the README shows its docstring"
