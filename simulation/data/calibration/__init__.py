"""Calibration: a company's own customers, modelled from their own behaviour.

From a transaction log: the BG/NBD model of repeat purchasing and dropout and the Gamma-Gamma
model of spend (Fader, Hardie & Lee 2005), fitted by maximum likelihood with a holdout check.
From a ledger of start and end dates, or a cohort survival table: the shifted-beta-geometric
model of contract renewal (Fader & Hardie 2007). Each module has one job:

``units``       time units and period conversions
``mle``         multi-start maximum likelihood with Hessian standard errors (shared by the models)
``bgnbd``, ``gamma_gamma``, ``sbg``   the three models: likelihood, fit, posteriors
``log``         reading a transaction log fast (pyarrow), with progress and named errors
``summary``     the log → per-customer frequency, recency, age, spend; calibration and holdout
``contracts``   a ledger's start/end dates, or a cohort table → periods survived
``holdout``     predicted against actual repeat purchases after the calibration end
``book``        fitted models → today's customers (each with their own hazard and revenue) and
                the scenario changes that scale the run to the data
``artifacts``   calibration.json and the scenario overlay, written atomically
``synthetic``   logs and ledgers drawn from known parameters (tests, benchmark, examples)
"""
