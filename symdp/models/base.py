"""What a model is for symdp, and the method's steps for any model.

A model is a subclass of :class:`Model`. It says, in a few short methods, what the economics are:

* its parameters, a frozen dataclass validated on construction (``Params``);
* each agent's state (``state_names``: ``("x",)``, or ``("x", "z")`` for a vector) and type
  (:meth:`Model.types`), and what a network sees of an agent (:meth:`Model.features`);
* the law of motion of one agent, with its idiosyncratic shocks (``shock_names``) and the
  aggregate shock omega (:meth:`Model.transition`), and the initial state (by default the
  deck's draw of capital, :meth:`Model.initial_state`);
* the Euler equation, :math:`\\text{lhs}(u_i) = \\beta\\,E[\\text{integrand}(x_i', A(X'), u_i(X'))]`:
  :meth:`Model.euler_lhs`, :meth:`Model.aggregates` (what the integrand needs of the whole
  industry, e.g. the price) and :meth:`Model.euler_integrand`;
* the admissible region of states (:meth:`Model.admissible`);
* where one exists, the exact solutions of its linear case (:meth:`Model.exact_solutions`), the
  exact policy as a module (:meth:`Model.exact_policy`) and the form of that policy
  (:meth:`Model.design`).

From those, this module gives every model the method (chapter "Writing your own model" builds a
model from a blank file): the simulation, the Euler residual with one draw of the other agents'
shocks, the own agent's shocks and the aggregate shock by Gauss-Hermite quadrature
(:meth:`Model.euler_residual`), a brute-force Monte Carlo residual, and the checks of a fitted
policy along fresh paths and off them (:meth:`Model.evaluate`). :func:`symdp.solver.solve` fits
any model through these methods.

Shapes: an industry's state is ``X`` of shape ``(..., N, d)``, d = ``len(state_names)``; a policy
maps the features ``(..., N, f)`` to every agent's action ``(..., N)``
(:class:`symdp.networks.AgentDeepSet`). The deck's model (:mod:`symdp.models.investment`), whose
policy is one action common to all firms, keeps its own shapes and overrides these methods.

Why the own shocks are integrated: when an agent's action depends on its own state, its own shock
does not average out across agents, so one draw of it biases the residual's minimiser; chapter
"Decreasing returns" measures the bias. The own agent's shock moves the aggregates only through
its 1/N share; that share is left at the one draw, like the other agents' shocks.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from ..economics import gauss_hermite
from ..evaluation import StationarityCheck, actions_and_residuals, sample_points
from ..networks import AgentDeepSet, ArchitectureConfig

__all__ = ["Model", "Quadrature", "AgentEvaluation", "OFFSETS"]

#: How far off the equilibrium path the off-path states put an agent's own state, one component
#: at a time: on the path an agent's capital stays within about 0.013 of the mean (E1), so
#: slopes in the own state are barely identified there.
OFFSETS = (-0.1, -0.05, 0.05, 0.1)


@dataclass(frozen=True)
class Quadrature:
    """How a residual takes its expectation: one draw ``W_hat`` ``(N, k)`` of every agent's
    idiosyncratic shocks, Gauss-Hermite ``nodes``/``weights`` of the aggregate shock, and of the
    own agent's shocks ``own_nodes`` ``(Q, k)`` / ``own_weights`` ``(Q,)`` (a tensor product;
    ``Q = 1`` with the own draw when the own shocks are not integrated), at the agents
    ``agents`` ``(M,)`` whose residuals are taken."""

    W_hat: torch.Tensor
    nodes: torch.Tensor
    weights: torch.Tensor
    own_nodes: torch.Tensor | None
    own_weights: torch.Tensor | None
    agents: torch.Tensor


class Model(ABC):
    """An N-agent model whose equilibrium policy is invariant to permutations of the agents.

    Subclasses set the class attributes and write the abstract methods; the constructor stores
    the parameters only (a ``Params`` instance; its defaults when None).
    """

    name: ClassVar[str]
    Params: ClassVar[type]
    state_names: ClassVar[tuple[str, ...]] = ("x",)
    shock_names: ClassVar[tuple[str, ...]] = ("W",)
    type_names: ClassVar[tuple[str, ...]] = ("all",)
    #: How far :meth:`widen` moves the residual agents' own states in the grid (uniformly, each
    #: component): :data:`OFFSETS` lie inside, so the fit has seen the off-path states it is
    #: checked at.
    grid_spread: ClassVar[float] = 0.1
    #: How far :meth:`widen` moves each type's agents together (uniformly, each component, one
    #: draw per grid state and type): where a group's mean barely moves along the paths (E2's
    #: type A starts near its steady state; E3's mean premium stays near zero), its slope is
    #: identified only off the path. 0: not moved.
    aggregate_spread: ClassVar[float] = 0.0
    #: The parameters the exact solutions of the linear case depend on (``symdp lq``'s flags).
    linear_parameters: ClassVar[tuple[str, ...]] = ()
    #: The solver's default ``finish_from`` for this model (:class:`symdp.solver.SolverConfig`):
    #: from this epoch on, each epoch ends with the output-layer finish (:mod:`symdp.finish`);
    #: 0, Adam alone.
    finish_from: ClassVar[int] = 2

    def __init__(self, params: Any = None) -> None:
        self.params = self.Params() if params is None else params
        if not isinstance(self.params, self.Params):
            raise TypeError(f"{type(self).__name__} takes {self.Params.__name__}, "
                            f"got {type(params).__name__}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    # ---- what a model writes ----------------------------------------------------------------

    def initial_state(self, generator: torch.Generator, **tensor_kw) -> torch.Tensor:
        """One draw of the industry's initial state, ``(N, d)``. Default, for a state of
        capital alone: each agent's :math:`|\\mathcal N(x0\\_loc, x0\\_scale^2)|`, the deck's."""
        p = self.params
        z = torch.randn(p.N, generator=generator, **tensor_kw)
        return (p.x0_loc + p.x0_scale * z).abs().unsqueeze(-1)

    @abstractmethod
    def transition(self, x: torch.Tensor, u: torch.Tensor, W: torch.Tensor,
                   omega: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """One agent's next state: ``x`` ``(..., d)``, action ``u`` ``(...)``, idiosyncratic
        shocks ``W`` ``(..., k)``, aggregate shock ``omega`` ``(...)`` and type ``(...)``, all
        broadcast against each other; returns ``(..., d)``. The shocks come in as standard
        normals (draws or quadrature nodes): the model scales them."""

    @abstractmethod
    def aggregates(self, X: torch.Tensor) -> torch.Tensor:
        """What the Euler integrand needs of the whole industry, ``(..., N, d) -> (..., A)``."""

    @abstractmethod
    def euler_lhs(self, u: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """The Euler equation's left side at today's action (the marginal cost of acting)."""

    @abstractmethod
    def euler_integrand(self, x_next: torch.Tensor, aggregates_next: torch.Tensor,
                        u_next: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """What is discounted and averaged on the right side: the marginal value of tomorrow's
        own state plus the cost saved tomorrow (broadcasting shapes)."""

    def admissible(self, X: torch.Tensor) -> tuple[torch.Tensor, str]:
        """Whether each industry ``(..., N, d)`` is an economically sensible state, and the
        rule in words. Default: mean capital (first state) in (0, 1)."""
        m = X[..., 0].mean(-1)
        return (m > 0) & (m < 1), "mean capital in (0, 1)"

    @property
    def is_linear(self) -> bool:
        """Whether the exact solutions apply (the linear case). Default: ``params.nu == 1``."""
        return getattr(self.params, "nu", 1.0) == 1.0

    def linear_case(self) -> "Model":
        """The same model in its linear case (draws the first grid)."""
        return type(self)(replace(self.params, nu=1.0))

    def exact_solutions(self) -> list:
        """Every exact solution of the linear case, the stationary one first
        (:class:`symdp.models.linear.LinearSolution`); [] when there is none."""
        return []

    def exact_policy(self, solution: Any = None) -> nn.Module | None:
        """The exact policy (default: the stationary solution) as a module with ``phi``,
        ``embed``, ``head`` and ``forward`` like :class:`~symdp.networks.AgentDeepSet`; None in
        the nonlinear case or without one."""
        return None

    def design(self, X: torch.Tensor, agents: torch.Tensor) -> tuple[torch.Tensor, tuple[str, ...]]:
        """The regressors of the exact policy's linear form at the agents ``agents`` of each
        industry, ``(..., M, P)``, and their coefficients' names (a least-squares fit of a
        network on them gives its slopes)."""
        raise NotImplementedError(f"{self.name} has no linear form")

    def own_slopes(self) -> dict[str, float]:
        """Exact derivatives of an agent's action in its own state components, at a fixed
        industry embedding, where known (also in the nonlinear case)."""
        return {}

    # ---- defaults a model may override ------------------------------------------------------

    def types(self, **tensor_kw) -> torch.Tensor:
        """Each agent's type index, ``(N,)`` long. Default: one type."""
        return torch.zeros(self.params.N, dtype=torch.long, device=tensor_kw.get("device"))

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """What the network sees of each agent, ``(..., N, f)``; with more than one type, the
        last ``len(type_names)`` features are the type's one-hot indicators. Default: the
        state."""
        return X

    def own_features(self, x: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """:meth:`features` of single agents ``(..., d)`` of the given types ``(...)``.
        Default: the state."""
        return x

    @property
    def n_features(self) -> int:
        return len(self.state_names)

    def architecture(self, phi: str | None = None) -> ArchitectureConfig:
        """The model's baseline network, with ``phi`` or by default phi the identity in the
        linear case (the embedding is then the features' means, which an exact linear policy
        needs) and phi(ReLU) otherwise; the deck's bias-free hidden layers with 64 units a
        layer; and a linear map beside rho (``rho_linear``), which a bias-free ReLU rho
        otherwise builds slowly out of pairs of units. ``benchmarks/models.py`` measures this
        baseline against the exact solutions (``--rho-width`` varies rho)."""
        phi = phi or ("identity" if self.is_linear else "relu")
        return ArchitectureConfig(phi=phi, phi_width=64, rho_width=64, rho_linear=True)

    def make_policy(self, arch: ArchitectureConfig) -> nn.Module:
        """The network to fit (:class:`~symdp.networks.AgentDeepSet`) from an architecture."""
        if arch.phi == "none":
            raise ValueError(f"phi='none' is the deck's non-symmetric MLP; {self.name} needs a "
                             f"deep set (phi in identity, moments, relu)")
        return AgentDeepSet(self.n_features, arch.phi, L=arch.L or 4, moments=arch.moments,
                            phi_width=arch.phi_width, phi_depth=arch.phi_depth,
                            rho_width=arch.rho_width, rho_depth=arch.rho_depth,
                            phi_hidden_bias=arch.phi_hidden_bias,
                            rho_hidden_bias=arch.rho_hidden_bias, zero_last=arch.zero_last,
                            types=len(self.type_names), rho_linear=arch.rho_linear)

    def grid_policy(self) -> nn.Module:
        """The policy the first grid is simulated under: the linear case's exact policy."""
        policy = self.linear_case().exact_policy()
        if policy is None:
            raise NotImplementedError(f"{self.name} has no exact linear policy to draw a grid")
        return policy

    def chunk_rows(self, chunk: int, quadrature: Quadrature) -> int:
        """Industries per chunk when evaluating many: about ``chunk`` numbers per layer."""
        per = self.params.N * (len(quadrature.nodes) + 1) + len(quadrature.agents) * len(
            quadrature.nodes) * (1 if quadrature.own_nodes is None else len(quadrature.own_nodes))
        return max(1, chunk // per)

    # ---- the method, for any model ----------------------------------------------------------

    def quadrature(self, generator: torch.Generator, standardize: bool, aggregate_nodes: int,
                   own_nodes: int, agents: int, **tensor_kw) -> Quadrature:
        """The run's :class:`Quadrature`: one draw of the N agents' shocks from ``generator``
        (each shock standardised to sample mean 0 and sd 1, as the paper's code does), the
        aggregate shock's nodes, the own shocks' tensor-product nodes (``own_nodes`` per shock;
        0: the own shocks stay at the one draw) and ``agents`` agents spread evenly over the
        industry (all when ``agents >= N``)."""
        N, k = self.params.N, len(self.shock_names)
        W = torch.randn(N, k, generator=generator, **tensor_kw)
        if standardize and N > 1:
            W = (W - W.mean(0)) / W.std(0)
        elif standardize:
            W = torch.zeros_like(W)
        z, w = gauss_hermite(aggregate_nodes)
        idx = torch.linspace(0, N - 1, min(agents, N)).round().long().to(tensor_kw.get("device"))
        if own_nodes:
            zo, wo = gauss_hermite(own_nodes)
            grids = np.meshgrid(*([zo] * k), indexing="ij")
            nodes_o = np.stack([g.ravel() for g in grids], -1)
            weights_o = np.prod(np.meshgrid(*([wo] * k), indexing="ij"), 0).ravel()
            own = (torch.tensor(nodes_o, **tensor_kw), torch.tensor(weights_o, **tensor_kw))
        else:
            own = (None, None)
        return Quadrature(W, torch.tensor(z, **tensor_kw), torch.tensor(w, **tensor_kw), *own,
                          idx)

    def widen(self, states: torch.Tensor, quadrature: Quadrature,
              generator: torch.Generator) -> torch.Tensor:
        """Grid states ``(S, N, d)`` with the residual agents' own states moved by
        :math:`U(-w, w)`, w = ``grid_spread``, each component, then each type's agents together by
        :math:`U(-a, a)`, a = ``aggregate_spread``, drawn from ``generator``.

        On the equilibrium path an agent's state stays close to the industry's mean, so its own
        slopes are barely identified there; the Euler equation holds at every state, so the fit
        is asked to meet it off the path too.
        """
        if not (self.grid_spread or self.aggregate_spread):
            return states
        idx = quadrature.agents
        u = torch.rand(states.shape[0], len(idx), states.shape[-1], generator=generator,
                       device=states.device, dtype=states.dtype)
        out = states.clone()
        out[:, idx] += (2.0 * u - 1.0) * self.grid_spread
        if self.aggregate_spread:
            types = self.types(device=states.device)
            for g in range(len(self.type_names)):
                v = torch.rand(states.shape[0], 1, states.shape[-1], generator=generator,
                               device=states.device, dtype=states.dtype)
                out[:, types == g] += (2.0 * v - 1.0) * self.aggregate_spread
        return out

    def step(self, X: torch.Tensor, u: torch.Tensor, W: torch.Tensor,
             omega: torch.Tensor) -> torch.Tensor:
        """The industry's next state: ``X`` ``(..., N, d)``, ``u`` ``(..., N)``, ``W``
        ``(..., N, k)``, ``omega`` ``(...)``."""
        return self.transition(X, u, W, omega.unsqueeze(-1), self.types(device=X.device))

    @torch.no_grad()
    def simulate(self, policy: nn.Module, X0: torch.Tensor, n_trajectories: int, T: int,
                 generator: torch.Generator) -> torch.Tensor:
        """``n_trajectories`` industries for T periods from ``X0``: ``(n, T + 1, N, d)``."""
        kw = {"device": X0.device, "dtype": X0.dtype}
        out = torch.empty(n_trajectories, T + 1, *X0.shape, **kw)
        out[:, 0] = X0
        k = len(self.shock_names)
        for t in range(T):
            X = out[:, t]
            W = torch.randn(n_trajectories, self.params.N, k, generator=generator, **kw)
            omega = torch.randn(n_trajectories, generator=generator, **kw)
            out[:, t + 1] = self.step(X, policy(self.features(X)), W, omega)
        return out

    def euler_residual(self, policy: nn.Module, X: torch.Tensor, quadrature: Quadrature,
                       policy_next: nn.Module | None = None,
                       actions: torch.Tensor | None = None) -> torch.Tensor:
        """Euler residuals at the agents ``quadrature.agents`` of each industry, ``(..., M)``.

        .. math::

            \\varepsilon_i(X) = \\text{lhs}(u_i(X)) - \\beta\\sum_{k,q} w_k v_q\\,
                \\text{integrand}\\big(x'_{ikq}, A(X'_k), u_i(X'_{ikq})\\big),

        where :math:`X'_k` moves every agent with its one draw :math:`\\hat W_j` and the
        aggregate node :math:`z_k`, and :math:`x'_{ikq}` moves agent i with its own node
        :math:`q` instead (the one draw when the own shocks are not integrated). Agent i's
        action tomorrow is the policy's head at its own features and the embedding of
        :math:`X'_k`. ``policy_next``, if given, is used for tomorrow's actions (time
        iteration: a copy with frozen weights). ``actions``, if given, are today's actions of
        every agent ``(..., N)`` instead of the policy's (:mod:`symdp.finish` differentiates
        through them separately).
        """
        q = quadrature
        types = self.types(device=X.device)
        nxt = policy_next or policy
        # (..., N): everyone acts today
        u_all = policy(self.features(X)) if actions is None else actions
        omega = q.nodes  # (K,): standard normal nodes; transition scales the shocks
        X_next = self.transition(X.unsqueeze(-3), u_all.unsqueeze(-2), q.W_hat, omega[:, None],
                                 types)  # (..., K, N, d)
        e_next = nxt.embed(self.features(X_next))  # (..., K, L)
        agg_next = self.aggregates(X_next)  # (..., K, A)
        idx = q.agents
        x, u, t = X[..., idx, :], u_all[..., idx], types[idx]  # (..., M, d), (..., M), (M,)
        # the own shocks: (M, 1, 1, k), one draw each, or the nodes (Q, k) for every agent
        own = q.W_hat[idx][:, None, None, :] if q.own_nodes is None else q.own_nodes
        # axes (..., M, K, Q, d)
        x_next = self.transition(x[..., :, None, None, :], u[..., :, None, None], own,
                                 omega[:, None], t[:, None, None])
        u_next = nxt.head(self.own_features(x_next, t[:, None, None]),
                          e_next.unsqueeze(-3).unsqueeze(-2))  # (..., M, K, Q)
        f = self.euler_integrand(x_next, agg_next.unsqueeze(-3).unsqueeze(-2), u_next,
                                 t[:, None, None])
        v = (torch.ones(1, dtype=X.dtype, device=X.device) if q.own_weights is None
             else q.own_weights)
        expectation = ((f * v).sum(-1) * q.weights).sum(-1)  # (..., M)
        return self.euler_lhs(u, t) - self.params.beta * expectation

    @torch.no_grad()
    def residual_mse(self, policy: nn.Module, states: torch.Tensor, quadrature: Quadrature,
                     chunk: int = 1 << 22) -> float:
        """Mean squared Euler residual over the industries ``states`` ``(S, N, d)`` and their
        agents ``quadrature.agents``."""
        total = 0.0
        for Xc in states.split(self.chunk_rows(chunk, quadrature)):
            total += float(self.euler_residual(policy, Xc, quadrature).double().pow(2).sum())
        return total / (states.shape[0] * len(quadrature.agents))

    @torch.no_grad()
    def monte_carlo_residual(self, policy: nn.Module, X: torch.Tensor, agents: torch.Tensor,
                             n_draws: int, generator: torch.Generator) -> torch.Tensor:
        """Brute-force Euler residual at the agents ``agents`` of one industry ``X`` ``(N, d)``:
        the expectation over all shocks of all agents and the aggregate shock by Monte Carlo
        (antithetic pairs, ``n_draws`` rounded up to even). Owes nothing to the one draw or the
        quadrature; ``(M,)``."""
        kw = {"device": X.device, "dtype": X.dtype}
        types = self.types(device=X.device)
        u_all = policy(self.features(X))
        total = torch.zeros(len(agents), **kw)
        half = (n_draws + 1) // 2
        W = torch.randn(half, self.params.N, len(self.shock_names), generator=generator, **kw)
        omega = torch.randn(half, generator=generator, **kw)
        for sign in (1.0, -1.0):
            X_next = self.transition(X, u_all, sign * W, sign * omega[:, None],
                                     types)  # (half, N, d)
            u_next = policy(self.features(X_next))[:, agents]
            agg = self.aggregates(X_next).unsqueeze(-2)
            f = self.euler_integrand(X_next[:, agents], agg, u_next, types[agents])
            total = total + f.sum(0)
        return self.euler_lhs(u_all[agents], types[agents]) - self.params.beta * total / (2 * half)

    @torch.no_grad()
    def evaluate(self, policy: nn.Module, X0: torch.Tensor, quadrature: Quadrature,
                 n_trajectories: int, T: int, generator: torch.Generator, check: Any = None,
                 chunk: int = 1 << 22, fresh: Any = None) -> "AgentEvaluation":
        """Simulate fresh test paths under ``policy`` and measure it along and off them.

        Along the paths: the Euler residual at the quadrature's agents, and whether every
        industry stays :meth:`admissible`. In the linear case, an economy with the same shocks
        under the exact policy runs alongside: the policy error at the fitted economy's states,
        and the path's drift from the exact one (more than ``check.lq_path_tol`` in any state's
        mean: not the stationary solution). Off the path (:data:`OFFSETS`), each agent's own
        state moved away from the industry's mean at evenly spread dates: the policy error
        there, and the policy's slopes (least squares on :meth:`design`, linear case) and own
        slopes (central differences at a fixed embedding) against the exact ones. With
        ``fresh``, the Monte Carlo residual (:meth:`monte_carlo_residual`) at sampled states.
        """
        check = check or StationarityCheck()
        exact = self.exact_policy() if self.is_linear else None
        idx = quadrature.agents
        kw = {"device": X0.device, "dtype": X0.dtype}
        shape = (n_trajectories, T + 1)
        u_out, res = np.empty((*shape, len(idx))), np.empty((*shape, len(idx)))
        u_ex = np.empty((*shape, len(idx))) if exact is not None else None
        gap, ok = 0.0, True
        rows = self.chunk_rows(chunk, quadrature)
        off_dates = set(np.round(np.linspace(0, T, 4)).astype(int).tolist())
        off_states = []
        f_paths, f_dates = (sample_points(n_trajectories, T, fresh.states) if fresh is not None
                            else (np.empty(0, int), np.empty(0, int)))
        kept = [None] * len(f_paths)
        X = X0.expand(n_trajectories, *X0.shape).clone()
        X_ex = X.clone() if exact is not None else None
        k = len(self.shock_names)
        for t in range(T + 1):
            u_all, r_t = actions_and_residuals(
                X, rows, lambda Xc: policy(self.features(Xc)),
                lambda Xc, u: self.euler_residual(policy, Xc, quadrature, actions=u))
            u_out[:, t] = u_all[:, idx].double().cpu().numpy()
            res[:, t] = r_t.double().cpu().numpy()
            inside, rule = self.admissible(X)
            ok = ok and bool(inside.all()) and bool(torch.isfinite(X).all())
            if exact is not None:
                u_ex[:, t] = exact(self.features(X))[:, idx].double().cpu().numpy()
                means = (X.double().mean(-2) - X_ex.double().mean(-2)).abs()
                gap = max(gap, float(means.max()))
            if t in off_dates:
                off_states.append(X[: min(n_trajectories, 8)].clone())
            for j in np.flatnonzero(f_dates == t):
                kept[j] = X[int(f_paths[j])].clone()
            if t == T:
                break
            W = torch.randn(n_trajectories, self.params.N, k, generator=generator, **kw)
            omega = torch.randn(n_trajectories, generator=generator, **kw)
            if exact is not None:
                X_ex = self.step(X_ex, exact(self.features(X_ex)), W, omega)
            X = self.step(X, u_all, W, omega)
        stationary, reason = True, "stationary"
        if not ok:
            stationary, reason = False, f"left the admissible region ({rule}) or diverged"
        elif exact is not None and gap > check.lq_path_tol:
            stationary, reason = False, (f"drifted from the exact path by {gap:.3g} > "
                                         f"{check.lq_path_tol}")
        off = self._off_path(policy, exact, torch.cat(off_states), idx)
        fresh_res = None
        if fresh is not None:
            if all(torch.isfinite(s).all() for s in kept):
                gen = torch.Generator(device=X0.device).manual_seed(fresh.seed)
                fresh_res = torch.stack([self.monte_carlo_residual(policy, s, idx, fresh.draws,
                                                                   gen) for s in kept])
                fresh_res = fresh_res.double().cpu().numpy()
            else:
                fresh_res = np.full((len(kept), len(idx)), np.inf)
        return AgentEvaluation(u=u_out, residual=res, u_exact=u_ex, stationary=stationary,
                               reason=reason, path_gap=gap, fresh_residual=fresh_res,
                               fresh_paths=f_paths if fresh else None,
                               fresh_dates=f_dates if fresh else None, **off)

    def _off_path(self, policy: nn.Module, exact: nn.Module | None, X: torch.Tensor,
                  idx: torch.Tensor) -> dict:
        """Off-path states from on-path industries ``X`` ``(S, N, d)``: each agent in ``idx`` in
        turn with one own state component moved to the industry's mean plus an offset; the
        policy (and the exact one) at them, the slopes and the own slopes."""
        d = len(self.state_names)
        types = self.types(device=X.device)
        states, who = [], []
        for c in range(d):
            for s in OFFSETS:
                Y = X.clone()
                mean = X[..., c].mean(-1, keepdim=True)  # (S, 1)
                Y[:, idx, c] = mean + s
                states.append(Y)
        Y = torch.cat(states)  # (S * d * offsets, N, d)
        u_off = policy(self.features(Y))[:, idx].double()
        out = {"u_offpath": u_off.cpu().numpy(), "u_offpath_exact": None, "slopes": {},
               "own_slope_fit": {}, "own_slope_exact": self.own_slopes()}
        if exact is not None:
            out["u_offpath_exact"] = exact(self.features(Y))[:, idx].double().cpu().numpy()
        # own slopes: central differences of the head at each industry's own embedding
        h = 1e-3
        e = policy.embed(self.features(X)).unsqueeze(-2)  # (S, 1, L)
        x = X[:, idx]
        for c, name in enumerate(self.state_names):
            step = torch.zeros(d, dtype=X.dtype, device=X.device)
            step[c] = h
            up = policy.head(self.own_features(x + step, types[idx]), e)
            down = policy.head(self.own_features(x - step, types[idx]), e)
            out["own_slope_fit"][name] = float(((up - down) / (2 * h)).double().mean())
        if exact is not None:
            try:
                design, names = self.design(torch.cat([X, Y]), idx)
            except NotImplementedError:
                return out
            u_all = torch.cat([policy(self.features(X))[:, idx], u_off.to(X.dtype)])
            A = design.reshape(-1, design.shape[-1]).double().cpu().numpy()
            b = u_all.reshape(-1).double().cpu().numpy()
            ok = np.isfinite(b)
            if ok.sum() > A.shape[1]:
                coef = np.linalg.lstsq(A[ok], b[ok], rcond=None)[0]
                truth = self.exact_coefficients()
                out["slopes"] = {n: {"fit": float(c), "exact": float(truth[n])}
                                 for n, c in zip(names, coef)}
        return out

    def exact_coefficients(self) -> dict[str, float]:
        """The stationary solution's coefficients by the names :meth:`design` gives."""
        raise NotImplementedError(f"{self.name} has no linear form")


@dataclass
class AgentEvaluation:
    """What :meth:`Model.evaluate` measures (arrays ``(trajectories, T + 1, M)`` over the test
    paths' dates and the quadrature's agents)."""

    u: np.ndarray
    residual: np.ndarray
    u_exact: np.ndarray | None  # the exact policy at the same states (linear case)
    stationary: bool
    reason: str
    path_gap: float  # largest |mean state - mean state under the exact policy| (linear case)
    u_offpath: np.ndarray
    u_offpath_exact: np.ndarray | None
    slopes: dict = field(default_factory=dict)  # {name: {"fit", "exact"}} (linear case)
    own_slope_fit: dict = field(default_factory=dict)  # {state: d head / d own state}
    own_slope_exact: dict = field(default_factory=dict)
    fresh_residual: np.ndarray | None = None
    fresh_paths: np.ndarray | None = None
    fresh_dates: np.ndarray | None = None

    @staticmethod
    def _mse(r) -> float:
        return float(np.mean(r**2)) if np.all(np.isfinite(r)) else math.inf

    @staticmethod
    def _rel(u, exact) -> float | None:
        """:math:`\\overline{|u - u^*|} / \\overline{|u^*|}`: the mean error relative to the
        exact policy's mean size. Not the mean of pointwise ratios, as for the deck's model:
        an agent model's exact action crosses zero (E1's firms start by disinvesting), where a
        pointwise ratio is unbounded."""
        if exact is None:
            return None
        e = np.mean(np.abs(u - exact)) / np.mean(np.abs(exact))
        return float(e) if np.isfinite(e) else math.inf

    @property
    def test_mse(self) -> float:
        return self._mse(self.residual)

    @property
    def fresh_mse(self) -> float | None:
        return None if self.fresh_residual is None else self._mse(self.fresh_residual)

    @property
    def sample_mse(self) -> float | None:
        """The quadrature residual's MSE at the states of :attr:`fresh_mse` (like for like)."""
        if self.fresh_residual is None:
            return None
        return self._mse(self.residual[self.fresh_paths, self.fresh_dates])

    @property
    def policy_rel_error(self) -> float | None:
        """Mean relative policy error along the test paths (linear case), else None."""
        return self._rel(self.u, self.u_exact)

    @property
    def offpath_rel_error(self) -> float | None:
        """Mean relative policy error at the off-path states (linear case), else None."""
        return self._rel(self.u_offpath, self.u_offpath_exact)
