"""The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005; Colombo & Jiang 1999).

Each purchase's amount is Gamma(p, ν), the customer's ν ~ Gamma(q, γ): a customer's average of x
purchases says something about their own mean, shrunk towards the population's. It needs
positive amounts, and q > 1 for the population's mean spend γp / (q − 1) to be finite.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from ..errors import DataError
from .mle import Fit, fit_maximum_likelihood

NAMES = ("p", "q", "v")  # v is γ, the scale of the customers' ν; named as lifetimes and the papers' code do
MODEL = "Gamma-Gamma"


def log_likelihood_terms(parameters: np.ndarray, x: np.ndarray, mean_spend: np.ndarray) -> np.ndarray:
    """Each customer's log density of their average spend over x purchases."""
    p, q, v = parameters
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1.0) * np.log(mean_spend)
            + px * np.log(x) - (px + q) * np.log(v + mean_spend * x))


def fit(x: np.ndarray, mean_spend: np.ndarray, source: str) -> Fit:
    """Fit on customers with at least one purchase counted (x ≥ 1) and positive average spend."""
    if len(x) == 0:
        raise DataError(f"{source}: no customer has a repeat purchase before the calibration end; the Gamma-Gamma "
                        "spend model needs customers with two or more purchase days")
    if np.any(mean_spend <= 0) or not np.all(np.isfinite(mean_spend)):
        raise DataError(f"{source}: Gamma-Gamma needs positive spends; got an average of {mean_spend.min():g}")
    scale = float(np.mean(mean_spend))
    starts = [(1.0, 2.0, scale), (2.0, 3.0, 2.0 * scale), (5.0, 5.0, 0.5 * scale), (0.5, 1.5, scale)]
    result = fit_maximum_likelihood(
        MODEL, NAMES, lambda params: float(np.sum(log_likelihood_terms(params, x, mean_spend))), starts, len(x), source,
    )
    if result["q"] <= 1.0:
        raise DataError(f"{source}: the Gamma-Gamma fit gives q = {result['q']:.3g}; expected q > 1 (with q ≤ 1 the "
                        "mean spend per purchase is infinite: a few very large purchases dominate the log)")
    return result


def population_mean_spend(parameters: dict[str, float]) -> float:
    """E[spend per purchase] of a customer we know nothing about: γp / (q − 1)."""
    return parameters["v"] * parameters["p"] / (parameters["q"] - 1.0)


def conditional_mean_spend(parameters: dict[str, float], x: np.ndarray, mean_spend: np.ndarray) -> np.ndarray:
    """E[spend per purchase | x purchases averaging ``mean_spend``]: a weighted mean of the population's and
    the customer's own (x = 0 gives the population's)."""
    p, q, v = (parameters[name] for name in NAMES)
    own = np.where(x > 0, mean_spend, 0.0)
    return (v + own * x) * p / (p * x + q - 1.0)
