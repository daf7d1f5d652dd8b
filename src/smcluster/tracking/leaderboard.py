"""`smcluster runs`: the runs of an MLflow store, best first by a chosen metric."""

from __future__ import annotations

import json
import math
from typing import Any

from ..contract.metrics import METRICS, OBJECTIVE, spec_of
from .base import TrackingError
from .mlflow_backend import bound_http_requests

SHOWN_PARAMS = ("min_samples", "eps_used", "reducer", "n_components")
SHOWN_METRICS = ("train:n_clusters", "train:noise_fraction")


def direction(metric: str) -> str:
    spec = spec_of(metric)
    if spec is not None and ":" in metric:
        return spec.direction
    if spec is not None:  # runs record train:dbcv, validation:dbcv, never a bare dbcv
        raise TrackingError(
            f"metric '{metric}' needs its split: runs record train:{metric} and "
            f"validation:{metric}.",
            f"use --metric train:{metric} (or validation:{metric}).",
        )
    raise TrackingError(
        f"unknown metric '{metric}'.",
        f"use one of {', '.join(s.name for s in METRICS)}, prefixed by train: or validation: "
        f"(default {OBJECTIVE}).",
    )


def leaderboard(
    uri: str, metric: str = OBJECTIVE, experiment: str | None = None
) -> list[dict[str, Any]]:
    """Runs sorted best first by `metric` (direction from `metrics.METRICS`); missing ones last."""
    maximize = direction(metric) == "Maximize"
    bound_http_requests()  # an unreachable server: an answer in seconds, not minutes of retries
    from mlflow.exceptions import MlflowException

    try:
        runs, names = _search(uri, experiment)
    except MlflowException as exc:
        raise _unanswered(uri, exc) from None
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


def _search(uri: str, experiment: str | None) -> tuple[list[Any], dict[str, str]]:
    """Every run of the chosen experiments (all active ones by default), and their names."""
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

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
    return runs, names


def _unanswered(uri: str, exc: Exception) -> TrackingError:
    """MLflow's failure as the user's problem: a server out of reach, or what the store said."""
    text = str(exc)
    causes = {"refused": "the connection was refused", "timed out": "no answer in time"}
    if "Max retries exceeded" in text or "Connection" in text:
        cause = next((why for sign, why in causes.items() if sign in text), "no connection")
        return TrackingError(
            f"the MLflow tracking server at {uri} cannot be reached ({cause}).",
            "check the URI and port, that the server is running, and the network between "
            "(proxy, VPN, security group).",
        )
    return TrackingError(
        f"the MLflow store at {uri} refused the search: {text[:300]}",
        "check the store URI and your access to it.",
    )


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
