"""E1, decreasing returns: each firm's policy depends on its own capital.

The deck's industry with a cost of size: firm i earns

.. math::

    p(X)\\,x_i - \\frac\\kappa2 x_i^2 - \\frac\\gamma2 u_i^2,\\qquad p(X) = 1 - \\frac1N\\sum_j X_j^\\nu,

and its capital moves as in the deck, :math:`x_i' = (1-\\delta)x_i + u_i + \\sigma W_i + \\eta\\omega`.
The Euler equation of a price-taking firm,

.. math::

    \\gamma u_i(X) = \\beta E\\left[p(X') - \\kappa x_i' + \\gamma(1-\\delta)u_i(X')\\right],

has, for nu = 1, the exact policy :math:`u(x, X) = H_0 + H_1\\bar X + H_2 x` (four solutions, one
stationary: :func:`symdp.models.linear.decreasing_returns_solutions`). For nu > 1 the own slope
stays exactly :math:`H_2`: the terms in x separate from the price's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .._checks import check, param, validate
from ..params import ModelParams
from .base import Model
from .linear import decreasing_returns_solutions, kappa_threshold

__all__ = ["DecreasingReturns", "DecreasingReturnsParams", "LinearAgentPolicy"]


@dataclass(frozen=True)
class DecreasingReturnsParams(ModelParams):
    """Parameters of E1; defaults are the deck's calibration plus kappa = 0.5.

    kappa must exceed :func:`~symdp.models.linear.kappa_threshold` (negative): below it a
    firm's own capital is not stationary.
    """

    kappa: float = param(0.5, "> kappa_threshold(beta, gamma, delta), -0.4618 at the deck's "
                         "calibration (below it firm size is not stationary)",
                         lambda v: True, "cost of size, (kappa / 2) x^2")

    def __post_init__(self) -> None:
        validate(self)
        low = kappa_threshold(self.beta, self.gamma, self.delta)
        check(self.kappa > low, "kappa", f"> {low:.4g} (below it firm size is not stationary)",
              self.kappa)


class LinearAgentPolicy(nn.Module):
    """:math:`u = c + a\\cdot f + b\\cdot\\bar f`: an exact linear policy in the agents' features
    ``f`` and their means (phi the identity), in :class:`~symdp.networks.AgentDeepSet`'s
    methods. Coefficients stored in float64, cast at use."""

    def __init__(self, const: float, own: list[float], mean: list[float]) -> None:
        super().__init__()
        self.register_buffer("c", torch.tensor(float(const), dtype=torch.float64))
        self.register_buffer("a", torch.tensor(own, dtype=torch.float64))
        self.register_buffer("b", torch.tensor(mean, dtype=torch.float64))

    def phi(self, F: torch.Tensor) -> torch.Tensor:
        return F

    def embed(self, F: torch.Tensor) -> torch.Tensor:
        return F.mean(-2)

    def head(self, f: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        dt = f.dtype
        return self.c.to(dt) + f @ self.a.to(dt) + e @ self.b.to(dt)

    def forward(self, F: torch.Tensor) -> torch.Tensor:
        return self.head(F, self.embed(F).unsqueeze(-2))


class DecreasingReturns(Model):
    """E1 (see the module's docstring)."""

    name = "decreasing-returns"
    Params = DecreasingReturnsParams
    linear_parameters = ("beta", "gamma", "delta", "kappa")

    def transition(self, x, u, W, omega, types):
        p = self.params
        x_next = (1.0 - p.delta) * x[..., 0] + u + p.sigma * W[..., 0] + p.eta * omega
        return x_next.unsqueeze(-1)

    def aggregates(self, X):
        x = X[..., 0]
        q = x if self.params.nu == 1.0 else x.pow(self.params.nu)
        return (1.0 - q.mean(-1)).unsqueeze(-1)

    def euler_lhs(self, u, types):
        return self.params.gamma * u

    def euler_integrand(self, x_next, aggregates_next, u_next, types):
        p = self.params
        return (aggregates_next[..., 0] - p.kappa * x_next[..., 0]
                + p.gamma * (1.0 - p.delta) * u_next)

    def exact_solutions(self):
        p = self.params
        return decreasing_returns_solutions(p.beta, p.gamma, p.delta, p.kappa)

    def exact_policy(self, solution=None):
        if not self.is_linear:
            return None
        c = (solution or self.exact_solutions()[0]).coefficients
        return LinearAgentPolicy(c["H0"], [c["H2"]], [c["H1"]])

    def design(self, X, agents):
        m = X[..., 0].mean(-1, keepdim=True).expand(*X.shape[:-2], len(agents))
        x = X[..., agents, 0]
        return torch.stack([torch.ones_like(x), m, x], -1), ("H0", "H1", "H2")

    def exact_coefficients(self):
        return dict(self.exact_solutions()[0].coefficients)

    def own_slopes(self):
        return {"x": self.exact_solutions()[0].coefficients["H2"]}
