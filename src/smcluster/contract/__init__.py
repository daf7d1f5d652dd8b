"""The SageMaker training-container contract: what comes in, and how a failure goes out.

Owns the `/opt/ml` paths and their `SM_*` overrides, the input channels and their table files,
the hyperparameter schema and its parsing, the metric registry tuners read, the errors a user
can act on and the failure file. Imports nothing from the rest of smcluster: everything else
builds on it.
"""
