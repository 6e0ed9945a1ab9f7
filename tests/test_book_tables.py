"""Tests for symdp.book.tables: ours beside the deck's, and the solver settings read from the code."""

import numpy as np
import pandas as pd
import pytest

from symdp import SolverConfig
from symdp.book.tables import MEDIAN_OVER, OPTIMISER, side_by_side, solver_conventions


def test_side_by_side_formats_and_aligns():
    ours = pd.DataFrame({"s": [97.0, 0.0], "e": [0.0009, np.nan]}, index=["a", "b"])
    deck = pd.DataFrame({"s": [0.0, 97.0], "e": [np.nan, 0.001]}, index=["b", "a"])
    t = side_by_side(ours, deck, {"e": ".2%", "s": ".0f"})
    assert list(t.columns) == ["e", "s"]
    assert t.loc["a", "s"] == "97 (97)" and t.loc["a", "e"] == "0.09% (0.10%)"
    assert t.loc["b", "e"] == "– (–)"
    with pytest.raises(ValueError, match="missing"):
        side_by_side(ours, deck, {"x": ".1f"})


def test_solver_conventions_read_the_defaults_and_the_sweeps_caps():
    import math

    from symdp.runs import experiments
    table = solver_conventions("paper")
    base, t2 = table["chapter 5's baselines"], table["Table 2 (chapter 5)"]
    default = SolverConfig()
    assert base["learning rate"] == f"{default.lr:g}"
    assert base["minibatch (states per step)"] == str(default.batch_size)
    assert base["epoch cap"] == str(default.max_epochs)
    assert t2["epoch cap"] == str(experiments.TABLE2_CAPS["max_epochs"])
    assert table["Table 3 (chapter 7)"]["validation tolerance (MSE)"] == \
        f"{experiments.NONLINEAR_TOLERANCE:.0e}"
    assert table["Figure 3 (chapter 6)"]["fits per configuration"] == \
        f"{experiments.FIGURE3_TRIALS} seeds"
    step = 1 / default.checks_per_epoch
    points = default.train_trajectories * (default.T + 1)
    assert math.ceil(points / default.batch_size) % default.checks_per_epoch == 0
    assert f"steps of {step:g}" in base["validation checks per epoch"]
    both = table["the root-selection study (chapter 8)"]["step"]
    assert "time iteration" in both and "full gradient" in both


def test_collapsed_conventions_state_a_shared_setting_once():
    wide = solver_conventions("ci")
    narrow = solver_conventions("ci", collapse=True)["value"]
    assert narrow["optimiser"] == wide.loc["optimiser"].iloc[0]
    assert narrow["demand curvature ν"] == "1.5 in Table 3 (chapter 7); 1 elsewhere"


def test_the_stated_optimiser_is_the_one_the_solver_builds():
    import inspect

    from symdp import solver

    assert f"torch.optim.{OPTIMISER}(" in inspect.getsource(solver.training_step)


@pytest.mark.parametrize("name", ["table2", "table3"])
def test_median_over_says_which_runs_each_summary_takes_its_medians_over(name):
    from symdp.runs import experiments

    rows = experiments.TABLE2_ROWS if name == "table2" else experiments.TABLE3_ROWS
    group, row, _ = rows[0]
    runs = pd.DataFrame({
        "group": group, "row": row, "success": [True, False], "ok": True,
        "status": ["converged", "max_epochs"], "coefficients": 1000, "fit_seconds": [1.0, 99.0],
        "train_mse": 1e-7, "val_mse": 1e-7, "test_mse": 1e-7, "policy_rel_error": 1e-3})
    time = experiments.layout(name, runs)["Time (s)"].iloc[0]
    assert (time == 1.0) == (MEDIAN_OVER[name] == "successful runs")
    assert (time == 50.0) == (MEDIAN_OVER[name] == "all completed runs")
