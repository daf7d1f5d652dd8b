"""What a reader sees in each plot: no text cut off at the figure's edge, no legend over an axis
label, colours that never pass for noise, titles that say what is drawn, data areas that keep
their room next to long feature names. Figures are caught as `plots._save` writes them."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.text import Text

from smcluster.report import plots, write_report
from smcluster.synthetic import synthetic_result

LONG = "customer_lifetime_value_rolling_{:02d}_month_average_excluding_returns_eur"


@pytest.fixture
def figures(monkeypatch) -> dict[str, Figure]:
    """Every figure the report draws, by file stem, kept after it is saved."""
    caught: dict[str, Figure] = {}
    save = plots._save

    def keep(figure: Figure, path: Path) -> Path:
        written = save(figure, path)  # savefig draws: every extent below is the saved one
        caught[path.stem] = figure
        return written

    monkeypatch.setattr(plots, "_save", keep)
    return caught


def drawn(figure: Figure) -> RendererBase:
    """The figure drawn again as savefig drew it (same size and dpi): extents are final."""
    canvas = FigureCanvasAgg(figure)
    renderer = canvas.get_renderer()
    figure.draw(renderer)
    return renderer


def _texts(figure: Figure) -> list[Text]:
    """Visible texts, less tick labels that are not drawn: those of ticks outside the view (and
    all of a 3-D axis's, which keeps stale ones for ticks out of sight, or of axes turned off)."""
    hidden = set()
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis, getattr(axes, "zaxis", axes.yaxis)):
            low, high = sorted(axis.get_view_interval())
            slack = (high - low) * 1e-6
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if (
                    axes.name == "3d"
                    or not axes.axison
                    or not low - slack <= tick.get_loc() <= high + slack
                ):
                    hidden.update({id(tick.label1), id(tick.label2)})
    return [
        t
        for t in figure.findobj(Text)
        if t.get_visible() and t.get_text().strip() and id(t) not in hidden
    ]


def clipped(figure: Figure) -> list[str]:
    """Texts that reach past the figure's edge (cut off in the PNG)."""
    renderer = drawn(figure)
    box = figure.bbox
    out = []
    for text in _texts(figure):
        extent = text.get_window_extent(renderer)
        if (
            extent.x0 < box.x0 - 1
            or extent.y0 < box.y0 - 1
            or extent.x1 > box.x1 + 1
            or extent.y1 > box.y1 + 1
        ):
            out.append(text.get_text()[:60])
    return out


def with_long_names(result, count: int):
    """The result with `count` features named like a warehouse's columns."""
    names = [LONG.format(i) for i in range(count)]
    assert result.pca is not None
    return dataclasses.replace(
        result, features=names, pca=dataclasses.replace(result.pca, features=names)
    )


@pytest.mark.parametrize(
    "shape",
    [{"clusters": 3}, {"clusters": 7}, {"clusters": 40}, {"clusters": 0}],
    ids=["3-clusters", "7-clusters", "40-clusters", "all-noise"],
)
def test_no_text_is_cut_off(tmp_path, figures, shape) -> None:
    write_report(synthetic_result(2_000, **shape), tmp_path)
    assert len(figures) == 6
    for name, figure in figures.items():
        assert clipped(figure) == [], name


def test_long_feature_names_leave_room_for_the_data(tmp_path, figures) -> None:
    result = with_long_names(synthetic_result(2_000, clusters=5, features=40), 40)
    write_report(result, tmp_path)
    for name in ("pca_correlation_circle", "cluster_profile_heatmap"):
        assert clipped(figures[name]) == [], name
    renderer = drawn(figures["cluster_profile_heatmap"])
    axes = figures["cluster_profile_heatmap"].axes[0]
    heatmap = axes.get_window_extent(renderer)
    cells = axes.images[0].get_array().shape
    assert sorted(cells) == [6, 40]  # 5 clusters and noise, 40 features
    assert heatmap.height / cells[0] >= 14 and heatmap.width / cells[1] >= 14, (heatmap, cells)
    assert heatmap.width + heatmap.height >= 900  # the data, not the names, fill the figure
    circle_figure = figures["pca_correlation_circle"]
    circle = circle_figure.axes[0].get_window_extent(drawn(circle_figure))
    assert min(circle.width, circle.height) >= 350, circle
    # Every feature drawn can be found in the legend by its full name.
    legend = figures["pca_correlation_circle"].axes[0].get_legend()
    entries = [t.get_text() for t in legend.get_texts()]
    full = {LONG.format(i) for i in range(40)}
    assert len(entries) == plots.MAX_ARROWS
    assert all(any(f"{name} (" in entry for name in full) for entry in entries), entries


def test_3d_scatter_legend_keeps_clear_of_the_axis_labels(tmp_path, figures) -> None:
    write_report(synthetic_result(3_000, clusters=40, dims=3), tmp_path)
    figure = figures["embedding_scatter"]
    renderer = drawn(figure)
    axes = figure.axes[0]
    legend = (axes.get_legend() or figure.legends[0]).get_window_extent(renderer)
    for label in (axes.xaxis.label, axes.yaxis.label, axes.zaxis.label):
        assert not legend.overlaps(label.get_window_extent(renderer)), label.get_text()


@pytest.mark.parametrize("clusters", [8, 16, 25])
def test_no_cluster_is_drawn_in_a_grey_that_reads_as_noise(clusters) -> None:
    sizes = plots.pd.Series({c: 1_000 - c for c in range(clusters)} | {-1: 50})
    palette = plots.Palette(sizes)
    greys = {
        g.key: g.color
        for g in palette.groups
        if g.key not in (plots.NOISE, plots.OTHER)
        and np.ptp(to_rgb(g.color)) < 0.08  # red, green and blue alike: a grey
    }
    assert greys == {}
    colours = [to_rgb(g.color) for g in palette.groups]
    assert len(set(colours)) == len(colours)


def test_scatter_title_says_which_axes_and_whether_sampled(tmp_path, figures) -> None:
    result = synthetic_result(1_500, dims=5)
    write_report(result, tmp_path)
    title = figures["embedding_scatter"].axes[0].get_title()
    assert "first 3 of 5" in title and "all 1,500 rows" in title and "sampled" not in title

    result = synthetic_result(3_000, dims=2, hyperparameters={"plot_sample_size": "500"})
    write_report(result, tmp_path)
    title = figures["embedding_scatter"].axes[0].get_title()
    assert "of 3,000 rows" in title and "sample" in title


def test_variance_plot_labels_do_not_run_together_with_many_components(tmp_path, figures):
    write_report(synthetic_result(2_000, features=40), tmp_path)
    figure = figures["pca_variance"]
    renderer = drawn(figure)
    axes = figure.axes[0]
    ticks = [t.get_window_extent(renderer) for t in axes.get_xticklabels() if t.get_text()]
    notes = [t.get_window_extent(renderer) for t in axes.texts]
    assert len(ticks) == plots.MAX_COMPONENTS
    assert f"first {plots.MAX_COMPONENTS} of 40 components" in axes.get_title()
    for boxes in (ticks, notes):
        for first, second in itertools.pairwise(boxes):
            assert not first.overlaps(second), (first, second)


def test_silhouette_title_says_sampled_only_when_rows_were_left_out(tmp_path, figures) -> None:
    write_report(synthetic_result(1_500, dims=2), tmp_path)
    title = figures["silhouette"].axes[0].get_title()
    assert "sampled" not in title and "rows, noise left out" in title

    small_sample = {"plot_sample_size": "500"}
    write_report(synthetic_result(3_000, dims=2, hyperparameters=small_sample), tmp_path)
    assert "sampled rows" in figures["silhouette"].axes[0].get_title()


def test_correlation_circle_labels_read_on_white(tmp_path, figures) -> None:
    write_report(synthetic_result(1_500, features=20), tmp_path)
    axes = figures["pca_correlation_circle"].axes[0]
    labels = [t for t in axes.texts if t.get_text().strip()]
    assert len(labels) >= 5
    for label in labels:  # tab20's pale shades (contrast 1.4) darkened in their own hue
        assert plots.contrast_on_white(label.get_color()) >= plots.TEXT_CONTRAST, label
