"""The one test helper for SageMaker-shaped trees: write one, run the real `train` on it.

`JobTree` writes `input/config/` through `smcluster.contract.local_tree` (as the demo and
`tune-local` do) and tables or the demo data under `input/data/`; `run()` starts the real
`train` console script as a subprocess, as SageMaker would, and returns a `TrainRun`.
Tracking defaults to `tracker=none` (a local MLflow store per run only costs time); the tracking
tests ask for it by name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from smcluster.contract.local_tree import CSV, channel_config, write_job_config
from smcluster.tools.demo import write_job_tree

BIN = Path(sys.executable).parent
TRAIN = BIN / "train"
# Environment that would change what `train` does: never inherited from the developer's shell.
ISOLATED_PREFIXES = ("MLFLOW_", "TRAINING_JOB", "SAGEMAKER_", "SM_", "AWS_")
# Fast settings for tests that are not about UMAP.
FAST = {
    "reducer": "pca",
    "n_components": "3",
    "id_column": "customer_id",
    "label_column": "segment",
}
DEMO_COLUMNS = {"id_column": "customer_id", "label_column": "segment"}


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(ISOLATED_PREFIXES)}
    return {**kept, **(extra or {})}


@dataclass
class TrainRun:
    """A finished `train` subprocess and the tree it ran on."""

    base: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    @property
    def failure(self) -> str | None:
        path = self.base / "output" / "failure"
        return path.read_text() if path.exists() else None

    def metrics(self) -> dict[str, Any]:
        return json.loads((self.base / "model" / "metrics.json").read_text())

    def resolved(self) -> dict[str, Any]:
        return json.loads((self.base / "model" / "hyperparameters.json").read_text())


@dataclass
class JobTree:
    """A temporary `/opt/ml` tree."""

    base: Path

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def failure_file(self) -> Path:
        return self.base / "output" / "failure"

    @property
    def config_dir(self) -> Path:
        return self.base / "input" / "config"

    def channel(self, name: str = "train") -> Path:
        path = self.base / "input" / "data" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write_table(
        self, frame: pd.DataFrame, name: str = "train", file: str = "part-0.csv"
    ) -> Path:
        path = self.channel(name) / file
        path.parent.mkdir(parents=True, exist_ok=True)
        if file.endswith(".parquet"):
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
        return path

    def write_config(
        self,
        hyperparameters: dict[str, str],
        channels: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """Config files for these hyperparameters (tracker=none unless named) and channels."""
        channels = channels or {"train": channel_config(CSV)}
        write_job_config(self.base, {"tracker": "none", **hyperparameters}, channels)

    def write_demo(
        self,
        hyperparameters: dict[str, str] | None = None,
        rows: int = 1500,
        files: int = 1,
        **tree: Any,
    ) -> JobTree:
        """The demo customer table, with its id and label columns named (tracker=none)."""
        values = {"tracker": "none", **DEMO_COLUMNS, **(hyperparameters or {})}
        write_job_tree(self.base, rows=rows, files=files, hyperparameters=values, **tree)
        return self

    def set_hyperparameters(self, hyperparameters: dict[str, str]) -> None:
        """Replace hyperparameters.json only (values as given: strings, as SageMaker writes)."""
        (self.config_dir / "hyperparameters.json").write_text(json.dumps(hyperparameters))

    def hyperparameters(self) -> dict[str, str]:
        return json.loads((self.config_dir / "hyperparameters.json").read_text())

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return clean_env({"SAGEMAKER_BASE_DIR": str(self.base), **(extra or {})})

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 600, **popen: Any
    ) -> TrainRun:
        done = subprocess.run(
            [str(TRAIN), *args],
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            **popen,
        )
        return TrainRun(self.base, done.returncode, done.stdout, done.stderr)

    def start(self, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """`train` in the background, stdout and stderr merged into one text pipe."""
        return subprocess.Popen(
            [str(TRAIN)],
            env=self.env(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def failure_first_line(self) -> str:
        return self.failure_file.read_text().splitlines()[0]

    def looks_complete(self) -> bool:
        return (self.model_dir / "manifest.json").exists()


def smcluster(
    *args: str, check: bool = False, timeout: float = 300, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The `smcluster` console script of this environment (`stdin`: text on its input)."""
    return subprocess.run(
        [str(BIN / "smcluster"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
        env=clean_env(),
        input=stdin,
    )
