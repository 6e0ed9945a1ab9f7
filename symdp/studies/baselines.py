"""The deck's three baseline networks fitted side by side, and what their paths are read through.

With :math:`\\nu = 1` the Euler equation has the closed-form solution
:math:`u(X) = H_0 + H_1\\bar X` (:mod:`symdp.lq`), so a fitted policy can be scored by its
relative error against it at every state it visits,

.. math::

    \\varepsilon_{rel}(X_t) = \\frac{|u(X_t) - u_{LQ}(X_t)|}{|u_{LQ}(X_t)|},

along fresh equilibrium paths simulated under the fitted policy
(:attr:`symdp.evaluation.Evaluation.rel_error`). Chapters 5 and 7 read their fits through:

* :func:`solve_baselines`: the deck's three baselines fitted on the same economy and seed;
* :func:`line_departure`: how far a fitted policy bends away from its least-squares line in the
  mean (:func:`symdp.evaluation.linear_fit`);
* :func:`path_bands`: mean and percentile band of a per-path quantity, date by date (the deck's
  Figures 2 and 4).

Table 2 itself (its grid, layout and the deck's published values) is the experiment ``"table2"``
of :mod:`symdp.runs.experiments`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..evaluation import linear_fit
from ..networks import PHI_KINDS
from ..params import ModelParams
from ..solver import SolveResult, SolverConfig, solve

__all__ = [
    "PathBands",
    "line_departure",
    "path_bands",
    "solve_baselines",
]


@dataclass(frozen=True)
class PathBands:
    """Date-by-date summary of a quantity over simulated paths (arrays of length T + 1).

    ``mean`` is the average over paths; ``lower`` and ``upper`` are the ``q`` percentiles.
    """

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    q: tuple[float, float]
    n_paths: int

    @property
    def t(self) -> np.ndarray:
        return np.arange(len(self.mean))


def path_bands(values, lower: float = 2.5, upper: float = 97.5) -> PathBands:
    """Mean and ``[lower, upper]`` percentile band over paths, at each date.

    Parameters
    ----------
    values : array (paths, T + 1)
        E.g. :attr:`symdp.evaluation.Evaluation.rel_error` or ``.residual``.
    lower, upper : float
        Percentiles in [0, 100], ``lower <= upper`` (default: the deck's 2.5 and 97.5).

    Raises
    ------
    ValueError
        If ``values`` is not a finite 2-D array with at least one path, or the percentiles are
        out of range.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] < 1 or v.shape[1] < 1:
        raise ValueError(f"values must be a 2-D array (paths, dates), got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite (a diverged path has no band)")
    if not (0.0 <= lower <= upper <= 100.0):
        raise ValueError(f"percentiles must satisfy 0 <= lower <= upper <= 100, got "
                         f"{lower}, {upper}")
    lo, hi = np.percentile(v, [lower, upper], axis=0)
    return PathBands(v.mean(0), lo, hi, (float(lower), float(upper)), v.shape[0])


def solve_baselines(
    params: ModelParams = ModelParams(),
    config: SolverConfig = SolverConfig(),
    phis: Sequence[str] = PHI_KINDS,
) -> dict[str, SolveResult]:
    """Fit each baseline architecture on the same economy with the same seed.

    With one ``config.seed`` every fit starts from the same initial state, the same draw of the
    idiosyncratic shocks and the same training grid, and is tested on the same shocks, so the
    fits differ only by the family of functions.
    """
    return {phi: solve(params, phi, config) for phi in phis}


def line_departure(evaluation) -> float:
    """Largest distance of a policy from its least-squares line in the mean, relative to its size.

    :math:`\\max_t |u_t - (H_0 + H_1\\bar X_t)| / \\overline{|u|}` over every test point, with
    :math:`(H_0, H_1)` from :func:`symdp.evaluation.linear_fit`. Zero up to rounding for a policy that is
    affine in :math:`\\bar X` (phi(Identity) with a bias-free rho, chapter 5); larger for one that
    also responds to other features of the cross-section or bends in the mean.
    """
    line = linear_fit(evaluation.mean_X, evaluation.u)
    m = np.asarray(evaluation.mean_X, dtype=float).ravel()
    u = np.asarray(evaluation.u, dtype=float).ravel()
    return float(np.max(np.abs(u - line(m))) / np.mean(np.abs(u)))
