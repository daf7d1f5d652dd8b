"""Which tracking backend a job uses (`tracker` hyperparameter) and how it is configured."""

from __future__ import annotations

from ..contract.paths import JobPaths
from ..contract.schema import Hyperparameters
from .base import NoTracker, Tracker, TrackingError

LOCAL_STORE_DIR = "mlflow"


def choose(hp: Hyperparameters, env: dict[str, str]) -> str:
    """`auto`: SageMaker in a SageMaker job, MLflow where a URI is set, else the local store."""
    if hp.tracker != "auto":
        return hp.tracker
    if env.get("TRAINING_JOB_ARN"):
        return "sagemaker"
    return "mlflow"


def tracking_uri(hp: Hyperparameters, env: dict[str, str]) -> str:
    return hp.mlflow_tracking_uri or env.get("MLFLOW_TRACKING_URI", "").strip()


def build(hp: Hyperparameters, paths: JobPaths) -> Tracker:
    """The backend for this job, not yet started (nothing is imported or contacted here)."""
    env = paths.env
    kind = choose(hp, env)
    if kind == "none":
        return NoTracker()
    if kind == "sagemaker":
        from .sagemaker_backend import SageMakerTracker

        if not env.get("TRAINING_JOB_ARN"):
            raise TrackingError(
                "tracker=sagemaker needs a SageMaker training job; TRAINING_JOB_ARN is not set.",
                "use tracker=auto or tracker=mlflow outside SageMaker.",
            )
        return SageMakerTracker(env)
    from .mlflow_backend import MlflowTracker, local_store_uri

    uri = tracking_uri(hp, env)
    if uri:
        return MlflowTracker(uri)
    store = paths.output_data_dir / LOCAL_STORE_DIR
    return MlflowTracker(local_store_uri(store), local_dir=store)
