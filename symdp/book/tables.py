"""Tables the chapters show that are not a study's result: ours beside the deck's, and the solver
settings each chapter runs with, read from the code."""

from __future__ import annotations

__all__ = ["side_by_side", "solver_conventions", "MEDIAN_OVER", "OPTIMISER"]


def side_by_side(ours, deck, formats, missing: str = "–"):
    """One table with each cell ``"ours (deck)"``, for the columns in ``formats``.

    Parameters
    ----------
    ours, deck : pandas.DataFrame
        Same index (rows of ``deck`` absent from ``ours`` are dropped; rows of ``ours`` absent
        from ``deck`` show ``missing`` for the deck).
    formats : mapping column -> format spec or formatter
        E.g. ``{"Success (%)": ".0f", "Val MSE": ".1e", "Policy error": ".2%"}``, or a callable
        such as :class:`symdp.book.chapter.significant`; the columns of the result, in this order.
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

# Which runs each layout's medians are taken over: the ``medians_over`` each experiment passes
# to ``layouts.table_layout`` (a test checks these against the layouts themselves).
MEDIAN_OVER = {
    "table2": "successful runs",
    "table3": "all completed runs",
    "figure3": "all trials",
    "figure3_firm": "all trials",
    "implicit_bias": "none: shares of runs (and the median slope of all runs)",
}

# The optimiser of :func:`symdp.solver.solve` (a test reads it from the solver's source).
OPTIMISER = "Adam"


def solver_conventions(profile: str = "paper", collapse: bool = False):
    """The solver settings and conventions of chapters 5 to 8, read from the code.

    One column per fit or sweep: chapter 5's baselines (:class:`~symdp.solver.SolverConfig`
    and :class:`~symdp.networks.ArchitectureConfig` defaults), and the sweeps ``table2``
    (chapter 5), ``figure3`` and ``figure3_firm`` (chapter 6), ``table3`` (chapter 7) and
    ``implicit_bias`` (chapter 8) of :mod:`symdp.runs.experiments` at ``profile``; a setting
    that varies within a sweep lists its values. Chapter 7's own fits set their epoch cap and tolerance as chapter
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

    from ..runs import experiments
    from ..evaluation import StationarityCheck
    from ..networks import ArchitectureConfig
    from ..solver import SolverConfig

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
            if not k["arch"]["zero_last"]:
                return "PyTorch's default"
            # a run stored before the level start existed started at u = 0
            return ("ρ's output layer at zero, its bias at the level where the grid's Euler "
                    "residuals average zero" if k["solver"].get("level_start", False)
                    else "ρ's output layer at zero (u = 0)")

        def step(k):
            return ("time iteration: u(X′) held fixed" if k["solver"]["gradient"] == "semi"
                    else "full gradient of the squared residual")

        def draw(k):
            sv = k["solver"]
            one = "one standardised draw Ŵ" if sv["standardize_draw"] else "one draw Ŵ"
            return (f"{one} of the N shocks, {sv['quadrature_nodes']} Gauss–Hermite nodes "
                    f"for ω")

        def redraws(k):
            if k["model"]["nu"] == 1.0:
                return "none (ν = 1: the grid is drawn under the exact policy)"
            n = k["solver"]["grid_redraws"]
            return f"{n} (under the fitted policy, when the tolerance is met)"

        def success(k):
            st = k["solver"]["stationarity"]
            lo, hi = st["band"]
            rule = f"tolerance met and mean of capital in ({lo:g}, {hi:g}) on every test path"
            if k["model"]["nu"] == 1.0:
                rule += (f", within {st['lq_path_tol']:g} of its path under the exact stationary "
                         "policy")
            return rule

        return {
            "firms N": values(lambda k: f"{k['model']['N']:,}", sep=", "),
            "demand curvature ν": values(lambda k: f"{k['model']['nu']:g}"),
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

    baseline = {"model": {"N": 128, "nu": 1.0},
                "arch": {"zero_last": ArchitectureConfig().zero_last},
                "solver": SolverConfig().to_dict()}
    baseline["solver"]["stationarity"] = {
        "band": StationarityCheck().band, "lq_path_tol": StationarityCheck().lq_path_tol}
    columns = {"chapter 5's baselines": describe([{"kwargs": baseline}])}
    columns["chapter 5's baselines"].update({
        "firms N": "the chapter's N", "fits per configuration": "1 (the chapter's seed)",
        "medians over": "none: one fit per network"})
    for name, label in [("table2", "Table 2 (chapter 5)"), ("figure3", "Figure 3 (chapter 6)"),
                        ("figure3_firm", "Figure 3, phi at every firm (chapter 6)"),
                        ("table3", "Table 3 (chapter 7)"),
                        ("implicit_bias", "the root-selection study (chapter 8)")]:
        runs = experiments.EXPERIMENTS[name].runs(profile)
        col = describe(runs)
        configs = {(tuple(sorted(str(v) for v in r["kwargs"]["arch"].items())),
                    r["kwargs"]["model"]["N"], r["kwargs"]["solver"]["gradient"]) for r in runs}
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
