"""`smcluster demo-data`: a SageMaker-shaped tree holding the demo customer table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..contract.local_tree import CSV, PARQUET, channel_config, write_job_config
from ..synthetic import make_customers

# The demo runs on the defaults: it only names the id column and the true segments.
DEMO_HYPERPARAMETERS = {"id_column": "customer_id", "label_column": "segment"}


def write_job_tree(
    base: Path,
    rows: int = 20_000,
    files: int = 3,
    file_format: str = "csv",
    seed: int = 7,
    hyperparameters: dict[str, str] | None = None,
    validation_rows: int = 0,
) -> Path:
    """A SageMaker-shaped `/opt/ml` tree holding the demo table split into `files` files."""
    content_type = PARQUET if file_format == "parquet" else CSV
    channels = {"train": channel_config(content_type)}
    if validation_rows:
        channels["validation"] = channel_config(content_type)
    values = hyperparameters if hyperparameters is not None else DEMO_HYPERPARAMETERS
    paths = write_job_config(base, values, channels)
    _write_split(make_customers(rows, seed=seed), paths.channel_dir("train"), files, file_format)
    if validation_rows:
        validation = make_customers(validation_rows, seed=seed + 1, first_id=rows + 1)
        _write_split(validation, paths.channel_dir("validation"), 1, file_format)
    return base


def _write_split(table: pd.DataFrame, folder: Path, files: int, file_format: str) -> None:
    for stale in folder.glob("part-*"):
        stale.unlink()
    for index, part in enumerate(np.array_split(np.arange(len(table)), max(files, 1))):
        chunk = table.iloc[part]
        if file_format == "parquet":
            chunk.to_parquet(folder / f"part-{index:03d}.parquet", index=False)
        else:
            chunk.to_csv(folder / f"part-{index:03d}.csv", index=False)
