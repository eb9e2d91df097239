"""Maximum likelihood, the way the customer-base literature does it, shared by every model here.

Parameters are positive, so the search runs on their logarithms (unconstrained) from several
starting points; the best optimum is kept and the others say whether it is the only one. Each model
gives its log-likelihood with its analytic gradient (the chain rule makes it one on the log scale:
∂ℓ/∂log θ = θ · ∂ℓ/∂θ), so a step of the search costs one evaluation, not one more per parameter.
The standard errors come from the Hessian of the negative log-likelihood at the optimum (central
differences of the analytic gradient on the log scale, then the delta method:
SE(θ) = θ · SE(log θ)). An optimisation that fails, a parameter that runs off to a bound, or a
Hessian that is not positive definite is an error, not a result: a number without a maximum behind
it would reach the board.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from simulation.core.errors import DataError

LOG_BOUND = np.log(1e6)  # parameters live in [1e-6, 1e6]: beyond, the data do not pin them down
AGREEMENT = 1e-3  # log-likelihood units within which another start is said to reach the same optimum
HESSIAN_STEP = 1e-5  # on the log scale: central differences of the gradient, error O(step²) against rounding / step

# A model's log-likelihood at positive parameters, with its gradient with respect to those parameters.
LogLikelihood = Callable[[np.ndarray], tuple[float, np.ndarray]]


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
        """Parameters drawn from their estimated sampling distribution: log-normal around the estimate, kept within
        the range the fit searched (1e-6 to 1e6). A parameter the data barely pin down (BG/NBD's a and b in a log
        with no sign of dropout: a = 7.5e-6 ± 0.054) has a log-normal so wide that a draw underflowed to 0, and
        the replication's posterior draw of each customer's dropout crashed (Beta with a = 0)."""
        names = list(self.parameters)
        centre = np.log([self.parameters[name] for name in names])
        logs = rng.multivariate_normal(centre, np.asarray(self.log_covariance), method="cholesky")
        drawn = np.exp(np.clip(logs, -LOG_BOUND, LOG_BOUND))
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
    log_likelihood: LogLikelihood,
    starts: Sequence[Sequence[float]],
    observations: int,
    source: str,
) -> Fit:
    """Maximise ``log_likelihood(parameters)`` over positive parameters from each of ``starts``.

    ``log_likelihood`` returns the value and its gradient in the parameters. ``source`` names the data
    in messages (the file). Raises DataError when no start converges, a parameter reaches a bound, or
    the Hessian at the optimum is not positive definite.
    """

    scale = float(max(observations, 1))  # the search minimises the mean: its tolerances then mean the same at any size

    def objective(log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        parameters = np.exp(log_parameters)
        with np.errstate(all="ignore"):
            value, gradient = log_likelihood(parameters)
            slope = -parameters * np.asarray(gradient, dtype=float) / scale
        if not np.isfinite(value) or not np.all(np.isfinite(slope)):
            return 1e300, np.zeros(len(log_parameters))  # off the likelihood's domain: the line search backs off
        return -float(value) / scale, slope

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    results = []
    # The likelihoods' dot products are too short for threaded BLAS to pay: on two busy cores, OpenBLAS
    # threads for each one made a 2-million-row log's fits 8 times slower (10.9 s against 1.3 s).
    with threadpool_limits(limits=1, user_api="blas"):
        for start in starts:
            result = minimize(objective, np.log(np.asarray(start, dtype=float)), jac=True, method="L-BFGS-B",
                              bounds=bounds, options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8})
            if np.isfinite(result.fun) and result.fun < 1e299:
                results.append(result)
    if not results:
        raise DataError(f"{source}: the {model} fit failed from every one of {len(starts)} starting points "
                        "(the likelihood could not be evaluated); the data do not fit this model")
    # A start whose line search stalls (ABNORMAL) beside the optimum, where the likelihood no longer changes
    # beyond rounding, has not failed: the best start that converged is kept unless one that did not went
    # further than AGREEMENT beyond it.
    lowest = min(results, key=lambda r: r.fun)
    converged = [r for r in results if r.success]
    best = min(converged, key=lambda r: r.fun) if converged else lowest
    if not best.success or (best.fun - lowest.fun) * scale > AGREEMENT:
        raise DataError(f"{source}: the {model} fit did not converge ({lowest.message}); "
                        "the data do not pin the parameters down")
    at_bound = [name for name, value in zip(names, best.x, strict=True) if abs(value) > LOG_BOUND - 1e-3]
    if at_bound:
        shown = ", ".join(f"{name} = {np.exp(best.x[names.index(name)]):.3g}" for name in at_bound)
        raise DataError(f"{source}: the {model} fit ran to the edge of the parameter range ({shown}; expected "
                        "between 1e-6 and 1e6): the data cannot pin this parameter down")
    parameters = np.exp(best.x)
    with threadpool_limits(limits=1, user_api="blas"):
        covariance = _log_covariance(lambda at: scale * objective(at)[1], best.x)
        value = float(log_likelihood(parameters)[0])
    if covariance is None:
        raise DataError(f"{source}: the {model} fit found no proper maximum (the Hessian of the likelihood is not "
                        f"positive definite at {_shown(names, np.exp(best.x))}); the data do not identify the model")
    errors = parameters * np.sqrt(np.diag(covariance))
    agreeing = sum(1 for r in results if (r.fun - best.fun) * scale <= AGREEMENT)
    return Fit(
        model=model,
        parameters={name: float(value) for name, value in zip(names, parameters, strict=True)},
        standard_errors={name: float(value) for name, value in zip(names, errors, strict=True)},
        log_likelihood=value,
        observations=observations,
        starts=len(starts),
        starts_at_optimum=agreeing,
        iterations=int(best.nit),
        log_covariance=tuple(tuple(float(value) for value in row) for row in covariance),
    )


def _shown(names: Sequence[str], values: np.ndarray) -> str:
    return ", ".join(f"{name} = {value:.4g}" for name, value in zip(names, values, strict=True))


def _log_covariance(gradient: Callable[[np.ndarray], np.ndarray], at: np.ndarray) -> np.ndarray | None:
    """Inverse Hessian at ``at`` from central differences of the objective's ``gradient`` (2 × size evaluations,
    made symmetric); None if not positive definite."""
    size = len(at)
    hessian = np.empty((size, size))
    for i in range(size):
        forward, backward = at.copy(), at.copy()
        forward[i] += HESSIAN_STEP
        backward[i] -= HESSIAN_STEP
        hessian[:, i] = (gradient(forward) - gradient(backward)) / (2.0 * HESSIAN_STEP)
    hessian = 0.5 * (hessian + hessian.T)
    if not np.all(np.isfinite(hessian)):
        return None
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    return np.linalg.inv(hessian)
