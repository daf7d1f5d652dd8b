"""Turn a `RunResult` into the files of the model directory (written into staging)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..contract.output_columns import CLUSTER, DROPPED, ROW_ID, embedding_column
from ..pipeline.run import RunResult, SplitResult
from ..report import write_report
from ..version import __version__
from .bundle import save_model
from .model_dir import write_json


def labels_frame(split: SplitResult, id_name: str) -> pd.DataFrame:
    """One row per input row: id, cluster (-1 noise, -2 dropped) and embedding coordinates."""
    rows = len(split.ids)
    cluster = np.full(rows, DROPPED, dtype=np.int32)
    cluster[split.kept] = split.labels
    # `id_name` never equals these names: hyperparameters.parse refuses such an id_column.
    columns: dict[str, Any] = {id_name: split.ids, CLUSTER: cluster}
    for axis in range(split.embedding.shape[1]):
        values = np.full(rows, np.nan, dtype=np.float32)
        values[split.kept] = split.embedding[:, axis]
        columns[embedding_column(axis)] = values
    return pd.DataFrame(columns)


def metrics_payload(result: RunResult) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "train": result.train.metrics,
        "notes": result.train.notes,
        "algorithm": result.hp.algorithm,
        "eps": None if result.eps is None else result.eps.to_json(),
        "rows": {
            "train_input": len(result.train.ids),
            "train_clustered": int(result.train.kept.sum()),
        },
        "cluster_sizes": {
            str(k): int(v)
            for k, v in zip(*np.unique(result.train.labels, return_counts=True), strict=True)
        },
        "timings_seconds": result.timings,
        "resumed_from_checkpoint": result.resumed,
    }
    if result.validation is not None:
        payload["validation"] = result.validation.metrics
        payload["validation_notes"] = result.validation.notes
        payload["rows"]["validation_input"] = len(result.validation.ids)
    return payload


def resolved_hyperparameters(result: RunResult) -> dict[str, Any]:
    return {
        "hyperparameters": result.hp.to_json(),
        "given": sorted(result.hp.given),
        "eps_used": None if result.eps is None else result.eps.eps,
        "eps_method": None if result.eps is None else result.eps.method,
        "features_used": result.features,
        "preparation": result.prep_report,
        "smcluster_version": __version__,
        "versions": result.backend_info,
    }


def write_outputs(result: RunResult, staging: Path) -> dict[str, Any]:
    """Write model bundle, labels, metrics and resolved hyperparameters; return the summary."""
    id_name = result.hp.id_column or ROW_ID
    assert result.model is not None, "a pipeline run always has a model"
    save_model(result.model, staging)
    labels_frame(result.train, id_name).to_parquet(staging / "labels.parquet", index=False)
    if result.validation is not None:
        labels_frame(result.validation, id_name).to_parquet(
            staging / "validation_labels.parquet", index=False
        )
    write_report(result, staging)  # cluster_profiles.csv always; plots/ when plots=true
    metrics = metrics_payload(result)
    write_json(staging / "hyperparameters.json", resolved_hyperparameters(result))
    # Every file of the model directory, so that a tracker can log them all.
    metrics["artifacts"] = sorted(
        [p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()]
        + ["metrics.json"]
    )
    write_json(staging / "metrics.json", metrics)
    return {"smcluster_version": __version__, "metrics": metrics["train"]}
