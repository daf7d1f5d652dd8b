"""docker/install_package.py, the image's install step, on a stand-in for the RAPIDS base.

The RAPIDS image cannot be pulled here, so a virtual environment plays it: real pip, real
packages (joblib at a version other than the one pyproject pins), and cudf/cuml/cupy as minimal
installed distributions (metadata plus an empty module, which is all the install step looks at).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docker" / "install_package.py"
BASE_JOBLIB = "1.5.2"  # pyproject pins joblib==1.6.0: the base's version must win


def make_env(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    return path / "bin" / "python"


def pip(python: Path, *args: str) -> str:
    done = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def fake_distribution(python: Path, name: str, version: str) -> None:
    site = Path(pip_site(python))
    (site / name).mkdir()
    (site / name / "__init__.py").write_text("")
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "RECORD").write_text("")
    (info / "INSTALLER").write_text("conda\n")


def pip_site(python: Path) -> str:
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.strip()


def versions(python: Path) -> dict[str, str]:
    listing = json.loads(pip(python, "list", "--format=json"))
    return {item["name"].lower(): item["version"] for item in listing}


@pytest.mark.slow
def test_gpu_rapids_variant_keeps_the_base_packages_adds_the_missing(tmp_path: Path) -> None:
    python = make_env(tmp_path / "rapids")
    pip(python, "install", "--quiet", f"joblib=={BASE_JOBLIB}", "numpy==2.4.6")
    for name, version in (("cudf", "26.10.0"), ("cuml", "26.10.0"), ("cupy", "13.6.0")):
        fake_distribution(python, name, version)
    before = versions(python)

    done = subprocess.run(
        [str(python), str(SCRIPT), "--variant", "gpu-rapids", str(ROOT)],
        capture_output=True,
        text=True,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    after = versions(python)
    assert {name: after.get(name) for name in before} == before  # every base package kept
    assert after["joblib"] == BASE_JOBLIB
    assert f"keeping the base image's joblib=={BASE_JOBLIB} for joblib==1.6.0 (not the " in (
        done.stdout
    )
    assert {"smcluster", "kneed", "scikit-learn", "pandas"} <= set(after)
    assert not {"cudf-cu12", "cuml-cu12", "cupy-cuda12x"} & set(after)
    assert "keeping the base image's cudf==26.10.0 for cudf-cu12" in done.stdout


def test_gpu_rapids_variant_refuses_a_base_without_rapids(tmp_path: Path) -> None:
    python = make_env(tmp_path / "plain")

    done = subprocess.run(
        [str(python), str(SCRIPT), "--variant", "gpu-rapids", str(ROOT)],
        capture_output=True,
        text=True,
    )

    assert done.returncode != 0
    assert "lacks the RAPIDS modules cudf, cuml, cupy" in done.stderr
    assert "make image-rapids" in done.stderr and "make image)" in done.stderr
    assert "smcluster" not in versions(python)
