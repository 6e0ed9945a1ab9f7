"""Implicit bias: why networks fitted to a few points generalise, and which root they select.

Two puzzles of the deck, both about what an over-parameterised fit does where the data say nothing
(chapter 8 of the book).

**Multiplicity.** With :math:`\\nu = 1` the Euler equation has two linear solutions
:math:`u = H_0 + H_1\\bar X` (:func:`symdp.lq.lq_roots`), the stationary one (:math:`H_1^- < 0`) and
an explosive one (:math:`H_1^+ > 0`). Time iteration maps a linear policy for tomorrow,
:math:`u(X') = a + b\\bar X'`, into the linear policy that solves today's Euler equation exactly:

.. math::

    c = \\beta\\left(\\gamma(1-\\delta) b - 1\\right),\\qquad
    b' = \\frac{(1-\\delta)\\,c}{\\gamma - c},\\qquad
    a' = \\frac{\\beta\\left(1 + \\gamma(1-\\delta) a\\right)}{\\gamma - c}.

Its fixed points are the two LQ roots. Its Jacobian in :math:`(a, b)` is triangular
(:math:`b'` does not depend on :math:`a`) and at a fixed point, where
:math:`\\gamma(1-\\delta)/(\\gamma - c) = 1 - \\delta + b`, its eigenvalues are

.. math::

    \\frac{\\partial b'}{\\partial b} = \\beta(1-\\delta+b)^2,\\qquad
    \\frac{\\partial a'}{\\partial a} = \\beta(1-\\delta+b):

below one at the stationary root and above one at the explosive root, so time iteration (and the
solver's semi-gradient step, a damped version of it) is attracted by the first and repelled by the
second (:func:`time_iteration_step`, :func:`time_iteration_jacobian`).

**Generalisation.** A network with ~17K coefficients fitted to the Euler residual at three states
in :math:`\\mathbb R^{512}` (:func:`fit_sparse_grid`, :data:`SPARSE_ARCHITECTURES`), then tested
on fresh equilibrium paths: the interpolating function it picks among the many that zero the
residual at three points decides the test error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import torch

from ..evaluation import linear_fit
from ..lq import LinearPolicyCoefficients
from ..networks import ArchitectureConfig
from ..params import ModelParams
from ..solver import SolveResult, SolverConfig, solve

__all__ = [
    "time_iteration_step",
    "time_iteration_jacobian",
    "time_iteration_path",
    "SparseArchitecture",
    "SPARSE_ARCHITECTURES",
    "sparse_grid_config",
    "fit_sparse_grid",
    "sparse_grid_table",
    "policy_on_line",
]


def _check_linear(params: ModelParams) -> None:
    if not params.is_linear:
        raise ValueError(f"time iteration in closed form needs nu = 1, got nu={params.nu}")


def time_iteration_step(
    coef: LinearPolicyCoefficients, params: ModelParams = ModelParams()
) -> LinearPolicyCoefficients:
    """One step of time iteration on linear policies (nu = 1).

    Given tomorrow's policy :math:`u(X') = a + b\\bar X'` (``coef``), returns today's policy
    :math:`a' + b'\\bar X` that solves
    :math:`\\gamma u(X) = \\beta E[1 - \\bar X' + \\gamma(1-\\delta)(a + b\\bar X')]` with
    :math:`E\\bar X' = (1-\\delta)\\bar X + u(X)`:

    .. math::

        c = \\beta(\\gamma(1-\\delta)b - 1),\\quad
        b' = \\frac{(1-\\delta)c}{\\gamma - c},\\quad
        a' = \\frac{\\beta(1 + \\gamma(1-\\delta)a)}{\\gamma - c}.

    Raises ValueError for nu != 1 or at the pole :math:`c = \\gamma`.
    """
    _check_linear(params)
    beta, gamma, delta = params.beta, params.gamma, params.delta
    c = beta * (gamma * (1.0 - delta) * coef.H1 - 1.0)
    if gamma - c == 0.0:
        raise ValueError(f"time iteration is undefined at H1={coef.H1} (c = gamma)")
    return LinearPolicyCoefficients(
        H0=beta * (1.0 + gamma * (1.0 - delta) * coef.H0) / (gamma - c),
        H1=(1.0 - delta) * c / (gamma - c),
    )


def time_iteration_jacobian(
    coef: LinearPolicyCoefficients, params: ModelParams = ModelParams()
) -> np.ndarray:
    """Jacobian of :func:`time_iteration_step` in :math:`(H_0, H_1)`, a 2 x 2 array.

    .. math::

        \\frac{\\partial b'}{\\partial b} = \\frac{\\beta\\gamma^2(1-\\delta)^2}{(\\gamma-c)^2},\\quad
        \\frac{\\partial a'}{\\partial a} = \\frac{\\beta\\gamma(1-\\delta)}{\\gamma - c},\\quad
        \\frac{\\partial a'}{\\partial b} = \\frac{a'\\,\\beta\\gamma(1-\\delta)}{\\gamma - c},\\quad
        \\frac{\\partial b'}{\\partial a} = 0 .

    At a fixed point the eigenvalues (the diagonal) are :math:`\\beta(1-\\delta+H_1)` and
    :math:`\\beta(1-\\delta+H_1)^2`.
    """
    _check_linear(params)
    beta, gamma, delta = params.beta, params.gamma, params.delta
    c = beta * (gamma * (1.0 - delta) * coef.H1 - 1.0)
    k = beta * gamma * (1.0 - delta) / (gamma - c)  # dc/db / (gamma - c)
    a_next = beta * (1.0 + gamma * (1.0 - delta) * coef.H0) / (gamma - c)
    return np.array([[k, a_next * k], [0.0, gamma * (1.0 - delta) * k / (gamma - c)]])


def time_iteration_path(
    coef: LinearPolicyCoefficients, params: ModelParams = ModelParams(), steps: int = 50,
    bound: float = 1e6,
) -> np.ndarray:
    """Iterate :func:`time_iteration_step` from ``coef``: array (k + 1, 2) of :math:`(H_0, H_1)`.

    Stops early (fewer rows) once a coefficient exceeds ``bound`` in absolute value or the map
    hits its pole, so a divergent iteration returns the part of its path that is finite.
    """
    if not (isinstance(steps, int) and steps >= 0):
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    out = [(coef.H0, coef.H1)]
    for _ in range(steps):
        try:
            coef = time_iteration_step(coef, params)
        except ValueError:
            break
        if not (abs(coef.H0) < bound and abs(coef.H1) < bound):
            break
        out.append((coef.H0, coef.H1))
    return np.array(out)


# --------------------------------------------------------------------------------------------
# Three grid points in R^N


@dataclass(frozen=True)
class SparseArchitecture:
    """A network of the sparse-grid study: a short label, its layers in words, its configuration.

    ``label`` and ``description`` are Markdown with inline math (book tables).
    """

    label: str
    description: str
    arch: ArchitectureConfig


# Four networks of about the deck's 17.7K coefficients. rho has no hidden biases unless stated,
# so its hidden part is positively homogeneous: with phi(Identity) the whole policy is then exactly
# affine in mean(X) > 0, the deck's exact representation u = theta_1 + theta_2 mean(X).
SPARSE_ARCHITECTURES: dict[str, SparseArchitecture] = {
    "identity": SparseArchitecture(
        r"$\phi$(Identity)",
        r"$\rho$: 4 hidden layers of 76 without biases (the policy is exactly affine in $\bar X$)",
        ArchitectureConfig(phi="identity", rho_width=76)),
    "identity_bias": SparseArchitecture(
        r"$\phi$(Identity), biases",
        r"$\rho$: 4 hidden layers of 76 with biases",
        ArchitectureConfig(phi="identity", rho_width=76, rho_hidden_bias=True)),
    "relu": SparseArchitecture(
        r"mean-only $\phi$(ReLU)",
        r"$\phi$: 2 hidden layers of 64 without biases, $L = 4$; $\rho$: 4 hidden layers of 64",
        ArchitectureConfig(phi="relu", phi_width=64, rho_width=64)),
    "moments": SparseArchitecture(
        r"$\phi$(Moments)",
        r"$\phi$: the first four moments; $\rho$: 4 hidden layers of 76",
        ArchitectureConfig(phi="moments", rho_width=76)),
}


def sparse_grid_config(
    points: int = 3,
    steps: int = 6000,
    lr: float = 3e-4,
    seed: int = 0,
    test_trajectories: int = 256,
    T: int = 63,
    dtype: str = "float64",
) -> SolverConfig:
    """Solver settings of the sparse-grid study: ``points`` states, ``steps`` Adam steps.

    The grid is ``points`` dates spread evenly over one simulated path of T + 1 dates (the
    solver's ``train_points``). Every step uses all of them. No early stopping: the validation
    tolerance is unreachably small and the validation path is never used to choose anything, so
    the test paths are the first states off the grid the fit is ever measured on.

    Double precision by default: in single precision the interpolant a fit lands on depends on
    the CPU's rounding (the last digits of every step differ between vector kernels, and 6,000
    steps at a constant rate amplify them), so its test error was a lottery across machines.
    """
    if not (isinstance(points, int) and 1 <= points <= T + 1):
        raise ValueError(f"points must be an integer in [1, T + 1 = {T + 1}], got {points!r}")
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    return SolverConfig(
        train_trajectories=1, val_trajectories=1, test_trajectories=test_trajectories, T=T,
        train_points=points, batch_size=points, lr=lr, max_epochs=steps, val_tolerance=1e-300,
        checks_per_epoch=1, seed=seed, threads=1, dtype=dtype,
    )


SETTLE = (0.1, 0.01)  # the rate of each settling phase, relative to the first phase's


def fit_sparse_grid(
    params: ModelParams,
    names: Iterable[str],
    seeds: Iterable[int],
    config: SolverConfig,
    settle: Iterable[float] = SETTLE,
) -> dict[tuple[str, int], SolveResult]:
    """Fit each network of :data:`SPARSE_ARCHITECTURES` in ``names`` with each seed.

    ``config`` comes from :func:`sparse_grid_config`; its seed is replaced by each of ``seeds``.
    After ``config.max_epochs`` Adam steps at ``config.lr``, each factor of ``settle`` runs a
    further ``max_epochs // 4`` steps from the weights reached, on the same states, at
    ``factor * lr``: Adam at a constant rate keeps jumping around a zero-residual fit, and a
    decaying rate lets it settle on one (chapter 8 measures the difference). A settling phase
    starts at its rate, without the solver's warm-up: the warm-up protects a fresh network's
    first steps, and from weights already near a zero-residual fit its rising rate threw the
    fit back out (chapter 8 says by how much). Returns
    ``{(name, seed): SolveResult}``, the result of the last phase (its ``steps`` are that
    phase's).
    """
    names = list(names)
    unknown = [n for n in names if n not in SPARSE_ARCHITECTURES]
    if unknown:
        raise ValueError(f"unknown architecture {unknown[0]!r}; choose from "
                         f"{', '.join(SPARSE_ARCHITECTURES)}")
    settle = [float(f) for f in settle]
    if not all(0 < f for f in settle):
        raise ValueError(f"settle factors must be > 0, got {settle}")
    out = {}
    for name in names:
        for seed in seeds:
            cfg = _replace(config, seed=int(seed))
            phases = [cfg] + [_replace(cfg, lr=f * cfg.lr, max_epochs=max(1, cfg.max_epochs // 4),
                                       warmup_steps=0)
                              for f in settle]
            fit = SPARSE_ARCHITECTURES[name].arch
            for k, phase in enumerate(phases):
                if k < len(phases) - 1:  # only the last phase's fit is tested on many paths
                    phase = _replace(phase, test_trajectories=1)
                result = solve(params, fit, phase)
                fit = result.policy  # a warm start: the grid is the same (same seed)
            out[(name, int(seed))] = result
    return out


def _replace(config: SolverConfig, **changes) -> SolverConfig:
    from dataclasses import replace

    return replace(config, **changes)


def sparse_grid_table(fits: Mapping[tuple[str, int], SolveResult]):
    """One row per network: coefficients, seeds, and median [min, max] over seeds.

    Columns: ``network``, ``coefficients``, ``seeds``, ``train_mse`` (median), ``test_mse`` (median,
    min, max), ``policy_error`` (median, min, max; fractions), ``stationary`` (share of seeds
    whose test paths stayed near the stationary LQ path), ``H1_fit`` (median least-squares slope
    of u on mean X along the test paths).
    """
    import pandas as pd

    rows = []
    for (name, seed), r in fits.items():
        ev = r.evaluation
        try:
            H1 = linear_fit(ev.mean_X, ev.u, finite_only=True).H1
        except ValueError:  # no two finite points with different means
            H1 = math.nan
        rows.append({"name": name, "seed": seed, "coefficients": r.n_params, "train_mse": r.train_mse,
                     "test_mse": r.test_mse, "policy_error": r.policy_rel_error,
                     "stationary": r.stationary, "H1_fit": H1})
    df = pd.DataFrame(rows)
    if df.empty:
        raise ValueError("fits is empty: nothing to tabulate")
    out = []
    for name, sub in df.groupby("name", sort=False):
        out.append({
            "network": SPARSE_ARCHITECTURES[name].description if name in SPARSE_ARCHITECTURES
            else name,
            "coefficients": int(sub["coefficients"].iloc[0]), "seeds": len(sub),
            "train_mse": sub["train_mse"].median(),
            "test_mse": sub["test_mse"].median(), "test_mse_min": sub["test_mse"].min(),
            "test_mse_max": sub["test_mse"].max(),
            "policy_error": sub["policy_error"].median(),
            "policy_error_min": sub["policy_error"].min(),
            "policy_error_max": sub["policy_error"].max(),
            "stationary": float(sub["stationary"].mean()),
            "H1_fit": sub["H1_fit"].median(),
        })
    return pd.DataFrame(out).set_index(pd.Index([r for r in df["name"].unique()], name="name"))


@torch.no_grad()
def policy_on_line(policy, X: torch.Tensor, means) -> np.ndarray:
    """The policy at the states :math:`X + (m - \\bar X)\\mathbf 1` for each mean ``m``.

    Shifts the whole cross-section of ``X`` (shape ``(N,)``) so its mean is m, keeping its
    shape: a one-dimensional slice through the state space along which the LQ policies are
    straight lines.
    """
    m = torch.as_tensor(np.asarray(means, dtype=float), dtype=X.dtype)
    states = X.unsqueeze(0) - X.mean() + m.unsqueeze(-1)
    return policy(states).double().cpu().numpy()

