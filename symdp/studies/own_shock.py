"""What one draw of an agent's own shock costs, when its policy uses its own state.

The deck's one-draw expectation rests on the others' shocks averaging out in the aggregates
(concentration of measure). An agent's own shock does not average out: when its action depends on
its own state (E1, E3), the residual's integrand moves with that one shock at order one. Two
measurements, both at the exact policy's states and with the linear family of the exact policy,
so that no network's fitting error enters:

* :func:`residual_sources`: the root-mean-square one-draw residual of the exact policy that comes
  from the own shock (its own draw instead of quadrature) against the one from the other agents'
  shocks (a raw, unstandardised draw instead of the standardised one);
* :func:`linear_family_fit`: the linear family of the exact policy fitted to the residual by
  L-BFGS (a least-squares fit, so its minimiser is what the training objective selects), with the
  own shock at one draw or integrated: the fitted coefficients and the policy error.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch
from torch import nn

from ..models import Model
from ..solver import SolverConfig, first_draws, tensor_kw

__all__ = ["residual_sources", "linear_family_fit"]


def _grid(model: Model, config: SolverConfig):
    """The solver's first grid for ``model`` (paths under its exact policy, widened) and its
    draws, in float64."""
    kw = tensor_kw(config)
    draws = first_draws(model, config, **kw)
    exact = model.exact_policy().to(**kw)
    X = model.simulate(exact, draws.X0, config.train_trajectories, config.T, draws.gen)
    X = model.widen(X.reshape(-1, *draws.X0.shape), draws.quadrature, draws.gen)
    return X, draws, exact, kw


def _rms(r: torch.Tensor) -> float:
    return float(r.double().pow(2).mean().sqrt())


@torch.no_grad()
def residual_sources(model: Model, seed: int = 0) -> dict:
    """RMS Euler residual of the exact policy at the grid's states from each source of error.

    Returns ``{"own": ..., "others": ..., "both": ...}``: the own shocks at their one draw (the
    others' draw standardised, as the solver's is); the others' shocks at a raw draw with the own
    shocks integrated; both at the raw draw. With the own shocks integrated and the standardised
    draw the residual is zero to rounding (``tests/test_models.py``).
    """
    base = SolverConfig(seed=seed, dtype="float64", threads=1)
    X, draws, exact, kw = _grid(model, base)
    q = draws.quadrature
    raw = torch.randn(q.W_hat.shape, generator=torch.Generator().manual_seed(seed + 1),
                      dtype=q.W_hat.dtype).to(q.W_hat.device)
    one_draw = replace(q, own_nodes=None, own_weights=None)
    return {"own": _rms(model.euler_residual(exact, X, one_draw)),
            "others": _rms(model.euler_residual(exact, X, replace(q, W_hat=raw))),
            "both": _rms(model.euler_residual(exact, X, replace(one_draw, W_hat=raw)))}


def linear_family_fit(model: Model, own_nodes: int, seed: int = 0) -> dict:
    """The exact policy's linear family, started at the stationary solution, fitted to the mean
    squared Euler residual on the solver's first grid by L-BFGS (from zero it can reach another
    of the exact solutions, which zero the residual as well), with the own shocks at ``own_nodes``
    Gauss-Hermite nodes each (0: their one draw).

    Returns the fitted and exact coefficients (``model.design``'s names) and the policy error
    of the fit against the exact policy at the grid's states (mean absolute error over the mean
    absolute exact action, as :class:`~symdp.models.AgentEvaluation` measures it).
    """
    config = SolverConfig(seed=seed, dtype="float64", threads=1, own_nodes=own_nodes)
    X, draws, exact, kw = _grid(model, config)
    fit = model.exact_policy().to(**kw)
    for name, buf in list(fit.named_buffers()):  # the exact coefficients, made free
        fit._buffers.pop(name)
        setattr(fit, name, nn.Parameter(buf.clone()))
    opt = torch.optim.LBFGS(fit.parameters(), max_iter=500, history_size=50,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-14,
                            tolerance_change=1e-18)

    def loss():
        opt.zero_grad()
        value = model.euler_residual(fit, X, draws.quadrature).pow(2).mean()
        value.backward()
        return value

    for _ in range(3):
        opt.step(loss)
    with torch.no_grad():
        F, idx = model.features(X), draws.quadrature.agents
        u, u_star = fit(F)[:, idx], exact(F)[:, idx]
        error = float((u - u_star).abs().mean() / u_star.abs().mean())
        design, names = model.design(X, idx)
        A = design.reshape(-1, design.shape[-1]).cpu().numpy()
        coef = np.linalg.lstsq(A, u.reshape(-1).cpu().numpy(), rcond=None)[0]
    truth = model.exact_coefficients()
    return {"fitted": dict(zip(names, map(float, coef))),
            "exact": {n: float(truth[n]) for n in names},
            "policy_error": error, "mse": float(loss().detach())}
