"""`smcluster tuning-ranges`: the objective and the schema's suggested tuning ranges."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments."""


def run(args: argparse.Namespace) -> int:
    from ..contract.metrics import OBJECTIVE, objective_direction
    from ..contract.schema import SCHEMA

    payload = {
        "objective_metric_name": OBJECTIVE,
        "objective_type": objective_direction(),
        "hyperparameter_ranges": SCHEMA.tuning_ranges(),
    }
    print(json.dumps(payload, indent=2))
    return 0
