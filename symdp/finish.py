"""A second-order finish: Levenberg-Marquardt on the policy network's output layer.

Adam's time-iteration steps (:func:`symdp.solver.training_step`) bring a fit into the stationary
solution's basin within a few epochs, then creep: the squared residual's valley is long and
narrow in the directions that move a slope the equilibrium paths barely identify (an agent's own
state against the industry's mean, a group's mean that hardly moves). The network's output is
linear in its output layer (``output_parameters()``: rho's last layer and, in
:class:`symdp.networks.AgentDeepSet`, the linear map beside it; the deck's
:class:`~symdp.networks.DeepSetPolicy` and :class:`~symdp.networks.MLPPolicy` name their last
layer): with the hidden layers held, the Euler residual is a smooth function of those few
coefficients (tens to a few hundred), and Gauss-Newton on them converges quadratically to the
best fit the hidden features allow. In the linear case that is the exact policy, which lies in
their span (the linear map sees the features and the embedding; rho's last hidden features in
the deck's networks are piecewise linear in the mean, some of them linear over a grid's narrow
range of means, so the affine LQ policy is in their span there: ``tests/test_finish.py``).

Which fits finish is :attr:`symdp.solver.SolverConfig.finish_from`, by default the model's
(:attr:`symdp.models.Model.finish_from`): the agent models finish, the deck's model fits with
Adam alone unless asked. ``benchmarks/side_by_side.py`` measures the deck's networks both ways.

The Jacobian is the full one: the output layer moves today's actions, hence tomorrow's states,
as well as tomorrow's actions. Newton's method converges to the solution nearest its start, and it
starts where the time-iteration steps have brought the fit, next to the stationary solution; the
evaluation checks stationarity for every fit, as always. Each step takes a fresh subset of the
training states with at least :data:`ROWS_PER_COEFFICIENT` residuals per coefficient, so the
subset identifies the coefficients, and keeps a step only if it lowers the subset's squared
residual (the damping grows tenfold until one does, and shrinks after it).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import jacfwd

from .models.base import Model, Quadrature
from .networks import detached_twin

__all__ = ["Finish", "has_output_layer", "finish_step", "jacobian", "jacobian_by_features"]

#: Residuals per output-layer coefficient in a step's subset of states.
ROWS_PER_COEFFICIENT = 8
#: Dampings tried per step, tenfold apart: from 1e-9 to 1e5 times the mean diagonal, where the
#: step is a short gradient step that lowers any residual not at a stationary point.
_TRIES = 15
#: Jacobian entries' intermediate numbers per chunk of states (bounds the memory of a step).
_CHUNK = 1 << 24
#: Firm evaluations per chunk of states in :func:`jacobian_by_features` (states x N x (nodes +
#: 1)): its backward pass is fastest on tensors that stay in cache. Measured: one state a chunk
#: at N = 100,000 took half the time of 20; at N = 128, 16 states a chunk balance phi evaluated
#: at every firm (fastest at 8) and the mean-only phi (fastest at 128 or more).
_FEATURE_CHUNK = 1 << 14


@dataclass
class Finish:
    """The finish's state between steps (mutable): the Levenberg-Marquardt damping, relative to
    the mean diagonal of the Gauss-Newton matrix, and the steps taken and kept."""

    damping: float = 1e-9
    steps: int = 0
    kept: int = 0


def has_output_layer(policy: nn.Module) -> bool:
    """Whether ``policy`` says which of its parameters its output is linear in."""
    return callable(getattr(policy, "output_parameters", None))


@functools.cache
def _forward_ad() -> None:
    """Load torch's forward-mode decompositions once, quietly: on first use torch scripts them
    with its own deprecated ``torch.jit.script`` (torch 2.13), a warning about torch's code that
    a user of this package cannot act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*deprecated",
                                category=DeprecationWarning)
        from torch._decomp import decompositions_for_jvp  # noqa: F401


def _set(twin: nn.Module, names: list[str], shapes: list[torch.Size], theta: torch.Tensor) -> None:
    i = 0
    for name, shape in zip(names, shapes):
        *path, leaf = name.split(".")
        n = math.prod(shape)
        setattr(twin.get_submodule(".".join(path)), leaf, theta[i:i + n].reshape(shape))
        i += n


def jacobian(model: Model, twin: nn.Module, names: list[str], shapes: list[torch.Size],
             theta: torch.Tensor, X: torch.Tensor, quadrature: Quadrature) -> torch.Tensor:
    """The Euler residuals' Jacobian in the output coefficients ``theta`` at the industries
    ``X`` ``(S, N, d)``: ``(S M, P)``, by the chain rule through today's actions u,

    .. math::

        \\frac{d\\varepsilon}{d\\theta} = \\frac{\\partial\\varepsilon}{\\partial\\theta}\\Big|_u
            + \\frac{\\partial\\varepsilon}{\\partial u}\\,\\frac{\\partial u}{\\partial\\theta}.

    The coefficients reach tomorrow's actions directly, through the output layer (forward
    mode, P directions that stop at the layer), and through today's actions, which move
    tomorrow's states and with them every input of the network (reverse mode, M directions per
    industry). Forward mode through the whole residual would carry all P directions through
    every layer of tomorrow's network; this carries P through one layer and M through all.
    ``twin`` (:func:`symdp.networks.detached_twin`) evaluates the network at given output
    coefficients.
    """

    def actions(th: torch.Tensor, Xc: torch.Tensor) -> torch.Tensor:
        _set(twin, names, shapes, th)
        return twin(model.features(Xc))

    def residual(th: torch.Tensor, u: torch.Tensor, Xc: torch.Tensor) -> torch.Tensor:
        _set(twin, names, shapes, th)
        return model.euler_residual(twin, Xc, quadrature, actions=u)

    S, P = X.shape[0], theta.numel()
    with torch.no_grad():
        u = actions(theta, X)  # (S, N); the deck's model: (S,), one action per industry
    # (S, M, P), today's actions held; the deck's model: M = 1
    direct = jacfwd(residual, argnums=0)(theta, u, X).reshape(S, -1, P)
    du = jacfwd(actions, argnums=0)(theta, X).reshape(S, -1, P)  # (S, N, P)
    _set(twin, names, shapes, theta)
    through_u = torch.vmap(torch.func.jacrev(
        lambda ui, Xi: model.euler_residual(twin, Xi, quadrature, actions=ui)))(u, X)
    through_u = through_u.reshape(S, direct.shape[1], du.shape[1])  # (S, M, N)
    return (direct + torch.einsum("smn,snp->smp", through_u, du)).reshape(-1, P)


def jacobian_by_features(model: Model, twin: nn.Module, X: torch.Tensor,
                         quadrature: Quadrature) -> torch.Tensor:
    """:func:`jacobian` for a network with one action per industry that says what its output
    layer weighs (``output_features``: the deck's networks), ``(S, P)``, by one backward pass:

    .. math::

        \\frac{d\\varepsilon}{d\\theta} = \\frac{\\partial\\varepsilon}{\\partial u}\\,D(X)
            + \\sum_k \\frac{\\partial\\varepsilon}{\\partial u'_k}\\,D(X'_k),

    with :math:`D = (h, 1)` the action's derivative in the output layer's weight and bias (h the
    features it weighs), :math:`u'_k` tomorrow's action at the aggregate node k, and
    :math:`\\partial\\varepsilon/\\partial u` the derivative in today's action through tomorrow's
    states as well. Each industry's residual depends on its own actions only, so the backward
    pass of the residuals' sum gives every industry's derivatives. Forward mode carries its P
    directions through every operation on the N firms of every next state, which cost several
    times more (``tests/test_finish.py`` checks the two agree; ``benchmarks/scale.py
    --finish-from 2`` times a fit).
    """
    recorded = []

    def tomorrow(X_next: torch.Tensor) -> torch.Tensor:
        u_next = twin(X_next)
        recorded.append((X_next, u_next))
        return u_next

    with torch.enable_grad():
        u = twin(X).detach().requires_grad_()
        r = model.euler_residual(twin, X, quadrature, policy_next=tomorrow, actions=u)
        (X_next, u_next), = recorded
        du, du_next = torch.autograd.grad(r.sum(), [u, u_next])
    with torch.no_grad():
        D = _design(twin, X)  # (S, P)
        nodes = du_next.unsqueeze(-1) * _design(twin, X_next)  # (S, K, P)
        return du.unsqueeze(-1) * D + nodes.reshape(*D.shape[:1], -1, D.shape[-1]).sum(1)


def _design(twin: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """The action's derivative in the output layer's weight and bias: its features and a one."""
    h = twin.output_features(X)
    return torch.cat([h, torch.ones_like(h[..., :1])], -1)


def finish_step(model: Model, policy: nn.Module, states: torch.Tensor, quadrature: Quadrature,
                state: Finish, generator: torch.Generator) -> tuple[float, float]:
    """One Levenberg-Marquardt step on ``policy``'s output layer, in place.

    The subset: ``ceil(ROWS_PER_COEFFICIENT P / M)`` of ``states`` (at random from ``generator``; P output
    coefficients, M residual agents per state). The step solves
    :math:`(J^\\top J + \\lambda\\,\\overline{\\mathrm{diag}}\\,I)\\,\\Delta = -J^\\top r` in
    float64, where r are the subset's Euler residuals (:meth:`symdp.models.Model.euler_residual`,
    no weight held) and J their Jacobian in the output coefficients (:func:`jacobian`, or
    :func:`jacobian_by_features` for the deck's networks). Returns the
    subset's mean squared residual before and after the step (the same twice when no step was
    kept).
    """
    named = policy.output_parameters()
    names = [n for n, _ in named]
    shapes = [p.shape for _, p in named]
    theta0 = torch.cat([p.detach().reshape(-1) for _, p in named])
    # residuals per state: one per agent taken, or the deck's one per industry (no agents)
    P, M = theta0.numel(), max(1, len(quadrature.agents))
    S = min(states.shape[0], max(8, math.ceil(ROWS_PER_COEFFICIENT * P / M)))
    pick = torch.randperm(states.shape[0], generator=generator)[:S].to(states.device)
    X = states[pick]
    twin = detached_twin(policy)

    def residual(theta: torch.Tensor, Xc: torch.Tensor) -> torch.Tensor:
        _set(twin, names, shapes, theta)
        return model.euler_residual(twin, Xc, quadrature).reshape(-1)

    rows = max(1, model.chunk_rows(_CHUNK // P, quadrature))
    with torch.no_grad():
        r = torch.cat([residual(theta0, Xc) for Xc in X.split(rows)]).double()
    if callable(getattr(policy, "output_features", None)):
        _set(twin, names, shapes, theta0)
        J = torch.cat([jacobian_by_features(model, twin, Xc, quadrature) for Xc in
                       X.split(max(1, model.chunk_rows(_FEATURE_CHUNK, quadrature)))]).double()
    else:
        _forward_ad()
        J = torch.cat([jacobian(model, twin, names, shapes, theta0, Xc, quadrature)
                       for Xc in X.split(rows)]).double()
    A, g = J.T @ J, J.T @ r
    before = float(r.pow(2).mean())
    scale = float(A.diagonal().mean())
    state.steps += 1
    for _ in range(_TRIES):
        delta = torch.linalg.solve(A + state.damping * scale * torch.eye(P, dtype=A.dtype,
                                                                         device=A.device), -g)
        theta = theta0 + delta.to(theta0.dtype)
        with torch.no_grad():
            after = float(torch.cat([residual(theta, Xc) for Xc in X.split(rows)])
                          .double().pow(2).mean())
        if math.isfinite(after) and after < before:
            state.damping = max(state.damping / 10, 1e-12)
            state.kept += 1
            with torch.no_grad():
                i = 0
                for _, p in named:
                    p.copy_(theta[i:i + p.numel()].reshape(p.shape))
                    i += p.numel()
            return before, after
        state.damping *= 10
    return before, before
