"""`make gpu-check` (scripts/gpu_check.py) on the CPU: the script a GPU machine will run.

With `--candidate cpu` every stage, the end-to-end runs, the determinism check and the smoke pass
run for real on this machine, the CPU backend against itself; the comparisons must pass (a
backend agrees with itself) and must fail when the candidate's output is perturbed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from smcluster.backends import gpu_unavailable_reason

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu_check.py"


@pytest.fixture
def stages_module(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    import gpu_check_stages

    return gpu_check_stages


def test_gpu_check_runs_every_stage_on_the_cpu(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--candidate",
            "cpu",
            "--sizes",
            "3000",
            "--memory-rows",
            "2500",
            "--smoke-rows",
            "600",
            "--out",
            str(out),
            "--work",
            str(work),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    table = (out / "gpu_check.md").read_text()
    assert "all checks passed" in table
    assert table in done.stdout  # the same table printed
    record = json.loads((out / "gpu_check.json").read_text())
    checks = record["checks"]
    stages = [check["stage"] for check in checks]
    for expected in (
        "load parquet",
        "prepare features",
        "k-distance (k=",
        "k-distance in 2 columns",
        "DBSCAN",
        "silhouette",
        "Davies-Bouldin",
        "HDBSCAN (3,000 rows",
        "Davies-Bouldin",
        "Calinski-Harabasz",
        "UMAP",
        "train end to end",
        "train twice, one seed",
        "smoke: hdbscan",
        "smoke: kmeans",
        "smoke: gmm",
        "smoke: reducer tsne",
        "smoke: reducer pca",
        "smoke: reducer none",
        "smoke: gzip CSV",
        "smoke: predict 5 rows",
    ):
        assert any(stage.startswith(expected) for stage in stages), (expected, stages)
    assert all(check["passed"] in (True, None) for check in checks)
    compared = [c for c in checks if c["rows"] == 3000 and c["reference_s"] is not None]
    assert compared and all(c["speedup"] > 0 for c in compared)
    # The memory pass ran its stages on 2,500 rows; a CPU candidate has no device memory.
    memory = [c for c in checks if c["rows"] == 2500]
    assert [c["stage"] for c in memory][:4] == [
        "load parquet",
        "prepare features",
        "k-distance",
        "DBSCAN",
    ]
    assert all(c["peak_device_mib"] is None for c in memory)
    prepared = next(c for c in checks if c["stage"] == "prepare features" and c["rows"] == 3000)
    assert "same 27 features kept" in prepared["measure"]  # the 3 near-copies dropped on both
    assert record["environment"]["candidate"]["backend"] == "cpu"
    # Every table row has the header's 8 cells (no stray pipe inside a cell).
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == len(checks) + 1
    assert all(line.count(" | ") == 7 for line in rows), rows


@pytest.mark.skipif(
    gpu_unavailable_reason() is None, reason="a usable GPU is here: the check would run in full"
)
def test_gpu_check_stops_clearly_when_the_gpu_cannot_run(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path), "--work", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert "backend=gpu cannot run here" in done.stdout
    assert "--candidate cpu" in done.stdout
    assert not (tmp_path / "gpu_check.md").exists()


def test_comparisons_fail_on_a_perturbed_candidate(stages_module):
    """The bounds are real: a prepared matrix off by 1e-3 or a k-distance curve 1% longer fails."""
    from smcluster.backends import select_backend
    from smcluster.synthetic import make_segments

    hp = stages_module.check_hyperparameters()
    stages = stages_module.Stages(select_backend("cpu"), hp)
    frame = make_segments(1500, seed=3)
    features, prepared = stages.prepare(frame)
    reference = (features, prepared, 1.0)
    same = stages_module.compare_prepared(reference, (features, prepared.copy(), 0.5))
    assert same.passed is True and same.speedup == 2.0
    nudged = prepared.copy()
    nudged[7, 2] += 1e-3
    assert stages_module.compare_prepared(reference, (features, nudged, 0.5)).passed is False

    points = stages_module.pca_points(prepared)
    curve = stages.k_distance(points, np.arange(0, 1500, 3))
    assert stages_module.relative_difference(curve, curve) == 0.0
    assert stages_module.relative_difference(curve * 1.01, curve) == pytest.approx(0.01)
    # Duplicate rows (distance 0) are measured against a floor, not divided by zero.
    with_zero = np.concatenate([[0.0], curve])
    assert np.isfinite(stages_module.relative_difference(with_zero + 1e-9, with_zero))


def test_a_stage_that_raises_becomes_a_failed_row(stages_module, capsys):
    """A library call that fails on the device must not hide the rest of the table."""
    import gpu_check

    def broken():
        raise RuntimeError("cuML said no\nsecond line")

    rows = gpu_check.guarded("stages", 1000, broken)
    assert len(rows) == 1 and rows[0].passed is False
    assert rows[0].stage == "stages (raised)"
    assert rows[0].measure == "RuntimeError: cuML said no second line"
    assert "Traceback" in capsys.readouterr().err
    fine = gpu_check.guarded("stages", 1000, lambda: [])
    assert fine == []


class _Pool:
    """Stands in for CuPy's memory pool (no CuPy here): counts the releases."""

    def __init__(self) -> None:
        self.released = 0

    def malloc(self, size: int) -> None:
        return None

    def free_all_blocks(self) -> None:
        self.released += 1


def test_the_memory_probe_empties_cupys_pool_only_while_cupy_allocates_from_it(stages_module):
    """Importing cuDF points CuPy at RMM's allocator: CuPy's own pool then holds nothing of
    the stages', and emptying it measured nothing (the review's finding)."""
    from types import SimpleNamespace

    pool = _Pool()

    def rmm_cupy_allocator(size: int) -> None:
        return None

    for allocator, expected in ((pool.malloc, True), (rmm_cupy_allocator, False)):
        cupy = SimpleNamespace(
            get_default_memory_pool=lambda: pool,
            cuda=SimpleNamespace(get_allocator=lambda a=allocator: a),
        )
        assert stages_module.release_cupy_cache(cupy) is expected
    assert pool.released == 1
