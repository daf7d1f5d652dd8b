"""What runs the stages, and nothing of what they compute.

`runner.Stage` and `runner.StageRunner` (the one place that times stages, names the one under
way and checkpoints), `clock.StageClock` (timings, heartbeat lines), `checkpoints.Checkpoints`
(the resumable results of a spot-interrupted job) and `sampling.sample_index` (the seeded
samples every stage draws the same way).
"""
