"""The clustering pipeline: one module per stage, each written once against the backend seam.

Stages (`load`, `features`, `reduce`, `eps`, `cluster`, `score`) take the backend, the
hyperparameters and the previous stage's output and return a small dataclass; `run.Pipeline`
chains them and `model.ClusterModel` is what they fit. May import `contract` and `backends`;
knows nothing of files written (beyond the stage checkpoints in the folder `job` hands it),
reports, tracking or tools.
"""
