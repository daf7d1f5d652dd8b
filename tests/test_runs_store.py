"""`smcluster runs --store` only reads: a store that is not MLflow's is refused untouched, and an
unreachable tracking server is reported in seconds. Runs the CLI as a subprocess; no AWS."""

from __future__ import annotations

import socket
import sqlite3
import time
from pathlib import Path

import pytest

from smcluster.tracking.base import TrackingError
from smcluster.tracking.store import store_uri

from .jobtree import smcluster


def _user_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE mydata (a INTEGER)")
        db.execute("INSERT INTO mydata VALUES (1)")
    db.close()


def _mlflow_shaped(path: Path) -> None:
    """The tables MLflow's schema has (enough for the lookup, not for MLflow itself)."""
    with sqlite3.connect(path) as db:
        for table in ("alembic_version", "experiments", "runs"):
            db.execute(f"CREATE TABLE {table} (x INTEGER)")
    db.close()


EXISTING = {
    "a user's database": _user_database,
    "an empty .db file": lambda p: p.write_bytes(b""),
    "a text file named .db": lambda p: p.write_text("not a database\n"),
    "a CSV": lambda p: p.write_text("a,b\n1,2\n"),
}


@pytest.mark.parametrize("kind", list(EXISTING))
@pytest.mark.parametrize("as_uri", [False, True])
def test_a_file_that_is_not_an_mlflow_store_is_refused_untouched(
    tmp_path: Path, kind: str, as_uri: bool
) -> None:
    path = tmp_path / ("data.csv" if kind == "a CSV" else "x.db")
    EXISTING[kind](path)
    before = (path.read_bytes(), path.stat().st_mtime_ns)

    done = smcluster("runs", "--store", f"sqlite:///{path}" if as_uri else str(path))

    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("TrackingError:") and "is not an MLflow store" in done.stderr
    assert "Fix:" in done.stderr and "Traceback" not in done.stderr
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no journal, no mlruns


@pytest.mark.parametrize("uri", ["sqlite:///{}/fresh.db", "file://{}/fresh"])
def test_a_missing_store_is_not_created(tmp_path: Path, uri: str) -> None:
    done = smcluster("runs", "--store", uri.format(tmp_path))

    assert done.returncode == 2, done.stderr
    assert "is not an MLflow store" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_server_is_reported_in_seconds() -> None:
    with socket.socket() as probe:  # a local port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()

    done = smcluster("runs", "--store", f"http://127.0.0.1:{port}", timeout=120)

    assert done.returncode == 2, done.stderr
    assert "cannot be reached" in done.stderr and "Fix:" in done.stderr
    assert "InternalError" not in done.stderr
    assert time.monotonic() - started < 60


def test_a_real_store_is_listed(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    db = tmp_path / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    run = client.create_run(client.create_experiment("e"), run_name="first")
    client.log_metric(run.info.run_id, "train:dbcv", 0.5)

    done = smcluster("runs", "--store", str(tmp_path))

    assert done.returncode == 0, done.stderr
    assert "first" in done.stdout and "0.5" in done.stdout


def test_store_lookup_checks_the_schema_of_what_it_finds(tmp_path: Path) -> None:
    db = tmp_path / "output" / "data" / "mlflow" / "mlflow.db"
    db.parent.mkdir(parents=True)
    _mlflow_shaped(db)
    for given in (tmp_path, tmp_path / "output" / "data", db.parent, db):
        assert store_uri(str(given)) == f"sqlite:///{db.resolve()}"
    assert store_uri("http://mlflow:5000") == "http://mlflow:5000"
    with pytest.raises(TrackingError, match="no MLflow store"):
        store_uri(str(tmp_path / "typo"))
