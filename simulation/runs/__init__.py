"""Runs: preparation, experiments, processes, the results folder, backtests, sweeps. Imports the layers up to the data."""
