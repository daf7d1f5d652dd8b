"""scripts/build_and_push.sh refuses to start without an engine, a region or credentials.

Real subprocesses; no AWS is reached: each case fails before any network call (no region, or no
credentials with the instance-metadata lookup disabled).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_and_push.sh"
NOWHERE = "/nonexistent/smcluster-test"
BASH = shutil.which("bash") or "/bin/bash"


def run_script(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BASH, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )


def bare_env(**extra: str) -> dict[str, str]:
    """No AWS settings at all: no region, no credentials, no config files, no metadata service."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=NOWHERE,
        AWS_SHARED_CREDENTIALS_FILE=NOWHERE,
        AWS_EC2_METADATA_DISABLED="true",
        **extra,
    )
    return env


needs_aws_cli = pytest.mark.skipif(shutil.which("aws") is None, reason="no aws CLI on PATH")


def test_no_engine_is_reported_and_nothing_is_printed() -> None:
    done = run_script(bare_env(DOCKER_HOST=f"unix://{NOWHERE}.sock"))
    assert done.returncode == 1
    assert "no Docker engine answers" in done.stderr and "Fix: start Docker" in done.stderr
    assert done.stdout == ""


@needs_aws_cli
def test_no_region_is_reported() -> None:
    done = run_script(bare_env())
    assert done.returncode == 1
    assert "no AWS region. Fix: export AWS_REGION=" in done.stderr
    assert done.stdout == ""


@needs_aws_cli
def test_no_credentials_are_reported_with_the_cli_reason() -> None:
    done = run_script(bare_env(AWS_REGION="eu-west-1"))
    assert done.returncode == 1
    assert "no usable AWS credentials" in done.stderr
    assert "Unable to locate credentials" in done.stderr
    assert "no AWS region" not in done.stderr
    assert done.stdout == ""


def test_missing_aws_cli_is_reported(tmp_path: Path) -> None:
    done = run_script(bare_env(PATH=str(tmp_path)))  # an empty PATH: neither docker nor aws
    assert done.returncode == 1
    assert "no docker CLI on PATH" in done.stderr and "no aws CLI on PATH" in done.stderr


def test_bad_arguments_are_refused() -> None:
    assert run_script(bare_env(), "--variant", "tpu").returncode == 2
    assert run_script(bare_env(), "--frobnicate").returncode == 2
