"""E3, a vector idiosyncratic state: capital x and a demand premium z.

Firm i's premium follows :math:`z_i' = \\rho z_i + \\sigma_z e_i` and it earns

.. math::

    (p(X, Z) + z_i)\\,x_i - \\frac\\kappa2 x_i^2 - \\frac\\gamma2 u_i^2,\\qquad
    p(X, Z) = 1 - \\frac1N\\sum_j X_j^\\nu e^{(\\nu-1)Z_j},

capital moving as in the deck. The agents are the pairs :math:`(x_i, z_i)`, permuted together:
phi takes both. For nu = 1 the price is the deck's and the exact policy is
:math:`u = H_0 + H_1\\bar X + H_2 x + H_3 z + H_4\\bar Z`
(:func:`symdp.models.linear.vector_state_solutions`); for nu > 1 the price depends on the joint
distribution of the pairs, and the own slopes :math:`H_2, H_3` stay exact (the terms in the
own state separate from the price's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._checks import check, param, validate
from ..params import ModelParams
from .base import Model
from .decreasing_returns import LinearAgentPolicy
from .linear import kappa_threshold, vector_state_solutions

__all__ = ["VectorState", "VectorStateParams"]


@dataclass(frozen=True)
class VectorStateParams(ModelParams):
    """Parameters of E3: the deck's calibration, kappa = 0.5, rho = 0.9, sigma_z = 0.01.

    Initial premia are drawn from z's stationary distribution, sd
    :math:`\\sigma_z/\\sqrt{1-\\rho^2}`.
    """

    kappa: float = param(0.5, "> kappa_threshold(beta, gamma, delta), -0.4618 at the deck's "
                         "calibration (below it firm size is not stationary)",
                         lambda v: True, "cost of size, (kappa / 2) x^2")
    rho: float = param(0.9, "in (-1, 1) (a stationary premium)", lambda v: abs(v) < 1.0,
                       "persistence of the demand premium z")
    sigma_z: float = param(0.01, ">= 0", lambda v: v >= 0.0, "sd of the premium's shock")

    def __post_init__(self) -> None:
        validate(self)
        low = kappa_threshold(self.beta, self.gamma, self.delta)
        check(self.kappa > low, "kappa", f"> {low:.4g} (below it firm size is not stationary)",
              self.kappa)


class VectorState(Model):
    """E3 (see the module's docstring)."""

    name = "vector-state"
    Params = VectorStateParams
    linear_parameters = ("beta", "gamma", "delta", "kappa", "rho")
    aggregate_spread = 0.1
    state_names = ("x", "z")
    shock_names = ("W", "e")

    def initial_state(self, generator, **tensor_kw):
        p = self.params
        x = (p.x0_loc + p.x0_scale * torch.randn(p.N, generator=generator, **tensor_kw)).abs()
        z = p.sigma_z / math.sqrt(1.0 - p.rho**2) * torch.randn(p.N, generator=generator,
                                                                  **tensor_kw)
        return torch.stack([x, z], -1)

    def transition(self, x, u, W, omega, types):
        p = self.params
        k = (1.0 - p.delta) * x[..., 0] + u + p.sigma * W[..., 0] + p.eta * omega
        z = p.rho * x[..., 1] + p.sigma_z * W[..., 1]
        k, z = torch.broadcast_tensors(k, z)
        return torch.stack([k, z], -1)

    def aggregates(self, X):
        nu = self.params.nu
        x, z = X[..., 0], X[..., 1]
        q = x if nu == 1.0 else x.pow(nu) * torch.exp((nu - 1.0) * z)
        return (1.0 - q.mean(-1)).unsqueeze(-1)

    def euler_lhs(self, u, types):
        return self.params.gamma * u

    def euler_integrand(self, x_next, aggregates_next, u_next, types):
        p = self.params
        return (aggregates_next[..., 0] + x_next[..., 1] - p.kappa * x_next[..., 0]
                + p.gamma * (1.0 - p.delta) * u_next)

    def exact_solutions(self):
        p = self.params
        return vector_state_solutions(p.beta, p.gamma, p.delta, p.kappa, p.rho)

    def exact_policy(self, solution=None):
        if not self.is_linear:
            return None
        c = (solution or self.exact_solutions()[0]).coefficients
        return LinearAgentPolicy(c["H0"], [c["H2"], c["H3"]], [c["H1"], c["H4"]])

    def design(self, X, agents):
        means = X.mean(-2, keepdim=True).expand(*X.shape[:-2], len(agents), 2)
        own = X[..., agents, :]
        one = torch.ones_like(own[..., 0])
        cols = [one, means[..., 0], own[..., 0], own[..., 1], means[..., 1]]
        return torch.stack(cols, -1), ("H0", "H1", "H2", "H3", "H4")

    def exact_coefficients(self):
        return dict(self.exact_solutions()[0].coefficients)

    def own_slopes(self):
        c = self.exact_solutions()[0].coefficients
        return {"x": c["H2"], "z": c["H3"]}
