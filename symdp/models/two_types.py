"""E2, two productivity types: the policy is invariant to permutations within each type only.

Of the N firms, the first :math:`N_A = s_A N` are of type A and the rest of type B. A firm of
type g turns capital x into :math:`\\theta_g x` of output, faces the price
:math:`p(X) = 1 - \\frac1N\\sum_j\\theta_j X_j^\\nu` and earns
:math:`\\theta_g\\,p(X)\\,x - \\frac{\\gamma_g}2 u^2`; its capital depreciates at
:math:`\\delta_g`. The Euler equation of a type-g firm,

.. math::

    \\gamma_g u_g(X) = \\beta E\\left[\\theta_g\\,p(X') + \\gamma_g(1-\\delta_g)u_g(X')\\right],

has, for nu = 1, the exact policy :math:`u_g = h_{0g} + H_{gA} m_A + H_{gB} m_B` in the two
groups' mean capital (:func:`symdp.models.linear.two_types_solutions`).

What the network sees of a firm (:meth:`TwoTypes.features`) is its capital in its group's slot
and its group's indicator, :math:`(x 1_A, x 1_B, 1_A, 1_B)`: the mean of phi over the industry
then pools each group separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .._checks import check, param, validate
from .base import Model, Quadrature
from .linear import two_types_solutions

__all__ = ["TwoTypes", "TwoTypesParams"]


@dataclass(frozen=True)
class TwoTypesParams:
    """Parameters of E2: the deck's calibration with types A and B; pairs are (A, B)."""

    N: int = param(128, "an integer >= 1", lambda v: isinstance(v, int) and v >= 1,
                   "number of firms")
    beta: float = param(0.95, "in (0, 1)", lambda v: 0.0 < v < 1.0, "discount factor")
    share_a: float = param(0.5, "in (0, 1) with share_a * N an integer from 1 to N - 1",
                           lambda v: 0.0 < v < 1.0, "share of type-A firms, N_A / N")
    theta: tuple[float, float] = param((1.0, 1.2), "> 0 for both types",
                                       lambda v: min(v) > 0, "output per unit of capital (A, B)")
    gamma: tuple[float, float] = param((90.0, 90.0), "> 0 for both types",
                                       lambda v: min(v) > 0, "adjustment costs (A, B)")
    delta: tuple[float, float] = param((0.05, 0.10), "in (0, 1] for both types",
                                       lambda v: all(0 < d <= 1 for d in v),
                                       "depreciation (A, B)")
    sigma: float = param(0.005, ">= 0", lambda v: v >= 0.0, "idiosyncratic shock sd")
    eta: float = param(0.001, ">= 0", lambda v: v >= 0.0, "aggregate shock sd")
    nu: float = param(1.0, ">= 1", lambda v: v >= 1.0, "demand curvature (1: the linear case)")
    x0_loc: float = param(0.9, "finite", lambda v: True, "mean of initial capital")
    x0_scale: float = param(0.05, ">= 0", lambda v: v >= 0.0, "sd of initial capital")

    def __post_init__(self) -> None:
        validate(self)
        n_a = self.share_a * self.N
        check(abs(n_a - round(n_a)) < 1e-9 and 1 <= round(n_a) < self.N, "share_a",
              f"such that share_a * N is an integer from 1 to N - 1 (N = {self.N})", self.share_a)

    @property
    def N_a(self) -> int:
        return round(self.share_a * self.N)


class _TwoTypesLinear(nn.Module):
    """The exact policy :math:`u_g = h_{0g} + H_g\\cdot(m_A, m_B)` on :class:`TwoTypes`'
    features: the embedding's means are :math:`(s_A m_A, s_B m_B, s_A, s_B)`."""

    def __init__(self, h0, H) -> None:
        super().__init__()
        self.register_buffer("h0", torch.tensor(h0, dtype=torch.float64))
        self.register_buffer("H", torch.tensor(H, dtype=torch.float64))

    def phi(self, F):
        return F

    def embed(self, F):
        return F.mean(-2)

    def head(self, f, e):
        dt = f.dtype
        m = e[..., :2] / e[..., 2:]  # the groups' mean capital
        per_type = self.h0.to(dt) + m @ self.H.to(dt).T  # (..., 2): u_A, u_B
        return (f[..., 2:] * per_type).sum(-1)

    def forward(self, F):
        return self.head(F, self.embed(F).unsqueeze(-2))


class TwoTypes(Model):
    """E2 (see the module's docstring)."""

    name = "two-types"
    Params = TwoTypesParams
    linear_parameters = ("N", "beta", "share_a", "theta", "gamma", "delta")
    aggregate_spread = 0.1
    type_names = ("A", "B")

    def _per_type(self, values, types):
        return torch.tensor(values, dtype=torch.float64, device=types.device)[types]

    def types(self, **tensor_kw):
        t = torch.ones(self.params.N, dtype=torch.long, device=tensor_kw.get("device"))
        t[: self.params.N_a] = 0
        return t

    def features(self, X):
        t = self.types(device=X.device)
        return self.own_features(X, t)

    def own_features(self, x, types):
        one_a = (types == 0).to(x.dtype)
        one_b = 1.0 - one_a
        k = x[..., 0]
        return torch.stack(torch.broadcast_tensors(k * one_a, k * one_b, one_a, one_b), -1)

    @property
    def n_features(self):
        return 4

    def quadrature(self, generator, standardize, aggregate_nodes, own_nodes, agents,
                   **tensor_kw) -> Quadrature:
        """As :meth:`Model.quadrature`, with the one draw standardised within each type: the
        price weighs the two groups' means differently, so each group's draw has mean 0."""
        q = super().quadrature(generator, False, aggregate_nodes, own_nodes, agents,
                               **tensor_kw)
        W = q.W_hat.clone()
        if standardize:
            t = self.types(device=W.device)
            for g in (0, 1):
                rows = t == g
                if rows.sum() > 1:
                    W[rows] = (W[rows] - W[rows].mean(0)) / W[rows].std(0)
                else:
                    W[rows] = 0.0
        idx = q.agents
        if len(idx) >= 2:  # spread the agents over both groups
            half = len(idx) // 2
            a = torch.linspace(0, self.params.N_a - 1, half).round().long()
            b = torch.linspace(self.params.N_a, self.params.N - 1, len(idx) - half).round().long()
            idx = torch.cat([a, b]).to(q.agents.device)
        return Quadrature(W, q.nodes, q.weights, q.own_nodes, q.own_weights, idx)

    def transition(self, x, u, W, omega, types):
        p = self.params
        delta = self._per_type(p.delta, types).to(x.dtype)
        x_next = (1.0 - delta) * x[..., 0] + u + p.sigma * W[..., 0] + p.eta * omega
        return x_next.unsqueeze(-1)

    def aggregates(self, X):
        t = self.types(device=X.device)
        theta = self._per_type(self.params.theta, t).to(X.dtype)
        x = X[..., 0]
        q = x if self.params.nu == 1.0 else x.pow(self.params.nu)
        return (1.0 - (theta * q).mean(-1)).unsqueeze(-1)

    def euler_lhs(self, u, types):
        return self._per_type(self.params.gamma, types).to(u.dtype) * u

    def euler_integrand(self, x_next, aggregates_next, u_next, types):
        p = self.params
        dt = u_next.dtype
        theta = self._per_type(p.theta, types).to(dt)
        gamma = self._per_type(p.gamma, types).to(dt)
        delta = self._per_type(p.delta, types).to(dt)
        return theta * aggregates_next[..., 0] + gamma * (1.0 - delta) * u_next

    def admissible(self, X):
        m = X[..., 0].mean(-1)
        price = self.aggregates(X)[..., 0]
        return (m > 0) & (m < 1) & (price > 0), "mean capital in (0, 1) and a positive price"

    def exact_solutions(self):
        p = self.params
        return two_types_solutions(p.beta, p.share_a, p.theta, p.gamma, p.delta)

    def exact_policy(self, solution=None):
        if not self.is_linear:
            return None
        c = (solution or self.exact_solutions()[0]).coefficients
        return _TwoTypesLinear(list(c["h0"]), [list(r) for r in c["H"]])

    def design(self, X, agents):
        t = self.types(device=X.device)[agents]
        a = (t == 0).to(X.dtype).expand(*X.shape[:-2], len(agents))
        b = 1.0 - a
        x = X[..., 0]
        m_a = x[..., : self.params.N_a].mean(-1, keepdim=True)
        m_b = x[..., self.params.N_a:].mean(-1, keepdim=True)
        cols = [a, a * m_a, a * m_b, b, b * m_a, b * m_b]
        return torch.stack(cols, -1), ("h0_A", "H_AA", "H_AB", "h0_B", "H_BA", "H_BB")

    def exact_coefficients(self):
        c = self.exact_solutions()[0].coefficients
        (h_a, h_b), ((aa, ab), (ba, bb)) = c["h0"], c["H"]
        return {"h0_A": h_a, "H_AA": aa, "H_AB": ab, "h0_B": h_b, "H_BA": ba, "H_BB": bb}
