"""Every anticipated bad input: exit code, failure file first line, no complete-looking model."""

from __future__ import annotations

import resource

import numpy as np
import pandas as pd
import pytest

from .jobtree import FAST, JobTree

CSV = {"ContentType": "text/csv", "TrainingInputMode": "File"}


def _customers(rows: int = 300) -> pd.DataFrame:
    from smcluster.synthetic import make_customers

    return make_customers(rows, seed=5)


def unknown_hyperparameter(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config({**FAST, "min_sample": "5"})


def invalid_value(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config({**FAST, "eps": "-0.5"})


def no_train_channel(tree: JobTree) -> None:
    tree.write_table(_customers(), name="training")
    tree.write_config(FAST, {"training": CSV})


def misspelt_extra_channel(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_table(_customers(), name="valdation")
    tree.write_config(FAST, {"train": CSV, "valdation": CSV})


def empty_channel(tree: JobTree) -> None:
    tree.channel("train")
    tree.write_config(FAST)


def header_only(tree: JobTree) -> None:
    (tree.channel("train") / "part-0.csv").write_text("customer_id,a,b,segment\n")
    tree.write_config(FAST)


def no_numeric_features(tree: JobTree) -> None:
    tree.write_table(pd.DataFrame({"customer_id": ["a", "b", "c"], "city": ["x", "y", "z"]}))
    tree.write_config({"id_column": "customer_id", "reducer": "pca"})


def text_in_numeric_column(tree: JobTree) -> None:
    frame = _customers()
    frame["monetary"] = frame["monetary"].astype(str)
    frame.loc[7, "monetary"] = "twelve"
    tree.write_table(frame)
    tree.write_config(FAST)


def nan_when_forbidden(tree: JobTree) -> None:
    tree.write_table(_customers())  # email_open_rate has missing values
    tree.write_config({**FAST, "missing": "error"})


def infinity_when_forbidden(tree: JobTree) -> None:
    frame = _customers().assign(email_open_rate=lambda f: f["email_open_rate"].fillna(0.5))
    frame.loc[3, "monetary"] = np.inf
    tree.write_table(frame, file="part-0.parquet")
    tree.write_config({**FAST, "missing": "error"}, {"train": {"TrainingInputMode": "File"}})


def too_few_rows(tree: JobTree) -> None:
    tree.write_table(_customers().head(6))
    tree.write_config({**FAST, "min_samples": "10"})


def pipe_mode(tree: JobTree) -> None:
    tree.channel("train")
    tree.write_config(FAST, {"train": {**CSV, "TrainingInputMode": "Pipe"}})


def broken_hyperparameters_json(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config(FAST)
    (tree.base / "input" / "config" / "hyperparameters.json").write_text("{not json")


def pca_wider_than_features(tree: JobTree) -> None:
    tree.write_table(_customers())
    tree.write_config({**FAST, "features": "recency_days,frequency", "n_components": "3"})


CASES = [
    (
        unknown_hyperparameter,
        2,
        "HyperparameterError: unknown hyperparameter 'min_sample'. Did you mean 'min_samples'?",
    ),
    (invalid_value, 2, "HyperparameterError: hyperparameter 'eps' = '-0.5' is invalid"),
    (no_train_channel, 2, "ChannelError: no 'train' channel was given (channels: 'training')"),
    (
        misspelt_extra_channel,
        2,
        "ChannelError: unknown channel 'valdation' (did you mean 'validation'?)",
    ),
    (empty_channel, 2, "DataError: channel 'train' at"),
    (header_only, 2, "DataError: channel 'train' has a header but no rows"),
    (no_numeric_features, 2, "DataError: the table has no numeric feature columns"),
    (
        text_in_numeric_column,
        2,
        "DataError: column 'monetary' looks numeric but holds text such as 'twelve'",
    ),
    (nan_when_forbidden, 2, "DataError:"),
    (infinity_when_forbidden, 2, "DataError: 1 missing or infinite feature values (monetary: 1)"),
    (too_few_rows, 2, "DataError: only 6 usable rows, too few for min_samples=10"),
    (pipe_mode, 2, "ChannelError: channel 'train' uses Pipe input mode"),
    (broken_hyperparameters_json, 2, "HyperparameterError:"),
    (pca_wider_than_features, 2, "HyperparameterError: n_components=3 exceeds"),
]


@pytest.mark.parametrize(
    ("arrange", "code", "first_line"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_bad_input_fails_clearly(job_tree: JobTree, arrange, code: int, first_line: str) -> None:
    arrange(job_tree)
    completed = job_tree.run("train")
    assert completed.returncode == code, completed.stderr[-2000:]
    reason = job_tree.failure_first_line()
    assert reason.startswith(first_line), reason
    assert "Fix:" in reason
    assert reason in completed.stderr  # the log says it too
    assert "Traceback" not in completed.stderr
    assert not job_tree.looks_complete()
    assert not (job_tree.model_dir / ".incomplete").exists()


def test_missing_values_message_names_columns_and_the_fix(job_tree: JobTree) -> None:
    nan_when_forbidden(job_tree)
    job_tree.run()
    reason = job_tree.failure_first_line()
    assert "(email_open_rate:" in reason
    assert "set missing to drop, median, mean or zero" in reason


def test_out_of_memory_is_reported_as_such(job_tree: JobTree) -> None:
    """A 1 GiB address-space limit makes DBSCAN's neighbourhoods at a huge eps fail to allocate."""
    rng = np.random.default_rng(0)
    job_tree.write_table(pd.DataFrame(rng.normal(size=(12_000, 3)), columns=["a", "b", "c"]))
    job_tree.write_config({"reducer": "none", "eps": "100", "min_samples": "5"})
    limit = 1024**3

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    completed = job_tree.run(env={"OPENBLAS_NUM_THREADS": "1"}, preexec_fn=cap_memory)
    assert completed.returncode == 3, completed.stderr[-2000:]
    assert job_tree.failure_first_line().startswith(
        "OutOfMemory: ran out of memory while running stage 'cluster_dbscan'"
    )
    assert not job_tree.looks_complete()


def test_unexpected_arguments_are_refused(job_tree: JobTree) -> None:
    job_tree.write_table(_customers())
    job_tree.write_config(FAST)
    completed = job_tree.run("--epochs", "3")
    assert completed.returncode == 2
    assert job_tree.failure_first_line().startswith("ArgumentError: `train` takes no arguments")


def test_stale_failure_and_manifest_from_an_earlier_run_are_cleared(job_tree: JobTree) -> None:
    unknown_hyperparameter(job_tree)
    assert job_tree.run().returncode == 2
    job_tree.write_config(FAST)
    completed = job_tree.run()
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert not job_tree.failure_file.exists()
    assert job_tree.looks_complete()
    job_tree.write_config({**FAST, "bogus": "1"})
    assert job_tree.run().returncode == 2
    assert not job_tree.looks_complete()  # the earlier run's manifest no longer vouches for it


def test_a_long_reason_shows_its_problem_and_fix_within_what_sagemaker_shows(
    job_tree: JobTree,
) -> None:
    """SageMaker shows the first 1,024 characters of the failure file: a reason listing 300
    names is shortened in its middle there, its start, end and Fix kept, and follows whole."""
    job_tree.write_table(_customers())
    wanted = [f"segment_score_{i:03d}" for i in range(300)]
    job_tree.write_config({**FAST, "features": ",".join(wanted)})
    completed = job_tree.run("train")
    assert completed.returncode == 2, completed.stderr[-2000:]
    first = job_tree.failure_first_line()
    assert len(first) <= 1024, len(first)
    assert first.startswith("DataError: feature columns not in the table: 'segment_score_000'")
    assert "characters left out" in first and "'segment_score_299'" in first
    assert "Fix: choose from: " in first and first.endswith(", email_open_rate.")
    whole = job_tree.failure_file.read_text().split("The whole reason:\n", 1)[1].splitlines()[0]
    assert len(whole) > 1024 and all(f"'{name}'" in whole for name in wanted)
    assert whole in completed.stderr  # the log has it whole too
    assert not job_tree.looks_complete()


def test_shown_reason_keeps_a_long_fix_and_leaves_short_reasons_alone() -> None:
    from smcluster.contract.failure import shown_reason

    short = "DataError: the table is empty. Fix: upload rows."
    assert shown_reason(short) == short
    long_fix = "DataError: 2 columns clash. Fix: " + "rename them; " * 200 + "then rerun."
    shown = shown_reason(long_fix)
    assert len(shown) <= 1024 and shown.startswith("DataError: 2 columns clash. Fix: rename")
    assert shown.endswith("then rerun.") and "characters left out" in shown
