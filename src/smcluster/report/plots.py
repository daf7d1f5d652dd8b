"""The run's pictures, drawn headless with matplotlib's object API (safe in a worker thread).

Each function takes already-sampled, host-side data and writes one PNG. Many clusters stay
readable: the largest `MAX_NAMED` get their own colour and legend entry, the rest share one.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, Patch
from matplotlib.textpath import TextToPath
from matplotlib.ticker import PercentFormatter

from ..pipeline.prepare.pca import PcaSummary
from .profiles import NOISE, cluster_name

DPI = 110
MAX_NAMED = 20  # clusters with their own colour and legend entry
MAX_HEATMAP_ROWS = 30
MAX_HEATMAP_COLUMNS = 40  # wider tables show the features that differ most between clusters
FEATURES_ACROSS = 15  # more features than this (and than clusters drawn) run down the heatmap
MAX_ARROWS = 25  # features drawn on the correlation circle
MAX_TIP_CHARS = 26  # longer feature names are numbered at the arrow tip, named in the legend
LABEL_SPACING = 0.12  # arrow tips closer than this to a labelled one are named in the legend only
MAX_COMPONENTS = 30  # components drawn on the variance plot
NOISE_COLOR = "#bdbdbd"
OTHER_COLOR = "#5f6b73"
TEXT_CONTRAST = 4.5  # WCAG AA for normal text: arrow labels drawn in their arrow's hue
OTHER = -99  # group key of the clusters that share one colour

Color = str | tuple[float, float, float] | tuple[float, float, float, float]
TEXT_TO_PATH = TextToPath()


def _colors(name: str) -> list[Color]:
    """The colours of a qualitative colormap (`tab10`, `tab20`) in order."""
    colormap = colormaps[name]
    return [colormap(i) for i in range(colormap.N)]


def contrast_on_white(color: Color) -> float:
    """WCAG 2 contrast ratio of `color` against white (1 to 21)."""
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(color)]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def readable_on_white(color: Color) -> Color:
    """The same hue, darkened until text in it reads on white (tab20's pale shades do not)."""
    rgb = to_rgb(color)
    hue, lightness, saturation = colorsys.rgb_to_hls(*rgb)
    while contrast_on_white(rgb) < TEXT_CONTRAST and lightness > 0:
        lightness = max(lightness - 0.02, 0.0)
        rgb = colorsys.hls_to_rgb(hue, lightness, saturation)
    return rgb


def _is_grey(color: Color) -> bool:
    red, green, blue = to_rgb(color)
    return max(red, green, blue) - min(red, green, blue) < 0.08


def cluster_colors(named: int) -> list[Color]:
    """`named` distinct colours for clusters, none of them grey: grey means noise (and the
    clusters that share one colour). tab10 less its grey up to 9 clusters; else tab20 less its
    two greys, and two darker hues of tab20b, 20 in all (`MAX_NAMED`)."""
    if named <= 9:
        return [c for c in _colors("tab10") if not _is_grey(c)]
    extra = [colormaps["tab20b"](0), colormaps["tab20b"](4)]  # indigo, olive
    return [c for c in _colors("tab20") if not _is_grey(c)] + extra


@dataclass(frozen=True)
class Group:
    key: int  # cluster id, NOISE or OTHER
    name: str  # legend text, with the row count
    color: Color
    rows: int  # rows in the whole split, not only in the sample


class Palette:
    """Colour and legend name per cluster; the largest clusters first, noise last."""

    def __init__(self, sizes: pd.Series) -> None:
        clusters = [int(c) for c in sizes.sort_values(ascending=False).index if c != NOISE]
        named, rest = clusters[:MAX_NAMED], clusters[MAX_NAMED:]
        colors = cluster_colors(len(named))
        self.groups: list[Group] = [
            Group(c, f"cluster {c} (n={int(sizes[c]):,})", colors[i % len(colors)], int(sizes[c]))
            for i, c in enumerate(named)
        ]
        self._key = {c: c for c in named} | {c: OTHER for c in rest}
        if rest:
            rows = int(sizes[rest].sum())
            name = f"{len(rest)} smaller clusters (n={rows:,})"
            self.groups.append(Group(OTHER, name, OTHER_COLOR, rows))
        if NOISE in sizes.index:
            rows = int(sizes[NOISE])
            self.groups.append(Group(NOISE, f"noise (n={rows:,})", NOISE_COLOR, rows))
        self._key[NOISE] = NOISE

    def group_of(self, labels: np.ndarray) -> np.ndarray:
        """Group key per row."""
        keys = pd.Series(labels).map(self._key).fillna(OTHER)
        return keys.to_numpy(dtype=np.int64)


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI)
    return path


def note_plot(path: Path, title: str, message: str) -> Path:
    """A readable placeholder when a plot has nothing to show (one cluster, all noise, ...)."""
    figure = _figure(7, 3)
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.text(0.5, 0.5, message, ha="center", va="center", wrap=True, fontsize=11)
    axes.set_axis_off()
    return _save(figure, path)


def _legend(axes: Axes, palette: Palette, present: set[int], title: str = "cluster") -> None:
    handles = [Patch(color=g.color, label=g.name) for g in palette.groups if g.key in present]
    style: dict[str, Any] = {"title": title, "fontsize": 8, "title_fontsize": 9, "frameon": False}
    figure = axes.get_figure()
    if axes.name == "3d" and isinstance(figure, Figure):
        # A 3-D axes' z label lies outside its box, where a legend beside the box would cover
        # it: the figure's legend, for which the constrained layout keeps room of its own.
        figure.legend(handles=handles, loc="outside right upper", **style)
    else:
        axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), **style)


def embedding_scatter(
    embedding: np.ndarray, labels: np.ndarray, palette: Palette, path: Path, total_rows: int
) -> Path:
    """3-D when the embedding has 3 or more axes, 2-D for 2, a strip plot for 1; noise in grey."""
    dims = embedding.shape[1]
    groups = palette.group_of(labels)
    present = set(np.unique(groups).tolist())
    size = float(np.clip(30_000 / max(len(labels), 1), 1.0, 12.0))
    figure = _figure(10, 7.5)
    if len(labels) < total_rows:
        subtitle = f"a sample of {len(labels):,} of {total_rows:,} rows, drawn per cluster"
    else:
        subtitle = f"all {total_rows:,} rows"
    axes: Any = figure.add_subplot(projection="3d") if dims >= 3 else figure.add_subplot()
    rank = {g.key: i for i, g in enumerate(palette.groups)}
    jitter = np.random.default_rng(0).uniform(-0.35, 0.35, len(labels))
    # Noise first, then the largest clusters, so small clusters are drawn on top.
    for group in sorted(palette.groups, key=lambda g: g.key != NOISE):
        rows = groups == group.key
        if not rows.any():
            continue
        points = embedding[rows]
        alpha = 0.35 if group.key == NOISE else 0.7
        if dims >= 3:
            axes.scatter(
                points[:, 0],
                points[:, 1],
                points[:, 2],
                depthshade=False,
                s=size,
                color=group.color,
                alpha=alpha,
            )
        else:
            y = points[:, 1] if dims == 2 else rank[group.key] + jitter[rows]
            axes.scatter(points[:, 0], y, linewidths=0, s=size, color=group.color, alpha=alpha)
    axes.set_xlabel("embedding axis 0")
    if dims >= 3:
        axes.set_ylabel("embedding axis 1")
        axes.set_zlabel("embedding axis 2")
    elif dims == 2:
        axes.set_ylabel("embedding axis 1")
    else:
        axes.set_ylabel("cluster")
        axes.set_yticks(range(len(palette.groups)), [g.name for g in palette.groups], fontsize=7)
        axes.invert_yaxis()
    shown = f"the first 3 of {dims} embedding axes" if dims > 3 else f"the {dims}-D embedding"
    axes.set_title(f"Clusters in {shown}\n{subtitle}")
    _legend(axes, palette, present)
    return _save(figure, path)


def pca_variance(summary: PcaSummary, path: Path) -> Path:
    shown = min(len(summary.explained), MAX_COMPONENTS)
    positions = np.arange(1, shown + 1)
    figure = _figure(8, 4.5)
    axes = figure.add_subplot()
    axes.bar(positions, summary.explained[:shown], color="#4c72b0", label="per component")
    axes.plot(
        positions, summary.cumulative[:shown], color="#dd8452", marker="o", label="cumulative"
    )
    step = -(-shown // 12)  # at most about 12 percentages, so that they never run together
    for x, y in zip(positions, summary.cumulative[:shown], strict=True):
        if (x - 1) % step == 0 or x == shown:
            axes.annotate(
                f"{y:.0%}",
                (x, y),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
            )
    axes.set_ylim(0, 1.08)
    axes.set_xticks(
        positions, [f"PC{i}" for i in positions], fontsize=8, rotation=90 if shown > 15 else 0
    )
    axes.set_xlabel("principal component of the prepared features")
    axes.set_ylabel("share of variance explained")
    total = len(summary.explained)
    axes.set_title(
        "PCA: variance explained per component and cumulative"
        + (f"\nthe first {shown} of {total} components" if total > shown else "")
    )
    axes.legend(loc="center right")
    axes.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def correlation_circle(summary: PcaSummary, path: Path) -> Path:
    """Variable factor map: each feature's correlation with the first two components."""
    title = "PCA variable factor map (correlation circle)"
    if summary.correlations.shape[1] < 2:
        return note_plot(path, title, "Needs at least two principal components (two features).")
    pairs = summary.correlations[:, :2]
    strength = np.hypot(pairs[:, 0], pairs[:, 1])
    order = np.argsort(-strength)[:MAX_ARROWS]
    colors = _colors("tab20")
    # Each arrow is numbered in the legend, which gives its full name; the tip shows the name
    # when it is short enough to sit there, else the number.
    entries = [
        f"{rank + 1}  {summary.features[index]} ({pairs[index, 0]:+.2f}, {pairs[index, 1]:+.2f})"
        for rank, index in enumerate(order)
    ]
    # Laid out by hand, in inches: the constrained layout, given an equal-aspect axes and a
    # legend beside it, cuts off the axis label or the legend at some figure widths.
    left, bottom, side, gap = 0.85, 0.7, 6.0, 0.75  # gap: the tip labels that overhang the box
    legend_width = max(_text_inches(e, 7) for e in entries) + 0.7  # and the line beside it
    width, height = left + side + gap + legend_width, bottom + side + 0.75
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_axes((left / width, bottom / height, side / width, side / height))
    axes.add_patch(Circle((0, 0), 1.0, fill=False, color="#444444", linewidth=1))
    axes.axhline(0, color="#999999", linewidth=0.6)
    axes.axvline(0, color="#999999", linewidth=0.6)
    labelled: list[tuple[float, float]] = []
    for rank, index in enumerate(order):
        x, y = pairs[index]
        color = colors[rank % len(colors)]
        axes.annotate(
            "",
            xy=(x, y),
            xytext=(0, 0),
            arrowprops={"arrowstyle": "->", "color": color, "linewidth": 1.4},
        )
        axes.plot([], [], color=color, label=entries[rank])
        if any(np.hypot(x - lx, y - ly) < LABEL_SPACING for lx, ly in labelled):
            continue  # too close to a stronger feature's label: the legend names it
        labelled.append((x, y))
        name = summary.features[index]
        axes.text(
            x * 1.07,
            y * 1.07,
            name if len(name) <= MAX_TIP_CHARS else str(rank + 1),
            fontsize=8,
            color=readable_on_white(color),
            ha="left" if x >= 0 else "right",
            va="bottom" if y >= 0 else "top",
        )
    axes.set_xlim(-1.15, 1.15)
    axes.set_ylim(-1.15, 1.15)
    axes.set_aspect("equal")
    axes.set_xlabel(f"PC1 ({summary.explained[0]:.1%} of variance): correlation")
    axes.set_ylabel(f"PC2 ({summary.explained[1]:.1%} of variance): correlation")
    hidden = len(summary.features) - len(order)
    axes.set_title(
        title + (f"\n{len(order)} strongest of {len(summary.features)} features" if hidden else "")
    )
    axes.legend(
        title="#  feature (PC1, PC2)",
        loc="upper left",
        bbox_to_anchor=(1 + gap / side, 1.0),
        borderaxespad=0,
        fontsize=7,
        frameon=False,
    )
    return _save(figure, path)


def silhouette(values: np.ndarray, labels: np.ndarray, palette: Palette, path: Path) -> Path:
    """Sorted silhouette of each cluster's sampled rows, beside mean silhouette and size."""
    groups = palette.group_of(labels)
    present = [g for g in palette.groups if g.key != NOISE and (groups == g.key).any()]
    average = float(values.mean())
    figure = _figure(12, max(5.0, 0.28 * len(present) + 2.5))
    knife, bars = figure.subplots(1, 2, width_ratios=[3, 2])
    bottom, centres = 0, []
    gap = max(len(values) // 100, 2)
    for group in present:
        sorted_values = np.sort(values[groups == group.key])
        knife.fill_betweenx(
            np.arange(bottom, bottom + len(sorted_values)),
            0,
            sorted_values,
            color=group.color,
            alpha=0.85,
            linewidth=0,
        )
        centres.append(bottom + len(sorted_values) / 2)
        bottom += len(sorted_values) + gap
    knife.axvline(average, color="#c0392b", linestyle="--", label=f"mean {average:.3f}")
    knife.set_xlim(min(-0.1, float(values.min()) - 0.05), 1.0)
    knife.set_yticks(centres, [g.name.split(" (")[0] for g in present], fontsize=7)
    knife.invert_yaxis()  # the same order as the bars beside it: largest cluster on top
    knife.set_xlabel("silhouette coefficient")
    drawn = "sampled rows" if len(values) < sum(g.rows for g in present) else "rows"
    knife.set_ylabel(f"{drawn} of each cluster, sorted by silhouette")
    knife.set_title(f"Silhouette per cluster ({len(values):,} {drawn}, noise left out)")
    knife.legend(loc="lower right", fontsize=8)

    means = [float(values[groups == g.key].mean()) for g in present]
    totals = [g.rows for g in present]
    positions = np.arange(len(present))
    bars.barh(positions, means, color=[g.color for g in present])
    for position, mean, total in zip(positions, means, totals, strict=True):
        # In a column of their own right of 1.0, where the mean line never runs through them.
        bars.text(1.03, position, f"{mean:.2f}  n={total:,}", va="center", fontsize=7)
    bars.axvline(average, color="#c0392b", linestyle="--", label="overall mean")
    bars.set_yticks(positions, [g.name.split(" (")[0] for g in present], fontsize=7)
    bars.invert_yaxis()
    bars.set_xlim(min(-0.1, min(means) - 0.05), 1.6)
    bars.set_xticks([t for t in (-0.5, 0.0, 0.5, 1.0) if t >= bars.get_xlim()[0]])
    bars.set_xlabel("mean silhouette")
    bars.set_title("Mean silhouette and rows per cluster")
    bars.legend(loc="lower right", fontsize=7)
    return _save(figure, path)


def k_distance(
    curve: np.ndarray, eps: float, method: str, k: int, knee: int | None, path: Path
) -> Path:
    figure = _figure(8, 4.5)
    axes = figure.add_subplot()
    # The x-axis is the share of rows (the curve is drawn from a sample; its size is a detail).
    positions = np.arange(len(curve)) / max(len(curve) - 1, 1)
    axes.plot(positions, curve, color="#4c72b0", label=f"distance to the {k}-th neighbour")
    axes.axhline(eps, color="#c0392b", linestyle="--", label=f"eps = {eps:.4g} ({method})")
    if knee is not None and 0 <= knee < len(curve):
        axes.plot(
            [positions[knee]],
            [curve[knee]],
            marker="o",
            markersize=9,
            color="#dd8452",
            linestyle="none",
            label=f"knee ({positions[knee]:.0%} of rows)",
        )
    axes.set_xlabel(f"share of rows, sorted by k-distance ({len(curve):,} sampled)")
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_ylabel(f"{k}-distance in the embedding")
    axes.set_title(f"k-distance curve (k = {k}) and the chosen eps")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    return _save(figure, path)


def _text_inches(text: str, fontsize: float) -> float:
    """How wide `text` runs at `fontsize`, measured with the font matplotlib draws it in."""
    width, _, _ = TEXT_TO_PATH.get_text_width_height_descent(
        text, FontProperties(size=fontsize), ismath=False
    )
    return float(width) / 72


def profile_heatmap(zscores: pd.DataFrame, sizes: pd.Series, path: Path) -> Path:
    """Per-cluster standardized means of the original features (largest clusters, noise last).

    Clusters run down the side and features across, unless there are more than
    `FEATURES_ACROSS` features and more features than clusters drawn: then features run down
    the side, so that the picture grows down the page rather than past its width. The figure
    makes room for the longest feature name either way.
    """
    clusters = [int(c) for c in sizes.index if c != NOISE][:MAX_HEATMAP_ROWS]
    if NOISE in sizes.index:
        clusters.append(NOISE)
    names = [cluster_name(c) for c in clusters]
    rows = zscores.loc[names]
    total_features = rows.shape[1]
    if total_features > MAX_HEATMAP_COLUMNS:  # a figure per column would be metres wide
        spread = rows.abs().max(axis=0).fillna(0.0)
        keep = spread.sort_values(ascending=False, kind="stable").index[:MAX_HEATMAP_COLUMNS]
        rows = rows[[c for c in rows.columns if c in set(keep)]]
    features = [str(c) for c in rows.columns]
    cluster_labels = [f"{n} (n={int(sizes[c]):,})" for n, c in zip(names, clusters, strict=True)]
    across = len(features) <= max(FEATURES_ACROSS, len(names))
    matrix = rows.to_numpy(dtype=float) if across else rows.to_numpy(dtype=float).T
    limit = float(np.clip(np.abs(matrix).max(initial=0.0), 1.0, 3.0))
    longest = max((_text_inches(f, 8) for f in features), default=0.0)
    if across:  # feature names below, turned 45 degrees
        width = max(7.0, 0.7 * matrix.shape[1] + 3)
        height = max(3.5, 0.35 * len(names) + 2) + 0.71 * longest
    else:  # feature names beside the rows, level
        width = max(7.0, 0.7 * matrix.shape[1] + 3.5 + longest)
        height = max(3.5, 0.3 * len(features) + 3)
    figure = _figure(width, height)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    if matrix.size <= 600:
        for (row, column), value in np.ndenumerate(matrix):
            axes.text(
                column,
                row,
                f"{value:.1f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if abs(value) > 0.6 * limit else "black",
            )
    if across:
        axes.set_xticks(range(len(features)), features, rotation=45, ha="right", fontsize=8)
        axes.set_yticks(range(len(names)), cluster_labels, fontsize=8)
        axes.set_xlabel("feature")
        axes.set_ylabel("cluster")
    else:
        axes.set_xticks(range(len(names)), cluster_labels, rotation=45, ha="right", fontsize=8)
        axes.set_yticks(range(len(features)), features, fontsize=8)
        axes.set_xlabel("cluster")
        axes.set_ylabel("feature")
    shown = sum(1 for c in sizes.index if c != NOISE)
    more = [f"{MAX_HEATMAP_ROWS} largest of {shown} clusters"] if shown > MAX_HEATMAP_ROWS else []
    if total_features > len(features):
        more.append(f"the {len(features)} of {total_features} features that differ most")
    axes.set_title(
        "Cluster profiles: standardized mean of each feature"
        + "".join(f"\n{line}" for line in more)
    )
    colorbar = figure.colorbar(image, ax=axes)
    capped = np.abs(matrix).max(initial=0.0) > limit
    colorbar.set_label(
        "(cluster mean − overall mean)\n/ overall std"
        + (f", colours capped at ±{limit:.0f}" if capped else "")
    )
    return _save(figure, path)
