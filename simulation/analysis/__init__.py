"""Analysis of runs: summary, robustness, screening, optimisation, a sweep's analysis. Imports any simulation layer."""
