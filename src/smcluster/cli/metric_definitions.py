"""`smcluster metric-definitions`: the regexes a training or tuning job reads metrics with."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments."""


def run(args: argparse.Namespace) -> int:
    from ..output.metric_lines import metric_definitions

    print(json.dumps(metric_definitions(), indent=2))
    return 0
