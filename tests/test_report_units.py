"""The report's parts on real arrays: sampling, PCA summary, profiles, and plots of odd shapes."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from smcluster.pipeline.prepare.pca import fit_pca
from smcluster.report import write_report
from smcluster.report.profiles import cluster_profiles
from smcluster.report.sampling import MIN_PER_CLUSTER, stratified_sample
from smcluster.synthetic import synthetic_result

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_stratified_sample_is_capped_keeps_every_cluster_and_proportions() -> None:
    rng = np.random.default_rng(1)
    labels = np.concatenate([np.full(90_000, 0), np.full(9_000, 1), np.full(990, 2), [3] * 10])
    labels = rng.permutation(labels)
    picked = stratified_sample(labels, 5_000, random_state=3)
    assert len(picked) <= 5_000 + 4 * MIN_PER_CLUSTER
    assert len(np.unique(picked)) == len(picked)
    counts = pd.Series(labels[picked]).value_counts()
    assert set(counts.index) == {0, 1, 2, 3}
    assert counts[3] == 10  # a tiny cluster is kept whole
    assert counts[0] / counts[1] == pytest.approx(10, rel=0.05)
    assert np.array_equal(picked, stratified_sample(labels, 5_000, random_state=3))
    assert np.array_equal(stratified_sample(labels[:100], 5_000, 0), np.arange(100))


def test_stratified_sample_stays_bounded_with_very_many_clusters() -> None:
    labels = np.repeat(np.arange(50_000), 4)  # 200,000 rows in 50,000 tiny clusters
    picked = stratified_sample(labels, 2_000, random_state=0)
    assert len(picked) == 2_000 == len(np.unique(picked))


def test_pca_summary_correlations_match_numpy() -> None:
    rng = np.random.default_rng(2)
    data = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))
    data = np.column_stack([data, np.full(500, 3.0)])  # a constant column
    summary = fit_pca(data, list("abcde"), np)
    assert summary is not None
    assert summary.cumulative[-1] == pytest.approx(1.0)
    assert np.all(np.diff(summary.explained) <= 1e-12)
    scores = (data - data.mean(axis=0)) @ summary.loadings
    for feature in range(4):
        expected = np.corrcoef(data[:, feature], scores[:, 0])[0, 1]
        assert summary.correlations[feature, 0] == pytest.approx(expected, abs=1e-9)
    assert np.all(summary.correlations[4] == 0.0)
    # The same components and variance shares as scikit-learn's PCA (up to each sign).
    from sklearn.decomposition import PCA

    reference = PCA().fit(data)
    np.testing.assert_allclose(summary.explained, reference.explained_variance_ratio_, atol=1e-9)
    for component in range(4):
        ours, theirs = summary.loadings[:, component], reference.components_[component]
        assert abs(float(ours @ theirs)) == pytest.approx(1.0, abs=1e-6)


def test_pca_reducer_is_the_projection_scikit_learn_gives() -> None:
    from sklearn.decomposition import PCA

    data = np.random.default_rng(7).normal(size=(800, 6)).astype(np.float32)
    data[:, 1] += 2 * data[:, 0]
    summary = fit_pca(data, list("abcdef"), np)
    assert summary is not None
    ours = summary.projection(3).transform(data)
    theirs = PCA(n_components=3).fit_transform(data)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(np.abs(ours), np.abs(theirs), atol=1e-3)


def test_profiles_are_exact_and_name_what_sets_a_cluster_apart() -> None:
    rng = np.random.default_rng(3)
    labels = np.array([0] * 300 + [1] * 200 + [-1] * 50)
    raw = rng.normal(10, 1, size=(550, 3))
    raw[labels == 0, 1] += 8  # cluster 0: high "spend"
    raw[labels == 1, 2] -= 6  # cluster 1: low "visits"
    raw[5, 0] = np.nan
    profiles = cluster_profiles(raw, labels, ["age", "spend", "visits"])
    table = profiles.table.set_index("cluster")
    assert list(table.index) == ["all", "0", "1", "noise"]
    assert table.loc[["0", "1", "noise"], "size"].sum() == table.loc["all", "size"] == 550
    assert table.loc["1", "share"] == pytest.approx(200 / 550)
    assert table.loc["0", "spend_mean"] == pytest.approx(raw[labels == 0, 1].mean())
    assert table.loc["noise", "visits_median"] == pytest.approx(np.median(raw[labels == -1, 2]))
    assert table.loc["0", "age_mean"] == pytest.approx(np.nanmean(raw[labels == 0, 0]))
    assert table.loc["0", "distinguishing_features"].startswith("spend:+")
    assert table.loc["1", "distinguishing_features"].startswith("visits:-")
    spend = raw[:, 1]
    expected = (spend[labels == 0].mean() - spend.mean()) / spend.std()
    assert profiles.zscores.loc["0", "spend"] == pytest.approx(expected)


@pytest.mark.parametrize(
    "shape",
    [
        {"clusters": 60},  # many clusters: grouped legend, capped heatmap
        {"clusters": 0},  # all noise
        {"clusters": 1, "noise_share": 0.0},  # one cluster, no noise
        {"dims": 1, "with_eps": False},  # 1-D strip plot; no k-distance (not DBSCAN)
        {"dims": 2, "features": 1},  # one feature: no correlation circle possible
    ],
    ids=["60-clusters", "all-noise", "one-cluster", "1d-no-eps", "one-feature"],
)
def test_odd_results_still_give_valid_pictures_and_report(tmp_path, shape) -> None:
    result = synthetic_result(3_000, hyperparameters={"plot_sample_size": "1000"}, **shape)
    written = write_report(result, tmp_path)
    pictures = [name for name in written if name.endswith(".png")]
    expected = 6 if result.eps is not None else 5
    assert len(pictures) == expected
    for name in pictures:
        content = (tmp_path / name).read_bytes()
        assert content.startswith(PNG_SIGNATURE)
        pixels = imread(tmp_path / name)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 400
    page = (tmp_path / "report.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(embedded) == len(pictures)
    assert all(base64.b64decode(data).startswith(PNG_SIGNATURE) for data in embedded)
    assert "http://" not in page and "https://" not in page


def test_plots_off_writes_profiles_and_a_report_without_images(tmp_path) -> None:
    result = synthetic_result(2_000, hyperparameters={"plots": "false"})
    written = write_report(result, tmp_path)
    assert written == ["cluster_profiles.csv", "report.html"]
    assert not (tmp_path / "plots").exists()
    page = (tmp_path / "report.html").read_text()
    assert "plots=false" in page and "<img" not in page


def test_pca_of_fewer_rows_than_columns_matches_the_covariance_and_stays_small() -> None:
    """200 rows x 10,000 columns never finished `prepare` (a 10,000 x 10,000 eigh); with fewer
    rows than columns the rows' SVD gives the covariance's own components."""
    import numpy as np

    from smcluster.pipeline.prepare import pca

    data = np.random.default_rng(3).normal(size=(30, 60)).astype(np.float32)
    summary = pca.fit_pca(data, [f"c{i}" for i in range(60)], np)
    assert summary is not None and summary.loadings.shape == (60, 29)
    _, covariance = pca._covariance(data, np)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1][:29]
    assert np.allclose(summary.explained, values[order] / np.trace(covariance), atol=1e-9)
    leading = vectors[:, order[:10]]
    leading *= np.sign(leading[np.abs(leading).argmax(axis=0), np.arange(10)])[None, :]
    assert np.allclose(summary.loadings[:, :10], leading, atol=1e-6)
