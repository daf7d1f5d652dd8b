"""Adversarial inputs to the `smcluster` tool: `predict` and `tune-local` answer every anticipated
problem with a reason and a Fix on stderr and their exit code (2 bad input, 4 disk or
permission), never a traceback. The model is trained once by the real `train`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from .jobtree import BIN, FAST, JobTree, clean_env, smcluster


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> JobTree:
    from smcluster.synthetic import make_customers

    tree = JobTree(tmp_path_factory.mktemp("trained") / "opt_ml")
    tree.write_table(make_customers(600, seed=2))
    tree.write_config(FAST)
    run = tree.run()
    assert run.returncode == 0, run.failure
    return tree


def _rows() -> pd.DataFrame:
    from smcluster.synthetic import make_customers

    return make_customers(20, seed=9).drop(columns=["segment"])


def _copy_model(trained: JobTree, tmp_path: Path) -> Path:
    return Path(shutil.copytree(trained.model_dir, tmp_path / "model"))


def _input(tmp_path: Path, frame: pd.DataFrame | None = None, text: str | None = None) -> Path:
    path = tmp_path / "rows.csv"
    if text is not None:
        path.write_text(text)
    else:
        (frame if frame is not None else _rows()).to_csv(path, index=False)
    return path


# Each arrangement returns (--model, --input, --output or None) and the expected outcome.
Arrange = Callable[[JobTree, Path], tuple[str, str, str | None]]


def missing_model(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    return str(tmp / "nowhere" / "model"), str(_input(tmp)), None


def folder_not_a_model(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    (tmp / "empty").mkdir()
    return str(tmp / "empty"), str(_input(tmp)), None


def failed_run_folder(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    tree = JobTree(tmp / "opt_ml")
    tree.write_table(_rows())
    tree.write_config({**FAST, "eps": "-1"})
    assert tree.run().returncode == 2
    return str(tree.model_dir), str(_input(tmp)), None


def model_is_a_csv(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    rows = _input(tmp)
    return str(rows), str(rows), None


def truncated_bundle(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    model = _copy_model(trained, tmp)
    bundle = model / "model.joblib"
    bundle.write_bytes(bundle.read_bytes()[:100])
    return str(model), str(_input(tmp)), None


def damaged_manifest(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    model = _copy_model(trained, tmp)
    (model / "manifest.json").write_text('{"format_version": 2')
    return str(model), str(_input(tmp)), None


def missing_column(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    return str(trained.model_dir), str(_input(tmp, _rows().drop(columns=["monetary"]))), None


def header_only_input(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    header = ",".join(_rows().columns) + "\n"
    return str(trained.model_dir), str(_input(tmp, text=header)), None


def empty_input(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    return str(trained.model_dir), str(_input(tmp, text="")), None


def text_in_feature(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    rows = _rows().astype({"monetary": object})
    rows.loc[4, "monetary"] = "twelve"
    return str(trained.model_dir), str(_input(tmp, rows)), None


def input_with_cluster_column(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    rows = _rows().assign(cluster="mine")  # predict's own output column, already taken
    return str(trained.model_dir), str(_input(tmp, rows)), None


def input_not_a_table(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    path = tmp / "rows.json"
    path.write_text(_rows().to_json())
    return str(trained.model_dir), str(path), None


def headerless_input(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    text = _rows().to_csv(index=False).split("\n", 1)[1]
    return str(trained.model_dir), str(_input(tmp, text=text)), None


def cr_line_ends(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    path = tmp / "rows.csv"  # Excel for Mac's "CSV": lines end with CR alone
    path.write_text(_rows().to_csv(index=False, lineterminator="\r"), newline="")
    return str(trained.model_dir), str(path), None


def missing_input(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    return str(trained.model_dir), str(tmp / "absent.csv"), None


def unwritable_output(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    return str(trained.model_dir), str(_input(tmp)), str(tmp / "no" / "such" / "out.csv")


def dates_in_parquet(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    rows = _rows()
    rows["recency_days"] = pd.Timestamp("2024-01-01") - pd.to_timedelta(rows["recency_days"], "D")
    path = tmp / "rows.parquet"
    rows.to_parquet(path, index=False)
    return str(trained.model_dir), str(path), None


def input_is_a_folder(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    return str(trained.model_dir), str(tmp), None


def output_is_a_folder(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    (tmp / "out").mkdir()
    return str(trained.model_dir), str(_input(tmp)), str(tmp / "out")


def corrupt_archive(trained: JobTree, tmp: Path) -> tuple[str, str, str | None]:
    archive = tmp / "model.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 40)
    return str(archive), str(_input(tmp)), None


PREDICT_CASES: dict[str, tuple[Arrange, int, str, str]] = {
    "missing model": (missing_model, 2, "ModelError:", "nowhere/model: no such file or folder"),
    "folder not a model": (folder_not_a_model, 2, "ModelError:", "has no manifest.json"),
    "failed run's folder": (failed_run_folder, 2, "ModelError:", "output/failure says why"),
    "model is a csv": (model_is_a_csv, 2, "ModelError:", "is a file, not a model directory"),
    "truncated bundle": (truncated_bundle, 2, "ModelError:", "does not match its manifest"),
    "damaged manifest": (damaged_manifest, 2, "ModelError:", "is damaged"),
    "corrupt model.tar.gz": (corrupt_archive, 2, "ModelError:", "not a readable model.tar.gz"),
    "missing column": (missing_column, 2, "DataError:", "lack feature columns: monetary"),
    "header-only input": (header_only_input, 2, "DataError:", "has a header but no rows"),
    "empty input": (empty_input, 2, "DataError:", "is empty"),
    "text in a feature": (text_in_feature, 2, "DataError:", "'monetary' holds text"),
    "input has a cluster column": (
        input_with_cluster_column,
        2,
        "DataError:",
        "already has a column named 'cluster'",
    ),
    "input not a table": (input_not_a_table, 2, "DataError:", "is not a .csv"),
    "headerless input": (headerless_input, 2, "DataError:", "has no header row"),
    "missing input": (missing_input, 2, "DataError:", "absent.csv: no such file"),
    "CR line ends": (cr_line_ends, 2, "DataError:", "carriage return alone"),
    "unwritable output": (unwritable_output, 4, "PlatformError:", "cannot write --output"),
    "dates in a Parquet feature": (dates_in_parquet, 2, "DataError:", "holds dates or durations"),
    "input is a folder": (input_is_a_folder, 2, "DataError:", "is a directory (give a file)"),
    "output is a folder": (output_is_a_folder, 2, "ArgumentError:", "out is a folder"),
}


@pytest.mark.parametrize("name", list(PREDICT_CASES))
def test_predict_adversarial(trained: JobTree, tmp_path: Path, name: str) -> None:
    arrange, code, kind, fragment = PREDICT_CASES[name]
    model, rows, output = arrange(trained, tmp_path)
    args = ["predict", "--model", model, "--input", rows]
    done = smcluster(*args, *(["--output", output] if output else []))
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith(kind) and fragment in first and "Fix:" in first, first
    assert done.stdout == ""  # nothing half-written to standard output
    if output:
        assert not Path(output).exists() or Path(output).is_dir()
        assert not list(Path(output).parent.glob(".*.tmp"))


def test_predict_writes_every_row_with_its_cluster(trained: JobTree, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = smcluster(
        "predict",
        "--model",
        str(trained.model_dir),
        "--input",
        str(_input(tmp_path)),
        "--output",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assigned = pd.read_csv(out)
    assert len(assigned) == 20 and assigned["cluster"].ge(-1).all()


def test_predict_keeps_csv_ids_as_written(trained: JobTree, tmp_path: Path) -> None:
    # The model's id_column is customer_id: read as text, `00000123` keeps its zeros.
    rows = _rows().assign(customer_id=[f"{i:08d}" for i in range(20)])
    out = tmp_path / "out.csv"
    args = ["--model", str(trained.model_dir), "--input", str(_input(tmp_path, rows))]
    done = smcluster("predict", *args, "--output", str(out))
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(out, dtype={"customer_id": str})
    assert written["customer_id"].tolist() == rows["customer_id"].tolist()


def tune_local(tmp_path: Path, trials: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`smcluster tune-local` on tmp_path/data, writing to tmp_path/o."""
    data, out = str(tmp_path / "data"), str(tmp_path / "o")
    return smcluster(
        "tune-local", "--data", data, "--out", out, "--trials", trials, *extra, timeout=600
    )


def test_predict_reads_the_model_tar_gz_sagemaker_uploads(trained: JobTree, tmp_path: Path) -> None:
    import tarfile

    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as bundle:  # as SageMaker packs /opt/ml/model
        for path in sorted(trained.model_dir.iterdir()):
            bundle.add(path, arcname=path.name)
    out = tmp_path / "out.csv"
    args = ["--model", str(archive), "--input", str(_input(tmp_path)), "--output", str(out)]
    done = smcluster("predict", *args)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(out)) == 20


def test_predict_reads_a_model_tar_gz_repacked_with_its_folder_on_top(
    trained: JobTree, tmp_path: Path
) -> None:
    import tarfile

    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as bundle:  # tar czf model.tar.gz model/
        bundle.add(trained.model_dir, arcname="model")
    out = tmp_path / "out.csv"
    args = ["--model", str(archive), "--input", str(_input(tmp_path)), "--output", str(out)]
    done = smcluster("predict", *args)
    assert done.returncode == 0, done.stderr
    assert len(pd.read_csv(out)) == 20
    other = tmp_path / "other.tar.gz"
    with tarfile.open(other, "w:gz") as bundle:  # two folders: which one is the model?
        bundle.add(trained.model_dir, arcname="a")
        bundle.add(trained.model_dir, arcname="b")
    done = smcluster("predict", "--model", str(other), "--input", str(_input(tmp_path)))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"ModelError: --model {other} holds no manifest.json")
    assert "(it holds: a, b)" in done.stderr and "smcluster-model-" not in done.stderr


def test_tune_local_refuses_an_empty_data_folder_before_any_trial(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    done = tune_local(tmp_path, "3")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("DataError: channel 'train'") and "Fix:" in done.stderr
    assert not (tmp_path / "o").exists()


def test_tune_local_refuses_zero_trials(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    done = tune_local(tmp_path, "0")
    assert done.returncode == 2
    assert "--trials: 0 is below 1" in done.stderr and "Traceback" not in done.stderr


def test_tune_local_reports_a_failed_trial_in_one_line(tmp_path: Path) -> None:
    from smcluster.synthetic import make_customers

    (tmp_path / "data").mkdir()
    make_customers(300, seed=1).to_csv(tmp_path / "data" / "part.csv", index=False)
    done = tune_local(tmp_path, "1", "--hp", "id_column=no_such_column")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "defaults failed: DataError: id_column 'no_such_column'" in done.stderr
    study = json.loads((tmp_path / "o" / "study.json").read_text())
    assert all(trial["status"] == "Failed" for trial in study["trials"])


TOOL_CASES = {
    "demo-data into a file": (
        ["demo-data", "--out", "/etc/hostname/tree"],
        2,
        "ArgumentError:",
        "Not a directory",
    ),
    "runs without a store": (
        ["runs", "--store", "/nonexistent/store"],
        2,
        "TrackingError:",
        "no MLflow store",
    ),
    "tune-local on a file": (
        ["tune-local", "--data", "/etc/hostname", "--out", "/tmp/unused-out"],
        2,
        "ArgumentError:",
        "is not a folder",
    ),
    "tune-local with a name tuned and fixed": (
        [
            *("tune-local", "--data", "/etc", "--out", "/tmp/unused-out"),
            *("--tune", "min_samples", "--hp", "min_samples=5"),
        ],
        2,
        "HyperparameterError:",
        "min_samples: both tuned",
    ),
    "tune-local writing into its data": (
        ["tune-local", "--data", "/etc", "--out", "/etc/smcluster-study"],
        2,
        "ArgumentError:",
        "is inside --data /etc",
    ),
    "tune-local writing into its validation data": (
        [
            *("tune-local", "--data", "/etc", "--validation", "/usr"),
            *("--out", "/usr/smcluster-study"),
        ],
        2,
        "ArgumentError:",
        "is inside --validation /usr",
    ),
    "launch with a bad value": (
        [
            *("launch-training", "--image", "i", "--train", "s3://b/p"),
            *("--role", "arn:aws:iam::123456789012:role/R"),
            *("--output-path", "s3://b/o", "--hp", "eps=0"),
        ],
        2,
        "HyperparameterError:",
        "'eps' = '0' is invalid",
    ),
}


@pytest.mark.parametrize("name", list(TOOL_CASES))
def test_tool_commands_fail_with_a_reason(name: str) -> None:
    args, code, kind, fragment = TOOL_CASES[name]
    done = smcluster(*args)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith(kind) and fragment in first and "Fix:" in first, first


@pytest.mark.parametrize(
    ("setting", "fix"),
    [
        ({}, "Fix: set a region"),
        ({"AWS_DEFAULT_REGION": "eu-west-1"}, "Fix: configure credentials"),
        (
            {
                "AWS_DEFAULT_REGION": "eu-west-1",
                "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
                "AWS_SECRET_ACCESS_KEY": "example",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens: connection refused
                "AWS_MAX_ATTEMPTS": "2",
            },
            "Fix: the SageMaker endpoint could not be reached",
        ),
    ],
    ids=["no region", "no credentials", "endpoint unreachable"],
)
def test_an_aws_failure_says_what_to_do(tmp_path: Path, setting: dict[str, str], fix: str) -> None:
    # No AWS is reachable: each failure happens in botocore, before or at the first request.
    done = subprocess.run(
        [str(Path(sys.executable).parent / "smcluster"), "compare-jobs", "--tuning-job", "t"],
        capture_output=True,
        text=True,
        env={
            **clean_env(),
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "HOME": str(tmp_path),
            **setting,
        },
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("AWSError:") and fix in done.stderr, done.stderr


def _predict_into(trained: JobTree, tmp_path: Path, output: Path) -> subprocess.CompletedProcess:
    args = ["--model", str(trained.model_dir), "--input", str(_input(tmp_path))]
    return smcluster("predict", *args, "--output", str(output))


def test_predict_writes_through_a_symlink(trained: JobTree, tmp_path: Path) -> None:
    (tmp_path / "kept").mkdir()
    real = tmp_path / "kept" / "assigned.csv"
    real.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    done = _predict_into(trained, tmp_path, link)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and len(pd.read_csv(real)) == 20
    assert not [p.name for p in tmp_path.rglob(".*.tmp")]


def test_predict_feeds_a_fifo_instead_of_replacing_it(trained: JobTree, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    try:
        done = _predict_into(trained, tmp_path, fifo)
        assert done.returncode == 0, done.stderr
        received, _ = reader.communicate(timeout=60)  # a replaced FIFO leaves `cat` waiting
    finally:
        reader.kill()
    assert len(received.splitlines()) == 21 and fifo.is_fifo()


@pytest.mark.parametrize("name", ["out.parquet", "out.csv.gz", "out.csv"])
def test_predict_writes_the_format_its_output_name_says(
    trained: JobTree, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    done = _predict_into(trained, tmp_path, out)
    assert done.returncode == 0, done.stderr
    magic = {"out.parquet": b"PAR1", "out.csv.gz": b"\x1f\x8b", "out.csv": b"cust"}[name]
    assert out.read_bytes().startswith(magic)
    written = pd.read_parquet(out) if name.endswith(".parquet") else pd.read_csv(out)
    assert len(written) == 20 and "cluster" in written


@pytest.mark.parametrize("given", ["-", "/dev/stdin"])
def test_predict_reads_csv_on_standard_input(trained: JobTree, given: str) -> None:
    text = _rows().to_csv(index=False)
    done = smcluster("predict", "--model", str(trained.model_dir), "--input", given, stdin=text)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 21 and done.stdout.startswith("customer_id,")


def test_predict_names_empty_standard_input(trained: JobTree) -> None:
    done = smcluster("predict", "--model", str(trained.model_dir), "--input", "-", stdin="")
    assert done.returncode == 2
    assert done.stderr.startswith("DataError: --input - is empty.") and "Fix:" in done.stderr


def _into_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """`smcluster ARGS | head -0` without the race: the reader is gone before it starts."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [str(Path(sys.executable).parent / "smcluster"), *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
            timeout=300,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize("command", ["tuning-ranges", "predict", "hyperparameters"])
def test_a_closed_output_pipe_stops_quietly_with_sigpipe_status(
    trained: JobTree, tmp_path: Path, command: str
) -> None:
    args = [command]
    if command == "predict":
        args += ["--model", str(trained.model_dir), "--input", str(_input(tmp_path))]
    done = _into_closed_pipe(*args)
    assert done.returncode == 141, done.stderr  # 128 + SIGPIPE, as a shell reports it
    assert done.stderr == ""


def _study(tmp_path: Path) -> Path:
    """A tune-local study.json of two trials, enough for a page."""
    trials = [
        {"name": f"trial-00{i}", "status": "Completed", "objective": i / 10, "hyperparameters": {}}
        for i in (1, 2)
    ]
    (tmp_path / "study").mkdir()
    (tmp_path / "study" / "study.json").write_text(json.dumps({"trials": trials}))
    return tmp_path / "study"


def test_tuning_report_refuses_a_folder_as_out_up_front(tmp_path: Path) -> None:
    study = _study(tmp_path)
    done = smcluster("tuning-report", "--study", str(study), "--out", str(study))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"ArgumentError: --out {study} is a folder.")
    assert not [p.name for p in tmp_path.rglob(".*.tmp")]


def test_tuning_report_writes_through_a_symlink(tmp_path: Path) -> None:
    study = _study(tmp_path)
    real = tmp_path / "reports" / "page.html"
    real.parent.mkdir()
    link = tmp_path / "latest.html"
    link.symlink_to(real)
    done = smcluster("tuning-report", "--study", str(study), "--out", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and real.read_text().startswith("<!doctype html>")
    assert not [p.name for p in tmp_path.rglob(".*.tmp")]


DEMO_REFUSALS = {
    "--validation-rows -1": "argument --validation-rows: -1 is below 0",
    "--rows 0": "argument --rows: 0 is below 1",
    "--files -2": "argument --files: -2 is below 1",
    "--seed -1": "argument --seed: -1 is below 0",
    "--seed 4294967296": "argument --seed: 4294967296 is above 4294967295",
}


@pytest.mark.parametrize("option", list(DEMO_REFUSALS))
def test_demo_data_refuses_numbers_out_of_range(tmp_path: Path, option: str) -> None:
    done = smcluster("demo-data", "--out", str(tmp_path / "tree"), *option.split())
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert DEMO_REFUSALS[option] in done.stderr
    assert not (tmp_path / "tree").exists()


def test_tuning_report_without_plotly_says_so_before_reading_a_study(tmp_path: Path) -> None:
    """plotly made unimportable by a package of that name that raises ImportError."""
    blocker = tmp_path / "blocked" / "plotly"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('plotly blocked by the test')\n")
    command = ["tuning-report", "--study", str(tmp_path / "nowhere")]
    done = subprocess.run(
        [str(BIN / "smcluster"), *command, "--out", str(tmp_path / "page.html")],
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env({"PYTHONPATH": str(tmp_path / "blocked")}),
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("DependencyError: tuning-report needs plotly")
    assert "Fix: pip install" in done.stderr and not (tmp_path / "page.html").exists()


@pytest.mark.parametrize(
    "trial",
    [
        {"status": "Completed", "objective": 0.5},  # no name
        {"name": "trial-003", "status": "Completed", "objective": "high"},
        {"name": "trial-003", "status": "Completed", "hyperparameters": ["eps", "0.5"]},
        "trial-003",
    ],
)
def test_tuning_report_refuses_a_damaged_trial_with_a_reason(tmp_path: Path, trial: object) -> None:
    study = _study(tmp_path)
    data = json.loads((study / "study.json").read_text())
    (study / "study.json").write_text(json.dumps({"trials": [*data["trials"], trial]}))
    done = smcluster("tuning-report", "--study", str(study), "--out", str(tmp_path / "p.html"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert (
        done.stderr.startswith("ArgumentError: ") and "is damaged: its trial 3 of 3" in done.stderr
    )
    assert "Fix: rerun `smcluster tune-local`" in done.stderr
    assert not (tmp_path / "p.html").exists()


def test_predict_stopped_by_sigterm_says_so_and_leaves_no_file(
    trained: JobTree, tmp_path: Path
) -> None:
    """SIGTERM while predict waits for its input (a FIFO no one writes yet): exit 143, a
    reason, and neither the output nor its temporary file."""
    import os
    import signal
    import time

    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    out = tmp_path / "assigned.csv"
    command = ["predict", "--model", str(trained.model_dir), "--input", str(fifo)]
    process = subprocess.Popen(
        [str(BIN / "smcluster"), *command, "--output", str(out)],
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    time.sleep(3)  # imports done, blocked opening the FIFO
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert (
        stderr.startswith("Stopped: smcluster predict received SIGTERM")
        and "Traceback" not in stderr
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


@pytest.mark.parametrize(
    "raised",
    [MemoryError(), RuntimeError("can't start new thread"), OSError(12, "Cannot allocate memory")],
)
def test_a_tool_out_of_memory_is_exit_3_with_a_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], raised: BaseException
) -> None:
    """However memory running out surfaces in a command (in-process: the command raises it)."""
    from smcluster import cli
    from smcluster.tools import predict

    def out_of_memory(args: object) -> int:
        raise raised

    monkeypatch.setattr(predict, "predict", out_of_memory)
    code = cli.main(["predict", "--model", "m", "--input", "rows.csv"])
    err = capsys.readouterr().err
    assert code == 3 and err.startswith(
        "OutOfMemory: ran out of memory while running smcluster predict"
    )
    assert "Fix: " in err and "InternalError" not in err


def test_predict_never_writes_over_what_it_reads(trained: JobTree, tmp_path: Path) -> None:
    """--output into the model directory (its bundle would change under the next predict) or
    onto --input: refused before anything is read, both files as they were."""
    rows = trained.channel() / "part-0.csv"
    bundle = trained.model_dir / "model.joblib"
    kept = {rows: rows.read_bytes(), bundle: bundle.read_bytes()}
    for output, said in [
        (bundle, "would write into the model"),
        (trained.model_dir / "assigned.csv", "would write into the model"),
        (rows, "would overwrite the --input file"),
    ]:
        done = smcluster(
            "predict", "--model", str(trained.model_dir), "--input", str(rows), "--output",
            str(output),
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"ArgumentError: --output {output} {said}"), done.stderr
        assert "Fix: " in done.stderr
    assert all(path.read_bytes() == data for path, data in kept.items())
    assert not (trained.model_dir / "assigned.csv").exists()
