"""The CreateTrainingJob and CreateHyperParameterTuningJob requests for this image, built from the
schema and sent with boto3.

Why boto3 and not the SageMaker Python SDK: both SDK generations (v2's `Estimator` and
`HyperparameterTuner`, v3's `ModelTrainer` and `sagemaker.train.tuner.HyperparameterTuner`) end in
these two API calls. Building them here once gives every tuning setting the API has (all four
strategies, warm start, early stopping, completion criteria, managed spot with a checkpoint
location) for users of either SDK or of none, checked against botocore's service model in the
tests, without a launcher per SDK generation. SDK users who build jobs themselves take the same
`metric_definitions()` and ranges (README: "Launching with the SDK").

Every problem with the settings is found before anything is sent, all at once.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..contract.errors import ArgumentError, SmclusterError
from ..contract.metrics import OBJECTIVE, objective_direction
from ..output.metric_lines import metric_definitions

STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")
WARM_START_TYPES = ("IdenticalDataAndAlgorithm", "TransferLearning")
EARLY_STOPPING = ("Off", "Auto")
CHECKPOINT_DIR = "/opt/ml/checkpoints"
TRAINING_NAME_MAX = 63
TUNING_NAME_MAX = 32
MAX_PARENTS = 5
MAX_GRID_JOBS = 500  # a guard against a grid nobody meant to pay for; --max-jobs raises it
GRID_POINTS = 3  # values per numeric range when a grid is generated from the schema
NOTHING_TO_TUNE = "nothing to tune: every range was left out or fixed with --hp"
MAX_RUN_LIMIT = 28 * 24 * 60 * 60  # SageMaker's MaxRuntimeInSeconds maximum (28 days)
# Shapes from the SageMaker API reference (RoleArn, TrainingJobName; ml.* instance types).
ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
DISTRIBUTIONS = ("FullyReplicated", "ShardedByS3Key")
INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")


def job_name(base: str | None, limit: int, now: float | None = None) -> str:
    """`base-YYMMDD-HHMMSS` within SageMaker's name limit (32 for tuning jobs, 63 for training)."""
    stamp = time.strftime("%y%m%d-%H%M%S", time.gmtime(now))
    prefix = (base or "smcluster")[: limit - len(stamp) - 1].rstrip("-")
    return f"{prefix}-{stamp}"


@dataclass(frozen=True)
class JobSpec:
    """What every training job of this image needs."""

    image_uri: str
    role: str
    instance_type: str
    output_path: str
    hyperparameters: Mapping[str, str]
    train: str
    validation: str | None = None
    base_job_name: str | None = None
    max_run: int = 24 * 60 * 60
    volume_size_gb: int = 50
    spot: bool = False
    max_wait: int | None = None  # spot: seconds to wait for capacity and run, >= max_run
    checkpoint_s3_uri: str | None = None  # spot: default <output_path>/<job name>/checkpoints
    tags: Mapping[str, str] = field(default_factory=dict)
    # Several hosts share the train channel's rows (README, Several hosts and GPUs); the
    # validation channel is always read whole by the first host.
    instance_count: int = 1
    train_distribution: str = "FullyReplicated"  # or ShardedByS3Key: each host its own files

    def problems(self) -> list[str]:
        found = []
        if not ROLE_ARN.match(self.role):
            found.append(
                f"--role {self.role!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
            )
        if not INSTANCE_TYPE.match(self.instance_type):
            found.append(
                f"--instance-type {self.instance_type!r} is not a SageMaker instance type "
                "(ml.FAMILY.SIZE, e.g. ml.g5.2xlarge)"
            )
        if self.base_job_name is not None and not JOB_NAME.match(self.base_job_name):
            found.append(
                f"--base-job-name {self.base_job_name!r}: letters, digits and hyphens, starting "
                "with a letter or digit"
            )
        if self.train_distribution not in DISTRIBUTIONS:
            found.append(
                f"--train-distribution {self.train_distribution!r} is not one of "
                f"{', '.join(DISTRIBUTIONS)}"
            )
        if self.instance_count < 1:
            found.append(f"--instance-count {self.instance_count} is below 1")
        if not 1 <= self.max_run <= MAX_RUN_LIMIT:
            found.append(f"--max-run {self.max_run} is outside 1..{MAX_RUN_LIMIT} (28 days)")
        if not self.output_path.startswith("s3://"):
            found.append(f"--output-path {self.output_path!r} is not an s3:// URI")
        for flag, uri in (("--train", self.train), ("--validation", self.validation)):
            if uri is not None and not uri.startswith("s3://"):
                found.append(f"{flag} {uri!r} is not an s3:// URI")
        if self.max_wait is not None and not self.spot:
            found.append("--max-wait applies to spot training only: add --spot")
        if self.checkpoint_s3_uri is not None and not self.checkpoint_s3_uri.startswith("s3://"):
            found.append(f"--checkpoint-s3-uri {self.checkpoint_s3_uri!r} is not an s3:// URI")
        if self.spot and self.max_wait is not None and self.max_wait < self.max_run:
            found.append(
                f"--max-wait {self.max_wait} is below --max-run {self.max_run}: SageMaker needs "
                "max_wait >= max_run (the wait for spot capacity counts against it)"
            )
        return found

    def tag_list(self) -> dict[str, Any]:
        """`{"Tags": [...]}` when the job has tags, else nothing."""
        tags = [{"Key": k, "Value": v} for k, v in self.tags.items()]
        return {"Tags": tags} if tags else {}

    def channels(self) -> list[dict[str, Any]]:
        uris = {"train": self.train, **({"validation": self.validation} if self.validation else {})}
        return [
            {
                "ChannelName": name,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": uri,
                        "S3DataDistributionType": (
                            self.train_distribution if name == "train" else "FullyReplicated"
                        ),
                    }
                },
                "InputMode": "File",
            }
            for name, uri in uris.items()
        ]

    def definition(self, name: str) -> dict[str, Any]:
        """The fields a training job and a tuning job's training-job definition share."""
        stopping: dict[str, Any] = {"MaxRuntimeInSeconds": self.max_run}
        request: dict[str, Any] = {
            "AlgorithmSpecification": {
                "TrainingImage": self.image_uri,
                "TrainingInputMode": "File",
                "MetricDefinitions": metric_definitions(),
            },
            "RoleArn": self.role,
            "InputDataConfig": self.channels(),
            "OutputDataConfig": {"S3OutputPath": self.output_path},
            "ResourceConfig": {
                "InstanceType": self.instance_type,
                "InstanceCount": self.instance_count,
                "VolumeSizeInGB": self.volume_size_gb,
            },
            "StoppingCondition": stopping,
        }
        if self.spot:
            # Spot: wait up to max_wait for capacity; on an interruption SageMaker restarts the
            # job with /opt/ml/checkpoints restored from this S3 location.
            stopping["MaxWaitTimeInSeconds"] = self.max_wait or self.max_run + 60 * 60
            request["EnableManagedSpotTraining"] = True
            uri = self.checkpoint_s3_uri or f"{self.output_path.rstrip('/')}/{name}/checkpoints"
            request["CheckpointConfig"] = {"S3Uri": uri, "LocalPath": CHECKPOINT_DIR}
        return request


def training_job_request(spec: JobSpec, name: str) -> dict[str, Any]:
    """The CreateTrainingJob request (raises every problem with the spec at once)."""
    raise_all(spec.problems(), "launch-training")
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "HyperParameters": dict(spec.hyperparameters),
    }
    request.update(spec.definition(name))
    request.update(spec.tag_list())
    return request


@dataclass(frozen=True)
class TuningSettings:
    """How a tuning job searches; every field is one of CreateHyperParameterTuningJob's."""

    strategy: str = "Bayesian"
    max_jobs: int | None = 20  # None: Grid runs every combination
    max_parallel_jobs: int = 2
    max_runtime: int | None = None  # seconds for the whole tuning job
    early_stopping: str = "Off"
    target_objective: float | None = None  # stop once a job reaches it
    max_jobs_not_improving: int | None = None  # stop after this many jobs without a new best
    complete_on_convergence: bool = False
    warm_start_parents: Sequence[str] = ()
    warm_start_type: str = "IdenticalDataAndAlgorithm"
    random_seed: int | None = None
    hyperband_min_resource: int | None = None
    hyperband_max_resource: int | None = None

    def problems(self, ranges: Mapping[str, Mapping[str, Any]]) -> list[str]:
        return [
            *self._strategy_problems(),
            *self._warm_start_problems(),
            *self._hyperband_problems(),
            *self._grid_problems(ranges),
        ]

    def _strategy_problems(self) -> list[str]:
        found = []
        if self.strategy not in STRATEGIES:
            found.append(f"--strategy {self.strategy!r}: one of {', '.join(STRATEGIES)}")
        if self.early_stopping not in EARLY_STOPPING:
            found.append(f"--early-stopping {self.early_stopping!r}: Off or Auto")
        if self.max_parallel_jobs < 1:
            found.append("--max-parallel-jobs must be at least 1")
        if self.max_jobs is not None and self.max_jobs < 1:
            found.append("--max-jobs must be at least 1")
        if self.max_jobs is None and self.strategy != "Grid":
            found.append(f"--max-jobs is needed with --strategy {self.strategy}")
        if self.early_stopping == "Auto" and self.strategy not in ("Bayesian", "Random"):
            found.append(
                f"--early-stopping Auto works with Bayesian and Random only; {self.strategy} "
                "decides itself which jobs to stop (Hyperband) or runs every one (Grid)"
            )
        if self.max_jobs_not_improving is not None and self.max_jobs_not_improving < 3:
            found.append("--stop-after-jobs-not-improving must be at least 3 (SageMaker's minimum)")
        return found

    def _warm_start_problems(self) -> list[str]:
        parents = list(self.warm_start_parents)
        if not parents:
            return []
        found = []
        if not 1 <= len(parents) <= MAX_PARENTS:
            found.append(f"--warm-start takes 1 to {MAX_PARENTS} parent tuning jobs")
        if self.warm_start_type not in WARM_START_TYPES:
            found.append(f"--warm-start-type: one of {', '.join(WARM_START_TYPES)}")
        if self.strategy not in ("Bayesian", "Random"):
            found.append(f"warm start works with Bayesian and Random only, not {self.strategy}")
        return found

    def _hyperband_problems(self) -> list[str]:
        hyperband = (self.hyperband_min_resource, self.hyperband_max_resource)
        if self.strategy != "Hyperband":
            if any(v is not None for v in hyperband):
                return ["--hyperband-min/max-resource apply to --strategy Hyperband only"]
            return []
        low, high = (v if v is not None else 1 for v in hyperband)
        if not 1 <= low <= high:
            return ["Hyperband needs 1 <= --hyperband-min-resource <= max-resource"]
        return []

    def _grid_problems(self, ranges: Mapping[str, Mapping[str, Any]]) -> list[str]:
        if self.strategy != "Grid":
            return []
        found = []
        numeric = [n for n, r in ranges.items() if r["type"] != "Categorical"]
        if numeric:
            found.append(
                f"Grid runs over categorical ranges only; {', '.join(numeric)} are numeric "
                "(launch-tuning turns them into grids of a few values unless --range "
                "gives the values: name=a,b,c)"
            )
        size = grid_size(ranges)
        if self.max_jobs is not None and self.max_jobs != size:
            found.append(
                f"Grid runs every combination ({size:,}); --max-jobs {self.max_jobs} must "
                "equal it or be left out"
            )
        elif self.max_jobs is None and size > MAX_GRID_JOBS:
            found.append(
                f"this grid has {size:,} combinations, more than {MAX_GRID_JOBS} training "
                f"jobs: narrow it with --tune / --range, or pass --max-jobs {size} to mean it"
            )
        return found


def grid_size(ranges: Mapping[str, Mapping[str, Any]]) -> int:
    return math.prod(len(r.get("values", ())) or 1 for r in ranges.values())


def grid_values(entry: Mapping[str, Any], points: int = GRID_POINTS) -> list[str]:
    """A numeric range as a few values spread over it by its scaling (log for Logarithmic)."""
    low, high = float(entry["min"]), float(entry["max"])
    if entry.get("scaling") == "Logarithmic":
        values = [math.exp(v) for v in _spread(math.log(low), math.log(high), points)]
    else:
        values = _spread(low, high, points)
    if entry["type"] == "Integer":
        return [str(v) for v in sorted({round(v) for v in values})]
    return [f"{v:.6g}" for v in values]


def _spread(low: float, high: float, points: int) -> list[float]:
    return [low + (high - low) * i / (points - 1) for i in range(points)] if points > 1 else [low]


def as_grid(ranges: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every range as a categorical one: numeric ranges become `grid_values`."""
    return {
        name: dict(entry)
        if entry["type"] == "Categorical"
        else {"type": "Categorical", "values": grid_values(entry)}
        for name, entry in ranges.items()
    }


def parameter_ranges(ranges: Mapping[str, Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The API's ParameterRanges: values as strings, as SageMaker takes them."""
    built: dict[str, list[dict[str, Any]]] = {
        "IntegerParameterRanges": [],
        "ContinuousParameterRanges": [],
        "CategoricalParameterRanges": [],
    }
    for name, entry in ranges.items():
        if entry["type"] == "Categorical":
            values = [str(v) for v in entry["values"]]
            built["CategoricalParameterRanges"].append({"Name": name, "Values": values})
            continue
        kind = "Integer" if entry["type"] == "Integer" else "Continuous"
        built[f"{kind}ParameterRanges"].append(
            {
                "Name": name,
                "MinValue": str(entry["min"]),
                "MaxValue": str(entry["max"]),
                "ScalingType": entry["scaling"],
            }
        )
    return built


def tuning_problems(
    spec: JobSpec, ranges: Mapping[str, Mapping[str, Any]], settings: TuningSettings
) -> list[str]:
    """Every problem of a tuning job's flags, found without AWS (the ranges themselves are
    checked where they are made: `launch.tuning_ranges`)."""
    problems = spec.problems() + settings.problems(ranges)
    if spec.spot:
        problems.append(
            "--spot is for launch-training: the trials of a tuning job would share one "
            "checkpoint location"
        )
    return problems


def tuning_job_request(
    spec: JobSpec,
    ranges: Mapping[str, Mapping[str, Any]],
    settings: TuningSettings,
    name: str,
) -> dict[str, Any]:
    """The CreateHyperParameterTuningJob request (raises every problem at once)."""
    problems = tuning_problems(spec, ranges, settings)
    if not ranges:  # ranges from a caller that did not make them with `tuning_ranges`
        problems.append(NOTHING_TO_TUNE)
    raise_all(problems, "launch-tuning")
    limits: dict[str, Any] = {"MaxParallelTrainingJobs": settings.max_parallel_jobs}
    if settings.max_jobs is not None:
        limits["MaxNumberOfTrainingJobs"] = settings.max_jobs
    if settings.max_runtime is not None:
        limits["MaxRuntimeInSeconds"] = settings.max_runtime
    config: dict[str, Any] = {
        "Strategy": settings.strategy,
        "HyperParameterTuningJobObjective": {
            "Type": objective_direction(),
            "MetricName": OBJECTIVE,
        },
        "ResourceLimits": limits,
        "ParameterRanges": parameter_ranges(ranges),
        "TrainingJobEarlyStoppingType": settings.early_stopping,
    }
    if settings.strategy == "Hyperband":
        # The image reports its objective once, at the end: a job is one resource unit, so
        # Hyperband has nothing to stop early (README: "Tuning strategies").
        config["StrategyConfig"] = {
            "HyperbandStrategyConfig": {
                "MinResource": settings.hyperband_min_resource or 1,
                "MaxResource": settings.hyperband_max_resource or 1,
            }
        }
    criteria: dict[str, Any] = {}
    if settings.target_objective is not None:
        criteria["TargetObjectiveMetricValue"] = settings.target_objective
    if settings.max_jobs_not_improving is not None:
        criteria["BestObjectiveNotImproving"] = {
            "MaxNumberOfTrainingJobsNotImproving": settings.max_jobs_not_improving
        }
    if settings.complete_on_convergence:
        criteria["ConvergenceDetected"] = {"CompleteOnConvergence": "Enabled"}
    if criteria:
        config["TuningJobCompletionCriteria"] = criteria
    if settings.random_seed is not None:
        config["RandomSeed"] = settings.random_seed
    definition = spec.definition(name)
    definition["StaticHyperParameters"] = dict(spec.hyperparameters)
    request: dict[str, Any] = {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": config,
        "TrainingJobDefinition": definition,
    }
    if settings.warm_start_parents:
        request["WarmStartConfig"] = {
            "ParentHyperParameterTuningJobs": [
                {"HyperParameterTuningJobName": parent} for parent in settings.warm_start_parents
            ],
            "WarmStartType": settings.warm_start_type,
        }
    request.update(spec.tag_list())
    return request


def flag_error(problems: list[str], command: str) -> ArgumentError:
    """Every problem with the flags in one error; they are flags, not hyperparameters."""
    return ArgumentError(
        "the job was not sent: " + "; ".join(problems) + ".",
        f"change the flags named above (`smcluster {command} --help`).",
    )


def raise_all(problems: list[str], command: str, errors: Sequence[SmclusterError] = ()) -> None:
    """Every local problem at once, before any AWS client exists: the hyperparameter and tuning
    range errors, then the flags. Labelled by what they are: all hyperparameter problems, all
    flag problems, or a neutral Error when both. The one place launch checks are raised."""
    found = [*errors, *([flag_error(problems, command)] if problems else [])]
    if not found:
        return
    kinds = {type(e) for e in found}
    combined = kinds.pop() if len(kinds) == 1 else SmclusterError
    raise combined.combine(found)
