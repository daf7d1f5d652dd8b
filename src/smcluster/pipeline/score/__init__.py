"""Stage `score` (`score.score_training`), and the scoring of validation rows.

In: the embedding, the final labels, the true labels when `label_column` is given and the raw
features. Out: `score.Scores`, every metric of `contract.metrics` with notes where one is
undefined: silhouette (sampled), DBCV (`validity.py`), the same in the evaluation space that is
common to every run on the same columns (`evaluation.py`), Davies-Bouldin, Calinski-Harabasz,
ARI and AMI; `ties.py` says when too few distinct rows make a score meaningless.
"""
