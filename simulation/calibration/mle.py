"""Maximum likelihood, the way the customer-base literature does it, shared by every model here.

Parameters are positive, so the search runs on their logarithms (unconstrained) from several
starting points; the best optimum is kept and the others say whether it is the only one. The
standard errors come from the Hessian of the negative log-likelihood at the optimum (central
differences on the log scale, then the delta method: SE(θ) = θ · SE(log θ)). An optimisation that
fails, a parameter that runs off to a bound, or a Hessian that is not positive definite is an
error, not a result: a number without a maximum behind it would reach the board.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

from ..errors import DataError

LOG_BOUND = np.log(1e6)  # parameters live in [1e-6, 1e6]: beyond, the data do not pin them down
AGREEMENT = 1e-3  # log-likelihood units within which another start is said to reach the same optimum


@dataclass(frozen=True)
class Fit:
    """A fitted model: parameters under their textbook names, standard errors, log-likelihood."""

    model: str
    parameters: dict[str, float]
    standard_errors: dict[str, float]
    log_likelihood: float
    observations: int  # customers (or cohort members) the likelihood sums over
    starts: int  # starting points tried
    starts_at_optimum: int  # of which reached the best log-likelihood (within AGREEMENT)
    iterations: int  # of the best start
    # Covariance of the log-parameters (the inverse Hessian), in the order of ``parameters``: what the
    # data leave unknown about them, for drawing parameters from their sampling distribution.
    log_covariance: tuple[tuple[float, ...], ...] = ()

    def __getitem__(self, name: str) -> float:
        return self.parameters[name]

    def draw(self, rng: np.random.Generator) -> dict[str, float]:
        """Parameters drawn from their estimated sampling distribution: log-normal around the estimate."""
        names = list(self.parameters)
        centre = np.log([self.parameters[name] for name in names])
        drawn = np.exp(rng.multivariate_normal(centre, np.asarray(self.log_covariance), method="cholesky"))
        return {name: float(value) for name, value in zip(names, drawn, strict=True)}

    def as_dict(self) -> dict:
        return {
            "model": self.model, "parameters": self.parameters, "standard_errors": self.standard_errors,
            "log_likelihood": self.log_likelihood, "observations": self.observations,
            "starts": self.starts, "starts_at_optimum": self.starts_at_optimum,
        }


def fit_maximum_likelihood(
    model: str,
    names: Sequence[str],
    log_likelihood: Callable[[np.ndarray], float],
    starts: Sequence[Sequence[float]],
    observations: int,
    source: str,
) -> Fit:
    """Maximise ``log_likelihood(parameters)`` over positive parameters from each of ``starts``.

    ``source`` names the data in messages (the file). Raises DataError when no start converges,
    a parameter reaches a bound, or the Hessian at the optimum is not positive definite.
    """

    def objective(log_parameters: np.ndarray) -> float:
        with np.errstate(all="ignore"):
            value = -log_likelihood(np.exp(log_parameters))
        return float(value) if np.isfinite(value) else 1e300

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    results = []
    for start in starts:
        result = minimize(objective, np.log(np.asarray(start, dtype=float)), method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8})
        if np.isfinite(result.fun) and result.fun < 1e299:
            results.append(result)
    if not results:
        raise DataError(f"{source}: the {model} fit failed from every one of {len(starts)} starting points "
                        "(the likelihood could not be evaluated); the data do not fit this model")
    best = min(results, key=lambda r: r.fun)
    if not best.success:
        raise DataError(f"{source}: the {model} fit did not converge ({best.message}); "
                        "the data do not pin the parameters down")
    at_bound = [name for name, value in zip(names, best.x, strict=True) if abs(value) > LOG_BOUND - 1e-3]
    if at_bound:
        shown = ", ".join(f"{name} = {np.exp(best.x[names.index(name)]):.3g}" for name in at_bound)
        raise DataError(f"{source}: the {model} fit ran to the edge of the parameter range ({shown}; expected "
                        "between 1e-6 and 1e6): the data cannot pin this parameter down")
    covariance = _log_covariance(objective, best.x)
    if covariance is None:
        raise DataError(f"{source}: the {model} fit found no proper maximum (the Hessian of the likelihood is not "
                        f"positive definite at {_shown(names, np.exp(best.x))}); the data do not identify the model")
    parameters = np.exp(best.x)
    errors = parameters * np.sqrt(np.diag(covariance))
    agreeing = sum(1 for r in results if r.fun - best.fun <= AGREEMENT)
    return Fit(
        model=model,
        parameters={name: float(value) for name, value in zip(names, parameters, strict=True)},
        standard_errors={name: float(value) for name, value in zip(names, errors, strict=True)},
        log_likelihood=float(-best.fun),
        observations=observations,
        starts=len(starts),
        starts_at_optimum=agreeing,
        iterations=int(best.nit),
        log_covariance=tuple(tuple(float(value) for value in row) for row in covariance),
    )


def _shown(names: Sequence[str], values: np.ndarray) -> str:
    return ", ".join(f"{name} = {value:.4g}" for name, value in zip(names, values, strict=True))


def _log_covariance(objective: Callable[[np.ndarray], float], at: np.ndarray) -> np.ndarray | None:
    """Inverse Hessian of ``objective`` at ``at`` by central differences; None if not positive definite."""
    size = len(at)
    step = 1e-4
    hessian = np.empty((size, size))
    centre = objective(at)
    for i in range(size):
        for j in range(i, size):
            if i == j:
                forward, backward = at.copy(), at.copy()
                forward[i] += step
                backward[i] -= step
                value = (objective(forward) - 2.0 * centre + objective(backward)) / step**2
            else:
                corners = []
                for di, dj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                    point = at.copy()
                    point[i] += di * step
                    point[j] += dj * step
                    corners.append(objective(point))
                value = (corners[0] - corners[1] - corners[2] + corners[3]) / (4.0 * step**2)
            hessian[i, j] = hessian[j, i] = value
    if not np.all(np.isfinite(hessian)):
        return None
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    return np.linalg.inv(hessian)
