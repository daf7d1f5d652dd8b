"""Write the configuration half of a SageMaker-shaped tree, for runs outside SageMaker.

The demo, `tune-local`, the benchmarks and the tests all start `train` on such a tree; this is the
one place that writes its `input/config/` files the way SageMaker does (every value a string).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from .paths import JobPaths

CSV = "text/csv"
PARQUET = "application/x-parquet"


def channel_config(content_type: str | None = None, input_mode: str = "File") -> dict[str, str]:
    """One `inputdataconfig.json` entry as SageMaker writes it."""
    entry = {"TrainingInputMode": input_mode, "S3DistributionType": "FullyReplicated"}
    if content_type:
        entry["ContentType"] = content_type
    return entry


def write_job_config(
    base: Path,
    hyperparameters: Mapping[str, object],
    channels: Mapping[str, Mapping[str, str]],
    host: str = "algo-1",
) -> JobPaths:
    """`hyperparameters.json` (values as strings), `inputdataconfig.json`, `resourceconfig.json`.

    Creates `input/data/<channel>/` for every channel that is not there yet (a link is kept).
    """
    paths = JobPaths.from_env({"SAGEMAKER_BASE_DIR": str(base)})
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    as_strings = {k: v if isinstance(v, str) else str(v) for k, v in hyperparameters.items()}
    paths.hyperparameters_file.write_text(json.dumps(as_strings))
    paths.inputdataconfig_file.write_text(json.dumps({k: dict(v) for k, v in channels.items()}))
    resources = {"current_host": host, "hosts": [host], "network_interface_name": "eth0"}
    paths.resourceconfig_file.write_text(json.dumps(resources))
    for name in channels:
        folder = paths.channel_dir(name)
        if not folder.is_symlink():
            folder.mkdir(parents=True, exist_ok=True)
    return paths
