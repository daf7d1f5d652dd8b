"""SageMaker Python SDK v3's local container mode runs the CPU image, through the README's v3
snippet as written.

SDK v3 cannot live in the dev environment beside v2 (both are the `sagemaker` package), so the
test runs the snippet in its own virtual environment, `.venv-sdk3`, made once from
`sdk-v3-requirements.txt`. No AWS is reachable: the SDK gets dummy credentials and a region,
runs the container with Docker Compose on the local engine, and its telemetry is opted out.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from smcluster.output.metric_lines import metric_definitions
from smcluster.tools.demo import write_job_tree

from .test_local_mode import ROLE

pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-sdk3"
REQUIREMENTS = Path(__file__).with_name("sdk-v3-requirements.txt")


@pytest.fixture(scope="session")
def sdk3_python() -> Path:
    """The v3 environment's interpreter, made on first use (about 90 s and 1 GB)."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    wanted = REQUIREMENTS.read_text()
    if not (stamp.exists() and stamp.read_text() == wanted):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.fail(f"could not install SDK v3:\n{done.stderr[-3000:]}")
        stamp.write_text(wanted)
    return python


def readme_block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    found = re.search(rf"<!-- {marker} -->\n```python\n(.*?)```", text, re.DOTALL)
    assert found, f"README has no python block after <!-- {marker} -->"
    return found.group(1)


def test_readme_v3_snippet_trains_in_local_container_mode(
    cpu_image: str, sdk3_python: Path, tmp_path: Path
) -> None:
    train = write_job_tree(tmp_path / "demo", rows=2000) / "input" / "data" / "train"
    work = tmp_path / "work"
    work.mkdir()
    (work / "metric-definitions.json").write_text(json.dumps(metric_definitions()))
    prelude = (
        "from sagemaker.train.model_trainer import Mode\n"
        f"IMAGE = {cpu_image!r}\nROLE = {ROLE!r}\nMODE = Mode.LOCAL_CONTAINER\n"
        f"INSTANCE_TYPE = 'local_cpu'\nTRAIN = {str(train)!r}\n"
    )
    (work / "snippet.py").write_text(prelude + readme_block("sdk-v3"))
    config = tmp_path / "sagemaker-config.yaml"
    modules = {"Modules": {"TelemetryOptOut": True}}
    config.write_text(json.dumps({"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": modules}}))
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(config),
    }
    done = subprocess.run(
        [str(sdk3_python), "snippet.py"], cwd=work, env=env, capture_output=True, text=True,
        timeout=1200,
    )  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    # v3 starts the image with no command: the entrypoint must train on its own.
    compose = yaml.safe_load((work / "docker-compose.yaml").read_text())
    [service] = compose["services"].values()
    assert "command" not in service, service
    with tarfile.open(work / "compressed_artifacts" / "model.tar.gz") as archive:
        names = set(archive.getnames())
        resolved = json.load(archive.extractfile("hyperparameters.json"))  # type: ignore[arg-type]
    assert {"manifest.json", "model.joblib", "labels.parquet", "metrics.json"} <= names
    given = resolved["hyperparameters"]
    assert given["n_components"] == 3 and given["reducer"] == "pca"
    assert given["id_column"] == "customer_id"
    assert "smcluster-metric train:dbcv=" in log
