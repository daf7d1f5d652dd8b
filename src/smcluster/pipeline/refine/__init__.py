"""Stage `refine` (`refine.refine`).

In: the cluster stage's labels, the prepared and raw features and the embedding's borders. Out:
`refine.Refinement`, the final labels (rows far from every cluster in the prepared features as
noise, `outliers.py`; splits along sparse columns merged, `sparse_splits.py`; ids by size) and
the rule that flags new rows as outliers.
"""
