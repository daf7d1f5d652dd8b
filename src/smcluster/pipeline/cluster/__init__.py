"""Stages `choose_eps` and `cluster` (`cluster.choose_eps`, `cluster.cluster`).

In: the embedding (float32 on the backend) and the hyperparameters. Out: `cluster.Clustering`,
a label per row (-1 noise) and what the model needs to label new rows: reference points with
their labels and radii, or a fitted estimator. DBSCAN's radius comes from excess of mass over
its hierarchy (`mass.py`) or the k-distance knee (`eps.py`, with the split search of
`density.py`).
"""
