"""Checking a policy: Euler residuals, LQ policy errors, and stationarity along simulated paths.

A small residual is not enough. With nu = 1 the Euler equation has an explosive linear solution
that zeroes the residual as well as the stationary one does, so a policy is accepted only if its
own equilibrium paths stay economically sensible:

* every test trajectory's cross-sectional mean stays in ``band`` (default (0, 1): capital positive
  and, since p = 1 - mean X^nu, prices positive); and
* for nu = 1, each trajectory's mean stays within ``lq_path_tol`` of the mean of the same economy
  (same shocks) simulated under the stationary LQ policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .economics import euler_residual, next_state
from .lq import LinearPolicyCoefficients, lq_solution
from .params import ModelParams

__all__ = ["StationarityCheck", "Evaluation", "residual_mse", "evaluate", "fitted_linear_policy"]


@dataclass(frozen=True)
class StationarityCheck:
    """Limits a policy's simulated equilibrium paths must respect to count as stationary."""

    band: tuple[float, float] = (0.0, 1.0)  # allowed range of the cross-sectional mean
    lq_path_tol: float = 0.02  # nu = 1: max |mean X - mean X under LQ| along a path


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

    @property
    def test_mse(self) -> float:
        return float(np.mean(self.residual**2)) if np.all(np.isfinite(self.residual)) else float("inf")

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


@torch.no_grad()
def fitted_linear_policy(policy, X: torch.Tensor) -> LinearPolicyCoefficients:
    """Least-squares :math:`(H_0, H_1)` of :math:`u(X) \approx H_0 + H_1\bar X` over the rows of X.

    Tells which LQ root a fitted network is close to (nu = 1): :math:`H_1 < 0` is the stationary one.
    """
    m = X.double().mean(-1).cpu().numpy()
    u = policy(X).double().cpu().numpy()
    H1, H0 = np.polyfit(m, u, 1)
    return LinearPolicyCoefficients(float(H0), float(H1))


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
) -> Evaluation:
    """Simulate fresh test trajectories under ``policy`` and measure it along them.

    States are streamed (one date at a time), so memory does not grow with T. For nu = 1 the
    mean of each economy is also simulated under the stationary LQ policy with the same shocks.
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
    for t in range(T + 1):
        u_t = torch.cat([policy(Xc) for Xc in X.split(rows)])
        r_t = torch.cat([euler_residual(params, policy, Xc, W_hat, nodes, weights)
                         for Xc in X.split(rows)])
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
    return Evaluation(mean_X, u_out, res, u_lq, mean_lq, stationary, reason, check)


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
