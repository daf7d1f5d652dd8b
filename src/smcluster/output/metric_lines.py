"""The metric lines `train` prints, and the regexes that read them back.

The line format and `metric_definitions()` come from the same constants, so a tuner's regex
always matches what `train` prints; `read_metrics` reads a log the way a tuning job does.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

from ..contract.metrics import METRICS, SPLITS, metric_name

log = logging.getLogger(__name__)

LINE_PREFIX = "smcluster-metric"
_NUMBER = r"[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"


def format_line(split: str, name: str, value: float) -> str:
    return f"{LINE_PREFIX} {metric_name(split, name)}={value:.6g}"


def metric_regex(split: str, name: str) -> str:
    # Prefix and names hold only letters, digits, '-', '_' and ':', none special in a regex.
    return f"{LINE_PREFIX} {metric_name(split, name)}=({_NUMBER})"


def metric_definitions() -> list[dict[str, str]]:
    """`metric_definitions` for an Estimator or HyperparameterTuner (SageMaker caps them at 40)."""
    return [
        {"Name": metric_name(split, spec.name), "Regex": metric_regex(split, spec.name)}
        for split in SPLITS
        for spec in METRICS
    ]


def read_metrics(log: str) -> dict[str, float]:
    """Every published metric found in `log`, the last value printed winning."""
    found: dict[str, float] = {}
    for definition in metric_definitions():
        matches = re.findall(definition["Regex"], log)
        if matches:
            found[definition["Name"]] = float(matches[-1])
    return found


def emit(split: str, values: dict[str, float], stream: TextIO | None = None) -> list[str]:
    """Print one metric line per value, in registry order; returns the lines printed."""
    stream = stream or sys.stdout
    lines = [
        format_line(split, spec.name, values[spec.name]) for spec in METRICS if spec.name in values
    ]
    try:
        for line in lines:
            print(line, file=stream, flush=True)
    except (OSError, ValueError, AttributeError) as exc:  # closed, a broken pipe, a full device
        log.warning(
            "standard output refused the metric lines (%s: %s); they are in metrics.json and "
            "the job goes on. Fix: give `train` a writable standard output (SageMaker always "
            "does) to have the metric_definitions see them.",
            type(exc).__name__,
            exc,
        )
    return lines
