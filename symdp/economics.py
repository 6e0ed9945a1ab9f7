"""The model's economics as pure functions on torch tensors.

Shapes: a state is a tensor ``X`` of shape ``(..., N)`` (one row per economy); a policy maps it to
the common investment ``u(X)`` of shape ``(...)``. Every function here is pure: randomness comes in
through explicit shocks or a ``torch.Generator``.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from .params import ModelParams

__all__ = [
    "price",
    "next_state",
    "initial_state",
    "simulate",
    "gauss_hermite",
    "idiosyncratic_draw",
    "euler_residual",
    "monte_carlo_residual",
]

Policy = Callable[[torch.Tensor], torch.Tensor]


def price(X: torch.Tensor, nu: float) -> torch.Tensor:
    """Inverse demand :math:`p(X) = 1 - \\frac1N\\sum_i X_i^\\nu` over the last axis.

    For nu != 1 capital must be nonnegative; a negative entry gives NaN, which the solver treats
    as divergence.
    """
    if nu == 1.0:
        return 1.0 - X.mean(-1)
    return 1.0 - X.pow(nu).mean(-1)


def next_state(
    params: ModelParams,
    X: torch.Tensor,
    u: torch.Tensor,
    W: torch.Tensor,
    omega: torch.Tensor,
) -> torch.Tensor:
    """Law of motion :math:`X_i' = (1-\\delta)X_i + u + \\sigma W_i + \\eta\\omega`.

    ``u`` and ``omega`` have the shape of ``X`` without its last axis (common to all firms);
    ``W`` broadcasts against ``X``.
    """
    common = u + params.eta * omega
    return (1.0 - params.delta) * X + params.sigma * W + common.unsqueeze(-1)


def initial_state(params: ModelParams, generator: torch.Generator, **tensor_kw) -> torch.Tensor:
    """One draw of :math:`X_0`, each firm :math:`|\\mathcal N(x0\\_loc, x0\\_scale^2)|`, shape (N,)."""
    z = torch.randn(params.N, generator=generator, **tensor_kw)
    return (params.x0_loc + params.x0_scale * z).abs()


@torch.no_grad()
def simulate(
    params: ModelParams,
    policy: Policy,
    X0: torch.Tensor,
    n_trajectories: int,
    T: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """Simulate ``n_trajectories`` economies for T periods from the common state ``X0``.

    Returns a tensor of shape ``(n_trajectories, T + 1, N)``; row t is the state at date t.
    Shocks are drawn from ``generator`` on the device and dtype of ``X0``.
    """
    kw = {"device": X0.device, "dtype": X0.dtype}
    out = torch.empty(n_trajectories, T + 1, params.N, **kw)
    out[:, 0] = X0
    for t in range(T):
        X = out[:, t]
        W = torch.randn(n_trajectories, params.N, generator=generator, **kw)
        omega = torch.randn(n_trajectories, generator=generator, **kw)
        out[:, t + 1] = next_state(params, X, policy(X), W, omega)
    return out


def gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights with :math:`\\sum_k w_k f(z_k) \\approx E[f(z)]`, :math:`z\\sim\\mathcal N(0,1)`.

    Exact for polynomials of degree up to 2n - 1.
    """
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"quadrature_nodes must be an integer >= 1, got {n!r}")
    x, w = np.polynomial.hermite.hermgauss(n)
    return x * math.sqrt(2.0), w / math.sqrt(math.pi)


def idiosyncratic_draw(
    N: int, generator: torch.Generator, standardize: bool = True, **tensor_kw
) -> torch.Tensor:
    """The single draw :math:`\\hat W \\in \\mathbb R^N` used for every expectation.

    With ``standardize`` (the paper's code does this) the draw is recentred and rescaled to sample
    mean 0 and sd 1, which removes the one-draw error of the mean (and so, for nu = 1, all of it).
    """
    W = torch.randn(N, generator=generator, **tensor_kw)
    if standardize and N > 1:
        W = (W - W.mean()) / W.std()
    elif standardize:
        W = torch.zeros_like(W)
    return W


def euler_residual(
    params: ModelParams,
    policy: Policy,
    X: torch.Tensor,
    W_hat: torch.Tensor,
    nodes: torch.Tensor,
    weights: torch.Tensor,
    policy_next: Policy | None = None,
    actions: torch.Tensor | None = None,
) -> torch.Tensor:
    """Euler residual computed the paper's way, shape ``X.shape[:-1]``.

    .. math::

        \\varepsilon(X) = \\gamma u(X) - \\beta \\sum_k w_k\\left[p(X'_k)
            + \\gamma(1-\\delta)u(X'_k)\\right],\\qquad
        X'_{k,i} = (1-\\delta)X_i + u(X) + \\sigma\\hat W_i + \\eta z_k,

    one draw :math:`\\hat W` of the N idiosyncratic shocks (concentration of measure) and
    Gauss-Hermite nodes :math:`(z_k, w_k)` for the aggregate shock. Differentiable in the policy's
    parameters, through u(X) inside X' as well. ``policy_next``, if given, is used for
    :math:`u(X'_k)` instead of ``policy`` (e.g. a copy with frozen weights: time iteration).
    ``actions``, if given, is today's u(X) instead of the policy's (:mod:`symdp.finish`
    differentiates through it separately).
    """
    u = policy(X) if actions is None else actions
    common = u.unsqueeze(-1) + params.eta * nodes  # (..., K)
    base = (1.0 - params.delta) * X + params.sigma * W_hat  # (..., N)
    # X'_k = base + common_k: a policy (or, at nu = 1, the price) that can evaluate shifted
    # states from base alone is never handed the (..., K, N) states (the cost of large N).
    X_next = _Shifted(base, common)
    u_next = X_next.apply(policy_next or policy)
    p_next = (1.0 - X_next.mean() if params.nu == 1.0 else price(X_next.states(), params.nu))
    integrand = p_next + params.gamma * (1.0 - params.delta) * u_next
    return params.gamma * u - params.beta * (integrand * weights).sum(-1)


class _Shifted:
    """The states ``base + s`` for each shift s in the last axis of ``shifts``, formed
    (``(..., K, N)``) only when asked for and then once."""

    def __init__(self, base: torch.Tensor, shifts: torch.Tensor) -> None:
        self.base, self.shifts, self._states = base, shifts, None

    def states(self) -> torch.Tensor:
        if self._states is None:
            self._states = self.base.unsqueeze(-2) + self.shifts.unsqueeze(-1)
        return self._states

    def mean(self) -> torch.Tensor:
        """The mean over firms of each shifted state, ``(..., K)``."""
        return self.base.mean(-1, keepdim=True) + self.shifts

    def apply(self, policy: Policy) -> torch.Tensor:
        """The policy at each shifted state, ``(..., K)``: through its ``at_shifts`` where it has
        one (:meth:`symdp.networks.DeepSetPolicy.at_shifts`), else at the formed states."""
        at_shifts = getattr(policy, "at_shifts", None)
        return policy(self.states()) if at_shifts is None else at_shifts(self.base, self.shifts)


@torch.no_grad()
def monte_carlo_residual(
    params: ModelParams,
    policy: Policy,
    X: torch.Tensor,
    n_draws: int,
    generator: torch.Generator,
    chunk: int = 256,
) -> torch.Tensor:
    """Brute-force Euler residual: the expectation over all N + 1 shocks by Monte Carlo.

    Averages :math:`p(X') + \\gamma(1-\\delta)u(X')` over ``n_draws`` independent draws of
    :math:`(W_1,\\dots,W_N,\\omega)` (antithetic pairs, so n_draws is rounded up to even).
    Used as the reference the one-draw estimate is checked against.
    """
    kw = {"device": X.device, "dtype": X.dtype}
    u = policy(X)
    base = (1.0 - params.delta) * X + u.unsqueeze(-1)  # (..., N)
    total = torch.zeros_like(u)
    half = (n_draws + 1) // 2
    done = 0
    while done < half:
        m = min(chunk, half - done)
        W = torch.randn(m, params.N, generator=generator, **kw)
        omega = torch.randn(m, generator=generator, **kw)
        for sign in (1.0, -1.0):
            shock = sign * (params.sigma * W + params.eta * omega.unsqueeze(-1))  # (m, N)
            X_next = base.unsqueeze(-2) + shock  # (..., m, N)
            f = price(X_next, params.nu) + params.gamma * (1.0 - params.delta) * policy(X_next)
            total = total + f.sum(-1)
        done += m
    return params.gamma * u - params.beta * total / (2 * half)
