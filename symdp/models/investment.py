"""The deck's model: N firms with one common investment, linear or curved demand.

An instance of :class:`~symdp.models.base.Model`.
N firms, capital :math:`X_i' = (1-\\delta)X_i + u(X) + \\sigma W_i + \\eta\\omega`, price
:math:`p(X) = 1 - \\frac1N\\sum_i X_i^\\nu`, reward :math:`p(X)x - \\frac\\gamma2u^2`
(:mod:`symdp.params`). Its equilibrium investment is the same for every firm, so its policy is
one action per industry, ``(..., N) -> (...)``, and its states are ``(..., N)``. It therefore
keeps the deck's own functions, which every chapter's numbers come from: the simulation, the
residual, the evaluation and the networks are those of :mod:`symdp.economics`,
:mod:`symdp.evaluation` and :mod:`symdp.networks`, called here with the same arguments in the
same order as before this interface existed.
"""

from __future__ import annotations

import torch

from ..economics import euler_residual, gauss_hermite, idiosyncratic_draw, initial_state, price
from ..economics import simulate as simulate_paths
from ..evaluation import evaluate, residual_mse
from ..lq import lq_roots
from ..networks import ArchitectureConfig, LinearPolicy, make_policy
from ..params import ModelParams
from .base import Model, Quadrature
from .linear import LinearSolution

__all__ = ["Investment"]


class Investment(Model):
    """The deck's N-firm investment model (the default of :func:`symdp.solver.solve`)."""

    name = "investment"
    Params = ModelParams
    linear_parameters = ("beta", "gamma", "delta")
    # Chapters 1-8 fit the deck's way, Adam's time-iteration steps alone. The finish applies to
    # the deck's networks too (their rho ends in a linear layer) with finish_from set, but at
    # nu = 1.5 the Adam steps after it diverged on some seeds (benchmarks/side_by_side.py
    # measures both ways; the README has the figures).
    finish_from = 0

    # The economics in the interface's terms (a firm's action is the industry's common u).

    def initial_state(self, generator, **tensor_kw):
        return initial_state(self.params, generator, **tensor_kw)

    def transition(self, x, u, W, omega, types):
        p = self.params
        return (1.0 - p.delta) * x + u + p.sigma * W + p.eta * omega

    def aggregates(self, X):
        return price(X, self.params.nu).unsqueeze(-1)

    def euler_lhs(self, u, types):
        return self.params.gamma * u

    def euler_integrand(self, x_next, aggregates_next, u_next, types):
        p = self.params
        return aggregates_next[..., 0] + p.gamma * (1.0 - p.delta) * u_next

    def admissible(self, X):
        m = X.mean(-1)
        return (m > 0) & (m < 1), "mean capital in (0, 1)"

    def exact_solutions(self):
        p = self.params
        roots = lq_roots(p.beta, p.gamma, p.delta)
        out = []
        for name in ("stable", "explosive"):
            c = roots[name]
            if c is not None:
                out.append(LinearSolution({"H0": c.H0, "H1": c.H1}, name == "stable",
                                          (c.persistence(p.delta),)))
        return out

    def exact_policy(self, solution=None):
        if not self.is_linear:
            return None
        c = (solution or self.exact_solutions()[0]).coefficients
        return LinearPolicy(c["H0"], c["H1"])

    # The method's steps: the deck's functions.

    def architecture(self, phi="relu"):
        return ArchitectureConfig(phi=phi)  # the deck's baselines

    def make_policy(self, arch):
        return make_policy(arch, N=self.params.N)

    def grid_policy(self):
        return self.linear_case().exact_policy()

    def quadrature(self, generator, standardize, aggregate_nodes, own_nodes, agents,
                   **tensor_kw) -> Quadrature:
        """One draw of the N firms' shocks and the aggregate shock's nodes; no own shocks to
        integrate (every firm takes the same action) and no agents to pick (one residual per
        industry)."""
        z, w = gauss_hermite(aggregate_nodes)
        W_hat = idiosyncratic_draw(self.params.N, generator, standardize, **tensor_kw)
        none = torch.zeros(0, dtype=torch.long, device=tensor_kw.get("device"))
        return Quadrature(W_hat, torch.tensor(z, **tensor_kw), torch.tensor(w, **tensor_kw),
                          None, None, none)

    def widen(self, states, quadrature, generator):
        return states  # one common action: no own state to move off the path

    def chunk_rows(self, chunk, quadrature):
        return max(1, chunk // (self.params.N * (len(quadrature.nodes) + 1)))

    def simulate(self, policy, X0, n_trajectories, T, generator):
        return simulate_paths(self.params, policy, X0, n_trajectories, T, generator)

    def euler_residual(self, policy, X, quadrature, policy_next=None, actions=None):
        q = quadrature
        return euler_residual(self.params, policy, X, q.W_hat, q.nodes, q.weights,
                              policy_next=policy_next, actions=actions)

    def residual_mse(self, policy, states, quadrature, chunk=1 << 22):
        q = quadrature
        return residual_mse(self.params, policy, states, q.W_hat, q.nodes, q.weights, chunk)

    def evaluate(self, policy, X0, quadrature, n_trajectories, T, generator, check=None,
                 chunk=1 << 22, fresh=None):
        q = quadrature
        kwargs = {} if check is None else {"check": check}
        return evaluate(self.params, policy, X0, q.W_hat, q.nodes, q.weights, n_trajectories,
                        T, generator, chunk=chunk, fresh=fresh, **kwargs)
