"""Stage `prepare` (`features.prepare_features`).

In: the loaded table (pandas or cuDF) and the hyperparameters. Out: `features.Features`, the
feature columns as a float32 matrix on the backend, raw and prepared (near-constant and
correlated columns dropped, missing values filled or rows dropped, log1p, scaling), the fitted
`preparation.FeaturePrep` that new rows go through, one PCA, and the matrix the reducer sees
(few-valued columns spread within their steps, `steps.py`).
"""
