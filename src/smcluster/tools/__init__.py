"""The tools around the image: launch training and tuning jobs (SageMaker Python SDK), compare
their results, tune on this machine (`tune-local`, Optuna), and write the demo's data.

Imported only by the `smcluster` command, never by `train`. May import every layer below:
`contract`, `backends`, `pipeline`, `output`, `tracking` and `synthetic`.
"""
