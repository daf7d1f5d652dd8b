"""Past one process: the rows outside the fit sample labelled by Dask workers, on this host's
processes or GPUs and on every host of a SageMaker job.

The first host of the job's sorted `hosts` runs the job itself (the driver), the scheduler and
its share of the workers; every other host runs only workers and exits 0, its model directory
empty, once the driver shuts the cluster down. Each host's workers read that host's own files
(its shard under `ShardedByS3Key`, a disjoint share under `FullyReplicated`) and keep them;
the driver fits on a sample it gathers from them and sends the fitted model back to label the
rest where it lies (`pipeline.rows`). Dask is imported only when a cluster is started: one
worker on one host (the default on the CPU) pays nothing for it.
"""
