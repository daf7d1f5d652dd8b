"""Where a SageMaker training container reads and writes, honouring the toolkit's variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_DIR = "/opt/ml"


@dataclass(frozen=True)
class JobPaths:
    """The `/opt/ml` tree (or `$SAGEMAKER_BASE_DIR`), with `SM_*` overrides applied."""

    base: Path
    env: dict[str, str]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> JobPaths:
        env = dict(os.environ if env is None else env)
        return cls(Path(env.get("SAGEMAKER_BASE_DIR") or DEFAULT_BASE_DIR), env)

    @property
    def config_dir(self) -> Path:
        return self.base / "input" / "config"

    @property
    def hyperparameters_file(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def inputdataconfig_file(self) -> Path:
        return self.config_dir / "inputdataconfig.json"

    @property
    def resourceconfig_file(self) -> Path:
        return self.config_dir / "resourceconfig.json"

    @property
    def data_dir(self) -> Path:
        return self.base / "input" / "data"

    @property
    def model_dir(self) -> Path:
        return Path(self.env.get("SM_MODEL_DIR") or self.base / "model")

    @property
    def output_dir(self) -> Path:
        return self.base / "output"

    @property
    def output_data_dir(self) -> Path:
        return Path(self.env.get("SM_OUTPUT_DATA_DIR") or self.output_dir / "data")

    @property
    def checkpoint_dir(self) -> Path:
        """Where SageMaker restores and syncs checkpoints (CheckpointConfig.LocalPath)."""
        return Path(self.env.get("SM_CHECKPOINT_DIR") or self.base / "checkpoints")

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    def channel_dir(self, name: str) -> Path:
        override = self.env.get(f"SM_CHANNEL_{name.upper()}")
        return Path(override) if override else self.data_dir / name
