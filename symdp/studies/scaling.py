"""How cost grows with N (chapter 6 of the book): one solver step timed, fits summarised by N,
and the exponent of a power law in N.

The sweep ``figure3`` of :mod:`symdp.runs.experiments` times whole fits of the mean-only phi(ReLU),
whose aggregation :math:`\\frac1N\\sum_i\\phi(X_i)` reduces to two averages. The deck's phi(ReLU)
has hidden biases, so phi must be evaluated at every firm: a full fit of it at N = 10,000 takes
hours on one CPU thread. :func:`step_seconds` measures instead the time of a few of the solver's
Adam steps (the same loss, minibatch and quadrature as :func:`symdp.solver.solve`), from which the
time per epoch follows: an epoch is ``ceil(grid points / batch)`` steps.

:func:`quantiles_by_n` summarises a sweep's fits by N (medians and their spread) and
:func:`loglog_slope` fits the exponent b of :math:`y \\propto N^b`: 1 for time that grows
linearly, -1/2 for an error that concentrates (chapter 4).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..economics import simulate
from ..networks import ArchitectureConfig
from ..params import ModelParams
from ..solver import (SolverConfig, first_draws, lq_path_policy, seeded_policy, tensor_kw,
                      training_step)

__all__ = ["StepTiming", "step_seconds", "loglog_slope", "quantiles_by_n"]


@dataclass(frozen=True)
class StepTiming:
    """Result of :func:`step_seconds`.

    ``seconds``: wall-clock time of each timed step; ``losses``: the minibatch loss before each
    step; ``steps_per_epoch``: Adam steps in one pass over the solver's grid; ``states``: the
    minibatch every step used, shape ``(batch_size, N)``.
    """

    seconds: tuple[float, ...]
    losses: tuple[float, ...]
    steps_per_epoch: int
    states: torch.Tensor | None = None

    @property
    def seconds_per_step(self) -> float:
        """Median time of one step (robust to one step disturbed by another process)."""
        s = sorted(self.seconds)
        k = len(s)
        return s[k // 2] if k % 2 else 0.5 * (s[k // 2 - 1] + s[k // 2])

    @property
    def seconds_per_epoch(self) -> float:
        """Time of one pass over the grid, at :attr:`seconds_per_step` a step."""
        return self.seconds_per_step * self.steps_per_epoch


def step_seconds(
    params: ModelParams,
    arch: ArchitectureConfig | str,
    config: SolverConfig = SolverConfig(),
    steps: int = 3,
    warmup: int = 1,
) -> StepTiming:
    """Time ``steps`` Adam steps of the solver on one minibatch of its grid.

    Parameters
    ----------
    params : ModelParams
        The economy (its N sets the cost).
    arch : ArchitectureConfig or str
        The network, built as :func:`symdp.solver.solve` builds it (seeded by ``config.seed``).
    config : SolverConfig
        Batch size, quadrature nodes, learning rate, gradient kind, dtype, device and threads of
        the step, and the grid size that fixes ``steps_per_epoch``.
    steps : int
        Timed steps.
    warmup : int
        Untimed steps first (the first step pays for allocations).

    Returns
    -------
    StepTiming
        Times and losses of the timed steps. Validation checks, which the solver skips while the
        training loss is far above the tolerance, are not included.
    """
    if not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if not (isinstance(warmup, int) and warmup >= 0):
        raise ValueError(f"warmup must be an integer >= 0, got {warmup!r}")
    kw = tensor_kw(config)
    policy = seeded_policy(params, arch, config, **kw)
    draws = first_draws(params, config, **kw)
    # One minibatch of the solver's kind of states: dates of a path under the LQ policy.
    path = simulate(params, lq_path_policy(params).to(**kw), draws.X0, 1, config.T, draws.gen)[0]
    batch = path[torch.linspace(0, config.T, config.batch_size).round().long()]
    n_grid = config.train_points or config.train_trajectories * (config.T + 1)

    step = training_step(params, policy, draws, config)
    seconds, losses = [], []
    for k in range(warmup + steps):
        t0 = time.perf_counter()
        value = float(step(batch))  # synchronises a GPU before the clock stops
        if k >= warmup:
            seconds.append(time.perf_counter() - t0)
            losses.append(value)
    return StepTiming(tuple(seconds), tuple(losses), math.ceil(n_grid / config.batch_size), batch)


def quantiles_by_n(runs, q: tuple[float, float] = (0.25, 0.75), over: str = "all"):
    """One row per N: median and spread of time, time per epoch and accuracy over runs.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run with ``N``, ``success``, ``fit_seconds``, ``epochs``, ``val_mse``,
        ``policy_rel_error``.
    q : (float, float)
        The quantiles that give the spread (default: the interquartile range).
    over : {"all", "success"}
        Summarise every trial (the deck's "median value of 21 trials"; a trial stopped by its
        time cap then enters with its capped time) or only the successful ones.

    Returns
    -------
    pandas.DataFrame
        Indexed by N: ``runs``, ``success`` (share), and for ``fit_seconds``,
        ``seconds_per_epoch`` (= fit_seconds / epochs), ``epochs``, ``val_mse``,
        ``policy_rel_error`` the median and the two quantiles (``<col>``, ``<col>_lo``,
        ``<col>_hi``) over the trials chosen by ``over`` (NaN where there are none).
    """
    import pandas as pd

    if over not in ("all", "success"):
        raise ValueError(f"over must be 'all' or 'success', got {over!r}")
    if not (0.0 <= q[0] <= 0.5 <= q[1] <= 1.0):
        raise ValueError(f"q must satisfy 0 <= q[0] <= 0.5 <= q[1] <= 1, got {q}")
    need = ["N", "success", "fit_seconds", "epochs", "val_mse", "policy_rel_error"]
    missing = [c for c in need if c not in runs.columns]
    if missing:
        raise ValueError(f"runs lacks column(s) {missing}")
    runs = runs.assign(seconds_per_epoch=runs["fit_seconds"] / runs["epochs"])
    ok = runs[runs["success"].astype(bool)] if over == "success" else runs
    out = runs.groupby("N").agg(runs=("success", "size"), success=("success", "mean"))
    out["success"] = out["success"].astype(float)
    g = ok.groupby("N")
    cols = ["fit_seconds", "seconds_per_epoch", "epochs", "val_mse", "policy_rel_error"]
    parts = {}
    for c in cols:
        parts[c] = g[c].median()
        parts[f"{c}_lo"] = g[c].quantile(q[0])
        parts[f"{c}_hi"] = g[c].quantile(q[1])
    out = out.join(pd.DataFrame(parts), how="left")
    return out.sort_index()


def loglog_slope(N: Sequence[float], y: Sequence[float]) -> float:
    """Slope b of the least-squares fit :math:`\\log y = a + b\\log N`.

    1 is linear growth (time against N, chapter 6); -1/2 is concentration (the one-draw error
    against N, chapter 4).
    """
    n, v = np.asarray(N, dtype=float), np.asarray(y, dtype=float)
    if n.shape != v.shape or n.ndim != 1 or len(n) < 2:
        raise ValueError(f"need two 1-D sequences of equal length >= 2, got {n.shape}, {v.shape}")
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(v)) and n.min() > 0 and v.min() > 0):
        raise ValueError("N and y must be positive and finite")
    return float(np.polyfit(np.log(n), np.log(v), 1)[0])
