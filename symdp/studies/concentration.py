"""Concentration of measure: how good is one draw of the N idiosyncratic shocks?

The solver computes the conditional expectation in the Euler equation with a single draw
:math:`\\hat W\\in\\mathbb R^N` of the idiosyncratic shocks and quadrature over the aggregate
shock :math:`\\omega` (:func:`symdp.economics.euler_residual`):

.. math::

    \\hat\\varepsilon(X;\\hat W) = \\gamma u(X) - \\beta\\sum_k w_k\\left[p(\\hat X'_k)
        + \\gamma(1-\\delta)u(\\hat X'_k)\\right],\\qquad
    \\hat X'_{k,i} = (1-\\delta)X_i + u(X) + \\sigma\\hat W_i + \\eta z_k .

Over independent draws :math:`\\hat W\\sim\\mathcal N(0, I_N)` its mean is the exact residual
(up to the quadrature in :math:`\\omega`) and, for a policy whose expected gradient is bounded in
N, its standard deviation falls like :math:`1/\\sqrt N` (concentration of measure). This module
measures that spread for any policy that accepts any N (a deep set, a linear rule), and gives
the closed forms of the linear-quadratic case:

* :func:`shock_draws`, :func:`one_draw_residuals`, :func:`one_draw_policy_values`: the
  one-draw estimates for many independent draws at one state;
* :func:`concentration_curve`: their standard deviations as N grows, with the brute-force
  Monte-Carlo residual (:func:`symdp.economics.monte_carlo_residual`) as the reference;
* :class:`MeanDispersionPolicy`: an explicit rule in the cross-sectional mean and standard
  deviation, a policy that is not a function of the mean alone and whose gradient norm is known
  in closed form;
* :func:`one_draw_lq_solution`: the exact linear solution of the *one-draw* Euler equation for
  nu = 1 with a raw (unstandardised) draw of sample mean m; it differs from the true LQ
  solution by a bias proportional to m ~ N(0, 1/N). Standardising the draw (m = 0, as the
  paper's code does) removes it exactly.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from .._checks import integer
from ..economics import Policy, euler_residual, gauss_hermite, initial_state, monte_carlo_residual
from ..lq import LinearPolicyCoefficients, lq_solution
from ..params import ModelParams
from .scaling import loglog_slope

__all__ = [
    "shock_draws",
    "one_draw_residuals",
    "one_draw_policy_values",
    "residual_gradient_norm",
    "ConcentrationCurve",
    "concentration_curve",
    "one_draw_lq_solution",
    "MeanDispersionPolicy",
]

F64 = torch.float64



def shock_draws(n_draws: int, N: int, generator: torch.Generator, standardize: bool = False,
                dtype: torch.dtype = F64) -> torch.Tensor:
    """``n_draws`` independent draws of :math:`\\hat W\\sim\\mathcal N(0, I_N)`, shape (n_draws, N).

    With ``standardize`` every row is recentred and rescaled to sample mean 0 and sample standard
    deviation 1 (as :func:`symdp.economics.idiosyncratic_draw` does for the solver's one draw).
    """
    n_draws, N = integer("n_draws", n_draws), integer("N", N)
    W = torch.randn(n_draws, N, generator=generator, dtype=dtype)
    if standardize:
        if N == 1:
            return torch.zeros_like(W)
        W = (W - W.mean(-1, keepdim=True)) / W.std(-1, keepdim=True)
    return W


def _rows(N: int, nodes: int, budget: int = 1 << 21) -> int:
    return max(1, budget // (N * (nodes + 1)))


@torch.no_grad()
def one_draw_residuals(params: ModelParams, policy: Policy, X: torch.Tensor, W: torch.Tensor,
                       quadrature_nodes: int = 7) -> np.ndarray:
    """The one-draw Euler residual :math:`\\hat\\varepsilon(X;\\hat W_d)` for each row d of ``W``.

    Parameters
    ----------
    params : ModelParams
        The economy (``params.N`` must equal the length of X).
    policy : callable
        Maps ``(..., N)`` to ``(...)``.
    X : torch.Tensor, shape (N,)
        One state.
    W : torch.Tensor, shape (n_draws, N)
        Independent draws (e.g. :func:`shock_draws`).
    quadrature_nodes : int
        Gauss-Hermite nodes for the aggregate shock.

    Returns
    -------
    ndarray (n_draws,), float64.
    """
    kw, nodes, weights = _quadrature(params, X, W, quadrature_nodes)
    out = []
    for Wc in W.split(_rows(params.N, quadrature_nodes)):
        Xc = X.expand(Wc.shape[0], params.N)  # one row per draw: each row its own W_hat
        out.append(euler_residual(params, policy, Xc, Wc.to(**kw), nodes, weights))
    return torch.cat(out).double().cpu().numpy()


@torch.no_grad()
def one_draw_policy_values(params: ModelParams, policy: Policy, X: torch.Tensor, W: torch.Tensor,
                           omega: float = 0.0) -> np.ndarray:
    """:math:`u(\\hat X')` with :math:`\\hat X'_i = (1-\\delta)X_i + u(X) + \\sigma\\hat W_i + \\eta\\omega`.

    One value per row of ``W`` (shape (n_draws,)), conditional on the aggregate shock ``omega``:
    the one-draw estimate of :math:`E[u(X')\\mid\\omega]`.
    """
    _check_shapes(params, X, W)
    u = policy(X.unsqueeze(0))[0]
    base = (1.0 - params.delta) * X + u + params.eta * omega
    out = [policy(base + params.sigma * Wc.to(X.dtype)) for Wc in W.split(_rows(params.N, 1))]
    return torch.cat(out).double().cpu().numpy()


def residual_gradient_norm(params: ModelParams, policy: Policy, X: torch.Tensor, W: torch.Tensor,
                           quadrature_nodes: int = 7) -> float:
    """:math:`\\sqrt{E\\|\\nabla_W\\hat\\varepsilon(X;W)\\|^2}` estimated over the rows of ``W``.

    By the Gaussian Poincare inequality, :math:`\\mathrm{Var}\\,f(W)\\le E\\|\\nabla f(W)\\|^2` for
    :math:`W\\sim\\mathcal N(0, I_N)`, so this bounds the standard deviation of the one-draw
    residual over raw draws (with equality when the residual is linear in W, as for the LQ
    policy). An expected gradient bounded in N (:math:`\\le C/N`) makes it fall like
    :math:`1/\\sqrt N`.
    """
    kw, nodes, weights = _quadrature(params, X, W, quadrature_nodes)
    total = 0.0
    for Wc in W.split(_rows(params.N, quadrature_nodes)):
        Wc = Wc.to(**kw).clone().requires_grad_(True)
        r = euler_residual(params, policy, X.expand(Wc.shape[0], params.N), Wc, nodes, weights)
        (grad,) = torch.autograd.grad(r.sum(), Wc)  # row d depends on W_d only
        total += float(grad.double().pow(2).sum())
    return math.sqrt(total / W.shape[0])


def _quadrature(params: ModelParams, X: torch.Tensor, W: torch.Tensor, n: int):
    """Checked shapes, then X's dtype and device and the Gauss-Hermite nodes and weights on them."""
    _check_shapes(params, X, W)
    z, w = gauss_hermite(n)
    kw = {"dtype": X.dtype, "device": X.device}
    return kw, torch.tensor(z, **kw), torch.tensor(w, **kw)


def _check_shapes(params: ModelParams, X: torch.Tensor, W: torch.Tensor) -> None:
    if X.ndim != 1 or X.shape[0] != params.N:
        raise ValueError(f"X must have shape (N,) = ({params.N},), got {tuple(X.shape)}")
    if W.ndim != 2 or W.shape[1] != params.N:
        raise ValueError(f"W must have shape (n_draws, N={params.N}), got {tuple(W.shape)}")


@dataclass(frozen=True)
class ConcentrationCurve:
    """Spread of the one-draw estimates at one state per N (arrays indexed like ``N``).

    Attributes
    ----------
    N : ndarray of int
    sd_eps : ndarray
        Standard deviation over draws of :math:`\\hat\\varepsilon(X;\\hat W)`.
    sd_u : ndarray
        Standard deviation over draws of :math:`u(\\hat X')` given :math:`\\omega = 0`.
    mean_eps : ndarray
        Mean over draws of :math:`\\hat\\varepsilon` (estimates the exact residual).
    reference : ndarray
        Brute-force Monte-Carlo residual over all N + 1 shocks (NaN if not computed).
    rmse_eps : ndarray
        :math:`\\sqrt{\\text{mean}_d(\\hat\\varepsilon_d - \\text{reference})^2}`: the typical error
        of a single draw against the reference (NaN if no reference).
    poincare : ndarray
        :func:`residual_gradient_norm` over (at most ``grad_draws``) raw draws: a bound on
        ``sd_eps`` for raw draws (NaN when the draws are standardised).
    n_draws : int
    standardize : bool
        Whether each draw was standardised.
    """

    N: np.ndarray
    sd_eps: np.ndarray
    sd_u: np.ndarray
    mean_eps: np.ndarray
    reference: np.ndarray
    rmse_eps: np.ndarray
    poincare: np.ndarray
    n_draws: int
    standardize: bool

    def slope(self, field: str = "sd_eps") -> float:
        """Log-log slope of ``field`` against N (see :func:`loglog_slope`)."""
        N, sd = np.asarray(self.N, dtype=float), np.asarray(getattr(self, field), dtype=float)
        keep = (sd > 0) & np.isfinite(sd)  # a residual that is exactly zero has no logarithm
        if keep.sum() < 2:
            raise ValueError("need at least two positive points to fit a slope")
        return loglog_slope(N[keep], sd[keep])

    def to_frame(self):
        """A pandas DataFrame indexed by N."""
        import pandas as pd

        cols = ("sd_eps", "sd_u", "mean_eps", "reference", "rmse_eps", "poincare")
        return pd.DataFrame({c: getattr(self, c) for c in cols},
                            index=pd.Index(self.N, name="N"))


def concentration_curve(
    params: ModelParams,
    policy: Policy,
    Ns: Sequence[int],
    n_draws: int,
    seed: int = 0,
    standardize: bool = False,
    mc_draws: int = 0,
    quadrature_nodes: int = 7,
    grad_draws: int = 100,
) -> ConcentrationCurve:
    """Measure the one-draw errors at one state for each N in ``Ns``.

    For each N: the state is one draw of :math:`X_0` (:func:`symdp.economics.initial_state`
    with ``params.replace(N=N)``), then ``n_draws`` independent draws of :math:`\\hat W` give
    ``n_draws`` one-draw residuals and values :math:`u(\\hat X')`. The policy must accept any N
    (a deep set or a linear rule in the mean); it is evaluated in float64 (a copy).

    Parameters
    ----------
    params : ModelParams
        The economy; its N is replaced by each entry of ``Ns``.
    policy : torch.nn.Module or callable
    Ns : sequence of int
        Numbers of firms, each >= 1.
    n_draws : int
        Independent draws per N, >= 2.
    seed : int
        Seeds the state and the draws (one generator per N, seeded ``seed + N``).
    standardize : bool
        Standardise each draw (see :func:`shock_draws`).
    mc_draws : int
        If > 0, also compute the brute-force Monte-Carlo residual with this many draws of all
        N + 1 shocks as the reference.
    quadrature_nodes : int
        Gauss-Hermite nodes for the aggregate shock.
    grad_draws : int
        Draws used for the Poincare bound (raw draws only; the first ``grad_draws`` rows).
    """
    grad_draws = integer("grad_draws", grad_draws)
    n_draws = integer("n_draws", n_draws)
    if n_draws < 2:
        raise ValueError(f"n_draws must be >= 2 to measure a spread, got {n_draws}")
    mc_draws = integer("mc_draws", mc_draws, 0)
    Ns = [integer("N", N) for N in Ns]
    if not Ns:
        raise ValueError("Ns must list at least one N")
    if isinstance(policy, torch.nn.Module):
        policy = copy.deepcopy(policy).double().eval()
    names = ("sd_eps", "sd_u", "mean_eps", "reference", "rmse_eps", "poincare")
    rows: dict[str, list] = {k: [] for k in names}
    for N in Ns:
        p = params.replace(N=N)
        gen = torch.Generator().manual_seed(seed + N)
        X = initial_state(p, gen, dtype=F64)
        W = shock_draws(n_draws, N, gen, standardize)
        eps = one_draw_residuals(p, policy, X, W, quadrature_nodes)
        u = one_draw_policy_values(p, policy, X, W)
        rows["sd_eps"].append(eps.std(ddof=1))
        rows["sd_u"].append(u.std(ddof=1))
        rows["mean_eps"].append(eps.mean())
        rows["poincare"].append(math.nan if standardize else residual_gradient_norm(
            p, policy, X, W[:grad_draws], quadrature_nodes))
        if mc_draws:
            ref = float(monte_carlo_residual(p, policy, X.unsqueeze(0), mc_draws, gen)[0])
            rows["reference"].append(ref)
            rows["rmse_eps"].append(float(np.sqrt(np.mean((eps - ref) ** 2))))
        else:
            rows["reference"].append(math.nan)
            rows["rmse_eps"].append(math.nan)
    return ConcentrationCurve(np.array(Ns), *(np.array(rows[k]) for k in names),
                              n_draws=n_draws, standardize=standardize)


def one_draw_lq_solution(params: ModelParams, draw_mean: float) -> LinearPolicyCoefficients:
    """Exact stationary linear solution of the one-draw Euler equation with a raw draw (nu = 1).

    With one draw of sample mean :math:`m = \\frac1N\\sum_i\\hat W_i`, the law of motion the
    solver sees is :math:`\\hat{\\bar X}' = (1-\\delta)\\bar X + u + \\sigma m + \\eta\\omega`.
    Matching coefficients in :math:`u = H_0 + H_1\\bar X` leaves :math:`H_1` unchanged and gives

    .. math::

        H_0(m) = H_0\\,\\left[1 - \\sigma m\\,(1 - \\gamma(1-\\delta)H_1)\\right],

    so a solver that zeroes the one-draw residual learns a policy biased by
    :math:`H_0(m) - H_0`, with :math:`m\\sim\\mathcal N(0, 1/N)`. A standardised draw has m = 0.
    """
    if not params.is_linear:
        raise ValueError(f"one_draw_lq_solution needs nu = 1 (the LQ case), got nu={params.nu}")
    if not math.isfinite(draw_mean):
        raise ValueError(f"draw_mean must be finite, got {draw_mean!r}")
    lq = lq_solution(params)
    scale = 1.0 - params.sigma * draw_mean * (1.0 - params.gamma * (1.0 - params.delta) * lq.H1)
    return LinearPolicyCoefficients(lq.H0 * scale, lq.H1)


class MeanDispersionPolicy(torch.nn.Module):
    """:math:`u(X) = h_0 + h_1\\bar X + \\kappa\\, s(X)`, with :math:`s(X)` the cross-sectional sd.

    :math:`s(X) = \\sqrt{\\frac1N\\sum_i (X_i - \\bar X)^2}` (population sd). The rule is
    permutation invariant and defined for every N, like a deep set, but it depends on the
    dispersion of capital, not only on its mean. Its gradient is
    :math:`\\partial u/\\partial X_i = h_1/N + \\kappa (X_i - \\bar X)/(N s)`, so
    :math:`\\|\\nabla u\\|^2 = (h_1^2 + \\kappa^2)/N` exactly (for s > 0): its expected gradient is
    bounded in N. Unlike a rule in the mean, its one-draw error is not removed by standardising
    the draw, which fixes the draw's mean and variance but not its covariance with X.

    Parameters
    ----------
    h0, h1 : float
        Intercept and slope in the mean (e.g. the LQ solution's ``H0``, ``H1``).
    kappa : float
        Weight on the cross-sectional sd.
    """

    def __init__(self, h0: float, h1: float, kappa: float):
        super().__init__()
        for name, v in (("h0", h0), ("h1", h1), ("kappa", kappa)):
            if not math.isfinite(float(v)):
                raise ValueError(f"{name} must be finite, got {v!r}")
        self.h0, self.h1, self.kappa = float(h0), float(h1), float(kappa)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        mean = X.mean(-1)
        sd = ((X - mean.unsqueeze(-1)) ** 2).mean(-1).sqrt()
        return self.h0 + self.h1 * mean + self.kappa * sd
