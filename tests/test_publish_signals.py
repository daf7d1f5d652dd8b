"""Publishing the model directory under SIGTERM and a second run: the exit code, the failure
file and the directory agree at every step. `train` runs as a subprocess; the publish pauses
after each of its steps (`SMCLUSTER_PUBLISH_PAUSE_S`, a test seam of `output/model_dir.py`) so
that SIGTERM lands between any two of them."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
from pathlib import Path

import pytest

from smcluster.output.model_dir import PAUSE_ENV

from .jobtree import FAST, JobTree

# Time windows: `make test` runs this module alone, after the parallel part.
pytestmark = pytest.mark.serial

STEP = re.compile(r"publish step (\d+) of (\d+) done")


def _customers_tree(tree: JobTree) -> None:
    from smcluster.synthetic import make_customers

    tree.write_table(make_customers(300, seed=4))
    tree.write_config(FAST)


def _run_until(
    tree: JobTree, step: int, pause: str = "0.3"
) -> tuple[subprocess.Popen[str], str, int]:
    """`train` started and read until publish step `step` is done: (process, log so far, steps)."""
    process = tree.start(env={PAUSE_ENV: pause})
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        found = STEP.search(line)
        if found and int(found[1]) == step:
            return process, "".join(seen), int(found[2])
    process.wait(timeout=60)
    raise AssertionError(f"no publish step {step} in the log:\n{''.join(seen)[-3000:]}")


def _files(model_dir: Path) -> set[str]:
    return {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}


def _assert_agree(tree: JobTree, code: int, log: str) -> bool:
    """Exit 143, and a failure file that says what the directory holds: the complete model
    (every listed file there, with its bytes) or nothing of this run. True when complete."""
    assert code == 143, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    failure = tree.failure_file.read_text()
    assert failure.startswith("Stopped: the job received SIGTERM"), failure
    files = _files(tree.model_dir)
    assert not any(name.startswith((".incomplete", ".replacing", ".manifest")) for name in files)
    manifest_path = tree.model_dir / "manifest.json"
    if not manifest_path.exists():
        assert "No model was written" in failure, failure
        assert files == set(), files
        return False
    assert "Its model was already published" in failure, failure
    listed = json.loads(manifest_path.read_text())["files"]
    assert files == {*listed, "manifest.json"}
    for name, facts in listed.items():
        data = (tree.model_dir / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == facts["sha256"], name
    return True


def test_sigterm_at_every_step_of_the_publish_leaves_an_agreeing_outcome(
    job_tree: JobTree,
) -> None:
    _customers_tree(job_tree)
    outcomes = []
    step, steps = 1, 1
    while step <= steps:
        # 0.6 s after each step: the stop (read from the log by this test, passed on by
        # `train`) must land before the next step even on a loaded 2-core machine.
        process, log, steps = _run_until(job_tree, step, pause="0.6")
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=120)
        if step == steps and process.returncode == 0:  # the job ended before the stop came
            assert job_tree.looks_complete() and not job_tree.failure_file.exists()
            outcomes.append(True)
        else:
            # step 1: staged, not yet moved (nothing published); later steps: the stop waits
            # for the moves in progress and the model is complete
            outcomes.append(_assert_agree(job_tree, process.returncode, log + rest))
        step += 1
    assert steps >= 5 and outcomes == [False] + [True] * (steps - 1)


def test_a_second_run_into_the_same_model_directory_fails_at_once(job_tree: JobTree) -> None:
    _customers_tree(job_tree)
    first, _, _ = _run_until(job_tree, 2, pause="1.0")  # holds the directory, mid-publish
    second = job_tree.run(env={PAUSE_ENV: "1.0"}, timeout=120)
    assert second.returncode == 4, second.stderr[-2000:]
    assert "another train run is writing to the model directory" in second.stderr
    rest, _ = first.communicate(timeout=120)
    assert first.returncode == 0, rest[-3000:]
    assert job_tree.looks_complete() and not job_tree.failure_file.exists()
    listed = json.loads((job_tree.model_dir / "manifest.json").read_text())["files"]
    assert _files(job_tree.model_dir) == {*listed, "manifest.json"}


def test_a_rerun_after_a_kill_mid_publish_keeps_only_its_own_files(job_tree: JobTree) -> None:
    """SIGKILL between two moves (no handler runs): the next run clears what the killed one
    moved, and a folder of the user's that shares a name with ours (plots/) keeps its files."""
    _customers_tree(job_tree)
    job_tree.write_config({**FAST, "plots": "true"})
    mine = job_tree.model_dir / "plots" / "my_notes.txt"
    mine.parent.mkdir(parents=True)
    mine.write_text("the user's own file")
    killed, _, _ = _run_until(job_tree, 4)
    killed.kill()
    killed.wait(timeout=60)
    assert (job_tree.model_dir / ".replacing.json").exists()  # the killed run's note
    rerun = job_tree.run(timeout=300)
    assert rerun.returncode == 0, rerun.failure
    listed = json.loads((job_tree.model_dir / "manifest.json").read_text())["files"]
    assert _files(job_tree.model_dir) == {*listed, "manifest.json", "plots/my_notes.txt"}
    assert mine.read_text() == "the user's own file"
    assert any(name.startswith("plots/") for name in listed)
