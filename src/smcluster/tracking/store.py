"""Which MLflow store `smcluster runs` reads, checked before MLflow opens it.

MLflow creates (or migrates into) whatever SQLite file or folder it is pointed at, so a mistyped
path, a user's own database or a CSV named `x.db` would be changed by a command that only reads.
Local stores are therefore checked here, read-only, and refused unless they hold MLflow's schema.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote, urlparse

from .base import TrackingError
from .mlflow_backend import LOCAL_DB
from .select import LOCAL_STORE_DIR

# Tables every MLflow SQL store has (alembic_version: MLflow's schema migrations).
MLFLOW_TABLES = ("alembic_version", "experiments", "runs")
SQLITE = "sqlite:///"
STORE_FIX = (
    "pass the job's base directory, its output data directory, the mlflow.db file a job wrote, "
    "or a tracking URI such as http://host:5000."
)


def not_a_store(given: str, why: str) -> TrackingError:
    return TrackingError(
        f"{given} is not an MLflow store ({why}); it was left as it is.", STORE_FIX
    )


def sqlite_tables(path: Path, given: str) -> set[str]:
    """The table names of an SQLite file, opened read-only so that nothing is ever created."""
    if not path.is_file():
        raise not_a_store(given, f"there is no file {path}")
    try:
        with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.Error as exc:
        raise not_a_store(given, f"{path} is not an SQLite database: {exc}") from None
    return {str(row[0]) for row in rows}


def check_sqlite(path: Path, given: str) -> str:
    """The `sqlite:///` URI of an existing MLflow database; TrackingError for anything else."""
    missing = [t for t in MLFLOW_TABLES if t not in sqlite_tables(path, given)]
    if missing:
        raise not_a_store(given, f"{path} has no {', '.join(missing)} table of MLflow's schema")
    return f"{SQLITE}{path}"


def check_folder(path: Path, given: str) -> str:
    """A `file://` store: an existing folder of MLflow experiments (each with a meta.yaml)."""
    if not path.is_dir():
        raise not_a_store(given, f"there is no folder {path}")
    if not any((child / "meta.yaml").is_file() for child in path.iterdir() if child.is_dir()):
        raise not_a_store(given, f"{path} holds no experiment folder with a meta.yaml")
    return path.as_uri()


def store_uri(store: str) -> str:
    """A tracking server URI or ARN as given; a local store (an `sqlite:///` or `file://` URI, a
    path to `mlflow.db`, its folder, or a job's base/output folder) only once it is checked."""
    if store.startswith(SQLITE):
        # sqlite:///relative.db or sqlite:////absolute.db, as SQLAlchemy reads them
        path = Path(unquote(store[len(SQLITE) :].split("?", 1)[0]))
        return check_sqlite(path.expanduser().resolve(), store)
    if store.startswith("sqlite:"):
        raise not_a_store(store, "an in-memory or malformed SQLite URI; write sqlite:///PATH")
    if store.startswith("file:"):
        return check_folder(Path(unquote(urlparse(store).path)).resolve(), store)
    if "://" in store or store.startswith("arn:"):
        return store
    path = Path(store).expanduser().resolve()
    if path.is_file():
        return check_sqlite(path, store)
    candidates = [
        path / LOCAL_DB,
        path / LOCAL_STORE_DIR / LOCAL_DB,
        path / "data" / LOCAL_STORE_DIR / LOCAL_DB,
        path / "output" / "data" / LOCAL_STORE_DIR / LOCAL_DB,
    ]
    for candidate in candidates:
        if candidate.is_file():
            return check_sqlite(candidate, store)
    # Never let MLflow create an empty database where the user mistyped a path.
    raise TrackingError(
        f"no MLflow store at {path} (looked for {LOCAL_DB} there and under "
        f"{LOCAL_STORE_DIR}/, data/{LOCAL_STORE_DIR}/ and output/data/{LOCAL_STORE_DIR}/).",
        STORE_FIX,
    )
