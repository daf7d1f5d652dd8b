"""report.html: one self-contained page (images inlined as data URIs, no scripts, no network)."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ..contract.schema import SCHEMA
from ..pipeline.run import RunResult
from ..version import __version__
from .profiles import NOISE, Profiles

CAPTIONS = {
    "embedding_scatter": "Clusters in the embedding the clusterer saw (noise in grey).",
    "pca_variance": "Variance of the prepared features explained by each principal component.",
    "pca_correlation_circle": "Correlation of each feature with the first two components.",
    "silhouette": "Silhouette of each cluster's sampled rows, and mean silhouette per cluster.",
    "k_distance": "Sorted k-distances: the knee marks where density drops; eps is the cut.",
    "cluster_profile_heatmap": "How far each cluster's mean sits from the overall mean, in stds.",
}

STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem;
       margin-top: 2.2rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f4f6f8; } td:first-child, th:first-child { text-align: left; }
.wide { overflow-x: auto; } figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; } .note { color: #8a5a00; }
table.text td, table.text th { text-align: left; }
div.apart { text-align: left; min-width: 9rem; max-width: 16rem; overflow-wrap: anywhere; }
"""


def _escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


class _Markup(str):
    """A table cell already written as HTML (its text escaped), put in as it is."""


def _number(value: Any) -> str:
    if isinstance(value, _Markup):
        return str(value)
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.4g}"
    return _escape(value)


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...], css_class: str = "") -> str:
    head = "".join(f"<th>{_escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_number(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _summary(result: RunResult, profiles: Profiles) -> str:
    split = result.train
    sizes = profiles.sizes
    clusters = len(sizes.drop(NOISE, errors="ignore"))
    noise = int(sizes.get(NOISE, 0))
    eps = result.eps
    rows: list[tuple[Any, ...]] = [
        ("rows in the train channel", f"{len(split.ids):,}"),
        ("rows clustered", f"{int(split.kept.sum()):,}"),
        ("features", f"{len(result.features)}: {', '.join(result.features)}"),
        ("reducer", f"{result.hp.reducer} → {split.embedding.shape[1]} dimension(s)"),
        ("algorithm", result.hp.algorithm),
        ("clusters found", clusters),
        ("noise rows", f"{noise:,} ({noise / max(len(split.labels), 1):.1%})"),
        ("backend", ", ".join(f"{k} {v}" for k, v in result.backend_info.items())),
        (
            "time before writing artifacts",
            f"{sum(result.timings.values()):.1f} s: "
            + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in result.timings.items()),
        ),
        ("smcluster version", __version__),
    ]
    if eps is not None:
        rows.insert(5, ("eps", f"{eps.eps:.4g} ({eps.method}, k = {eps.k})"))
    if result.validation is not None:
        rows.insert(2, ("rows in the validation channel", f"{len(result.validation.ids):,}"))
    return _table(rows, ("item", "value"), "text")


def _metrics(result: RunResult) -> str:
    validation = result.validation.metrics if result.validation is not None else {}
    names = list(dict.fromkeys([*result.train.metrics, *validation]))
    rows = [(name, result.train.metrics.get(name, ""), validation.get(name, "")) for name in names]
    notes = [("train", note) for note in result.train.notes]
    if result.validation is not None:
        notes += [("validation", note) for note in result.validation.notes]
    said = "".join(
        f'<p class="note"><b>{channel}:</b> {_escape(note)}</p>' for channel, note in notes
    )
    return _table(rows, ("metric", "train", "validation")) + said


def _hyperparameters(result: RunResult) -> str:
    """Each value as run; where the run chose it (`auto`), the source says so."""
    given = result.hp.given
    requested = result.requested or result.hp
    rows = []
    for param in sorted(SCHEMA, key=lambda p: p.name):
        value = param.shown_text(getattr(result.hp, param.name)) or "(none)"
        asked = param.shown_text(getattr(requested, param.name)) or "(none)"
        source = "given" if param.name in given else "default"
        if asked != value:
            source += f" {asked}, chosen by the run"
        rows.append((param.name, value, source))
    return _table(rows, ("hyperparameter", "value", "source"), "text")


def _profiles(table: pd.DataFrame) -> str:
    """One column per cluster (all rows first, noise last), one row per feature: the median with
    the mean beside it. Transposed from cluster_profiles.csv, which is one row per cluster: a
    table as wide as twice the features does not read on a page."""
    columns = [str(c) for c in table["cluster"]]
    features = [c[: -len("_mean")] for c in table.columns if c.endswith("_mean")]
    rows: list[tuple[Any, ...]] = [
        ("rows", *(f"{int(v):,}" for v in table["size"])),
        ("share", *(f"{v:.1%}" for v in table["share"])),
    ]
    for feature in features:
        pairs = zip(table[f"{feature}_median"], table[f"{feature}_mean"], strict=True)
        rows.append((feature, *(f"{_number(m)} ({_number(a)})" for m, a in pairs)))
    if "distinguishing_features" in table:
        marks = table["distinguishing_features"].fillna("")
        # One feature a line, long names wrapped: a cell as wide as its longest name would
        # push the other clusters off the page.
        cells = (
            _Markup(
                f'<div class="apart">{"<br>".join(_escape(x) for x in str(v).split("; "))}</div>'
            )
            for v in marks
        )
        rows.append(("sets it apart", *cells))
    header = ("feature: median (mean)", *columns)
    return f'<div class="wide">{_table(rows, header)}</div>'


def _figure(name: str, path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    caption = _escape(CAPTIONS.get(name, name))
    return (
        f'<figure id="{_escape(name)}"><img src="data:image/png;base64,{data}" '
        f'alt="{_escape(name)}"><figcaption>{caption} '
        f"(<code>plots/{_escape(path.name)}</code>)</figcaption></figure>"
    )


def render_report(result: RunResult, profiles: Profiles, drawn: dict[str, Path]) -> str:
    if drawn:
        figures = "".join(_figure(name, path) for name, path in drawn.items())
    else:
        figures = (
            '<p class="note">Plots were turned off for this run (<code>plots=false</code>); '
            "rerun with <code>plots=true</code> to draw them.</p>"
        )
    sections = [
        ("Run summary", _summary(result, profiles)),
        ("Metrics", _metrics(result)),
        ("Plots", figures),
        (
            "Cluster profiles",
            "<p>Exact statistics over all clustered rows in original units "
            "(<code>cluster_profiles.csv</code>); distinguishing features are the largest "
            "standardized mean differences between a cluster and the rest.</p>"
            + _profiles(profiles.table),
        ),
        ("Resolved hyperparameters", _hyperparameters(result)),
    ]
    body = "".join(f"<h2>{_escape(title)}</h2>{content}" for title, content in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>smcluster report</title><style>{STYLE}</style></head><body>"
        f"<h1>smcluster run report</h1><p>{len(result.train.labels):,} rows clustered into "
        f"{len(profiles.sizes.drop(NOISE, errors='ignore'))} cluster(s).</p>{body}</body></html>\n"
    )
