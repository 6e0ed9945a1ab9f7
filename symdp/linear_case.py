"""The linear case against its exact benchmark, and how the method scales in N (chapters 5 and 6).

With :math:`\\nu = 1` the Euler equation has the closed-form solution
:math:`u(X) = H_0 + H_1\\bar X` (:mod:`symdp.lq`), so a fitted policy can be scored by its
relative error against it at every state it visits,

.. math::

    \\varepsilon_{rel}(X_t) = \\frac{|u(X_t) - u_{LQ}(X_t)|}{|u_{LQ}(X_t)|},

along fresh equilibrium paths simulated under the fitted policy
(:attr:`symdp.evaluation.Evaluation.rel_error`). This module holds what the two chapters compute
on top of :func:`symdp.solve` and the sweep engine:

* :func:`solve_baselines`: the deck's three baselines fitted on the same economy and seed;
* :func:`implied_coefficients`: the :math:`(H_0, H_1)` a fitted policy implies on its paths;
* :func:`path_bands`: mean and percentile band of a per-path quantity, date by date (Figure 2);
* :func:`scaling_summary`: one row per N (Figure 3), medians with their spread, from a table of
  runs (one row per run, the columns of :meth:`symdp.solver.SolveResult.summary`);
* :func:`linear_growth`: the exponent b in time ~ N^b;
* :func:`side_by_side`: our table and the deck's in one, each cell "ours (deck)";
* :func:`solver_conventions`: the solver settings of chapters 5-8, read from the code.

Table 2 itself (its grid, summary and the deck's published values) is
:mod:`symdp.experiments`' experiment ``"table2"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .lq import LinearPolicyCoefficients
from .params import ModelParams
from .solver import SolveResult, SolverConfig, solve

__all__ = [
    "BASELINES",
    "PathBands",
    "implied_coefficients",
    "line_departure",
    "path_bands",
    "solve_baselines",
    "scaling_summary",
    "linear_growth",
    "side_by_side",
    "solver_conventions",
    "MEDIAN_OVER",
    "OPTIMISER",
]

BASELINES = ("identity", "moments", "relu")  # phi(Identity), phi(Moments), phi(ReLU)

@dataclass(frozen=True)
class PathBands:
    """Date-by-date summary of a quantity over simulated paths (arrays of length T + 1).

    ``mean`` is the average over paths; ``lower`` and ``upper`` are the ``q`` percentiles.
    """

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    q: tuple[float, float]
    n_paths: int

    @property
    def t(self) -> np.ndarray:
        return np.arange(len(self.mean))


def path_bands(values, lower: float = 2.5, upper: float = 97.5) -> PathBands:
    """Mean and ``[lower, upper]`` percentile band over paths, at each date.

    Parameters
    ----------
    values : array (paths, T + 1)
        E.g. :attr:`symdp.evaluation.Evaluation.rel_error` or ``.residual``.
    lower, upper : float
        Percentiles in [0, 100], ``lower <= upper`` (default: the deck's 2.5 and 97.5).

    Raises
    ------
    ValueError
        If ``values`` is not a finite 2-D array with at least one path, or the percentiles are
        out of range.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] < 1 or v.shape[1] < 1:
        raise ValueError(f"values must be a 2-D array (paths, dates), got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite (a diverged path has no band)")
    if not (0.0 <= lower <= upper <= 100.0):
        raise ValueError(f"percentiles must satisfy 0 <= lower <= upper <= 100, got "
                         f"{lower}, {upper}")
    lo, hi = np.percentile(v, [lower, upper], axis=0)
    return PathBands(v.mean(0), lo, hi, (float(lower), float(upper)), v.shape[0])


def solve_baselines(
    params: ModelParams = ModelParams(),
    config: SolverConfig = SolverConfig(),
    phis: Sequence[str] = BASELINES,
) -> dict[str, SolveResult]:
    """Fit each baseline architecture on the same economy with the same seed.

    With one ``config.seed`` every fit starts from the same initial state, the same draw of the
    idiosyncratic shocks and the same training grid, and is tested on the same shocks, so the
    fits differ only by the family of functions.
    """
    return {phi: solve(params, phi, config) for phi in phis}


def implied_coefficients(evaluation) -> LinearPolicyCoefficients:
    """Least-squares :math:`(H_0, H_1)` of :math:`u \approx H_0 + H_1\bar X` over all test points.

    For a fitted network this says how close it came to the linear form of the exact solution
    (and to which root); for the LQ policy itself it returns that policy's coefficients.

    Parameters
    ----------
    evaluation : symdp.evaluation.Evaluation
        Uses ``mean_X`` and ``u`` (all paths and dates).
    """
    m = np.asarray(evaluation.mean_X, dtype=float).ravel()
    u = np.asarray(evaluation.u, dtype=float).ravel()
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(u))):
        raise ValueError("the evaluation has non-finite states or policies (a diverged fit)")
    if np.ptp(m) == 0.0:
        raise ValueError("the mean of X never varies along the paths: H1 is not identified")
    H1, H0 = np.polyfit(m, u, 1)
    return LinearPolicyCoefficients(float(H0), float(H1))


def line_departure(evaluation) -> float:
    """Largest distance of a policy from its least-squares line in the mean, relative to its size.

    :math:`\\max_t |u_t - (H_0 + H_1\\bar X_t)| / \\overline{|u|}` over every test point, with
    :math:`(H_0, H_1)` from :func:`implied_coefficients`. Zero up to rounding for a policy that is
    affine in :math:`\\bar X` (phi(Identity) with a bias-free rho, chapter 5); larger for one that
    also responds to other features of the cross-section or bends in the mean.
    """
    line = implied_coefficients(evaluation)
    m = np.asarray(evaluation.mean_X, dtype=float).ravel()
    u = np.asarray(evaluation.u, dtype=float).ravel()
    return float(np.max(np.abs(u - line(m))) / np.mean(np.abs(u)))


def scaling_summary(runs, q: tuple[float, float] = (0.25, 0.75), over: str = "all"):
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


def linear_growth(N: Sequence[float], y: Sequence[float]) -> float:
    """Slope b of the least-squares fit :math:`\\log y = a + b\\log N` (1 = linear growth)."""
    n, v = np.asarray(N, dtype=float), np.asarray(y, dtype=float)
    if n.shape != v.shape or n.ndim != 1 or len(n) < 2:
        raise ValueError(f"need two 1-D sequences of equal length >= 2, got {n.shape}, {v.shape}")
    if not (np.all(np.isfinite(n)) and np.all(np.isfinite(v)) and n.min() > 0 and v.min() > 0):
        raise ValueError("N and y must be positive and finite")
    return float(np.polyfit(np.log(n), np.log(v), 1)[0])


def side_by_side(ours, deck, formats, missing: str = "–"):
    """One table with each cell ``"ours (deck)"``, for the columns in ``formats``.

    Parameters
    ----------
    ours, deck : pandas.DataFrame
        Same index (rows of ``deck`` absent from ``ours`` are dropped; rows of ``ours`` absent
        from ``deck`` show ``missing`` for the deck).
    formats : mapping column -> format spec or formatter
        E.g. ``{"Success (%)": ".0f", "Val MSE": ".1e", "Policy error": ".2%"}``, or a callable
        such as :class:`symdp.chapters.significant`; the columns of the result, in this order.
    missing : str
        Shown for NaN (no successful run, or a value the deck does not give).
    """
    import pandas as pd

    absent = [c for c in formats if c not in ours.columns or c not in deck.columns]
    if absent:
        raise ValueError(f"column(s) {absent} missing from ours or deck")

    def fmt(v, spec):
        if v is None or pd.isna(v):
            return missing
        return spec(v) if callable(spec) else format(v, spec)

    deck = deck.reindex(ours.index)
    out = pd.DataFrame(index=ours.index)
    for col, spec in formats.items():
        out[col] = [f"{fmt(a, spec)} ({fmt(b, spec)})" for a, b in zip(ours[col], deck[col])]
    return out


# --------------------------------------------------------------------------------------------
# Solver settings and conventions (chapter 5's table, used by chapters 5-8)

# Which runs each summary's medians are taken over: the ``over`` argument each summary passes
# to ``experiments._table_summary`` (a test checks these against the summaries themselves).
MEDIAN_OVER = {
    "table2": "successful runs",
    "table3": "all completed runs",
    "figure3": "all trials",
    "implicit_bias": "none: shares of runs (and the median slope of all runs)",
}

# The optimiser of :func:`symdp.solver.solve` (a test reads it from the solver's source).
OPTIMISER = "Adam"


def solver_conventions(profile: str = "paper", collapse: bool = False):
    """The solver settings and conventions of chapters 5 to 8, read from the code.

    One column per fit or sweep: chapter 5's baselines (:class:`~symdp.solver.SolverConfig`
    and :class:`~symdp.networks.ArchitectureConfig` defaults), and the sweeps ``table2``
    (chapter 5), ``figure3`` (chapter 6), ``table3`` (chapter 7) and ``implicit_bias``
    (chapter 8) of :mod:`symdp.experiments` at ``profile``; a setting that varies within a sweep
    lists its values. Chapter 7's own fits set their epoch cap and tolerance as chapter
    parameters, shown at the top of that chapter.

    Parameters
    ----------
    profile : str
        "paper" or "ci": the sweeps' sizes and caps.
    collapse : bool
        One column instead: a setting shared by every column once, one that differs as
        ``"column: value; ..."``.

    Returns
    -------
    pandas.DataFrame
        Index: the settings; values: text, ready to show.
    """
    import math

    import pandas as pd

    from . import experiments
    from .evaluation import StationarityCheck
    from .networks import ArchitectureConfig

    def describe(runs: list[dict]) -> dict:
        def values(f, sep=" or ") -> str:
            seen = []
            for r in runs:
                v = f(r["kwargs"])
                if v not in seen:
                    seen.append(v)
            return sep.join(seen)

        def s(key):
            return lambda k: k["solver"][key]

        def grid(k):
            sv = k["solver"]
            points = sv["train_trajectories"] * (sv["T"] + 1)
            return f"{sv['train_trajectories']} paths × {sv['T'] + 1} dates = {points:,} states"

        def granularity(k):
            sv = k["solver"]
            steps = math.ceil(sv["train_trajectories"] * (sv["T"] + 1) / sv["batch_size"])
            every = max(1, steps // sv["checks_per_epoch"])
            return (f"{sv['checks_per_epoch']} (a fit stops at a check, so its epochs come in "
                    f"steps of {every / steps:g})")

        def seconds(k):
            cap = k["solver"]["max_seconds"]
            return "none" if cap is None or math.isinf(cap) else f"{cap:g} s (a safety net)"

        def init(k):
            return ("ρ's output layer at zero (u = 0)" if k["arch"]["zero_last"]
                    else "PyTorch's default")

        def step(k):
            return ("time iteration: u(X′) held fixed" if k["solver"]["gradient"] == "semi"
                    else "full gradient of the squared residual")

        def draw(k):
            sv = k["solver"]
            one = "one standardised draw Ŵ" if sv["standardize_draw"] else "one draw Ŵ"
            return (f"{one} of the N shocks, {sv['quadrature_nodes']} Gauss–Hermite nodes "
                    f"for ω")

        def redraws(k):
            if k["params"]["nu"] == 1.0:
                return "none (ν = 1: the grid is drawn under the exact policy)"
            n = k["solver"]["grid_redraws"]
            return f"{n} (under the fitted policy, when the tolerance is met)"

        def success(k):
            st = k["solver"]["stationarity"]
            lo, hi = st["band"]
            rule = f"tolerance met and mean of capital in ({lo:g}, {hi:g}) on every test path"
            if k["params"]["nu"] == 1.0:
                rule += (f", within {st['lq_path_tol']:g} of its path under the exact stationary "
                         "policy")
            return rule

        return {
            "firms N": values(lambda k: f"{k['params']['N']:,}", sep=", "),
            "demand curvature ν": values(lambda k: f"{k['params']['nu']:g}"),
            "fits per configuration": None,
            "optimiser": OPTIMISER,
            "learning rate": values(lambda k: f"{k['solver']['lr']:g}"),
            "minibatch (states per step)": values(lambda k: f"{k['solver']['batch_size']}"),
            "precision": values(s("dtype")),
            "training grid": values(grid),
            "validation checks per epoch": values(granularity),
            "validation tolerance (MSE)": values(lambda k: f"{k['solver']['val_tolerance']:.0e}"),
            "epoch cap": values(lambda k: f"{k['solver']['max_epochs']}"),
            "wall-clock cap": values(seconds),
            "initialisation": values(init),
            "step": values(step),
            "expectation": values(draw),
            "grid redraws": values(redraws),
            "test residuals": "the training draw Ŵ",
            "success": values(success),
            "medians over": None,
        }

    baseline = {"params": {"N": 128, "nu": 1.0},
                "arch": {"zero_last": ArchitectureConfig().zero_last},
                "solver": SolverConfig().to_dict()}
    baseline["solver"]["stationarity"] = {
        "band": StationarityCheck().band, "lq_path_tol": StationarityCheck().lq_path_tol}
    columns = {"chapter 5's baselines": describe([{"kwargs": baseline}])}
    columns["chapter 5's baselines"].update({
        "firms N": "the chapter's N", "fits per configuration": "1 (the chapter's seed)",
        "medians over": "none: one fit per network"})
    for name, label in [("table2", "Table 2 (chapter 5)"), ("figure3", "Figure 3 (chapter 6)"),
                        ("table3", "Table 3 (chapter 7)"),
                        ("implicit_bias", "the root-selection study (chapter 8)")]:
        runs = experiments.EXPERIMENTS[name].runs(profile)
        col = describe(runs)
        configs = {(tuple(sorted(str(v) for v in r["kwargs"]["arch"].items())),
                    r["kwargs"]["params"]["N"], r["kwargs"]["solver"]["gradient"]) for r in runs}
        n = len(runs) // len(configs)
        col["fits per configuration"] = f"{n} seed{'s' if n > 1 else ''}"
        col["medians over"] = MEDIAN_OVER[name]
        columns[label] = col
    table = pd.DataFrame(columns)
    if not collapse:
        return table
    merged = []
    for _, row in table.iterrows():
        groups = {v: [c for c, w in row.items() if w == v] for v in row.unique()}
        if len(groups) == 1:
            merged.append(row.iloc[0])
            continue
        common = max(groups, key=lambda v: len(groups[v]))  # first of the most frequent
        parts = [f"{v} in {', '.join(cs)}" for v, cs in groups.items() if v != common]
        merged.append("; ".join(parts) + f"; {common} elsewhere" if len(groups[common]) > 1
                      else "; ".join(f"{v} in {', '.join(cs)}" for v, cs in groups.items()))
    return pd.DataFrame({"value": merged}, index=pd.Index(table.index, name="setting"))
