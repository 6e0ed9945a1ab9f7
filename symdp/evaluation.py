"""Checking a policy: Euler residuals, LQ policy errors, and stationarity along simulated paths.

A small residual is not enough. With nu = 1 the Euler equation has an explosive linear solution
that zeroes the residual as well as the stationary one does, so a policy is accepted only if its
own equilibrium paths stay economically sensible:

* every test trajectory's cross-sectional mean stays in ``band`` (default (0, 1): capital positive
  and, since p = 1 - mean X^nu, prices positive); and
* for nu = 1, each trajectory's mean stays within ``lq_path_tol`` of the mean of the same economy
  (same shocks) simulated under the stationary LQ policy.

The test residual at every test state uses the one standardised draw of the idiosyncratic shocks
that training used, so it is not an independent check of that approximation. With
:class:`FreshDraws`, :func:`evaluate` also computes the Euler residual at a subsample of the test
states with the expectation over all N + 1 shocks taken by (antithetic) Monte Carlo
(:func:`symdp.economics.monte_carlo_residual`): a residual that owes nothing to the training draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .economics import euler_residual, monte_carlo_residual, next_state, price
from .lq import LinearPolicyCoefficients, lq_solution
from .params import ModelParams

__all__ = ["StationarityCheck", "FreshDraws", "Evaluation", "residual_mse", "evaluate",
           "fitted_linear_policy", "linear_fit", "sample_points", "fresh_draw_residual",
           "semi_gradient_factor", "actions_and_residuals"]


@dataclass(frozen=True)
class StationarityCheck:
    """Limits a policy's simulated equilibrium paths must respect to count as stationary."""

    band: tuple[float, float] = (0.0, 1.0)  # allowed range of the cross-sectional mean
    lq_path_tol: float = 0.02  # nu = 1: max |mean X - mean X under LQ| along a path


@dataclass(frozen=True)
class FreshDraws:
    """Settings of the fresh-draw test residual (see :func:`evaluate`).

    ``states`` test states, spread over paths and dates (:func:`sample_points`); at each, the
    expectation of the Euler equation over ``draws`` Monte Carlo draws of all N + 1 shocks
    (antithetic pairs, so an odd number is rounded up), from a generator seeded with ``seed``.
    """

    states: int = 32
    draws: int = 256
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("states", "draws"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


@dataclass
class Evaluation:
    """Per-point results along test trajectories (arrays of shape (trajectories, T + 1))."""

    mean_X: np.ndarray
    u: np.ndarray
    residual: np.ndarray
    u_lq: np.ndarray | None  # stationary LQ policy at the same states (nu = 1 only)
    mean_X_lq: np.ndarray | None  # same shocks, LQ policy (nu = 1 only)
    stationary: bool
    reason: str
    check: StationarityCheck = field(default_factory=StationarityCheck)
    # Fresh-draw residuals (None without FreshDraws): at the test states (fresh_paths[k],
    # fresh_dates[k]), the Euler residual with a Monte Carlo expectation over all N + 1 shocks.
    fresh_residual: np.ndarray | None = None
    fresh_paths: np.ndarray | None = None
    fresh_dates: np.ndarray | None = None

    @property
    def test_mse(self) -> float:
        return float(np.mean(self.residual**2)) if np.all(np.isfinite(self.residual)) else float("inf")

    @property
    def fresh_mse(self) -> float | None:
        """Mean squared fresh-draw residual over the sampled test states (None if not computed)."""
        if self.fresh_residual is None:
            return None
        r = self.fresh_residual
        return float(np.mean(r**2)) if np.all(np.isfinite(r)) else float("inf")

    @property
    def sample_mse(self) -> float | None:
        """The one-draw test MSE at the same sampled states as :attr:`fresh_mse` (like for like)."""
        if self.fresh_residual is None:
            return None
        r = self.residual[self.fresh_paths, self.fresh_dates]
        return float(np.mean(r**2)) if np.all(np.isfinite(r)) else float("inf")

    @property
    def rel_error(self) -> np.ndarray | None:
        """:math:`|u - u_{LQ}| / |u_{LQ}|` at every test point (nu = 1), else None."""
        if self.u_lq is None:
            return None
        return np.abs(self.u - self.u_lq) / np.abs(self.u_lq)

    @property
    def policy_rel_error(self) -> float | None:
        """Mean relative policy error over all test points (nu = 1), else None."""
        e = self.rel_error
        if e is None:
            return None
        return float(np.mean(e)) if np.all(np.isfinite(e)) else float("inf")


def linear_fit(mean_X, u, finite_only: bool = False) -> LinearPolicyCoefficients:
    """Least-squares :math:`(H_0, H_1)` of :math:`u \\approx H_0 + H_1\\bar X` over all points.

    For a fitted network this says how close it came to the linear form of the exact solution,
    and to which root (:func:`symdp.lq.nearest_root`: :math:`H_1 < 0` is the stationary one);
    for the LQ policy itself it returns that policy's coefficients.

    Parameters
    ----------
    mean_X, u : array-like of the same shape
        The cross-sectional mean and the policy at the same states (e.g.
        :attr:`Evaluation.mean_X` and :attr:`Evaluation.u`, all paths and dates).
    finite_only : bool
        Drop the points where either is not finite (a fit that diverged on some paths) instead
        of raising.

    Raises
    ------
    ValueError
        Non-finite points (unless ``finite_only``), fewer than two points, or a mean that never
        varies (then :math:`H_1` is not identified).
    """
    m = np.asarray(mean_X, dtype=float).ravel()
    v = np.asarray(u, dtype=float).ravel()
    ok = np.isfinite(m) & np.isfinite(v)
    if not ok.all():
        if not finite_only:
            raise ValueError("the evaluation has non-finite states or policies (a diverged fit)")
        m, v = m[ok], v[ok]
    if len(m) < 2 or np.ptp(m) == 0.0:
        raise ValueError("the mean of X never varies along the paths: H1 is not identified")
    H1, H0 = np.polyfit(m, v, 1)
    return LinearPolicyCoefficients(float(H0), float(H1))


@torch.no_grad()
def fitted_linear_policy(policy, X: torch.Tensor) -> LinearPolicyCoefficients:
    """:func:`linear_fit` of ``policy`` over the rows of X (nu = 1: which LQ root it is near)."""
    return linear_fit(X.double().mean(-1).cpu().numpy(), policy(X).double().cpu().numpy())


def residual_mse(params, policy, X, W_hat, nodes, weights, chunk: int = 1 << 22) -> float:
    """Mean squared Euler residual over the rows of X (no gradient, chunked for memory)."""
    n_rows, N = X.shape
    rows = max(1, chunk // (N * (len(nodes) + 1)))
    total = 0.0
    with torch.no_grad():
        for Xc in X.split(rows):
            r = euler_residual(params, policy, Xc, W_hat, nodes, weights)
            total += float(r.double().pow(2).sum())
    return total / n_rows


def sample_points(n_trajectories: int, T: int, n_states: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_states`` (path, date) pairs spread over the test paths and their T + 1 dates.

    Dates are evenly spaced from 0 to T (the early, fast-moving periods and the late, settled
    ones alike); paths cycle through 0, 1, ... so no path is used twice before all are used.
    With more states than points, every point is taken once.
    """
    if not (isinstance(n_states, int) and n_states >= 1):
        raise ValueError(f"n_states must be an integer >= 1, got {n_states!r}")
    total = n_trajectories * (T + 1)
    if n_states >= total:
        k = np.arange(total)
        return k // (T + 1), k % (T + 1)
    dates = np.round(np.linspace(0, T, n_states)).astype(int)
    paths = np.arange(n_states) % n_trajectories
    return paths, dates


def fresh_draw_residual(params: ModelParams, policy, X: torch.Tensor, draws: int,
                        generator: torch.Generator, chunk: int = 1 << 22) -> np.ndarray:
    """Euler residual at each row of X with the expectation over ``draws`` fresh draws of all
    N + 1 shocks (:func:`symdp.economics.monte_carlo_residual`, antithetic), one row at a time
    with draws in chunks of about ``chunk`` elements per layer (a phi evaluated at every firm
    of every draw holds draws x N x width numbers)."""
    width = 128  # a bound on the hidden width of the book's networks, for the memory budget
    per_chunk = max(1, chunk // (params.N * width))
    out = [monte_carlo_residual(params, policy, x.unsqueeze(0), draws, generator, per_chunk)
           for x in X]
    return torch.cat(out).double().cpu().numpy()


@torch.no_grad()
def evaluate(
    params: ModelParams,
    policy,
    X0: torch.Tensor,
    W_hat: torch.Tensor,
    nodes: torch.Tensor,
    weights: torch.Tensor,
    n_trajectories: int = 256,
    T: int = 63,
    generator: torch.Generator | None = None,
    check: StationarityCheck = StationarityCheck(),
    chunk: int = 1 << 22,
    fresh: FreshDraws | None = None,
) -> Evaluation:
    """Simulate fresh test trajectories under ``policy`` and measure it along them.

    States are streamed (one date at a time), so memory does not grow with T. For nu = 1 the
    mean of each economy is also simulated under the stationary LQ policy with the same shocks.
    With ``fresh``, the states at :func:`sample_points` are kept and their Euler residuals
    recomputed with fresh Monte Carlo draws of all shocks (:func:`fresh_draw_residual`), after
    the simulation, so the test paths are the same with or without it.
    """
    kw = {"device": X0.device, "dtype": X0.dtype}
    if generator is None:
        generator = torch.Generator(device=X0.device).manual_seed(12345)
    lq = lq_solution(params) if params.is_linear else None
    shape = (n_trajectories, T + 1)
    mean_X, u_out, res = (np.empty(shape) for _ in range(3))
    mean_lq = np.empty(shape) if lq else None
    rows = max(1, chunk // (params.N * (len(nodes) + 1)))

    X = X0.expand(n_trajectories, params.N).clone()
    m_lq = X.double().mean(-1)
    if fresh is not None:
        f_paths, f_dates = sample_points(n_trajectories, T, fresh.states)
        kept = torch.empty(len(f_paths), params.N, **kw)
    for t in range(T + 1):
        if fresh is not None:
            at = np.flatnonzero(f_dates == t)
            if len(at):
                kept[torch.as_tensor(at)] = X[torch.as_tensor(f_paths[at])]
        u_t, r_t = actions_and_residuals(
            X, rows, policy,
            lambda Xc, u: euler_residual(params, policy, Xc, W_hat, nodes, weights, actions=u))
        mean_X[:, t] = X.double().mean(-1).cpu().numpy()
        u_out[:, t] = u_t.double().cpu().numpy()
        res[:, t] = r_t.double().cpu().numpy()
        if lq:
            mean_lq[:, t] = m_lq.cpu().numpy()
        if t == T:
            break
        W = torch.randn(n_trajectories, params.N, generator=generator, **kw)
        omega = torch.randn(n_trajectories, generator=generator, **kw)
        X = next_state(params, X, u_t, W, omega)
        if lq:  # the LQ economy's mean, same shocks: only the mean matters for its policy
            m_lq = ((1 - params.delta) * m_lq + lq(m_lq) + params.sigma * W.double().mean(-1)
                    + params.eta * omega.double())
    u_lq = lq(mean_X) if lq else None
    stationary, reason = _stationarity(mean_X, mean_lq, check)
    fresh_res = None
    if fresh is not None:
        if torch.isfinite(kept).all():
            mc_gen = torch.Generator(device=X0.device).manual_seed(fresh.seed)
            fresh_res = fresh_draw_residual(params, policy, kept, fresh.draws, mc_gen, chunk)
        else:  # a diverged path: its residual is not finite either
            fresh_res = np.full(len(f_paths), np.inf)
    return Evaluation(mean_X, u_out, res, u_lq, mean_lq, stationary, reason, check,
                      fresh_res, f_paths if fresh else None, f_dates if fresh else None)


def actions_and_residuals(X: torch.Tensor, rows: int, act: Callable[[torch.Tensor], torch.Tensor],
                          residual: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Today's actions ``act(Xc)`` and the Euler residuals ``residual(Xc, actions)`` at the
    states X, ``rows`` states at a time.

    The residual is handed the actions already computed, so a test path evaluates each state's
    policy once, not again inside the residual (with 7 nodes, a ninth of its evaluations).
    """
    u, r = [], []
    for Xc in X.split(rows):
        u.append(act(Xc))
        r.append(residual(Xc, u[-1]))
    return torch.cat(u), torch.cat(r)


def semi_gradient_factor(params: ModelParams, policy, X: torch.Tensor, W_hat: torch.Tensor,
                         nodes: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    r""":math:`\partial\varepsilon/\partial u(X)` with the next-period policy held fixed.

    A semi-gradient step (``gradient="semi"``) moves the coefficients along
    :math:`\varepsilon(X)\,c(X)\,\partial u(X)/\partial\theta` with

    .. math::

        c(X) = \gamma - \beta\sum_k q_k\,\frac{\partial}{\partial u}\left[p(X'_k)
            + \gamma(1-\delta)u(X'_k)\right],

    since u(X) enters X' as a common shift. Near a solution c is close to
    :math:`\gamma(1 - \beta(1-\delta)H_1) + \beta\nu\overline{X'^{\nu-1}}`; it vanishes where
    the policy's response to a common shift of capital reaches the pole
    :math:`(1/\beta + \nu\overline{X'^{\nu-1}}/\gamma)/(1-\delta)`, and there the step stops
    although the residual is not zero. Shape ``X.shape[:-1]``.
    """
    u = policy(X).detach().requires_grad_(True)
    common = u.unsqueeze(-1) + params.eta * nodes
    base = (1.0 - params.delta) * X + params.sigma * W_hat
    X_next = base.unsqueeze(-2) + common.unsqueeze(-1)
    f = price(X_next, params.nu) + params.gamma * (1.0 - params.delta) * policy(X_next)
    r = params.gamma * u - params.beta * (f * weights).sum(-1)
    (g,) = torch.autograd.grad(r.sum(), u)
    return g.detach()


def _stationarity(mean_X, mean_lq, check: StationarityCheck) -> tuple[bool, str]:
    if not np.all(np.isfinite(mean_X)):
        return False, "diverged: non-finite states on a test path"
    lo, hi = check.band
    if mean_X.min() <= lo or mean_X.max() >= hi:
        return False, (f"left the band: cross-sectional mean reached "
                       f"[{mean_X.min():.3g}, {mean_X.max():.3g}], allowed ({lo}, {hi})")
    if mean_lq is not None:
        gap = float(np.max(np.abs(mean_X - mean_lq)))
        if gap > check.lq_path_tol:
            return False, f"drifted from the LQ path by {gap:.3g} > {check.lq_path_tol}"
    return True, "stationary"
