"""Shared fixtures: real SageMaker-shaped trees in temporary folders and the real `train` script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

BIN = Path(sys.executable).parent


@dataclass
class JobTree:
    """A temporary `/opt/ml` tree; `run()` starts the real `train` console script on it."""

    base: Path

    @property
    def model_dir(self) -> Path:
        return self.base / "model"

    @property
    def failure_file(self) -> Path:
        return self.base / "output" / "failure"

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
        config = self.base / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        # Tracking has its own tests; elsewhere a local MLflow store per run only costs time.
        hyperparameters = {"tracker": "none", **hyperparameters}
        (config / "hyperparameters.json").write_text(json.dumps(hyperparameters))
        channels = channels or {"train": {"ContentType": "text/csv", "TrainingInputMode": "File"}}
        (config / "inputdataconfig.json").write_text(json.dumps(channels))

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 600):
        full_env = {**os.environ, "SAGEMAKER_BASE_DIR": str(self.base), **(env or {})}
        return subprocess.run(
            [str(BIN / "train"), *args],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def failure_first_line(self) -> str:
        return self.failure_file.read_text().splitlines()[0]

    def looks_complete(self) -> bool:
        return (self.model_dir / "manifest.json").exists()


@pytest.fixture
def job_tree(tmp_path: Path) -> JobTree:
    return JobTree(tmp_path / "opt_ml")


@pytest.fixture
def small_customers() -> Callable[..., pd.DataFrame]:
    from smcluster.demo import make_customers

    return lambda rows=600, seed=3: make_customers(rows, seed=seed)


FAST = {
    "reducer": "pca",
    "n_components": "3",
    "id_column": "customer_id",
    "label_column": "segment",
}
