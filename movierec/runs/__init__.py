"""Runs as data: the run store, sweeps that train only what it lacks, one experiment's inputs
(the workspace), and runs trained by several processes."""
