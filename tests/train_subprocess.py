"""Run the real `train` console script as a subprocess against a temporary /opt/ml tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smcluster.demo import write_job_tree

TRAIN = Path(sys.executable).parent / "train"


@dataclass
class TrainRun:
    base: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def failure(self) -> str | None:
        path = self.base / "output" / "failure"
        return path.read_text() if path.exists() else None

    def metrics(self) -> dict[str, Any]:
        return json.loads((self.base / "model" / "metrics.json").read_text())

    def resolved(self) -> dict[str, Any]:
        return json.loads((self.base / "model" / "hyperparameters.json").read_text())


def run_train(base: Path, hyperparameters: dict[str, Any], rows: int = 1500, **tree: Any):
    """Write a demo job tree with these hyperparameters and run `train` on it."""
    hp = {"id_column": "customer_id", "label_column": "segment", **hyperparameters}
    write_job_tree(base, rows=rows, files=1, hyperparameters=hp, **tree)
    done = subprocess.run(
        [str(TRAIN)],
        env={**os.environ, "SAGEMAKER_BASE_DIR": str(base)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    return TrainRun(base, done.returncode, done.stdout, done.stderr)
