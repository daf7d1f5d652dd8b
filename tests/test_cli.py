"""The `smcluster` tool and the README blocks generated from the schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smcluster import __version__
from smcluster.cli import COMMANDS, build_parser, command_module
from smcluster.contract.metrics import OBJECTIVE
from smcluster.contract.schema import SCHEMA

from .jobtree import TRAIN, JobTree, smcluster
from .metric_lines import scrape

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "pandas", "sklearn", "scipy", "botocore", "matplotlib", "mlflow", "umap")


def _smcluster(*args: str) -> str:
    return smcluster(*args, check=True).stdout


@pytest.mark.parametrize(
    ("module", "argv", "expected"),
    [
        ("smcluster.cli", ["--help"], "usage: smcluster"),
        ("smcluster.cli", ["--version"], f"smcluster {__version__}"),
        ("smcluster.cli", ["launch-tuning", "--help"], "--strategy"),
        *(("smcluster.cli", [name, "--help"], f"usage: smcluster {name}") for name in COMMANDS),
        ("smcluster.train", ["--help"], "usage: train"),
        ("smcluster.train", ["--version"], f"smcluster {__version__}"),
    ],
)
def test_help_and_version_load_no_heavy_library(module: str, argv: list[str], expected) -> None:
    """Cheap entry points: what `--help` prints comes from argparse and the schema alone."""
    code = (
        "import sys\n"
        f"from {module} import main\n"
        "try:\n"
        f"    code = main({argv!r})\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print('exit', code, 'heavy', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert expected in done.stdout, done.stdout + done.stderr
    assert done.stdout.strip().endswith("exit 0 heavy []") or "exit None heavy []" in done.stdout


def test_every_command_in_the_table_has_its_module_and_no_module_is_left_out() -> None:
    """The table is the CLI: a command module owns `add_arguments` and `run`; a module in the
    package that is neither a command nor a shared helper would be a command no one can run."""
    import importlib

    import smcluster.cli as cli

    for name in COMMANDS:
        module = importlib.import_module(command_module(name))
        assert callable(module.add_arguments) and callable(module.run), name
        assert module.__doc__ and f"`smcluster {name}`" in module.__doc__, name
    modules = {p.stem for p in Path(cli.__file__).parent.glob("*.py")} - {"__init__", "__main__"}
    helpers = {"arguments", "guard"}
    assert modules - helpers == {n.replace("-", "_") for n in COMMANDS}
    full = build_parser(None)  # every command's arguments, as documentation reads them
    args = full.parse_args(["demo-data", "--out", "x"])
    assert args.run is importlib.import_module(command_module("demo-data")).run
    assert args.rows == 20_000


def test_the_package_runs_as_a_module() -> None:
    """`python -m smcluster.cli` (what scripts/gpu_check_runs.py starts) is the same command."""
    done = subprocess.run(
        [sys.executable, "-m", "smcluster.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.strip() == f"smcluster {__version__}", done


def test_train_help_writes_nothing(tmp_path) -> None:
    done = subprocess.run(
        [str(TRAIN), "--help"],
        env={"SAGEMAKER_BASE_DIR": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "Exit codes:" in done.stdout
    assert list(tmp_path.iterdir()) == []  # no failure file, no model directory


def test_readme_generated_blocks_are_current() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_readme.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, "README.md is stale: run `make readme`"
    assert SCHEMA.markdown_table() in (ROOT / "README.md").read_text()


def test_hyperparameters_table_lists_every_name() -> None:
    rows = json.loads(_smcluster("hyperparameters", "--format", "json"))
    assert [r["name"] for r in rows] == SCHEMA.names()
    assert all(r["meaning"] and r["allowed"] for r in rows)
    assert _smcluster("hyperparameters") == SCHEMA.markdown_table()


def test_tuning_ranges_name_the_objective() -> None:
    payload = json.loads(_smcluster("tuning-ranges"))
    assert payload["objective_metric_name"] == OBJECTIVE
    assert payload["objective_type"] == "Maximize"
    assert payload["hyperparameter_ranges"]["min_samples"]["type"] == "Integer"


def test_demo_tree_runs_with_default_umap_and_predict(tmp_path) -> None:
    base = tmp_path / "opt_ml"
    _smcluster("demo-data", "--out", str(base), "--rows", "3000", "--files", "2")
    completed = JobTree(base).run()
    assert completed.returncode == 0, completed.stderr[-2000:]
    metrics = scrape(completed.stdout)
    assert metrics["train:n_clusters"] >= 2
    assert "train:ari" in metrics
    new_rows = tmp_path / "new.csv"
    from smcluster.synthetic import make_customers

    make_customers(50, seed=11).to_csv(new_rows, index=False)
    out = tmp_path / "assigned.csv"
    _smcluster(
        "predict", "--model", str(base / "model"), "--input", str(new_rows), "--output", str(out)
    )
    assigned = out.read_text().splitlines()
    assert assigned[0].endswith(",cluster") and len(assigned) == 51


def test_demo_validation_rows_have_their_own_ids(tmp_path) -> None:
    import pandas as pd

    from smcluster.tools.demo import write_job_tree

    base = write_job_tree(tmp_path / "opt_ml", rows=300, files=2, validation_rows=100)
    data = base / "input" / "data"
    train = pd.concat(pd.read_csv(p) for p in sorted((data / "train").glob("*.csv")))
    validation = pd.concat(pd.read_csv(p) for p in sorted((data / "validation").glob("*.csv")))
    assert len(validation) == 100
    assert not set(train["customer_id"]) & set(validation["customer_id"])
