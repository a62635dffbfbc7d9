"""The ground floor every other package stands on: atomic file writes, the run folder's file
names, numeric ranges, the Keras cache, and the liveness rule for runs. It imports nothing of
convwatch but `errors`."""
