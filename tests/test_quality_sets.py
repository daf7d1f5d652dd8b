"""`make quality`'s sets: benchmark-suite files read from a folder, the few-valued customer
generators, and the cluster-count check."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import quality
import quality_sets


def _write(folder: Path, name: str, rows: str, labels: str) -> None:
    (folder / f"{name}.data.gz").write_bytes(gzip.compress(rows.encode()))
    (folder / f"{name}.labels0.gz").write_bytes(gzip.compress(labels.encode()))


def test_benchmark_files_are_a_family_with_label_0_as_noise(tmp_path, monkeypatch) -> None:
    _write(tmp_path, "wut_tiny", "0 0\n0 1\n5 5\n9 9.5\n", "1\n1\n2\n0\n")
    sets = quality_sets.select(None, tmp_path)
    tiny = [qs for qs in sets if qs.name == "wut_tiny"]
    assert len(tiny) == 1 and tiny[0].family == "benchmark"
    features, truth = tiny[0].load()
    assert list(features.columns) == ["x0", "x1"] and features.shape == (4, 2)
    assert features.iloc[3].tolist() == [9.0, 9.5]
    assert truth.tolist() == ["1", "1", "2", quality_sets.NOISE]
    assert [qs.name for qs in quality_sets.select("wut_tiny,iris", tmp_path)] == [
        "wut_tiny",
        "iris",
    ]
    monkeypatch.setenv(quality_sets.BENCHMARK_ENV, str(tmp_path))
    assert quality_sets.benchmark_folder(None) == tmp_path
    assert quality_sets.benchmark_folder("none") is None
    with pytest.raises(SystemExit, match="does not exist"):
        quality_sets.benchmark_folder(str(tmp_path / "missing"))
    _write(tmp_path, "broken", "1 2\n", "1\n")
    (tmp_path / "broken.labels0.gz").unlink()
    with pytest.raises(SystemExit, match="no labels file"):
        quality_sets.benchmark_sets(tmp_path)


def test_few_valued_customer_sets_hold_steps_segments_and_outliers() -> None:
    features, truth = quality_sets.REGISTRY["business_flags_s1"].load()
    assert set(np.unique(features["has_sso"])) == {0, 1}
    assert set(np.unique(features["plan_months"])) == {1, 12, 24, 36}
    assert len(set(truth) - {quality_sets.NOISE}) == 6
    assert (truth == quality_sets.NOISE).mean() == pytest.approx(0.03, abs=0.001)
    features, truth = quality_sets.REGISTRY["customers_counts_s2"].load()
    returns = features["returns"].dropna()
    assert returns.nunique() < 20 and (returns == 0).mean() > 0.5
    zero_share = features.assign(t=truth).groupby("t")["returns"].apply(lambda c: (c == 0).mean())
    assert zero_share.max() - zero_share.min() > 0.5  # the zero share differs by segment
    assert features.isna().any().any()


def test_a_count_is_off_beyond_twice_or_under_half_the_truth() -> None:
    assert not quality.count_off(4, 2) and quality.count_off(5, 2)
    assert not quality.count_off(3, 6) and quality.count_off(2, 6)
