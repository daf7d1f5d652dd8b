"""Launch SageMaker training and tuning jobs of this image (boto3; `sagemaker_requests` says why).

Hyperparameters and tuning ranges are checked against the schema here, before anything is sent,
so a typo fails on the laptop with the message the job would have written to its failure file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..contract.errors import HyperparameterError
from ..contract.hyperparameters import parse
from ..contract.schema import SCHEMA
from .sagemaker_requests import (
    TRAINING_NAME_MAX,
    TUNING_NAME_MAX,
    JobSpec,
    TuningSettings,
    as_grid,
    job_name,
    training_job_request,
    tuning_job_request,
)

__all__ = ["JobSpec", "TuningSettings", "launch_training", "launch_tuning", "tuning_ranges"]

SCALINGS = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")


def parse_assignments(items: Iterable[str], flag: str) -> dict[str, str]:
    """`["eps=auto", "reducer=pca"]` → `{"eps": "auto", "reducer": "pca"}`."""
    pairs: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise HyperparameterError(
                f"{flag} {item!r} is not of the form name=value.", f"write e.g. {flag} eps=auto."
            )
        pairs[name.strip()] = value.strip()
    return pairs


def static_hyperparameters(items: Iterable[str]) -> dict[str, str]:
    """The `--hp` values as the strings SageMaker passes on, validated with the job's own parser."""
    raw = parse_assignments(items, "--hp")
    parse(raw)  # raises the job's HyperparameterError for unknown names and bad values
    return raw


def _range_error(name: str, text: str, fix: str) -> HyperparameterError:
    return HyperparameterError(f"--range {name}={text} is invalid: {fix}", "")


def _values(name: str, text: str, param: Any) -> dict[str, Any]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise _range_error(name, text, "give one or more values: name=a,b,c.")
    for value in values:
        try:
            param.read(value)
        except ValueError as exc:
            raise _range_error(name, text, f"{value!r}: {exc}.") from None
    return {"type": "Categorical", "values": values}


def _override(name: str, base: Mapping[str, Any], text: str) -> dict[str, Any]:
    param = SCHEMA[name]
    if base["type"] == "Categorical":
        return _values(name, text, param)
    if "," in text:  # values for a numeric name: a categorical range (what Grid runs over)
        return _values(name, text, param)
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise _range_error(name, text, "give low:high or low:high:Scaling.")
    try:
        low, high = (param.read(part.strip()) for part in parts[:2])
    except ValueError as exc:
        raise _range_error(name, text, f"{exc}.") from None
    scaling = parts[2].strip() if len(parts) == 3 else base["scaling"]
    if scaling not in SCALINGS:
        raise _range_error(name, text, f"scaling must be one of {', '.join(SCALINGS)}.")
    if low >= high:
        raise _range_error(name, text, "low must be below high.")
    if scaling == "Logarithmic" and low <= 0:
        raise _range_error(name, text, "Logarithmic scaling needs low > 0.")
    return {"type": base["type"], "min": low, "max": high, "scaling": scaling}


def tuning_ranges(
    overrides: Iterable[str] = (), only: Iterable[str] | None = None, fixed: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """The schema's tuning ranges, narrowed by `--range` and `--tune`, less the fixed `--hp` names.

    A name SageMaker receives both as a static value and as a range fails the job, so a fixed
    value wins and its range is left out.
    """
    ranges = SCHEMA.tuning_ranges()
    fix = f"tunable names: {', '.join(ranges)} (see `smcluster tuning-ranges`)."
    selected = list(only) if only is not None else list(ranges)
    for name in selected:
        if name not in ranges:
            raise HyperparameterError(f"'{name}' has no tuning range in the schema.", fix)
    for name, text in parse_assignments(overrides, "--range").items():
        if name not in ranges:
            raise HyperparameterError(f"--range {name}: '{name}' is not a tunable name.", fix)
        ranges[name] = _override(name, ranges[name], text)
        if name not in selected:
            selected.append(name)
    return {name: ranges[name] for name in selected if name not in set(fixed)}


def client(region: str | None = None, profile: str | None = None) -> Any:
    """A boto3 SageMaker client on an explicit session (region and profile as given)."""
    import boto3

    return boto3.Session(region_name=region, profile_name=profile).client("sagemaker")


def launch_training(spec: JobSpec, sagemaker: Any, now: float | None = None) -> str:
    """Start one training job without waiting; returns its name."""
    name = job_name(spec.base_job_name, TRAINING_NAME_MAX, now)
    sagemaker.create_training_job(**training_job_request(spec, name))
    return name


def launch_tuning(
    spec: JobSpec,
    ranges: Mapping[str, Mapping[str, Any]],
    settings: TuningSettings,
    sagemaker: Any,
    now: float | None = None,
) -> str:
    """Start a hyperparameter tuning job over `ranges` without waiting; returns its name.
    With the Grid strategy, numeric ranges become a few values each (`as_grid`)."""
    if settings.strategy == "Grid":
        ranges = as_grid(ranges)
    name = job_name(spec.base_job_name, TUNING_NAME_MAX, now)
    sagemaker.create_hyper_parameter_tuning_job(**tuning_job_request(spec, ranges, settings, name))
    return name
