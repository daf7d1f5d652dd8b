"""A real Docker engine and the CPU image built from the project's Dockerfile, once per session.

The engine and the registry-free base image come from `scripts/ci_docker_engine.sh` (CI runs it
before the tests; here it runs when dockerd and debootstrap are installed and we are root). Tests
skip, saying why, only when no engine can be had; a failing image build fails them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE_SCRIPT = ROOT / "scripts" / "ci_docker_engine.sh"
BASE_IMAGE = os.environ.get("SMCLUSTER_TEST_BASE", "smcluster-base:bookworm-tini")
TEST_IMAGE = "smcluster:test-cpu"
GPU_TEST_IMAGE = "smcluster:test-gpu"


def docker(*args: str, timeout: float = 600, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=check
    )


def _engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return docker("info", timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _harness(step: str, needs: str) -> str | None:
    """Run one step of the engine script; the reason it could not run, or None."""
    if os.geteuid() != 0 or shutil.which(needs) is None:
        return f"`{needs}` is not installed or we are not root (run scripts/ci_docker_engine.sh)"
    done = subprocess.run(
        ["bash", str(ENGINE_SCRIPT), step], capture_output=True, text=True, timeout=900
    )
    return None if done.returncode == 0 else f"{ENGINE_SCRIPT.name} {step} failed: {done.stderr}"


@pytest.fixture(scope="session")
def engine() -> None:
    if _engine_answers():
        return
    reason = _harness("engine", "dockerd")
    if reason is not None or not _engine_answers():
        pytest.skip(f"no Docker engine could be started: {reason}")


@pytest.fixture(scope="session", autouse=True)
def remove_stopped_test_containers() -> Iterator[None]:
    """After the session: remove the stopped containers of the test images. SageMaker local mode
    (docker compose) leaves its containers behind, and with the `vfs` storage driver each holds
    a full copy of the image (1 to 7 GB): a few sessions filled this machine's disk."""
    yield
    if not _engine_answers():
        return
    for image in (TEST_IMAGE, GPU_TEST_IMAGE):
        found = docker("ps", "-aq", "--filter", f"ancestor={image}", "--filter", "status=exited")
        if found.returncode == 0 and found.stdout.split():
            docker("rm", *found.stdout.split(), timeout=600)


def _build(variant: str, tag: str) -> str:
    """A variant of the project's Dockerfile on the local Debian base (layers cached)."""
    if docker("image", "inspect", BASE_IMAGE).returncode != 0:
        reason = _harness("base", "debootstrap")
        if reason is not None:
            pytest.skip(f"no base image {BASE_IMAGE}: {reason}")
    # --network host: the engine runs without a bridge; pip needs the index at build time only.
    built = docker(
        "build", "--network", "host",
        "--build-arg", f"VARIANT={variant}",
        "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
        "--build-arg", "VERSION=test",
        "-t", tag, str(ROOT),
        timeout=3600,
    )  # fmt: skip
    if built.returncode != 0:
        pytest.fail(f"docker build failed:\n{built.stdout[-4000:]}\n{built.stderr[-4000:]}")
    _remove_superseded_test_builds()
    return tag


def _remove_superseded_test_builds() -> None:
    """Each rebuild leaves the previous test image untagged; with the `vfs` storage driver every
    one is a full copy (7 GB for the GPU variant). Fifteen of them filled a CI machine's disk
    mid-suite, so only this project's untagged test builds are removed: nothing else's."""
    docker(
        "image", "prune", "--force",
        "--filter", "label=org.opencontainers.image.title=smcluster",
        "--filter", "label=org.opencontainers.image.version=test",
        timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="session")
def cpu_image(engine: None) -> str:
    """The CPU variant."""
    return _build("cpu", TEST_IMAGE)


@pytest.fixture(scope="session")
def gpu_image(engine: None) -> str:
    """The default GPU variant: RAPIDS' pip wheels at the project's pins (about 7 GB)."""
    return _build("gpu", GPU_TEST_IMAGE)


@dataclass
class Run:
    code: int
    output: str


@pytest.fixture
def container_name() -> Iterator[str]:
    name = f"smcluster-test-{uuid.uuid4().hex[:8]}"
    yield name
    docker("rm", "-f", name, timeout=120)


def run_image(image: str, tree: Path, *command: str, timeout: float = 900) -> Run:
    """`docker run --network none -v tree:/opt/ml image command...`, as SageMaker starts it."""
    done = docker(
        "run", "--rm", "--network", "none", "-v", f"{tree}:/opt/ml", image, *command,
        timeout=timeout,
    )  # fmt: skip
    return Run(done.returncode, done.stdout + done.stderr)
