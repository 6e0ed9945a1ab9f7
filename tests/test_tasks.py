"""The worker tasks: end to end on tiny settings, deterministic at the ci profile, one torch
thread."""

from __future__ import annotations

import math
import threading

import pytest

from symdp.runs import experiments as ex
from symdp.runs import tasks


def test_solve_task_end_to_end_reports_the_fitted_root():
    run = ex.EXPERIMENTS["implicit_bias"].runs("ci")[-1]  # relu, default init, full gradient
    out = tasks.solve_task(**run["kwargs"])
    for key in ("success", "fit_seconds", "coefficients", "train_mse", "val_mse", "test_mse",
                "policy_rel_error", "H0_fit", "H1_fit", "root", "root_distance"):
        assert key in out
    assert out["root"] in ("stable", "explosive", "neither")
    if out["success"]:
        assert out["root"] == "stable" and out["H1_fit"] < 0
    assert out["fresh_mse"] is None  # asked for only by Tables 2 and 3
    nonlinear = ex.EXPERIMENTS["table3"].runs("ci")[0]
    out3 = tasks.solve_task(**nonlinear["kwargs"])
    assert "H1_fit" not in out3  # no LQ roots for nu = 1.5
    assert math.isfinite(out3["fresh_mse"]) and math.isfinite(out3["fresh_sample_mse"])


def test_ci_runs_are_deterministic(figure3_ci):
    """Epoch caps only: rerunning a stored ci run gives the same numbers (the notebook
    regression relies on it)."""
    _, df = figure3_ci
    run = ex.EXPERIMENTS["figure3"].runs("ci")[0]
    again = tasks.solve_task(**run["kwargs"])
    stored = df.iloc[0]
    for key in ("success", "status", "epochs", "steps", "train_mse", "val_mse", "test_mse",
                "policy_rel_error", "H1_fit"):
        assert again[key] == stored[key], key


def test_regression_cells_run_through_the_task():
    pytest.importorskip("symdp.studies.regression")
    run = next(r for r in ex.EXPERIMENTS["regression"].runs("ci") if r["kwargs"]["L"] is None)
    out = tasks.regression_task(**run["kwargs"])
    assert {"rel_error", "fit_seconds", "coefficients"} <= set(out) and out["L"] is None


@pytest.mark.parametrize("task, science", [
    ("solve_task", "symdp.solver.solve"),
    ("regression_task", "symdp.studies.regression.fit_regression"),
])
def test_a_task_runs_on_one_torch_thread_in_its_own_thread(task, science, monkeypatch):
    """The engine may run a task in a thread of its own (a time limit); the task sets torch to
    one thread there, before the science runs, whatever the process had."""
    import importlib

    import torch

    module, _, name = science.rpartition(".")
    seen = []

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        raise RuntimeError("stop here")

    monkeypatch.setattr(importlib.import_module(module), name, spy)
    exp = "table2" if task == "solve_task" else "regression"
    kwargs = ex.EXPERIMENTS[exp].runs("ci")[0]["kwargs"]
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)

        def call():
            with pytest.raises(RuntimeError, match="stop here"):
                getattr(tasks, task)(**kwargs)

        thread = threading.Thread(target=call)
        thread.start()
        thread.join()
    finally:
        torch.set_num_threads(before)
    assert seen == [1]


def test_solve_task_runs_any_registered_model_from_json_dicts():
    import json
    from dataclasses import asdict

    from symdp.models import get_model
    from symdp.networks import ArchitectureConfig
    from symdp.solver import SolverConfig

    model = get_model("two-types", N=8)
    args = json.loads(json.dumps({  # as a sweep stores them: tuples become lists
        "name": "two-types", "model": asdict(model.params),
        "arch": asdict(model.architecture()),
        "solver": SolverConfig(max_epochs=1, test_trajectories=2, T=7).to_dict()}))
    out = tasks.solve_task(**args)
    assert out["model"] == "two-types" and "H1_fit" not in out
    assert set(out["slopes"]) == {"h0_A", "H_AA", "H_AB", "h0_B", "H_BA", "H_BB"}
    with pytest.raises(ValueError, match="model must be one of"):
        tasks.solve_task(**{**args, "name": "nope"})
