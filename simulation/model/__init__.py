"""The model: the engine, its kernels, targeting, breakdowns, outcomes, the trace. Imports core to scenario."""
