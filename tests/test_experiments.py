"""The named experiments: well-formed grids for both profiles, the deck's architectures, the
tasks end to end on tiny settings, the summaries, and the command line."""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter

import pandas as pd
import pytest

from symdp.runs import experiments as ex
from symdp.runs import sweep
from symdp.networks import ArchitectureConfig, count_parameters, make_policy
from symdp.solver import SolverConfig
from symdp.params import ModelParams


@pytest.mark.parametrize("profile", ex.PROFILES)
@pytest.mark.parametrize("name", list(ex.EXPERIMENTS))
def test_grids_are_well_formed(name, profile):
    exp = ex.EXPERIMENTS[name]
    runs = exp.runs(profile)
    assert runs and exp.description and exp.estimate_minutes[profile] > 0
    keys = [sweep.run_key(r) for r in runs]
    assert len(set(keys)) == len(keys)  # no two runs share a key
    for run in runs:
        assert run == sweep.make_run(**{k: run[k] for k in
                                        ("experiment", "func", "kwargs", "labels", "timeout")})
        assert run["experiment"] == name and run["labels"]["profile"] == profile
        assert run["timeout"] is not None and run["timeout"] > 0
        kw = run["kwargs"]
        if run["func"] == "symdp.runs.experiments:solve_task":
            ModelParams(**kw["params"])
            ArchitectureConfig(**kw["arch"])
            config = SolverConfig.from_dict(kw["solver"])
            # the run spells out every field
            assert json.loads(json.dumps(config.to_dict())) == kw["solver"]
            assert config.threads == 1 and config.max_epochs <= 100
            if profile == "ci":  # deterministic: no wall-clock cap
                assert math.isinf(config.max_seconds)
            else:  # the solver stops itself before the hard limit
                assert math.isfinite(config.max_seconds) and run["timeout"] > config.max_seconds
        else:
            assert run["func"] == "symdp.runs.experiments:regression_task"
    with pytest.raises(ValueError, match="profile"):
        exp.runs("huge")


def test_paper_profiles_have_the_decks_sizes():
    for name, rows in (("table2", ex.TABLE2_ROWS), ("table3", ex.TABLE3_ROWS)):
        per_row = Counter((r["labels"]["group"], r["labels"]["row"])
                          for r in ex.EXPERIMENTS[name].runs("paper"))
        assert list(per_row) == [(g, r) for g, r, _ in rows]  # the deck's rows, in its order
        assert min(per_row.values()) >= 20
        assert all(r["kwargs"]["params"]["N"] == 128 for r in ex.EXPERIMENTS[name].runs("paper"))
        ci = Counter((r["labels"]["group"], r["labels"]["row"])
                     for r in ex.EXPERIMENTS[name].runs("ci"))
        assert set(ci.values()) == {2}
    nus = {r["kwargs"]["params"]["nu"] for r in ex.EXPERIMENTS["table3"].runs("paper")}
    assert nus == {1.5}
    fig3 = Counter(r["labels"]["N"] for r in ex.EXPERIMENTS["figure3"].runs("paper"))
    assert fig3 == {N: 21 for N in (128, 256, 512, 1024, 2048, 4096, 10_000)}
    assert Counter(r["labels"]["N"] for r in ex.EXPERIMENTS["figure3"].runs("ci")) == {16: 2, 64: 2}
    cells = {(r["labels"]["phi"], r["labels"]["zero_last"], r["labels"]["gradient"])
             for r in ex.EXPERIMENTS["implicit_bias"].runs("paper")}
    assert len(cells) == 12
    reg = {(r["labels"]["N"], r["labels"]["L"]) for r in ex.EXPERIMENTS["regression"].runs("paper")}
    assert reg == {(N, L) for N in (2, 4, 8, 16, 32, 64, 128) for L in (1, 2, 3, 4, 5, 20, None)}
    total = sum(e.estimate_minutes["paper"] for e in ex.EXPERIMENTS.values())
    # The per-firm phi(ReLU) of Table 3 (issue 10) raised the paper sweeps to about two hours on
    # two cores; issue 13 is to bring the whole paper build back under 20 minutes. Until then this
    # bounds the estimate where it stands, so a sweep that grows further fails here.
    assert total < 125


def test_table_architectures_have_the_decks_coefficient_counts():
    # The deck's counts, to its rounding (0.1K); Table 2's "L = 2" (201.1K) fits none of the
    # family's variants (see the module).
    exact = {("table2", g, r): ex.DECK_TABLE2[r][1] for g, r, _ in ex.TABLE2_ROWS if r != "L = 2"}
    exact.update({("table3", g, r): v[1] for (g, r), v in ex.DECK_TABLE3.items()})
    for name, rows in (("table2", ex.TABLE2_ROWS), ("table3", ex.TABLE3_ROWS)):
        for group, row, arch in rows:
            n = count_parameters(make_policy(ArchitectureConfig(**arch), N=128))
            if (name, group, row) in exact:
                assert round(n / 1000, 1) == exact[(name, group, row)], (name, row, n)
            else:
                deck = (ex.DECK_TABLE2[row] if name == "table2"
                        else ex.DECK_TABLE3[(group, row)])[1]
                assert abs(n / 1000 - deck) / deck < 0.1, (name, row, n)
    # Without phi's hidden biases the baseline is the mean-only phi(ReLU) of the deck's text.
    mean_only = dict(ex.TABLE3_ROWS[4][2], phi_hidden_bias=False)
    assert count_parameters(make_policy(ArchitectureConfig(**mean_only))) == 66_821


def test_table3_relu_rows_have_biases_in_phi_and_the_decks_exact_counts():
    # The deck's 67.1K / 68.1K / 70.2K / 1.4K / 34.3K / 4.5K are, to the digit, phi with hidden
    # biases and a bias-free rho (review M2).
    counts = [count_parameters(make_policy(ArchitectureConfig(**arch)))
              for g, _, arch in ex.TABLE3_ROWS if g == "phi(ReLU)"]
    assert counts == [67_077, 68_105, 70_161, 1_413, 34_309, 4_485]


def test_solve_task_end_to_end_reports_the_fitted_root():
    run = ex.EXPERIMENTS["implicit_bias"].runs("ci")[-1]  # relu, default init, full gradient
    out = ex.solve_task(**run["kwargs"])
    for key in ("success", "fit_seconds", "coefficients", "train_mse", "val_mse", "test_mse",
                "policy_rel_error", "H0_fit", "H1_fit", "root", "root_distance"):
        assert key in out
    assert out["root"] in ("stable", "explosive", "neither")
    if out["success"]:
        assert out["root"] == "stable" and out["H1_fit"] < 0
    assert out["fresh_mse"] is None  # asked for only by Tables 2 and 3
    nonlinear = ex.EXPERIMENTS["table3"].runs("ci")[0]
    out3 = ex.solve_task(**nonlinear["kwargs"])
    assert "H1_fit" not in out3  # no LQ roots for nu = 1.5
    assert math.isfinite(out3["fresh_mse"]) and math.isfinite(out3["fresh_sample_mse"])


@pytest.fixture(scope="module")
def figure3_ci(tmp_path_factory):
    """Figure 3's ci grid (4 tiny solves), run once into a fresh store."""
    store = tmp_path_factory.mktemp("store")
    return store, ex.results("figure3", "ci", store=store, scheduler="serial", progress=False)


def test_results_run_through_the_store_and_summaries_take_the_decks_layout(figure3_ci):
    tmp_path, df = figure3_ci
    assert len(df) == 4 and df.attrs["missing"] == 0 and df.attrs["experiment"] == "figure3"
    table = ex.summary("figure3", df)
    assert list(table.index) == [16, 64] and set(table["Trials"]) == {2}
    again = ex.results("figure3", "ci", store=tmp_path, run_missing=False)
    assert list(again["key"]) == list(df["key"])
    empty = ex.results("table2", "ci", store=tmp_path, run_missing=False)
    assert len(empty) == 0 and empty.attrs["missing"] == 18


def test_ci_runs_are_deterministic(figure3_ci):
    """Epoch caps only: rerunning a stored ci run gives the same numbers (the notebook regression relies on it)."""
    _, df = figure3_ci
    run = ex.EXPERIMENTS["figure3"].runs("ci")[0]
    again = ex.solve_task(**run["kwargs"])
    stored = df.iloc[0]
    for key in ("success", "status", "epochs", "steps", "train_mse", "val_mse", "test_mse",
                "policy_rel_error", "H1_fit"):
        assert again[key] == stored[key], key


def test_regression_cells_run_through_the_task():
    pytest.importorskip("symdp.studies.regression")
    run = next(r for r in ex.EXPERIMENTS["regression"].runs("ci") if r["kwargs"]["L"] is None)
    out = ex.regression_task(**run["kwargs"])
    assert {"rel_error", "fit_seconds", "coefficients"} <= set(out) and out["L"] is None


def _fake(rows, values):
    """A results frame: for each (group, row), runs with given (ok, success, fit_seconds)."""
    recs = []
    for (group, row, _), runs in zip(rows, values):
        for i, (ok, success, t) in enumerate(runs):
            recs.append({"group": group, "row": row, "seed": i, "ok": ok, "success": success,
                         "coefficients": 1000, "fit_seconds": t, "train_mse": t * 1e-7,
                         "val_mse": t * 1e-7, "test_mse": t * 1e-7, "fresh_mse": t * 2e-7,
                         "policy_rel_error": t * 1e-3})
    return pd.DataFrame(recs)


def test_table_summaries_count_failures_and_take_medians():
    rows = ex.TABLE2_ROWS[:2]
    df = _fake(rows, [[(True, True, 1.0), (True, True, 3.0), (False, False, 100.0),
                       (True, False, 50.0)],
                      [(True, False, 7.0), (False, False, 9.0)]])
    t2 = ex.summary("table2", df)
    first, second = t2.iloc[0], t2.iloc[1]
    assert first["Runs"] == 4 and first["Success (%)"] == 50.0
    assert first["Time (s)"] == 2.0  # median over the successful runs only
    assert first["Policy error"] == pytest.approx(2e-3) and first["Parameters (K)"] == 1.0
    assert first["Test MSE (fresh draws)"] == pytest.approx(4e-7)  # median of 2e-7 and 6e-7
    assert second["Success (%)"] == 0.0 and math.isnan(second["Time (s)"])  # the deck's "-"
    t3 = ex.summarize_table3(_fake(ex.TABLE3_ROWS[:1], [[(True, True, 1.0), (True, False, 5.0),
                                                          (False, False, 99.0)]]))
    assert t3.iloc[0]["Time (s)"] == 3.0  # Table 3: every completed run
    assert t3.iloc[0]["Test MSE (fresh draws)"] == pytest.approx(6e-7)
    assert "Policy error" not in t3.columns
    assert list(ex.deck_table("table2").index) == [(g, r) for g, r, _ in ex.TABLE2_ROWS]
    assert list(ex.deck_table("table3").index) == [(g, r) for g, r, _ in ex.TABLE3_ROWS]


def test_implicit_bias_summary_counts_roots():
    df = pd.DataFrame([
        {"phi": "relu", "init": "default", "gradient": "full", "success": s, "root": r, "H1_fit": h}
        for s, r, h in ((True, "stable", -0.05), (False, "explosive", 0.22),
                        (False, None, None), (False, "neither", 1.1))])
    row = ex.summary("implicit_bias", df).iloc[0]
    assert row["Runs"] == 4 and row["Success (%)"] == 25.0
    assert (row["Stable root (%)"], row["Explosive root (%)"], row["Neither (%)"]) == (25, 25, 50)
    assert row["Median H1"] == pytest.approx(0.22)


def test_cli_runs_an_experiment_and_says_where_results_are(figure3_ci, tmp_path, capsys,
                                                           monkeypatch):
    store, _ = figure3_ci
    args = argparse.Namespace(experiment="figure3", profile="ci", scheduler="serial",
                              workers=None, store=str(store))
    assert ex.run_cli(args) == 0
    out = capsys.readouterr().out
    assert "4/4 runs stored (4 already there, 0 executed" in out
    assert str(store / "figure3") in out and "success in" in out
    monkeypatch.setattr(sweep, "CONNECT_TIMEOUT", 1.0)
    bad = argparse.Namespace(**{**vars(args), "scheduler": "tcp://127.0.0.1:9",
                                "store": str(tmp_path / "other")})
    assert ex.run_cli(bad) == 2
    assert "argument --scheduler" in capsys.readouterr().err


def test_unknown_experiment():
    with pytest.raises(ValueError, match="unknown experiment"):
        ex.results("table9", "ci")
