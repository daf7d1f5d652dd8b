"""The CPU image, built from the project's Dockerfile, run as SageMaker runs it."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from smcluster.contract.errors import SmclusterError
from smcluster.contract.hyperparameters import parse
from smcluster.output.metric_lines import metric_definitions
from smcluster.tools.demo import DEMO_HYPERPARAMETERS, write_job_tree

from .conftest import ROOT, docker, run_image

pytestmark = pytest.mark.container

MODEL_FILES = ("manifest.json", "model.joblib", "labels.parquet", "metrics.json")
GRACE_S = 30


def job_tree(base: Path, rows: int = 3000, **hyperparameters: str) -> Path:
    values = {**DEMO_HYPERPARAMETERS, "reducer": "pca", **hyperparameters}
    return write_job_tree(base / "opt_ml", rows=rows, hyperparameters=values)


def assert_trained(tree: Path, output: str) -> None:
    model = tree / "model"
    assert all((model / name).is_file() for name in MODEL_FILES), sorted(model.iterdir())
    assert not (tree / "output" / "failure").exists()
    published = {d["Name"]: re.findall(d["Regex"], output) for d in metric_definitions()}
    train = {name: found for name, found in published.items() if name.startswith("train:")}
    assert train and all(train.values()), f"unmatched metric regexes: {train}"
    for found in train.values():
        float(found[-1])  # SageMaker publishes the first group; it must be a number
    metrics = json.loads((model / "metrics.json").read_text())
    assert metrics, "metrics.json is empty"


def start_long_job(image: str, tmp_path: Path, name: str) -> Path:
    """`train` in a detached container on a table large enough that UMAP runs for a while."""
    tree = job_tree(tmp_path, rows=60_000, reducer="umap")
    started = docker(
        "run", "-d", "--name", name, "--network", "none", "-v", f"{tree}:/opt/ml", image, "train"
    )
    assert started.returncode == 0, started.stderr
    return tree


def test_train_argument_trains(cpu_image: str, tmp_path: Path) -> None:
    tree = job_tree(tmp_path)
    run = run_image(cpu_image, tree, "train")
    assert run.code == 0, run.output
    assert_trained(tree, run.output)


def test_no_argument_trains(cpu_image: str, tmp_path: Path) -> None:
    """`docker run image` with no command: the image's default command trains."""
    tree = job_tree(tmp_path)
    run = run_image(cpu_image, tree)
    assert run.code == 0, run.output
    assert_trained(tree, run.output)


def test_entrypoint_without_arguments_trains(cpu_image: str, tmp_path: Path) -> None:
    """The entrypoint itself called with an empty argument list (a runtime that sends no CMD)."""
    tree = job_tree(tmp_path)
    run = run_image(cpu_image, tree, "sh", "-c", "exec /usr/local/bin/smcluster-entrypoint")
    assert run.code == 0, run.output
    assert_trained(tree, run.output)


def test_a_small_umap_job_loads_every_compiled_function_from_the_build_time_cache(
    cpu_image: str, tmp_path: Path
) -> None:
    """numba's cache filled at build time is used by a job: nothing is compiled and saved again.
    (Before `--for-image` this engine's layers dropped the sub-second source mtimes numba checks,
    so every entry was stale and UMAP on 300 rows compiled for ~17 s.)"""
    tree = job_tree(tmp_path, rows=300, reducer="umap")
    run = run_image(cpu_image, tree, "sh", "-c", "NUMBA_DEBUG_CACHE=1 exec train")
    assert run.code == 0, run.output
    assert "[cache] data loaded" in run.output, run.output[-3000:]
    recompiled = [line for line in run.output.splitlines() if "[cache] data saved" in line]
    assert not recompiled, recompiled


def test_gpu_image_has_the_pinned_rapids_and_trains_on_the_cpu_without_a_gpu(
    gpu_image: str, tmp_path: Path
) -> None:
    """The default GPU image builds here and, on a machine without a GPU (this one), still
    trains: `backend=auto` falls back to the CPU with the reason in the log."""
    tree = job_tree(tmp_path, rows=1500)
    versions = (
        "import importlib.metadata as m; "
        "print(*(f'{p}=={m.version(p)}' for p in ('cudf-cu12', 'cuml-cu12', 'cupy-cuda12x', "
        "'pandas', 'numba', 'umap-learn')))"
    )
    run = run_image(gpu_image, tree, "sh", "-c", f'python -c "{versions}" && exec train')
    assert run.code == 0, run.output[-3000:]
    pins = dict(line.split("==") for line in run.output.split() if line.count("==") == 1)
    project = {
        requirement.split("==")[0]: requirement.split("==")[1]
        for requirement in _pinned_requirements()
    }
    for package in ("cudf-cu12", "cuml-cu12", "cupy-cuda12x", "pandas", "numba", "umap-learn"):
        assert pins.get(package) == project[package], (package, pins)
    assert "backend=auto fell back to the CPU" in run.output
    assert_trained(tree, run.output)


def _pinned_requirements() -> list[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [*project["dependencies"], *extras["cpu"], *extras["gpu"]]


def test_other_commands_run_as_given(cpu_image: str, tmp_path: Path) -> None:
    run = run_image(cpu_image, tmp_path, "smcluster", "metric-definitions")
    assert run.code == 0, run.output
    assert json.loads(run.output[run.output.index("[") :]) == metric_definitions()
    assert not (tmp_path / "model").exists()


def test_bad_input_fails_with_the_reason_first(cpu_image: str, tmp_path: Path) -> None:
    tree = job_tree(tmp_path, n_neighbours="5")
    with pytest.raises(SmclusterError) as raised:  # what the package says for the same input
        parse({"n_neighbours": "5"})
    expected = raised.value.reason().splitlines()[0]

    run = run_image(cpu_image, tree, "train")

    assert run.code != 0
    failure = (tree / "output" / "failure").read_text()
    assert failure.splitlines()[0] == expected
    assert "n_neighbours" in expected and expected in run.output
    assert not (tree / "model" / "manifest.json").exists()


def test_docker_stop_ends_the_job_within_the_grace_period(
    cpu_image: str, tmp_path: Path, container_name: str
) -> None:
    # UMAP on a larger table (plus numba's first compile) is still running when the stop comes.
    tree = start_long_job(cpu_image, tmp_path, container_name)
    deadline = time.monotonic() + 300
    logs = ""
    while "stage reduce_umap: started" not in logs:
        assert time.monotonic() < deadline, f"the job never reached UMAP:\n{logs}"
        state = docker("inspect", "-f", "{{.State.Running}}", container_name).stdout.strip()
        assert state == "true", f"the job ended before it could be stopped:\n{logs}"
        time.sleep(1)
        done = docker("logs", container_name)
        logs = done.stdout + done.stderr

    before = time.monotonic()
    docker("stop", "-t", str(GRACE_S), container_name, check=True)
    took = time.monotonic() - before

    code = int(docker("inspect", "-f", "{{.State.ExitCode}}", container_name).stdout)
    assert took < GRACE_S, f"docker stop took {took:.0f}s: SIGTERM did not end the job"
    assert code == 143
    failure = (tree / "output" / "failure").read_text()
    assert failure.startswith("Stopped:") and "SIGTERM" in failure
    assert not (tree / "model" / "manifest.json").exists()


def test_tini_is_pid_1_and_a_sigterm_at_once_still_stops_the_job(
    cpu_image: str, tmp_path: Path, container_name: str
) -> None:
    """SIGTERM sent the moment the container starts: the job must not run on to completion
    (a Python PID 1 drops it until its handler is installed; tini forwards it)."""
    pid1 = run_image(cpu_image, tmp_path, "cat", "/proc/1/comm")
    assert pid1.output.strip().splitlines()[-1] == "tini", pid1.output
    tree = start_long_job(cpu_image, tmp_path, container_name)
    docker("kill", "--signal", "TERM", container_name, check=True)
    waited = docker("wait", container_name, timeout=GRACE_S)
    assert waited.stdout.strip() == "143", docker("logs", container_name).stderr[-2000:]
    assert not (tree / "model" / "manifest.json").exists()
