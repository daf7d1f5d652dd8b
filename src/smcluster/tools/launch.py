"""Launch SageMaker training and tuning jobs of this image with the SageMaker Python SDK v2.

Hyperparameters and tuning ranges are checked against the schema here, before anything is sent,
so a typo fails on the laptop with the message the job would have written to its failure file.
The SDK (the `dev` extra, not the image) is imported only when a job is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..contract.errors import DependencyError, HyperparameterError
from ..contract.hyperparameters import parse
from ..contract.metrics import OBJECTIVE, objective_direction
from ..contract.schema import SCHEMA
from ..output.metric_lines import metric_definitions

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


def _override(name: str, base: Mapping[str, Any], text: str) -> dict[str, Any]:
    param = SCHEMA[name]
    if base["type"] == "Categorical":
        values = [v.strip() for v in text.split(",") if v.strip()]
        if not values:
            raise _range_error(name, text, "give one or more values: name=a,b,c.")
        for value in values:
            try:
                param.read(value)
            except ValueError as exc:
                raise _range_error(name, text, f"{value!r}: {exc}.") from None
        return {"type": "Categorical", "values": values}
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


def sdk_ranges(ranges: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The SDK's parameter objects for a `HyperparameterTuner`."""
    from sagemaker.tuner import CategoricalParameter, ContinuousParameter, IntegerParameter

    built: dict[str, Any] = {}
    for name, entry in ranges.items():
        if entry["type"] == "Categorical":
            built[name] = CategoricalParameter(list(entry["values"]))
        elif entry["type"] == "Integer":
            built[name] = IntegerParameter(
                int(entry["min"]), int(entry["max"]), scaling_type=entry["scaling"]
            )
        else:
            built[name] = ContinuousParameter(
                float(entry["min"]), float(entry["max"]), scaling_type=entry["scaling"]
            )
    return built


@dataclass(frozen=True)
class JobSpec:
    """What every training job of this image needs."""

    image_uri: str
    role: str
    instance_type: str
    output_path: str | None
    hyperparameters: Mapping[str, str]
    train: str
    validation: str | None = None
    base_job_name: str | None = None
    max_run: int = 24 * 60 * 60

    def inputs(self) -> dict[str, str]:
        channels = {"train": self.train}
        if self.validation:
            channels["validation"] = self.validation
        return channels


def session(region: str | None = None, profile: str | None = None) -> Any:
    """A `sagemaker.Session` on an explicit boto3 session (region and profile as given)."""
    import boto3

    try:
        import sagemaker
    except ImportError:
        raise DependencyError(
            "launching needs the SageMaker Python SDK v2, which is not installed.",
            'pip install "sagemaker==2.257.7" (it is in the dev extra).',
        ) from None
    boto_session = boto3.Session(region_name=region, profile_name=profile)
    return sagemaker.Session(boto_session=boto_session)


def estimator(spec: JobSpec, sagemaker_session: Any) -> Any:
    from sagemaker.estimator import Estimator

    return Estimator(
        image_uri=spec.image_uri,
        role=spec.role,
        instance_count=1,
        instance_type=spec.instance_type,
        output_path=spec.output_path,
        base_job_name=spec.base_job_name,
        max_run=spec.max_run,
        metric_definitions=metric_definitions(),
        hyperparameters=dict(spec.hyperparameters),
        sagemaker_session=sagemaker_session,
    )


def launch_training(spec: JobSpec, sagemaker_session: Any) -> str:
    """Start one training job without waiting; returns its name."""
    job = estimator(spec, sagemaker_session)
    job.fit(spec.inputs(), wait=False, logs=False)
    return str(job.latest_training_job.name)


def launch_tuning(
    spec: JobSpec,
    ranges: Mapping[str, Mapping[str, Any]],
    sagemaker_session: Any,
    *,
    max_jobs: int,
    max_parallel_jobs: int,
    strategy: str = "Bayesian",
) -> str:
    """Start a hyperparameter tuning job over `ranges` without waiting; returns its name."""
    from sagemaker.tuner import HyperparameterTuner

    if not ranges:
        raise HyperparameterError(
            "nothing to tune: every range was left out or fixed with --hp.",
            "drop a --hp or add a --range / --tune name.",
        )
    tuner = HyperparameterTuner(
        estimator(spec, sagemaker_session),
        objective_metric_name=OBJECTIVE,
        objective_type=objective_direction(),
        hyperparameter_ranges=sdk_ranges(ranges),
        metric_definitions=metric_definitions(),
        max_jobs=max_jobs,
        max_parallel_jobs=max_parallel_jobs,
        strategy=strategy,
        base_tuning_job_name=spec.base_job_name,
    )
    tuner.fit(spec.inputs(), wait=False)
    return str(tuner.latest_tuning_job.name)
