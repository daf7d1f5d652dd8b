"""What a job leaves behind: the model directory (bundle, labels, metrics, resolved
hyperparameters, report, manifest last) and the metric lines on standard output.

May import `contract`, `backends`, `pipeline` and `report`.
"""
