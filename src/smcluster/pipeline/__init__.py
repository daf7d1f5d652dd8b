"""The clustering pipeline: one module per stage, each written once against the backend seam.

The stages are declared in `run.py` (`STAGES`) and run by `runner.StageRunner`, the one place
that times them and checkpoints them; each takes the backend, the hyperparameters and earlier
stages' results and returns a frozen dataclass; `run.fit` chains them and `model.ClusterModel`
is what they fit. May import `contract` and `backends`;
knows nothing of files written (beyond the stage checkpoints in the folder `job` hands it),
reports, tracking or tools.
"""
