"""`smcluster tuning-report`: one interactive HTML page about one or more tuning studies.

A study is a SageMaker tuning job (its training jobs, read with boto3) or a `tune-local` study
(`study.json`). The page shows, for every study overlaid: the objective over time with the best
so far, the objective against each tuned hyperparameter, and the best trials with their
hyperparameters and a link to each trial's report (a local trial's `report.html`, a SageMaker
job's console page). plotly draws the charts; the page embeds plotly.js once, so it opens
without a network.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..contract.errors import ArgumentError, DependencyError
from ..contract.metrics import OBJECTIVE, objective_direction
from ..output.atomic import write_whole
from .compare import rank, tuning_job_rows

BEST_SHOWN = 10


@dataclass
class Trial:
    name: str
    status: str
    objective: float | None
    hyperparameters: dict[str, str]
    ended: datetime | None = None  # None: the order of the trials stands in for time
    link: str | None = None
    started: str = ""  # as written (ISO time), for the order of a local study's trials


@dataclass
class Study:
    label: str
    trials: list[Trial] = field(default_factory=list)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None


def check_plotly() -> None:
    """plotly draws the page: its absence is said before any study is read."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        raise DependencyError(
            "tuning-report needs plotly, which is not installed.",
            'pip install -e ".[tune]" (or the dev extra).',
        ) from None


def local_study(path: Path) -> Study:
    """A `tune-local` study from its folder or its `study.json`."""
    file = path / "study.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text())
        rows = data["trials"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArgumentError(
            f"{file} is not a tune-local study ({type(exc).__name__}: {exc}).",
            "pass the --out folder of `smcluster tune-local` or its study.json.",
        ) from None
    trials = []
    for number, row in enumerate(rows, 1):
        try:
            trials.append(_local_trial(row))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArgumentError(
                f"{file} is damaged: its trial {number} of {len(rows)} cannot be read "
                f"({type(exc).__name__}: {exc}; each trial needs at least 'name' and 'status').",
                "rerun `smcluster tune-local` into a new --out folder, or restore study.json.",
            ) from None
    trials.sort(key=lambda t: (t.started, t.name))
    return Study(f"local: {file.parent.name}", trials)


def _local_trial(row: dict[str, Any]) -> Trial:
    report = Path(row["path"]) / "model" / "report.html" if row.get("path") else None
    objective = row.get("objective")
    return Trial(
        str(row["name"]),
        str(row["status"]),
        None if objective is None else float(objective),
        {str(k): str(v) for k, v in (row.get("hyperparameters") or {}).items()},
        _time(row.get("ended")),
        report.as_uri() if report is not None and report.is_absolute() else None,
        str(row.get("started") or ""),
    )


def sagemaker_study(client: Any, tuning_job: str) -> Study:
    """A SageMaker tuning job's training jobs (ListTrainingJobsForHyperParameterTuningJob)."""
    region = client.meta.region_name
    rows = tuning_job_rows(client, tuning_job)
    trials = [
        Trial(
            row["name"],
            row["status"],
            row["objective"],
            row["hyperparameters"],
            _time(row.get("ended")),
            f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}"
            f"#/jobs/{row['name']}",
        )
        for row in rows
    ]
    trials.sort(key=lambda t: (t.ended is None, t.ended or datetime.min, t.name))
    return Study(f"SageMaker: {tuning_job}", trials)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _best_so_far(values: list[float | None], maximize: bool) -> list[float | None]:
    best: float | None = None
    out: list[float | None] = []
    for value in values:
        if _finite(value):
            assert value is not None
            best = value if best is None or (value > best if maximize else value < best) else best
        out.append(best)
    return out


def figures(studies: list[Study]) -> list[tuple[str, Any]]:
    """(title, plotly figure) for the objective over time and against each hyperparameter."""
    check_plotly()
    import plotly.graph_objects as go
    from plotly.colors import qualitative
    from plotly.subplots import make_subplots

    maximize = objective_direction() == "Maximize"
    colours = qualitative.Plotly  # one colour per study in every subplot
    timeline = go.Figure()
    for study in studies:
        timed = all(t.ended is not None for t in study.trials)
        xs: list[Any] = [t.ended if timed else i for i, t in enumerate(study.trials, start=1)]
        values = [t.objective if _finite(t.objective) else None for t in study.trials]
        hover = [f"{t.name} ({t.status})" for t in study.trials]
        timeline.add_trace(go.Scatter(x=xs, y=values, mode="markers", name=study.label, text=hover))
        timeline.add_trace(
            go.Scatter(
                x=xs,
                y=_best_so_far(values, maximize),
                mode="lines",
                line={"shape": "hv"},
                name=f"{study.label}: best so far",
            )
        )
    timeline.update_layout(
        xaxis_title="training job end time (trial order where times are unknown)",
        yaxis_title=OBJECTIVE,
        height=420,
    )
    names = sorted({k for s in studies for t in s.trials for k in t.hyperparameters})
    charts: list[tuple[str, Any]] = [(f"{OBJECTIVE} over time", timeline)]
    if names:
        columns = min(3, len(names))
        rows = math.ceil(len(names) / columns)
        grid = make_subplots(rows=rows, cols=columns, subplot_titles=names)
        for index, name in enumerate(names):
            row, col = divmod(index, columns)
            for number, study in enumerate(studies):
                shown = [t for t in study.trials if name in t.hyperparameters]
                grid.add_trace(
                    go.Scatter(
                        x=[_axis_value(t.hyperparameters[name]) for t in shown],
                        y=[t.objective if _finite(t.objective) else None for t in shown],
                        mode="markers",
                        name=study.label,
                        legendgroup=study.label,
                        showlegend=index == 0,
                        marker={"color": colours[number % len(colours)]},
                        text=[t.name for t in shown],
                    ),
                    row=row + 1,
                    col=col + 1,
                )
        grid.update_layout(height=300 * rows, yaxis_title=OBJECTIVE)
        charts.append((f"{OBJECTIVE} against each tuned hyperparameter", grid))
    return charts


def _axis_value(text: str) -> Any:
    """Numbers as numbers (a numeric axis), everything else as a category."""
    try:
        return float(text)
    except ValueError:
        return text


def best_table(study: Study) -> str:
    ranked = rank(
        [
            {"name": t.name, "status": t.status, "objective": t.objective, "trial": t}
            for t in study.trials
        ]
    )[:BEST_SHOWN]
    names = sorted({k for row in ranked for k in row["trial"].hyperparameters})
    head = "".join(f"<th>{html.escape(n)}</th>" for n in ["rank", OBJECTIVE, "trial", *names])
    body = []
    for row in ranked:
        trial: Trial = row["trial"]
        value = "-" if not _finite(trial.objective) else f"{trial.objective:.6g}"
        label = html.escape(trial.name)
        link = f'<a href="{html.escape(trial.link)}">{label}</a>' if trial.link else label
        cells = [str(row["rank"]), value, link]
        cells += [html.escape(trial.hyperparameters.get(n, "-")) for n in names]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def write_report(studies: list[Study], out: Path) -> Path:
    """The page, written whole to `out` (checked first with `output.atomic.check_output`)."""
    import plotly.io as pio

    charts = figures(studies)
    parts = []
    for index, (title, figure) in enumerate(charts):
        embedded = pio.to_html(figure, include_plotlyjs=index == 0, full_html=False)
        parts.append(f"<h2>{html.escape(title)}</h2>{embedded}")
    summaries = []
    for study in studies:
        done = sum(_finite(t.objective) for t in study.trials)
        summaries.append(
            f"<h3>{html.escape(study.label)}: {len(study.trials)} trials, {done} with an "
            f"objective; best {BEST_SHOWN} by {OBJECTIVE} ({objective_direction()})</h3>"
            + best_table(study)
        )
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>smcluster tuning report</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body>"
        f"<h1>smcluster tuning report: {', '.join(html.escape(s.label) for s in studies)}</h1>"
        + "".join(parts)
        + "<h2>Best trials</h2>"
        + "".join(summaries)
        + "</body></html>"
    )
    write_whole(out, lambda path: path.write_text(page, encoding="utf-8"), "--out")
    return out
