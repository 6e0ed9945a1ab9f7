"""The worker tasks: what one run of a sweep executes, from the plain dicts of its configuration.

A run (:func:`symdp.runs.sweep.make_run`) names one of these functions and holds its arguments as
JSON, so the sweep engine can hash, store and ship it. Each task rebuilds the science's objects
from those dicts, runs on one torch thread, and returns a flat dict of JSON-able numbers.

:func:`solve_task`
    One training run of :func:`symdp.solver.solve` (Tables 2 and 3, Figure 3, the implicit-bias
    study).
:func:`regression_task`
    One cell of the appendix Table 1 (:func:`symdp.studies.regression.fit_regression`).

This module is one of the registry's computing modules
(:data:`symdp.runs.experiments.COMPUTING_MODULES`): editing it changes every stored run's key.
"""

from __future__ import annotations

__all__ = ["solve_task", "regression_task"]


def _one_thread() -> None:
    """One torch thread for the run: a cluster's parallelism is its workers.

    Set here, in the thread that runs the task, because OpenMP's thread count is a per-thread
    setting and the sweep engine runs a task with a time limit in a thread of its own.
    """
    import torch

    torch.set_num_threads(1)


def solve_task(model: dict, arch: dict, solver: dict, fresh: dict | None = None,
               name: str = "investment") -> dict:
    """One training run of :func:`symdp.solver.solve` from plain dicts of its settings.

    ``name`` is a model of :data:`symdp.models.MODELS` (the deck's by default); ``model``,
    ``arch`` and ``solver`` hold the fields of its parameters (for the deck's,
    :class:`~symdp.params.ModelParams`),
    :class:`~symdp.networks.ArchitectureConfig` and :class:`~symdp.solver.SolverConfig`
    (``max_seconds`` None for no cap; ``stationarity`` a dict). ``fresh`` holds the fields of
    :class:`~symdp.evaluation.FreshDraws` (None: no fresh-draw residual), adding ``fresh_mse``
    and ``fresh_sample_mse`` (the one-draw MSE at the same states) to the record.

    Returns :meth:`symdp.solver.SolveResult.scalars` plus, for the deck's model at nu = 1, the
    least-squares line
    :math:`u \\approx H_0 + H_1\\bar X` of the fitted policy along its own test paths (finite
    points only): ``H0_fit``, ``H1_fit``, the nearest LQ root ``root`` -- "stable" (H1 < 0, the
    stationary solution), "explosive", or "neither" when farther than
    :data:`symdp.lq.ROOT_TOLERANCE` (relative) from both -- and ``root_distance``, the relative
    distance to the nearest root.
    """
    from ..evaluation import FreshDraws, linear_fit
    from ..lq import nearest_root
    from ..models import get_model
    from ..networks import ArchitectureConfig
    from ..solver import SolverConfig, solve

    _one_thread()
    the_model = get_model(name, **model)
    params = the_model.params
    result = solve(the_model, ArchitectureConfig(**arch), SolverConfig.from_dict(solver),
                   fresh=None if fresh is None else FreshDraws(**fresh))
    out = result.scalars()
    if name == "investment" and params.is_linear:
        try:
            line = linear_fit(result.evaluation.mean_X, result.evaluation.u, finite_only=True)
        except ValueError:  # diverged on every path, or a mean that never moved
            out.update(H0_fit=None, H1_fit=None, root_distance=None, root="neither")
        else:
            root, distance = nearest_root(line.H1, params)
            out.update(H0_fit=line.H0, H1_fit=line.H1, root_distance=distance, root=root)
    return out


def regression_task(N: int, L: int | None, seed: int, config: dict) -> dict:
    """One cell of the appendix Table 1: :func:`symdp.studies.regression.fit_regression`.

    ``config`` holds the fields of :class:`~symdp.studies.regression.RegressionConfig`.
    """
    from ..studies.regression import RegressionConfig, fit_regression

    _one_thread()
    return fit_regression(N, L, seed, RegressionConfig(**config))
