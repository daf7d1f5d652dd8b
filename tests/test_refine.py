"""From density clusters to segments: outliers kept as noise, sparse splits, renumbering."""

from __future__ import annotations

import numpy as np

from smcluster.backends.cpu import CpuBackend
from smcluster.contract.hyperparameters import parse
from smcluster.pipeline.refine.outliers import fit_outliers
from smcluster.pipeline.refine.refine import refine, remap
from smcluster.pipeline.refine.sparse_splits import find_sparse_splits


def _segments_with_outliers(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    centres = np.random.default_rng(0).normal(0, 4, (4, 8))  # the same segments every time
    rng = np.random.default_rng(seed)
    rows = np.concatenate([c + rng.normal(0, 0.5, (400, 8)) for c in centres])
    outliers = rng.uniform(-10, 10, (60, 8))
    truth = np.concatenate([np.repeat(np.arange(4), 400), np.full(60, -1)])
    return np.concatenate([rows, outliers]).astype(np.float32), truth


def test_outliers_in_the_prepared_space_are_found_and_the_rule_labels_new_rows_alike() -> None:
    data, truth = _segments_with_outliers()
    rule, flagged = fit_outliers(CpuBackend(), data, threshold=3.0, random_state=0)
    assert rule is not None
    assert flagged[truth == -1].mean() > 0.95
    assert flagged[truth >= 0].mean() < 0.01
    new, new_truth = _segments_with_outliers(seed=1)
    on_backend = rule.flags(CpuBackend(), new)
    assert on_backend[new_truth == -1].mean() > 0.9 and on_backend[new_truth >= 0].mean() < 0.02
    off, none = fit_outliers(CpuBackend(), data, threshold=0.0, random_state=0)
    assert off is None and not none.any()


def _split_segment(seed: int = 0):
    """Two segments; the first cut in two along a mostly-zero `returns` column."""
    rng = np.random.default_rng(seed)
    n = 300
    spend = np.concatenate([rng.normal(100, 10, 2 * n), rng.normal(300, 10, n)])
    visits = np.concatenate([rng.normal(5, 1, 2 * n), rng.normal(20, 1, n)])
    returns = np.concatenate([np.zeros(n), rng.uniform(0.2, 0.4, n), np.zeros(n)])
    raw = np.column_stack([spend, visits, returns])
    prepared = (raw - raw.mean(axis=0)) / raw.std(axis=0)
    labels = np.repeat([0, 1, 2], n)  # what UMAP gives: segment A in two pieces
    return raw, prepared.astype(np.float32), labels


def test_clusters_split_only_by_a_sparse_feature_are_merged() -> None:
    raw, prepared, labels = _split_segment()
    report = find_sparse_splits(labels, raw, prepared, ["spend", "visits", "returns"], True)
    assert [(s.kept, s.merged, s.feature) for s in report.splits] == [(0, 1, "returns")]
    assert len(np.unique(report.labels)) == 2
    assert report.mapping() == {1: 0}


def test_a_segment_cut_three_ways_is_merged_in_a_chain_with_its_noise_left_alone() -> None:
    """Two sparse columns cut segment A into three clusters: two merges, the second possible
    only once the first is made (the merged cluster's sums, not its old ones), noise
    untouched. The shares in the report are the clusters' own, as masks over the rows give."""
    rng = np.random.default_rng(3)
    n = 250
    spend = np.concatenate(
        [rng.normal(100, 10, 3 * n), rng.normal(300, 10, n), rng.normal(0, 50, 40)]
    )
    visits = np.concatenate([rng.normal(5, 1, 3 * n), rng.normal(20, 1, n), rng.normal(10, 5, 40)])
    # A3 has returns like A1 and A2 together (half zero): it matches them only once merged.
    a3_returns = np.where(np.arange(n) % 2 == 0, 0.0, rng.uniform(0.2, 0.4, n))
    returns = np.concatenate([np.zeros(n), rng.uniform(0.2, 0.4, n), a3_returns, np.zeros(n + 40)])
    gifts = np.concatenate([np.zeros(2 * n), rng.uniform(1, 2, n), np.zeros(n + 40)])
    raw = np.column_stack([spend, visits, returns, gifts])
    prepared = ((raw - raw.mean(axis=0)) / raw.std(axis=0)).astype(np.float32)
    labels = np.concatenate([np.repeat([4, 7, 9, 2], n), np.full(40, -1)]).astype(np.int32)
    columns = ["spend", "visits", "returns", "gifts"]
    report = find_sparse_splits(labels, raw, prepared, columns, True)
    assert [(s.kept, s.merged, s.feature) for s in report.splits] == [
        (4, 7, "returns"),
        (4, 9, "gifts"),
    ]
    assert report.mapping() == {7: 4, 9: 4}
    segment_a = np.isin(labels, [4, 7, 9])
    assert len(np.unique(report.labels[segment_a])) == 1
    assert (report.labels[labels == 2] == 2).all() and (report.labels[labels == -1] == -1).all()
    first = report.splits[0]
    column = columns.index(first.feature)
    by_mask = tuple(
        float((raw[labels == c, column] == 0).mean()) for c in (first.kept, first.merged)
    )
    assert np.allclose(first.zero_shares, by_mask)


def test_merge_sparse_splits_false_keeps_them_and_warns(caplog) -> None:
    raw, prepared, labels = _split_segment()
    with caplog.at_level("WARNING"):
        report = find_sparse_splits(labels, raw, prepared, ["spend", "visits", "returns"], False)
    assert (report.labels == labels).all()
    assert "differ only in whether 'returns' is zero" in caplog.text


def test_refine_renumbers_by_size_and_dissolves_leftovers() -> None:
    raw, prepared, labels = _split_segment()
    labels = labels.copy()
    labels[600:605] = 7  # five rows of segment B: fewer than min_samples=8 once refined
    hp = parse({"min_samples": "8", "merge_sparse_splits": "true"})
    refined = refine(
        CpuBackend(), hp, labels, prepared, raw, ["spend", "visits", "returns"], reduced=False
    )
    sizes = np.bincount(refined.labels[refined.labels >= 0])
    assert list(sizes) == sorted(sizes, reverse=True) and len(sizes) == 2
    assert (refined.labels[600:605] == -1).all()
    assert refined.mapping[7] == -1 and refined.mapping[1] == refined.mapping[0] == 0


def test_kmeans_labels_are_left_as_they_are() -> None:
    raw, prepared, labels = _split_segment()
    refined = refine(
        CpuBackend(),
        parse({"algorithm": "kmeans"}),
        labels,
        prepared,
        raw,
        ["spend", "visits", "returns"],
        reduced=True,
    )
    assert (refined.labels == labels).all() and refined.outliers is None


def test_rows_left_beyond_every_radius_join_their_nearest_cluster_unless_far() -> None:
    """Two gaussians: the excess-of-mass clusters leave rows of their rims out; those rows join
    their group's cluster, two rows far from both stay noise, and the model labels the training
    rows again as refine did (host and backend paths)."""
    from smcluster.pipeline.cluster.cluster import choose_eps, cluster
    from smcluster.pipeline.model import ClusterModel
    from smcluster.pipeline.prepare.preparation import FeaturePrep
    from smcluster.pipeline.refine.refine import Border, remap

    rng = np.random.default_rng(3)
    groups = [rng.normal((0, 0), 1.0, (500, 2)), rng.normal((6, 0), 1.0, (500, 2))]
    data = np.concatenate([*groups, [[0.0, 40.0], [40.0, 0.0]]]).astype(np.float32)
    hp = parse({"random_state": "0"})
    clustering = cluster(CpuBackend(), hp, data, choose_eps(CpuBackend(), hp, data))
    left_out = np.asarray(clustering.labels) < 0
    assert left_out[:1000].sum() >= 10 and left_out[-2:].all()
    assert clustering.reference_radii is not None
    border = Border(
        clustering.reference_points,
        clustering.reference_labels,
        clustering.reference_radii,
        data,
    )
    hp = hp.replace(**clustering.info)
    refined = refine(
        CpuBackend(), hp, clustering.labels, data, data, ["x", "y"], reduced=False, border=border
    )
    labels = refined.labels
    assert (labels[-2:] == -1).all() and (labels[:1000] < 0).sum() <= 5  # the farthest tails
    assert refined.info["joined_rows"] == int(left_out.sum() - (labels < 0).sum()) >= 5
    first, second = (
        set(labels[part][labels[part] >= 0]) for part in (slice(500), slice(500, 1000))
    )
    assert len(first) == len(second) == 1 and first != second  # each group one cluster
    assert refined.join_beyond_radius and not refined.outliers_everywhere
    model = ClusterModel(
        prep=FeaturePrep(["x", "y"], "median", "none", "none"),
        reducer=None,
        core_points=clustering.reference_points,
        core_labels=remap(clustering.reference_labels, refined.mapping),
        eps=clustering.radius,
        radii=clustering.reference_radii,
        outliers=refined.outliers,
        join_beyond_radius=refined.join_beyond_radius,
        outliers_everywhere=refined.outliers_everywhere,
    )
    assert np.array_equal(model.label(data), labels)
    assert np.array_equal(np.asarray(model.assign_on(CpuBackend(), data, data)), labels)
    # without the outlier rule (outlier_threshold=0) rows beyond every radius stay noise
    off = refine(
        CpuBackend(),
        hp.replace(outlier_threshold=0.0),
        clustering.labels,
        data,
        data,
        ["x", "y"],
        reduced=False,
        border=border,
    )
    assert (off.labels[left_out] == -1).all() and not off.join_beyond_radius


def test_remap_gives_each_row_its_mapped_id_and_minus_one_for_ids_the_mapping_lacks() -> None:
    """The lookup table must agree with the mapping read row by row, noise and ids past the
    largest label included."""
    rng = np.random.default_rng(1)
    for _ in range(50):
        labels = rng.integers(-1, 30, int(rng.integers(0, 400)))
        keys = rng.choice(40, 15, replace=False)
        mapping = {int(k): int(v) for k, v in zip(keys, rng.integers(-1, 10, 15), strict=True)}
        if rng.random() < 0.3:
            mapping[-1] = 3
        by_row = np.array([mapping.get(int(c), -1) for c in labels], dtype=np.int32)
        got = remap(labels, mapping)
        assert got.dtype == np.int32 and (got == by_row).all()
