"""Credentials in a URI (`http://user:token@host/`) are never written in clear: a token is
planted in `mlflow_tracking_uri` and every byte the job wrote is searched for it."""

from __future__ import annotations

import pytest

from smcluster.contract.hyperparameters import parse
from smcluster.contract.secrets import redact

from .jobtree import FAST, JobTree

TOKEN = "s3cr3tT0ken4smcluster"
URI = f"http://alice:{TOKEN}@127.0.0.1:9/"  # the discard port: the connection is refused
NO_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}


def test_redact_masks_user_info_only() -> None:
    assert (
        redact(f"at {URI}api and https://bob@x.org")
        == "at http://***@127.0.0.1:9/api and https://***@x.org"
    )
    # A password with an unescaped '@': urllib and MLflow split at the last '@', so do we.
    assert redact("http://alice:p@ssW0rd@127.0.0.1:9/") == "http://***@127.0.0.1:9/"
    for kept in (
        "s3://bucket/key@v2",
        "sqlite:////opt/ml/mlflow.db",
        "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/x",
        "mailto:someone@example.com",
        "https://host/path?user=a@b",
    ):
        assert redact(kept) == kept


def test_written_hyperparameters_mask_the_token() -> None:
    hp = parse({"mlflow_tracking_uri": URI})
    assert hp.mlflow_tracking_uri == URI  # the tracker itself gets the real URI
    assert hp.to_json()["mlflow_tracking_uri"] == "http://***@127.0.0.1:9/"


def _everything_written(tree: JobTree, run_output: str) -> dict[str, str]:
    written = {"stdout+stderr": run_output}
    for path in tree.base.rglob("*"):
        if path.is_file() and "input" not in path.relative_to(tree.base).parts[:1]:
            written[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    return written


@pytest.mark.parametrize("required", ["false", "true"])
def test_a_token_in_the_tracking_uri_is_written_nowhere(job_tree: JobTree, required: str) -> None:
    from smcluster.synthetic import make_customers

    job_tree.write_table(make_customers(300, seed=3))
    job_tree.write_config(
        {**FAST, "tracker": "mlflow", "mlflow_tracking_uri": URI, "tracker_required": required}
    )
    run = job_tree.run(env=NO_RETRIES, timeout=300)
    if required == "true":  # the unreachable server fails the job: its reason names the URI
        assert (
            run.returncode != 0 and "http://***@127.0.0.1:9/" in job_tree.failure_file.read_text()
        )
    else:
        assert run.returncode == 0, run.failure
        assert (job_tree.model_dir / "report.html").exists()
        assert (
            "http://***@127.0.0.1:9/" in (job_tree.model_dir / "hyperparameters.json").read_text()
        )
    written = _everything_written(job_tree, run.stdout + run.stderr)
    assert len(written) >= 2  # the log and, at least, the failure file or the model
    leaked = [name for name, text in written.items() if TOKEN in text or "alice" in text]
    assert leaked == []
    assert "***@127.0.0.1:9" in run.stderr  # the log still says which server


def test_the_tools_never_print_the_token() -> None:
    """`smcluster runs` against a server given with credentials: the reason names it masked."""
    from .jobtree import smcluster

    done = smcluster("runs", "--store", URI, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "cannot be reached" in done.stderr and "http://***@127.0.0.1:9" in done.stderr
    assert TOKEN not in done.stdout + done.stderr and "alice" not in done.stdout + done.stderr


def test_a_hyperparameter_the_schema_marks_secret_is_masked_wherever_it_is_written() -> None:
    """No hyperparameter is a secret today; one declared so is masked by the one seam every
    writer uses (`Param.shown`: the log, the report, to_json for the model directory and the
    tracker), and the README table says so."""
    from dataclasses import dataclass

    from smcluster.contract.kinds import Text
    from smcluster.contract.schema import Hyperparameters, Schema, _param

    @dataclass(frozen=True)
    class WithToken(Hyperparameters):
        api_token: str = _param(Text("a token"), "", "A service token.", "tracking", secret=True)

    param = Schema.of(WithToken)["api_token"]
    assert (
        param.secret and param.shown("tok-3f9a") == "***" and param.shown_text("tok-3f9a") == "***"
    )
    assert param.shown("") == "" and param.shown_text("") == ""  # unset: nothing to hide
    row = next(r for r in Schema.of(WithToken).table_rows() if r["name"] == "api_token")
    assert "Secret: written as `***`" in row["meaning"]
    uri = Schema.of(WithToken)["mlflow_tracking_uri"]
    assert not uri.secret and uri.shown("https://u:tok@host/") == "https://***@host/"
