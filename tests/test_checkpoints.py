"""Spot training resumes: `train` stopped by SIGTERM after a stage, restarted on the same tree
and checkpoints, skips the finished stages and ends with the labels of an uninterrupted run.

Real `train` subprocesses on real files; the checkpoint folder is the `/opt/ml/checkpoints`
that SageMaker restores on a spot restart.
"""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pandas as pd

from .jobtree import JobTree

HP = {"reducer": "umap", "n_components": "3", "plots": "false"}
ROWS = 3_000


def _tree(base: Path, checkpoints: bool = True, **hp: str) -> JobTree:
    tree = JobTree(base).write_demo({**HP, **hp}, rows=ROWS)
    if checkpoints:
        (tree.base / "checkpoints").mkdir()
    return tree


def _labels(tree: JobTree) -> pd.DataFrame:
    return pd.read_parquet(tree.model_dir / "labels.parquet")


def _stop_after(tree: JobTree, stage: str) -> str:
    """Start `train`, SIGTERM it once `stage`'s checkpoint is written; its log so far."""
    job = tree.start()
    seen = []
    try:
        assert job.stdout is not None
        for line in job.stdout:
            seen.append(line)
            if f"checkpoint: stage {stage} written" in line:
                job.send_signal(signal.SIGTERM)
                break
        seen.extend(job.stdout)
        assert job.wait(timeout=120) == 143, "".join(seen)[-3000:]
    finally:
        job.kill()
    return "".join(seen)


def test_a_stopped_job_resumes_after_its_finished_stages_with_the_same_labels(
    tmp_path: Path,
) -> None:
    whole = _tree(tmp_path / "whole", checkpoints=False).run()
    assert whole.returncode == 0, whole.stderr[-3000:]

    tree = _tree(tmp_path / "spot")
    first = _stop_after(tree, "reduce")
    assert "stage reduce_umap: done" in first
    assert not (tree.model_dir / "manifest.json").exists()
    assert tree.failure_file.read_text().startswith("Stopped")
    # The signal lands a moment after the reduce checkpoint: clustering a few thousand rows
    # can finish (and be checkpointed) in that moment. Resumed must be what was written.
    written = [s for s in ("reduce", "cluster") if f"checkpoint: stage {s} written" in first]
    assert written[0] == "reduce"

    second = tree.run()
    assert second.returncode == 0, second.stderr[-3000:]
    assert "stage reduce_umap: started" not in second.log  # UMAP did not run again
    assert "stage reduce: resumed from checkpoint" in second.log
    assert ("stage choose_eps: started" in second.log) == ("cluster" not in written)
    assert second.metrics()["resumed_from_checkpoint"] == written
    pd.testing.assert_frame_equal(_labels(tree), _labels(JobTree(whole.base)))
    assert not tree.failure_file.exists()

    # A third start (say, a restart after the last stage) resumes both stages.
    third = tree.run()
    assert third.returncode == 0, third.stderr[-3000:]
    assert third.metrics()["resumed_from_checkpoint"] == ["reduce", "cluster"]
    assert "stage choose_eps: started" not in third.log
    pd.testing.assert_frame_equal(_labels(tree), _labels(JobTree(whole.base)))


def test_checkpoints_of_other_hyperparameters_are_ignored(tmp_path: Path) -> None:
    earlier = _tree(tmp_path / "earlier", n_neighbors="10").run()
    assert earlier.returncode == 0, earlier.stderr[-3000:]
    tree = _tree(tmp_path / "later", checkpoints=False)
    shutil.copytree(earlier.base / "checkpoints", tree.base / "checkpoints")

    run = tree.run()
    assert run.returncode == 0, run.stderr[-3000:]
    assert "are from another run" in run.log and "ignored" in run.log
    assert "stage reduce_umap: started" in run.log
    assert run.metrics()["resumed_from_checkpoint"] == []
    manifest = json.loads((tree.base / "checkpoints" / "smcluster-checkpoints.json").read_text())
    assert sorted(manifest["stages"]) == ["cluster", "reduce"]  # replaced by this run's


def test_a_damaged_checkpoint_runs_its_stage_again(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "job")
    assert tree.run().returncode == 0
    (tree.base / "checkpoints" / "reduce.joblib").write_bytes(b"not a pickle")
    run = tree.run()
    assert run.returncode == 0, run.stderr[-3000:]
    assert "could not be read" in run.log
    assert "stage reduce_umap: started" in run.log
    assert run.metrics()["resumed_from_checkpoint"] == ["cluster"]


def test_no_checkpoint_folder_means_no_checkpoints(tmp_path: Path) -> None:
    run = _tree(tmp_path / "job", checkpoints=False).run()
    assert run.returncode == 0, run.stderr[-3000:]
    assert "checkpoint: " not in run.log and "checkpoints: " not in run.log
    assert not (run.base / "checkpoints").exists()


def test_the_key_ignores_free_device_memory_but_not_the_device(tmp_path: Path) -> None:
    """A GPU restart sees other free memory: its checkpoints must still match."""
    from smcluster.pipeline.runtime.checkpoints import Checkpoints, stable_facts

    gpu = {"backend": "gpu", "device": "NVIDIA A10G", "device_free_gib": "21.3", "cuml": "26.10.0"}
    first = Checkpoints(tmp_path)
    first.bind({"backend": stable_facts(gpu)})
    first.save("reduce", {"embedding": [1, 2, 3]})
    again = Checkpoints(tmp_path)
    again.bind({"backend": stable_facts({**gpu, "device_free_gib": "19.8"})})
    assert again.load("reduce") == {"embedding": [1, 2, 3]}
    other = Checkpoints(tmp_path)
    other.bind({"backend": stable_facts({**gpu, "device": "NVIDIA L4"})})
    assert other.load("reduce") is None
