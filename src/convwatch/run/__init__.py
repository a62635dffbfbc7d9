"""Running an experiment: the spec and its overrides, the runner's steps, sweeps, the run
folder, the environment record, and signals."""
