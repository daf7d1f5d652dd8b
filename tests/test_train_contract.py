"""The container contract beyond bad input: SIGTERM, SM_* overrides, validation, odd failures."""

from __future__ import annotations

import json
import signal
import time

import pandas as pd
import pytest

from smcluster.contract.errors import ModelError
from smcluster.output.bundle import load_model
from smcluster.synthetic import make_customers

from .jobtree import FAST, JobTree
from .metric_lines import scrape


@pytest.mark.serial  # asserts the job stops within 10 s of SIGTERM
def test_sigterm_stops_promptly_with_a_failure_file(tmp_path) -> None:
    """SIGTERM mid-UMAP (inside numba) ends the job within seconds, not at the next stage."""
    tree = JobTree(tmp_path / "opt_ml").write_demo({"reducer": "umap"}, rows=15_000, files=2)
    process = tree.start()
    log: list[str] = []
    deadline = time.monotonic() + 300
    for line in process.stdout:
        log.append(line)
        if "stage reduce_umap: started" in line:
            break
        assert time.monotonic() < deadline, "".join(log)
    time.sleep(2)  # well inside the UMAP fit
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)
    waited = time.monotonic() - sent
    assert process.returncode == 143, "".join(log) + rest
    assert waited < 10, f"took {waited:.1f}s to stop"
    reason = tree.failure_first_line()
    assert reason.startswith("Stopped: the job received SIGTERM during stage 'reduce_umap'")
    assert not tree.looks_complete()
    assert not (tree.model_dir / ".incomplete").exists()


def test_sm_channel_and_model_dir_overrides(tmp_path) -> None:
    tree = JobTree(tmp_path / "opt_ml")
    elsewhere = tmp_path / "mounted" / "train"
    elsewhere.mkdir(parents=True)
    make_customers(400, seed=2).to_csv(elsewhere / "data.csv", index=False)
    tree.write_config(FAST)
    model_dir = tmp_path / "model-out"
    completed = tree.run(env={"SM_CHANNEL_TRAIN": str(elsewhere), "SM_MODEL_DIR": str(model_dir)})
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert (model_dir / "manifest.json").exists()
    assert not (tree.base / "model" / "manifest.json").exists()


def test_without_inputdataconfig_the_data_folders_are_the_channels(job_tree: JobTree) -> None:
    job_tree.write_table(make_customers(400, seed=2))
    job_tree.write_config(FAST)
    (job_tree.base / "input" / "config" / "inputdataconfig.json").unlink()
    completed = job_tree.run()
    assert completed.returncode == 0, completed.stderr[-2000:]


def test_validation_channel_is_assigned_and_scored(job_tree: JobTree) -> None:
    job_tree.write_table(make_customers(800, seed=2))
    job_tree.write_table(make_customers(300, seed=9), name="validation")
    csv = {"ContentType": "text/csv", "TrainingInputMode": "FastFile"}
    job_tree.write_config(FAST, {"train": csv, "validation": csv})
    completed = job_tree.run()
    assert completed.returncode == 0, completed.stderr[-2000:]
    metrics = scrape(completed.stdout)
    assert {"validation:silhouette", "validation:ari", "validation:n_clusters"} <= set(metrics)
    labels = pd.read_parquet(job_tree.model_dir / "validation_labels.parquet")
    assert len(labels) == 300
    saved = json.loads((job_tree.model_dir / "metrics.json").read_text())
    assert saved["validation"]["ari"] == pytest.approx(metrics["validation:ari"], rel=1e-5)
    # The saved model assigns the same rows to the same clusters as the job did.
    model = load_model(job_tree.model_dir)
    again = model.predict(make_customers(300, seed=9))
    assert (again == labels["cluster"].to_numpy()).all()


def test_degenerate_result_completes_with_sentinels(job_tree: JobTree) -> None:
    job_tree.write_table(make_customers(400, seed=2))
    job_tree.write_config({**FAST, "eps": "1000"})  # everything in one cluster
    completed = job_tree.run()
    assert completed.returncode == 0, completed.stderr[-2000:]
    metrics = scrape(completed.stdout)
    assert metrics["train:n_clusters"] == 1
    assert metrics["train:silhouette"] == -1
    assert metrics["train:davies_bouldin"] == 1e6
    assert "only 1 cluster(s) besides noise" in completed.stderr
    assert "the rows form one cluster: try a smaller eps" in completed.stderr


def test_missing_drop_keeps_every_id_in_labels(job_tree: JobTree) -> None:
    frame = make_customers(400, seed=2)
    job_tree.write_table(frame)
    job_tree.write_config({**FAST, "missing": "drop"})
    completed = job_tree.run()
    assert completed.returncode == 0, completed.stderr[-2000:]
    labels = pd.read_parquet(job_tree.model_dir / "labels.parquet")
    assert labels["customer_id"].tolist() == frame["customer_id"].tolist()
    dropped = frame["email_open_rate"].isna().to_numpy()
    assert (labels["cluster"].to_numpy()[dropped] == -2).all()
    assert (labels["cluster"].to_numpy()[~dropped] >= -1).all()


def test_csv_ids_are_kept_exactly_as_written(job_tree: JobTree) -> None:
    """Numeric-looking ids stay text: leading zeros kept, 18-digit ids not rounded through
    float64 (a blank cell made the column float: 299 ids became 38), in both labels files."""
    train = make_customers(300, seed=2)
    train["customer_id"] = [str(10**17 + 2 * i + 1) for i in range(len(train))]
    train.loc[5, "customer_id"] = None  # written as an empty cell
    validation = make_customers(100, seed=9)
    validation["customer_id"] = [f"{i:08d}" for i in range(len(validation))]
    job_tree.write_table(train)
    job_tree.write_table(validation, name="validation")
    csv = {"ContentType": "text/csv"}
    job_tree.write_config(FAST, {"train": csv, "validation": csv})
    completed = job_tree.run()
    assert completed.returncode == 0, completed.stderr[-2000:]
    labels = pd.read_parquet(job_tree.model_dir / "labels.parquet")
    assert labels["customer_id"].tolist()[:5] == train["customer_id"].tolist()[:5]
    assert labels["customer_id"].isna().tolist() == train["customer_id"].isna().tolist()
    assert labels["customer_id"].dropna().tolist() == train["customer_id"].dropna().tolist()
    assigned = pd.read_parquet(job_tree.model_dir / "validation_labels.parquet")
    assert assigned["customer_id"].tolist() == validation["customer_id"].tolist()


def test_integer_ids_in_a_channel_of_parquet_and_csv_files_are_one_text_column(
    job_tree: JobTree,
) -> None:
    # Parquet's int64 ids beside CSV ids read as text made one column of ints and strings,
    # which labels.parquet could not store (an internal error after the whole run).
    frame = make_customers(400, seed=2)
    frame["customer_id"] = range(len(frame))
    job_tree.write_table(frame.iloc[:200], file="part-0.parquet")
    job_tree.write_table(frame.iloc[200:], file="part-1.csv")
    job_tree.write_config(FAST)
    completed = job_tree.run()
    assert completed.returncode == 0, completed.stderr[-2000:]
    labels = pd.read_parquet(job_tree.model_dir / "labels.parquet")
    assert sorted(labels["customer_id"].tolist()) == sorted(str(i) for i in range(400))


def test_unexpected_error_writes_failure_with_traceback(tmp_path, monkeypatch) -> None:
    from smcluster.contract.paths import JobPaths
    from smcluster.job import Job

    job = Job(JobPaths.from_env({"SAGEMAKER_BASE_DIR": str(tmp_path)}))

    def explode() -> int:
        raise KeyError("surprise")

    monkeypatch.setattr(job, "run", explode)
    job.run_guarded()
    text = (tmp_path / "output" / "failure").read_text()
    assert job.exit_code == 1
    assert text.startswith(
        "InternalError: unexpected KeyError during start-up (before the first stage)"
    )
    assert "Traceback (most recent call last)" in text


def test_load_model_refuses_an_incomplete_directory(tmp_path) -> None:
    (tmp_path / "model.joblib").write_bytes(b"partial")
    with pytest.raises(ModelError, match="did not complete"):
        load_model(tmp_path)
