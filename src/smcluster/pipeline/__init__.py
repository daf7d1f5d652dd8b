"""The clustering pipeline: its stages, each written once against the backend seam.

`run.py` declares the stages (`STAGES`) and `run.fit` chains them; a folder per family of
stages (`prepare/`, `cluster/`, `refine/`, `score/`; `load.py` and `reduce.py` alone), each
saying what goes in and what comes out; `runtime/` runs them (`runtime.runner.StageRunner`, the
one place that times and checkpoints a stage). `model.ClusterModel` is what they fit. May import
`contract` and `backends`; knows nothing of files written (beyond the stage checkpoints in the
folder `job` hands it), reports, tracking or tools.
"""
