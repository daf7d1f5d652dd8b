"""The CPU and GPU extras resolve together with the project's pins (pip's resolver, dry run).

The GPU image runs the CPU path when no GPU is present, and `make gpu-check` installs
`.[cpu,gpu]` into one environment: RAPIDS 26.10 (cudf-cu12, cuml-cu12) caps pandas below 3.1
and numba below 0.65, so a pin past either would make that install impossible. pip resolves from
the package index here (metadata only, nothing is installed or built beyond this project).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pinned() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [
        r for extra in ("cpu", "gpu") for r in project["optional-dependencies"][extra]
    ]
    pins = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^;\s]+)", requirement)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_cpu_and_gpu_extras_resolve_with_the_pins(tmp_path: Path):
    report = tmp_path / "report.json"
    resolved = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         "--disable-pip-version-check", "--report", str(report), f"{ROOT}[cpu,gpu]"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert resolved.returncode == 0, resolved.stderr[-3000:]
    versions = {
        item["metadata"]["name"].lower(): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    pins = pinned()
    assert {"pandas", "numba", "cudf-cu12", "cuml-cu12", "umap-learn"} <= pins.keys()
    wrong = {n: (v, versions.get(n)) for n, v in pins.items() if versions.get(n) != v}
    assert not wrong, f"pinned, resolved: {wrong}"
