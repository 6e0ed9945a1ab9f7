"""Exact linear-quadratic solutions of three extensions of the N-firm investment model.

Common setting: N price-taking firms; firm i's capital follows

.. math::

    x_i' = (1-\\delta) x_i + u_i + \\sigma W_i + \\eta\\omega,
    \\qquad W_i, \\omega \\sim \\mathcal N(0, 1) \\text{ i.i.d.},

it pays :math:`\\frac{\\gamma}{2}u_i^2` to invest and discounts by :math:`\\beta`. Its Euler
equation is

.. math::

    \\gamma u_i(X) = \\beta E\\left[R_i(X') + \\gamma(1-\\delta) u_i(X')\\right],

with :math:`R_i` the derivative of the period reward with respect to the firm's own capital, the
price taken as given. For policies linear in the state the expectation is exact: :math:`E[X']`
is the shock-free next state (:math:`E[\\bar W] = 0`), so :math:`\\sigma` and :math:`\\eta` never
enter (nor does E3's :math:`\\sigma_z`). Guessing a linear policy and matching coefficients of the Euler equation on every state
variable gives polynomial equations in the coefficients, solved here in closed form:

- :func:`decreasing_returns_solutions` (E1): reward :math:`p(X)x - \\frac{\\kappa}{2}x^2`, policy
  :math:`H_0 + H_1\\bar X + H_2 x`: two scalar quadratics, four solutions.
- :func:`two_types_solutions` (E2): two productivity types, policy
  :math:`u_g = h_{0g} + H_{gA}m_A + H_{gB}m_B`: a 2x2 matrix quadratic, four real solutions.
- :func:`vector_state_solutions` (E3): an idiosyncratic AR(1) shifter z, policy
  :math:`H_0 + H_1\\bar X + H_2 x + H_3 z + H_4\\bar Z`: E1's four, each with unique
  :math:`H_3, H_4`.

Each solution zeroes the Euler residual; exactly one is stationary (at the deck's calibration,
and for E2 always, see :func:`two_types_solutions`), i.e. every root of the joint law of motion
of the firm's own expected state(s) and the aggregates lies strictly inside the unit circle.
:func:`stationary_solution` picks it. Defaults: the deck's beta, gamma, delta and the issue's
examples (kappa = 0.5, rho = 0.9; E2's pairs).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from ..params import ModelParams

__all__ = [
    "LinearSolution",
    "decreasing_returns_solutions",
    "kappa_threshold",
    "stationary_solution",
    "two_types_solutions",
    "vector_state_solutions",
]

_DECK = ModelParams()  # the deck's calibration: the defaults below

# An eigenvector block with a larger condition number is singular: both members of a pair
# {lambda, 1/(beta lambda)} share one eigenvector, so such choices are singular to rounding
# (condition numbers ~1e15), while genuine solutions sit far below (~1e1).
_SINGULAR_CONDITION = 1e10


@dataclass(frozen=True)
class LinearSolution:
    """One exact linear solution of an extension's Euler equation.

    Attributes
    ----------
    coefficients : dict
        The policy's coefficients by name: ``H0, H1, H2`` (E1), ``h0`` (tuple of 2) and ``H``
        (tuple of 2 rows, ``H[g] = (H_gA, H_gB)``) (E2), ``H0`` to ``H4`` (E3). Read-only by
        convention (the dataclass is frozen, the dict is not).
    stationary : bool
        True when every root lies strictly inside the unit circle.
    roots : tuple
        Eigenvalues of the linear law of motion of the expected states, own state(s) first, then
        the aggregate(s): ``(own, mean)`` (E1); ``(own A, own B, aggregate 1, aggregate 2)``,
        the last two by increasing modulus (E2); ``(own x, mean X, rho, rho)`` (E3). Floats,
        or complex where a root is.
    """

    coefficients: dict = field(hash=False)
    stationary: bool
    roots: tuple

    @property
    def spectral_radius(self) -> float:
        """Largest modulus among the roots."""
        return max(abs(r) for r in self.roots)

    def to_dict(self) -> dict:
        """JSON-ready: tuples become lists, a complex root ``{"real": ., "imag": .}``."""

        def plain(value):
            if isinstance(value, (tuple, list)):
                return [plain(v) for v in value]
            if isinstance(value, complex):
                return {"real": value.real, "imag": value.imag}
            return float(value)

        return {
            "coefficients": {name: plain(v) for name, v in self.coefficients.items()},
            "stationary": bool(self.stationary),
            "roots": plain(self.roots),
        }


def _root(value: complex) -> float | complex:
    """A float when the root is real (imaginary part exactly 0, as LAPACK returns real ones)."""
    value = complex(value)
    return value.real if value.imag == 0.0 else value


def _solution(coefficients: dict, roots) -> LinearSolution:
    roots = tuple(_root(r) for r in roots)
    return LinearSolution(coefficients, all(abs(r) < 1.0 for r in roots), roots)


def _sorted(solutions: list[LinearSolution]) -> list[LinearSolution]:
    """Stationary first, then by spectral radius (then the roots, for a deterministic order)."""
    return sorted(solutions, key=lambda s: (not s.stationary, s.spectral_radius,
                                            [(complex(r).real, complex(r).imag) for r in s.roots]))


def stationary_solution(solutions: list[LinearSolution]) -> LinearSolution:
    """The unique stationary solution in ``solutions``; ValueError if there is none or several."""
    found = [s for s in solutions if s.stationary]
    if len(found) != 1:
        raise ValueError(f"expected exactly one stationary solution among the {len(solutions)} "
                         f"listed, found {len(found)}")
    return found[0]


def _quadratic_roots(a: float, b: float, c: float) -> list[float]:
    """Real roots of :math:`a y^2 + b y + c = 0`, ascending; the linear case when a = 0."""
    if a == 0.0:
        return [] if b == 0.0 else [-c / b]
    disc = b * b - 4.0 * a * c
    if disc < 0.0:
        return []
    # Numerically stable pair: avoid subtracting nearly equal numbers (as in symdp.lq).
    q = -0.5 * (b + math.copysign(math.sqrt(disc), b))
    if q == 0.0:  # b = c = 0: a double root at 0
        return [0.0, 0.0]
    return sorted([q / a, c / q])


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


# ---------------------------------------------------------------------------------------------
# E1: decreasing returns
# ---------------------------------------------------------------------------------------------


def kappa_threshold(beta: float = _DECK.beta, gamma: float = _DECK.gamma,
                    delta: float = _DECK.delta) -> float:
    """The curvature :math:`\\kappa^*` at which the firm's own root :math:`1-\\delta+H_2` reaches 1.

    Write :math:`a = 1-\\delta`, :math:`c = \\gamma a`. In terms of the own root
    :math:`\\rho = a + H_2`, E1's x-coefficient equation (see
    :func:`decreasing_returns_solutions`) reads

    .. math::

        \\beta c\\rho^2 - (\\beta c a + \\beta\\kappa + \\gamma)\\rho + \\gamma a = 0,

    whose roots multiply to :math:`1/\\beta > 1`. Setting :math:`\\rho = 1`:
    :math:`\\beta\\kappa = \\beta c(1 - a) - \\gamma(1 - a) = (\\beta c - \\gamma)\\delta`,

    .. math::

        \\kappa^* = -\\frac{\\gamma\\delta\\,(1 - \\beta(1-\\delta))}{\\beta}
        \\quad(-0.4618 \\text{ at the deck's calibration}).

    At :math:`\\kappa^*` the roots are 1 and :math:`1/\\beta`; above it their sum grows and they
    spread to :math:`(0, 1)` and :math:`(1/\\beta, \\infty)`; below it they move together, turn
    complex (modulus :math:`\\beta^{-1/2} > 1`) and then negative. A root in :math:`(-1, 0)` only
    returns for :math:`\\kappa < -\\gamma(1+a)(1+\\beta a)/\\beta` (-351 at the deck's
    calibration), a reward so convex in own capital that it is excluded with the rest.
    """
    ModelParams(beta=beta, gamma=gamma, delta=delta)  # validates the three
    return -gamma * delta * (1.0 - beta * (1.0 - delta)) / beta


def _check_kappa(beta: float, gamma: float, delta: float, kappa) -> float:
    kappa = _real("kappa", kappa)
    threshold = kappa_threshold(beta, gamma, delta)
    if not kappa > threshold:
        raise ValueError(
            f"kappa must be > {threshold:.4g} (the threshold -gamma*delta*(1 - beta*(1 - delta))"
            f"/beta below which firm size is not stationary), got {kappa!r}")
    return kappa


def _decreasing_returns_coefficients(beta, gamma, delta, kappa) -> list[tuple[float, ...]]:
    """Every real (H0, H1, H2) of E1; shared with E3, where the z terms do not feed back."""
    a = 1.0 - delta
    c = gamma * a
    out = []
    for H2 in _quadratic_roots(beta * c, beta * c * a - beta * kappa - gamma, -beta * kappa * a):
        e = beta * (c * H2 - kappa)  # beta times the weight of E[x'] in the Euler equation
        for H1 in _quadratic_roots(beta * c, beta * c * (a + H2) - beta + e - gamma,
                                   -beta * (a + H2)):
            denominator = gamma + beta - beta * c * (1.0 + H1 + H2) + beta * kappa
            if denominator != 0.0:  # else this branch has no linear solution
                out.append((beta / denominator, H1, H2))
    return out


def decreasing_returns_solutions(beta: float = _DECK.beta, gamma: float = _DECK.gamma,
                                 delta: float = _DECK.delta, kappa: float = 0.5
                                 ) -> list[LinearSolution]:
    """E1, decreasing returns: every linear solution, stationary first.

    The period reward :math:`p(X)x - \\frac{\\kappa}{2}x^2 - \\frac{\\gamma}{2}u^2`,
    :math:`p = 1 - \\bar X`, gives :math:`R = p(X) - \\kappa x`. Guess
    :math:`u(x, X) = H_0 + H_1 m + H_2 x`, :math:`m = \\bar X`; with :math:`a = 1-\\delta`,
    :math:`c = \\gamma a`,

    .. math::

        E x' = H_0 + H_1 m + (a + H_2)x, \\qquad E m' = H_0 + (a + H_1 + H_2) m,

    and the Euler equation's right-hand side is
    :math:`\\beta[1 + cH_0 + (cH_1 - 1)Em' + (cH_2 - \\kappa)Ex']`. Matching coefficients:

    .. math::

        x:&\\quad \\beta c H_2^2 + (\\beta c a - \\beta\\kappa - \\gamma) H_2
               - \\beta\\kappa a = 0,\\\\
        m:&\\quad \\beta c H_1^2
               + [\\beta c(a + H_2) - \\beta + \\beta(cH_2 - \\kappa) - \\gamma] H_1
               - \\beta(a + H_2) = 0,\\\\
        1:&\\quad H_0 = \\frac{\\beta}{\\gamma + \\beta - \\beta c(1 + H_1 + H_2) + \\beta\\kappa}.

    The first is a quadratic in :math:`H_2` alone; given :math:`H_2` the second is one in
    :math:`H_1` (its roots multiply to :math:`-(a+H_2)/c < 0`: always real); :math:`H_0` is then
    linear: four solutions for :math:`\\kappa > \\kappa^*` (:func:`kappa_threshold`), one when
    :math:`\\delta = 1` (both equations linear). Roots: the own one :math:`a + H_2` and the mean's
    :math:`a + H_1 + H_2` (the law of motion of :math:`(Ex, Em)` is triangular). The mean's takes
    only two values over the four solutions: aggregating the Euler equation gives the mean's own
    (representative-firm) quadratic, so :math:`H_1 + H_2` and :math:`H_0` pair up.

    At :math:`\\kappa = 0` the x equation is :math:`H_2(\\beta c H_2 + \\beta c a - \\gamma) = 0`:
    :math:`H_2 = 0` exactly on the stationary solution, whose :math:`(H_0, H_1)` are then the
    deck's :func:`symdp.lq.lq_roots`.
    """
    ModelParams(beta=beta, gamma=gamma, delta=delta)  # validates the three
    kappa = _check_kappa(beta, gamma, delta, kappa)
    a = 1.0 - delta
    return _sorted([
        _solution({"H0": H0, "H1": H1, "H2": H2}, (a + H2, a + H1 + H2))
        for H0, H1, H2 in _decreasing_returns_coefficients(beta, gamma, delta, kappa)
    ])


# ---------------------------------------------------------------------------------------------
# E3: a vector idiosyncratic state (x, z)
# ---------------------------------------------------------------------------------------------


def vector_state_solutions(beta: float = _DECK.beta, gamma: float = _DECK.gamma,
                           delta: float = _DECK.delta, kappa: float = 0.5, rho: float = 0.9
                           ) -> list[LinearSolution]:
    """E3, a vector idiosyncratic state (x, z): every linear solution, stationary first.

    The shifter follows :math:`z' = \\rho z + \\sigma_z e` and the reward is
    :math:`(p(X) + z)x - \\frac{\\kappa}{2}x^2 - \\frac{\\gamma}{2}u^2`, so
    :math:`R = p(X) + z - \\kappa x`. Guess
    :math:`u = H_0 + H_1 m + H_2 x + H_3 z + H_4 m_z`, :math:`m_z = \\bar Z`. With E1's notation,

    .. math::

        Ex' = H_0 + H_1 m + (a + H_2)x + H_3 z + H_4 m_z,\\quad
        Em' = H_0 + (a + H_1 + H_2)m + (H_3 + H_4)m_z,\\quad Ez' = \\rho z,\\ Em_z' = \\rho m_z,

    and the right-hand side is :math:`\\beta[1 + cH_0 + (cH_1-1)Em' + (cH_2-\\kappa)Ex'
    + (1 + cH_3)\\rho z + cH_4\\rho m_z]`. The coefficients on 1, m and x involve neither
    :math:`H_3` nor :math:`H_4` (z and :math:`m_z` are exogenous, and enter Ex', Em' only through
    their own coefficients): :math:`H_0, H_1, H_2` are exactly E1's. Then, linearly,

    .. math::

        z:&\\quad H_3 = \\frac{\\beta\\rho}{\\gamma - \\beta(cH_2 - \\kappa) - \\beta c\\rho},\\\\
        m_z:&\\quad H_4 = \\frac{\\beta(cH_1 - 1) H_3}
                     {\\gamma - \\beta(cH_1 - 1) - \\beta(cH_2 - \\kappa) - \\beta c\\rho}.

    Four solutions (a branch whose denominator vanishes would have none). The law of motion of
    :math:`(Ex, Em, Ez, Em_z)` is upper triangular: roots :math:`(a + H_2, a + H_1 + H_2, \\rho,
    \\rho)`. :math:`\\sigma_z` does not enter.
    """
    ModelParams(beta=beta, gamma=gamma, delta=delta)  # validates the three
    kappa = _check_kappa(beta, gamma, delta, kappa)
    rho = _real("rho", rho)
    if not abs(rho) < 1.0:
        raise ValueError(f"rho must be in (-1, 1) (|rho| < 1: z is stationary), got {rho!r}")
    a = 1.0 - delta
    c = gamma * a
    out = []
    for H0, H1, H2 in _decreasing_returns_coefficients(beta, gamma, delta, kappa):
        e = beta * (c * H2 - kappa)
        d3 = gamma - e - beta * c * rho
        d4 = gamma - beta * (c * H1 - 1.0) - e - beta * c * rho
        if d3 == 0.0 or d4 == 0.0:
            continue
        H3 = beta * rho / d3
        H4 = beta * (c * H1 - 1.0) * H3 / d4
        out.append(_solution({"H0": H0, "H1": H1, "H2": H2, "H3": H3, "H4": H4},
                             (a + H2, a + H1 + H2, rho, rho)))
    return _sorted(out)


# ---------------------------------------------------------------------------------------------
# E2: two productivity types
# ---------------------------------------------------------------------------------------------


def _pair(name: str, value, ok, allowed: str) -> tuple[float, float]:
    try:
        pair = tuple(value)
    except TypeError:
        pair = None
    if pair is None or len(pair) != 2:
        raise ValueError(f"{name} must be a pair (A, B), got {value!r}")
    pair = tuple(_real(f"{name}[{g}]", v) for g, v in enumerate(pair))
    if not all(ok(v) for v in pair):
        raise ValueError(f"{name} must be a pair (A, B) of numbers {allowed}, got {value!r}")
    return pair


def _polish(A, B, K, P, steps: int = 3):
    """Newton steps on :math:`AP^2 + BP + K = 0`, kept only while they lower the residual.

    The eigenvector route is accurate to rounding times the eigenvector block's condition
    number; a step or two brings the residual to machine precision.
    """
    n = P.shape[0]
    eye = np.eye(n)
    residual = A @ P @ P + B @ P + K
    for _ in range(steps):
        # vec(A dP P + A P dP + B dP) = (P^T kron A + I kron (AP + B)) vec(dP), column-major
        J = np.kron(P.T, A) + np.kron(eye, A @ P + B)
        step = np.linalg.solve(J, -residual.reshape(-1, order="F")).reshape(n, n, order="F")
        trial = P + step
        trial_residual = A @ trial @ trial + B @ trial + K
        if np.abs(trial_residual).max() >= np.abs(residual).max():
            break
        P, residual = trial, trial_residual
    return P


def two_types_solutions(beta: float = _DECK.beta, share_a: float = 0.5,
                        theta: tuple[float, float] = (1.0, 1.2),
                        gamma: tuple[float, float] = (_DECK.gamma, _DECK.gamma),
                        delta: tuple[float, float] = (0.05, 0.10)) -> list[LinearSolution]:
    """E2, two productivity types: every real linear solution, stationary first.

    Groups :math:`g \\in \\{A, B\\}` with shares :math:`s_A` = ``share_a``,
    :math:`s_B = 1 - s_A`, produce :math:`\\theta_g x`; the price is
    :math:`p = 1 - w^\\top M`, :math:`M = (m_A, m_B)` the group means,
    :math:`w = (s_A\\theta_A, s_B\\theta_B)`; a type-g firm's reward is
    :math:`\\theta_g p x - \\frac{\\gamma_g}{2}u^2`, so :math:`R_g = \\theta_g p(X)`, and it
    depreciates at :math:`\\delta_g`. Its reward is linear in own capital, so (as in the deck)
    the policy does not depend on it: guess :math:`u = h_0 + HM` (a vector over types,
    :math:`H_{gj}` the response of type g to :math:`m_j`). With
    :math:`D = \\mathrm{diag}(1-\\delta_g)`,
    :math:`\\Gamma = \\mathrm{diag}(\\gamma_g)`, :math:`C = \\Gamma D`,
    :math:`t = (\\theta_A, \\theta_B)` and :math:`P = D + H`, :math:`EM' = h_0 + PM` and the Euler
    equations, stacked, are
    :math:`\\Gamma(h_0 + HM) = \\beta[t(1 - w^\\top EM') + C(h_0 + H\\,EM')]`. Matching
    coefficients on M gives :math:`\\Gamma H = \\beta[-tw^\\top P + CHP]`, i.e. in P the
    unilateral matrix quadratic

    .. math::

        \\mathcal A P^2 + \\mathcal B P + \\mathcal K = 0,\\qquad
        \\mathcal A = \\beta\\Gamma D,\\
        \\mathcal B = -(\\beta\\Gamma D^2 + \\beta tw^\\top + \\Gamma),\\
        \\mathcal K = \\Gamma D,

    and on 1: :math:`h_0 = \\beta\\,[\\Gamma - \\beta C(I + H) + \\beta tw^\\top]^{-1}t`.

    Solution by linearisation: if
    :math:`(\\lambda^2\\mathcal A + \\lambda\\mathcal B + \\mathcal K)v = 0` for two
    eigenpairs with an invertible eigenvector block V, then :math:`P = V\\Lambda V^{-1}` solves
    the quadratic (and, when the four eigenvalues are distinct, every solution is of this form:
    a solution's eigenvectors are eigenvectors of the pencil, and a Jordan block would need a
    repeated eigenvalue). The eigenpairs are those of the 4x4 pencil
    :math:`L_1 - \\lambda L_0`, :math:`L_0 = \\mathrm{diag}(I, \\mathcal A)`,
    :math:`L_1 = [[0, I], [-\\mathcal K, -\\mathcal B]]` on :math:`(v, \\lambda v)`; ``numpy``
    has no generalised eigensolver and :math:`L_0` is singular when some :math:`\\delta_g = 1`, so
    it is shift-inverted: the eigenvalues :math:`\\nu = 1/(\\lambda - s)` of
    :math:`(L_1 - sL_0)^{-1}L_0`, s = -1, with :math:`\\nu = 0` an infinite :math:`\\lambda`
    (dropped). Each choice of two finite eigenvalues with an invertible block, closed under
    conjugation (so that P is real), gives one solution, polished by Newton steps.

    What this finds: dividing by :math:`\\lambda`, the pencil is
    :math:`\\Gamma D\\,\\varphi + \\mathcal B`, :math:`\\varphi = \\beta\\lambda + 1/\\lambda`, so
    the eigenvalues come in pairs :math:`\\{\\lambda, 1/(\\beta\\lambda)\\}` that share one
    eigenvector (the discounted-LQ structure), and the two :math:`\\varphi` are the eigenvalues of
    :math:`(\\Gamma D)^{-1}(-\\mathcal B) = \\mathrm{diag}(\\beta a_g + 1/a_g) + \\beta(\\Gamma
    D)^{-1}tw^\\top`, :math:`a_g = 1-\\delta_g`: a diagonal plus a positive rank-one matrix, similar
    to a symmetric one, so they are real and at least :math:`\\min_g(\\beta a_g + 1/a_g) > 1 +
    \\beta` (as :math:`a_g < 1`). Then :math:`\\beta\\lambda^2 - \\varphi\\lambda + 1` is positive
    at 0 and negative at 1 and at :math:`1/\\beta`: each pair is real, one member in (0, 1), the
    other above :math:`1/\\beta` (so s = -1 is never an eigenvalue). Of the six choices, the two
    that take both members of a pair are singular; the other four (one member of each pair) are
    the solutions, all real, and exactly one, the smaller member of each pair, is stationary. With
    some :math:`\\delta_g = 1` one pair is :math:`\\{0, \\infty\\}` and two solutions remain, one
    stationary. The enumeration is nonetheless generic: it keeps only real, invertible choices.

    Roots: :math:`1-\\delta_A`, :math:`1-\\delta_B` (a firm's own capital,
    :math:`x' = (1-\\delta_g)x + u_g(M)`), then the eigenvalues of P.
    """
    beta = _real("beta", beta)
    if not 0.0 < beta < 1.0:
        raise ValueError(f"beta must be in (0, 1), got {beta!r}")
    share_a = _real("share_a", share_a)
    if not 0.0 < share_a < 1.0:
        raise ValueError(f"share_a must be in (0, 1) (both types present), got {share_a!r}")
    theta = _pair("theta", theta, lambda v: v > 0.0, "> 0")
    gamma = _pair("gamma", gamma, lambda v: v > 0.0, "> 0")
    delta = _pair("delta", delta, lambda v: 0.0 < v <= 1.0, "in (0, 1]")

    t = np.array(theta)
    w = np.array([share_a, 1.0 - share_a]) * t
    G = np.diag(gamma)
    D = np.diag([1.0 - d for d in delta])
    C = G @ D
    A = beta * C
    B = -(beta * C @ D + beta * np.outer(t, w) + G)
    K = C
    eye, zero = np.eye(2), np.zeros((2, 2))
    L0 = np.block([[eye, zero], [zero, A]])
    L1 = np.block([[zero, eye], [-K, -B]])
    s = -1.0  # never an eigenvalue (see above): L1 - s L0 is invertible
    nu, V = np.linalg.eig(np.linalg.solve(L1 - s * L0, L0))
    finite = [k for k in range(4) if abs(nu[k]) > 1e-12 * np.abs(nu).max()]
    lam = {k: s + 1.0 / nu[k] for k in finite}

    out = []
    for pick in itertools.combinations(finite, 2):
        chosen = [lam[k] for k in pick]
        complex_ones = [z for z in chosen if z.imag != 0.0]
        # P is real only for two real eigenvalues or a conjugate pair (LAPACK returns exact pairs)
        if complex_ones and not (len(complex_ones) == 2
                                 and complex_ones[0] == np.conj(complex_ones[1])):
            continue
        V1 = V[:2, list(pick)]
        if np.linalg.cond(V1) > _SINGULAR_CONDITION:
            continue
        P = (V1 @ np.diag(chosen) @ np.linalg.inv(V1)).real
        P = _polish(A, B, K, P)
        H = P - D
        M0 = G - beta * C @ (eye + H) + beta * np.outer(t, w)
        if np.linalg.cond(M0) > _SINGULAR_CONDITION:  # no constant solves this branch
            continue
        h0 = beta * np.linalg.solve(M0, t)
        aggregate = sorted(np.linalg.eigvals(P) if not complex_ones else chosen,
                           key=lambda z: (abs(z), z.real, z.imag))
        out.append(_solution(
            {"h0": (float(h0[0]), float(h0[1])),
             "H": ((float(H[0, 0]), float(H[0, 1])), (float(H[1, 0]), float(H[1, 1])))},
            (1.0 - delta[0], 1.0 - delta[1], *aggregate)))
    return _sorted(out)
