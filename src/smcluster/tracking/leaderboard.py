"""`smcluster runs`: the runs of an MLflow store, best first by a chosen metric."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..contract.metrics import METRICS, OBJECTIVE, spec_of
from .base import TrackingError
from .mlflow_backend import LOCAL_DB
from .select import LOCAL_STORE_DIR

SHOWN_PARAMS = ("min_samples", "eps_used", "reducer", "n_components")
SHOWN_METRICS = ("train:n_clusters", "train:noise_fraction")


def store_uri(store: str) -> str:
    """A URI or ARN as given; a path to `mlflow.db`, its folder, or a job's base/output folder."""
    if "://" in store or store.startswith("arn:"):
        return store
    path = Path(store).expanduser().resolve()
    candidates = [
        path,
        path / LOCAL_DB,
        path / LOCAL_STORE_DIR / LOCAL_DB,
        path / "data" / LOCAL_STORE_DIR / LOCAL_DB,
        path / "output" / "data" / LOCAL_STORE_DIR / LOCAL_DB,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return f"sqlite:///{candidate}"
    # Never let MLflow create an empty database where the user mistyped a path.
    raise TrackingError(
        f"no MLflow store at {path} (looked for {LOCAL_DB} there and under "
        f"{LOCAL_STORE_DIR}/, data/{LOCAL_STORE_DIR}/ and output/data/{LOCAL_STORE_DIR}/).",
        "pass the job's base directory, its output data directory, the mlflow.db file, or a "
        "tracking URI such as http://host:5000.",
    )


def direction(metric: str) -> str:
    spec = spec_of(metric)
    if spec is not None:
        return spec.direction
    raise TrackingError(
        f"unknown metric '{metric}'.",
        f"use one of {', '.join(s.name for s in METRICS)}, prefixed by train: or validation: "
        f"(default {OBJECTIVE}).",
    )


def leaderboard(
    uri: str, metric: str = OBJECTIVE, experiment: str | None = None
) -> list[dict[str, Any]]:
    """Runs sorted best first by `metric` (direction from `metrics.METRICS`); missing ones last."""
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    maximize = direction(metric) == "Maximize"
    client = MlflowClient(tracking_uri=uri)
    if experiment:
        found = client.get_experiment_by_name(experiment)
        if found is None:
            known = [e.name for e in client.search_experiments()]
            raise TrackingError(
                f"no experiment '{experiment}' in {uri}.", f"use one of: {', '.join(known)}."
            )
        experiments = [found]
    else:
        experiments = client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
    names = {e.experiment_id: e.name for e in experiments}
    runs: list[Any] = []
    page_token = None
    while names:
        page = client.search_runs(list(names), max_results=1000, page_token=page_token)
        runs.extend(page)
        page_token = page.token
        if not page_token:
            break
    rows = [_row(run, names, metric) for run in runs]

    def key(row: dict[str, Any]) -> tuple[int, float]:
        value = row["value"]
        if value is None or math.isnan(value):
            return (1, 0.0)
        return (0, -value if maximize else value)

    rows.sort(key=key)
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _row(run: Any, experiments: dict[str, str], metric: str) -> dict[str, Any]:
    return {
        "rank": 0,
        "run_name": run.info.run_name,
        "run_id": run.info.run_id,
        "experiment": experiments.get(run.info.experiment_id, ""),
        "status": run.info.status,
        "metric": metric,
        "value": run.data.metrics.get(metric),
        "metrics": {m: run.data.metrics.get(m) for m in SHOWN_METRICS},
        "params": {p: run.data.params.get(p) for p in SHOWN_PARAMS},
        "start_time": run.info.start_time,
        "artifact_uri": run.info.artifact_uri,
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    try:
        return f"{float(value):.6g}" if "." in str(value) else str(value)
    except ValueError:
        return str(value)


def format_table(rows: list[dict[str, Any]], metric: str) -> str:
    header = ["rank", metric, *SHOWN_METRICS, *SHOWN_PARAMS, "status", "run_name", "run_id"]
    body = [
        [
            str(row["rank"]),
            _cell(row["value"]),
            *(_cell(row["metrics"][m]) for m in SHOWN_METRICS),
            *(_cell(row["params"][p]) for p in SHOWN_PARAMS),
            row["status"],
            row["run_name"] or "",
            row["run_id"],
        ]
        for row in rows
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *body]
    ]
    return "\n".join(lines) + "\n"


def format_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, indent=2, default=str) + "\n"
