"""The linear-quadratic benchmark (nu = 1).

With linear demand :math:`p(X) = 1 - \\bar X`, :math:`\\bar X = \\frac1N\\sum_i X_i`, guess
:math:`u(X) = H_0 + H_1 \\bar X`. Then :math:`E[\\bar X'] = H_0 + (1-\\delta+H_1)\\bar X` and the
Euler equation :math:`\\gamma u(X) = \\beta E[p(X') + \\gamma(1-\\delta)u(X')]` holds for every
:math:`\\bar X` if and only if

.. math::

    \\beta\\gamma(1-\\delta) H_1^2 + \\left[\\beta\\gamma(1-\\delta)^2 - \\beta - \\gamma\\right] H_1
      - \\beta(1-\\delta) = 0,
    \\qquad
    H_0 = \\frac{\\beta}{\\gamma + \\beta - \\beta\\gamma(1-\\delta)(1 + H_1)}.

The quadratic has one negative root (the stationary equilibrium: :math:`\\bar X` mean-reverts)
and one positive root (explosive: :math:`|1-\\delta+H_1| > 1`). Both zero the Euler residual;
only the first satisfies transversality.

An independent route to the stationary root, :func:`riccati_equilibrium`, solves the single firm's
LQ control problem by Riccati iteration taking the aggregate law of motion as given and finds the
(H_0, H_1) at which the firm's optimal rule reproduces it (Ljungqvist and Sargent, 2018, ch. 7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .params import ModelParams

__all__ = [
    "LinearPolicyCoefficients",
    "lq_roots",
    "lq_solution",
    "riccati_equilibrium",
    "deterministic_euler_residual",
    "one_draw_error_sd",
]


@dataclass(frozen=True)
class LinearPolicyCoefficients:
    """A linear aggregate policy :math:`u(X) = H_0 + H_1 \\bar X`."""

    H0: float
    H1: float

    def persistence(self, delta: float) -> float:
        """Root :math:`1 - \\delta + H_1` of the mean's law of motion."""
        return 1.0 - delta + self.H1

    def steady_state_mean(self, delta: float) -> float:
        """Fixed point of :math:`\\bar X' = H_0 + (1-\\delta+H_1)\\bar X` (without shocks)."""
        return self.H0 / (delta - self.H1)

    def __call__(self, mean_X):
        return self.H0 + self.H1 * mean_X

    def to_dict(self) -> dict:
        return {"H0": self.H0, "H1": self.H1}


_DECK = ModelParams()  # the deck's calibration: lq_roots' defaults


def lq_roots(beta: float = _DECK.beta, gamma: float = _DECK.gamma, delta: float = _DECK.delta
             ) -> dict:
    """Both linear solutions of the Euler equation, in closed form.

    Returns
    -------
    dict
        ``{"stable": LinearPolicyCoefficients, "explosive": LinearPolicyCoefficients | None}``,
        the roots with :math:`H_1 \\le 0` and :math:`H_1 > 0`. With full depreciation
        (delta = 1) the equation is linear, H_1 = 0 is its only root and "explosive" is None.
    """
    ModelParams(beta=beta, gamma=gamma, delta=delta)  # validates the three
    a = beta * gamma * (1.0 - delta)
    b = beta * gamma * (1.0 - delta) ** 2 - beta - gamma
    c = -beta * (1.0 - delta)

    def h0(h1: float) -> float:
        return beta / (gamma + beta - beta * gamma * (1.0 - delta) * (1.0 + h1))

    if a == 0.0:
        return {"stable": LinearPolicyCoefficients(h0(0.0), 0.0), "explosive": None}
    disc = math.sqrt(b * b - 4.0 * a * c)  # > 0 because a > 0 > c
    # Numerically stable pair: avoid subtracting nearly equal numbers.
    q = -0.5 * (b + math.copysign(disc, b))
    r1, r2 = q / a, c / q
    h1_stable, h1_explosive = min(r1, r2), max(r1, r2)
    return {
        "stable": LinearPolicyCoefficients(h0(h1_stable), h1_stable),
        "explosive": LinearPolicyCoefficients(h0(h1_explosive), h1_explosive),
    }


# A fitted slope within this relative distance of an LQ root's H1 "is" that root.
ROOT_TOLERANCE = 0.25


def nearest_root(H1: float, params: ModelParams, tolerance: float = ROOT_TOLERANCE
                 ) -> tuple[str, float]:
    """Which linear solution a fitted slope :math:`H_1` (e.g. :func:`symdp.evaluation.linear_fit`
    of a network's policy along its own paths) is: ``"stable"``, ``"explosive"`` or ``"neither"``.

    Returns the name of the nearest root, or ``"neither"`` when it is farther than ``tolerance``
    (relative to that root's :math:`|H_1|`), and the relative distance to the nearest root.
    """
    roots = {name: c for name, c in lq_roots(params.beta, params.gamma, params.delta).items()
             if c is not None}
    distance = {name: abs(H1 - c.H1) / abs(c.H1) for name, c in roots.items()}
    nearest = min(distance, key=distance.get)
    return (nearest if distance[nearest] <= tolerance else "neither"), float(distance[nearest])


def lq_solution(params: ModelParams, root: str = "stable") -> LinearPolicyCoefficients:
    """The LQ policy for ``params`` (``root`` is ``"stable"`` or ``"explosive"``)."""
    if root not in ("stable", "explosive"):
        raise ValueError(f"root must be 'stable' or 'explosive', got {root!r}")
    coef = lq_roots(params.beta, params.gamma, params.delta)[root]
    if coef is None:
        raise ValueError("root 'explosive' does not exist with delta = 1 (the equation is linear)")
    return coef


def deterministic_euler_residual(
    params: ModelParams, coef: LinearPolicyCoefficients, mean_X: np.ndarray
) -> np.ndarray:
    """Exact Euler residual of a linear policy for nu = 1, expectation taken analytically.

    .. math::

        \\gamma u(\\bar X) - \\beta\\left[1 - E\\bar X' + \\gamma(1-\\delta)(H_0 + H_1 E\\bar X')\\right],
        \\quad E\\bar X' = (1-\\delta)\\bar X + u(\\bar X).
    """
    m = np.asarray(mean_X, dtype=float)
    u = coef.H0 + coef.H1 * m
    m_next = (1.0 - params.delta) * m + u
    rhs = 1.0 - m_next + params.gamma * (1.0 - params.delta) * (coef.H0 + coef.H1 * m_next)
    return params.gamma * u - params.beta * rhs


def _firm_best_response(
    params: ModelParams, H0: float, H1: float, tol: float = 1e-15, max_iter: int = 100_000
) -> np.ndarray:
    """The firm's optimal linear rule u = -F z, z = (1, x, mean X), by Riccati iteration.

    The firm minimises :math:`\\sum_t \\beta^t [z'Rz + \\frac{\\gamma}{2}u^2]` with
    :math:`z'Rz = -(1 - \\bar X)x` and takes :math:`\\bar X' = H_0 + (1-\\delta+H_1)\\bar X` as
    given. Shocks do not change F (certainty equivalence), so they are left out.
    """
    d = params.delta
    R = np.array([[0.0, -0.5, 0.0], [-0.5, 0.0, 0.5], [0.0, 0.5, 0.0]])
    Q = params.gamma / 2.0
    A = np.array([[1.0, 0.0, 0.0], [0.0, 1.0 - d, 0.0], [H0, 0.0, 1.0 - d + H1]])
    B = np.array([[0.0], [1.0], [0.0]])
    beta = params.beta
    P = np.zeros((3, 3))
    for _ in range(max_iter):
        BPA = B.T @ P @ A
        S = Q + beta * (B.T @ P @ B).item()
        P_new = R + beta * A.T @ P @ A - beta**2 * (BPA.T @ BPA) / S
        if not np.all(np.isfinite(P_new)):
            raise ArithmeticError("Riccati iteration diverged (aggregate law not stationary)")
        if np.max(np.abs(P_new - P)) < tol * max(1.0, np.max(np.abs(P_new))):
            P = P_new
            break
        P = P_new
    else:
        raise ArithmeticError("Riccati iteration did not converge")
    S = Q + beta * (B.T @ P @ B).item()
    return (beta * (B.T @ P @ A) / S).ravel()


def riccati_equilibrium(params: ModelParams, guess=(0.05, -0.05)) -> LinearPolicyCoefficients:
    """Stationary recursive competitive equilibrium by Riccati iteration plus a fixed point in H.

    Finds :math:`(H_0, H_1)` such that the firm's best response to the aggregate law
    :math:`\\bar X' = H_0 + (1-\\delta+H_1)\\bar X` is :math:`u = H_0 + H_1\\bar X` (no x term).
    Independent of the closed form in :func:`lq_roots`; used to check it.
    """

    from scipy import optimize  # lazy: the solver must import where scipy is absent (GPU image)

    def gap(h: np.ndarray) -> np.ndarray:
        F = _firm_best_response(params, h[0], h[1])
        return np.array([-F[0] - h[0], -F[2] - h[1]])

    sol = optimize.root(gap, np.asarray(guess, dtype=float), method="hybr", tol=1e-13)
    if not sol.success:
        raise ArithmeticError(f"fixed point in H failed: {sol.message}")
    return LinearPolicyCoefficients(float(sol.x[0]), float(sol.x[1]))


def one_draw_error_sd(params: ModelParams, coef: LinearPolicyCoefficients | None = None) -> dict:
    """Standard deviations of the one-draw errors at the exact LQ solution (raw, unstandardised W).

    With one draw :math:`\\hat W`, :math:`\\hat{\\bar X}' - E[\\bar X'|\\omega] = \\sigma \\bar{\\hat W}
    \\sim \\mathcal N(0, \\sigma^2/N)`, so

    .. math::

        u(\\hat X') - E[u(X')|\\omega] \\sim \\mathcal N\\left(0, \\frac{\\sigma_u^2}{N}\\right),\\
        \\sigma_u = |H_1|\\sigma;\\qquad
        \\hat\\varepsilon \\sim \\mathcal N\\left(0, \\frac{\\sigma_\\varepsilon^2}{N}\\right),\\
        \\sigma_\\varepsilon = \\beta|\\gamma(1-\\delta)H_1 - 1|\\sigma.

    Returns ``{"sigma_u", "sigma_eps", "sd_u", "sd_eps"}`` (the last two divided by sqrt(N)).
    """
    coef = coef or lq_solution(params)
    sigma_u = abs(coef.H1) * params.sigma
    sigma_eps = params.beta * abs(params.gamma * (1.0 - params.delta) * coef.H1 - 1.0) * params.sigma
    root_n = math.sqrt(params.N)
    return {
        "sigma_u": sigma_u,
        "sigma_eps": sigma_eps,
        "sd_u": sigma_u / root_n,
        "sd_eps": sigma_eps / root_n,
    }
