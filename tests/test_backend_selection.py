"""Backend choice on a machine without CUDA: `gpu` fails clearly, `auto` falls back and says so.

These tests run where RAPIDS is absent (CI, developer laptops); on a GPU machine they are
skipped and `make gpu-check` covers the GPU path.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from smcluster.backends import gpu_unavailable_reason, select_backend
from smcluster.backends.device import (
    SILHOUETTE_MAX_CHUNK,
    DeviceFacts,
    device_problem,
    devices_note,
    driver_hint,
    parse_driver_version,
    silhouette_chunk,
)
from smcluster.contract.errors import BackendError

from .jobtree import JobTree

NO_GPU = gpu_unavailable_reason()
needs_no_gpu = pytest.mark.skipif(NO_GPU is None, reason="a usable GPU is present")


@needs_no_gpu
def test_backend_gpu_without_cuda_fails_with_a_clear_failure_file(tmp_path):
    run = JobTree(tmp_path).write_demo({"backend": "gpu", "reducer": "pca"}).run()
    assert run.returncode == 2
    failure = run.failure
    assert failure is not None
    first_line = failure.splitlines()[0]
    assert first_line.startswith("BackendError: backend=gpu was asked for but ")
    assert "RAPIDS is not importable" in first_line
    assert "set backend=cpu or backend=auto" in first_line
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "model" / "manifest.json").exists()


@needs_no_gpu
def test_backend_auto_falls_back_to_cpu_and_says_why(tmp_path):
    run = JobTree(tmp_path).write_demo({"backend": "auto", "reducer": "pca"}).run()
    assert run.returncode == 0, run.failure
    assert "backend=auto fell back to the CPU because RAPIDS is not importable" in run.stderr
    assert run.resolved()["versions"]["backend"] == "cpu"


@needs_no_gpu
def test_select_backend_in_process():
    assert select_backend("cpu").name == "cpu"
    assert select_backend("auto").name == "cpu"
    with pytest.raises(BackendError, match="backend=gpu was asked for"):
        select_backend("gpu")


def _facts(**changes) -> DeviceFacts:
    values = dict(
        name="Tesla T4",
        total_bytes=16 * 2**30,
        free_bytes=15 * 2**30,
        compute_capability=(7, 5),
        driver="535.104.05",
        cuda_driver=12020,
        cuda_runtime=12080,
    )
    values.update(changes)
    return DeviceFacts(**values)


def test_device_checks_accept_a_supported_device():
    assert device_problem(_facts()) is None
    assert _facts().describe()["cuda_driver"] == "12.2"


def test_device_checks_refuse_an_old_driver():
    problem = device_problem(_facts(driver="470.182.03", cuda_driver=11040))
    assert problem is not None
    assert "470.182.03 is too old for the CUDA 12 build" in problem
    assert "535" in problem


def test_device_checks_refuse_a_cuda_11_driver_when_the_version_is_unreadable():
    problem = device_problem(_facts(driver=None, cuda_driver=11080))
    assert problem is not None and "CUDA 11.8" in problem


def test_device_checks_refuse_pascal():
    problem = device_problem(_facts(name="Tesla P100", compute_capability=(6, 0)))
    assert problem is not None and "compute capability 6.0" in problem


def test_device_checks_follow_the_cuda_13_build_of_rapids():
    """CUDA 13 wheels (a CUDA 13 machine): R580+ driver and Turing or newer, no Volta."""
    cuda13 = dict(driver="580.95.05", cuda_driver=13000, cuda_runtime=13050)
    assert device_problem(_facts(name="NVIDIA H200", compute_capability=(9, 0), **cuda13)) is None
    volta = device_problem(_facts(name="Tesla V100", compute_capability=(7, 0), **cuda13))
    assert volta is not None
    assert "compute capability 7.0, the CUDA 13 build of RAPIDS needs 7.5 (Turing)" in volta
    old = device_problem(_facts(driver="570.172.08", cuda_driver=12080, cuda_runtime=13050))
    assert old is not None and "too old for the CUDA 13 build of RAPIDS (needs 580" in old
    unreadable = device_problem(_facts(driver=None, cuda_driver=12080, cuda_runtime=13050))
    assert unreadable is not None and "supports CUDA 12.8 only" in unreadable
    # The CUDA 12 build still takes Volta on an R535 driver.
    assert device_problem(_facts(name="Tesla V100", compute_capability=(7, 0))) is None


def test_driver_hint_says_what_the_installed_build_needs():
    assert driver_hint("570.172.08", 13050) == (
        "the NVIDIA driver here is 570.172.08; the CUDA 13 build of RAPIDS needs 580 or newer"
    )
    assert driver_hint(None, 12080).endswith("the CUDA 12 build of RAPIDS needs 535 or newer")


def test_driver_version_is_read_from_the_proc_file_text():
    text = (
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC "
        "2023\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"
    )
    assert parse_driver_version(text) == "535.104.05"
    open_module = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.14  Release"
    assert parse_driver_version(open_module) == "550.54.14"
    assert parse_driver_version("garbage") is None


@needs_no_gpu
def test_gpu_check_refuses_clearly_without_a_gpu():
    """`make gpu-check` must stop before installing anything on a machine without a GPU."""
    if shutil.which("nvidia-smi"):
        pytest.skip("nvidia-smi exists here")
    script = Path(__file__).resolve().parent.parent / "scripts" / "gpu_check.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "no NVIDIA GPU here" in done.stderr


def test_cpu_umap_without_umap_learn_is_a_clear_error(monkeypatch):
    """The GPU image has no umap-learn: backend=cpu with reducer=umap must say so, not crash."""
    import builtins

    from smcluster.backends.base import ReducerSettings
    from smcluster.backends.cpu import CpuBackend
    from smcluster.contract.errors import BackendError

    real_import = builtins.__import__

    def no_umap(name, *args, **kwargs):
        if name == "umap":
            raise ImportError("No module named 'umap'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_umap)
    with pytest.raises(BackendError, match="reducer=umap on the CPU needs umap-learn"):
        CpuBackend().make_reducer(
            ReducerSettings("umap", 2, 5, 0.0, "euclidean", perplexity=5.0, random_state=0)
        )


def test_silhouette_chunk_fills_the_budget_with_square_tiles():
    """cuVS tiles the distances chunk x chunk beside a rows x labels matrix (see the function)."""
    free, rows, labels, share = 8 * 10**9, 10_000_000, 10, 0.4
    chunk = silhouette_chunk(free, rows, labels, share)
    used = 4 * chunk * chunk + 4 * rows * (labels + 1)
    assert used <= free * share < 4 * (chunk + 1) ** 2 + 4 * rows * (labels + 1)
    assert chunk == 26_267
    assert silhouette_chunk(free, 1_000, labels, share) == 1_000  # never more than the rows
    assert silhouette_chunk(10**6, rows, labels, share) == 1  # over budget: one row at a time


def test_silhouette_chunk_stays_below_the_32_bit_index_limit_of_cuvs():
    """40 GB free would allow 62,369-row tiles; cuVS's `int` indices overflow above 46,340
    (46,341 squared is over 2**31 - 1), so the chunk stops at cuML's own default, 40,000."""
    free, rows, labels, share = 40 * 10**9, 10_000_000, 10, 0.4
    chunk = silhouette_chunk(free, rows, labels, share)
    assert chunk == SILHOUETTE_MAX_CHUNK == 40_000
    assert chunk * chunk < 2**31 - 1 < 46_341 * 46_341
    assert silhouette_chunk(free, 1_000, labels, share) == 1_000  # never more than the rows
    assert silhouette_chunk(10**6, rows, labels, share) == 1  # over budget: one row at a time


def test_more_than_one_gpu_is_said_in_the_log_with_which_one_is_used():
    assert devices_note(0) is None and devices_note(1) is None
    note = devices_note(8)
    assert note is not None and note.startswith("8 GPUs are visible; this job uses GPU 0 only")
