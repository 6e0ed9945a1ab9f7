import inspect
import json
import subprocess
import sys
from dataclasses import fields

import pytest

from symdp import ModelParams, lq_roots
from symdp.cli import _build_parser, main
from symdp.runs import sweep


def test_lq_json_matches_the_closed_form(capsys):
    assert main(["lq", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    roots = lq_roots()
    assert {k: out[k] for k in roots} == {k: v.to_dict() for k, v in roots.items()}
    assert out["stationary"] == out["stable"]  # the names every model's lq uses
    assert [o["coefficients"] for o in out["others"]] == [out["explosive"]]


def test_lq_other_parameters(capsys):
    assert main(["lq", "--gamma", "10", "--beta", "0.9", "--delta", "0.1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["stable"]["H1"] == lq_roots(0.9, 10.0, 0.1)["stable"].H1


@pytest.mark.parametrize("argv, flag", [
    (["solve", "--beta", "1.5"], "--beta"),
    (["solve", "--N", "abc"], "--N"),
    (["solve", "--N", "0"], "--N"),
    (["solve", "--nu", "0.5"], "--nu"),
    (["solve", "--phi", "cnn"], "--phi"),
    (["solve", "--gamma", "nan"], "--gamma"),
    (["solve", "--sigma", "-1"], "--sigma"),
    (["solve", "--threads", "0"], "--threads"),
    (["lq", "--delta", "0"], "--delta"),
    (["solve", "--bogus", "1"], "--bogus"),
])
def test_bad_input_exits_2_with_one_line_naming_the_argument(argv, flag, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and "Traceback" not in captured.err
    assert captured.out == ""


def test_cuda_without_a_gpu_is_a_usage_error(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert main(["solve", "--device", "cuda"]) == 2
    assert "--device" in capsys.readouterr().err


def test_solve_json_via_the_installed_entry_point():
    cmd = [sys.executable, "-m", "symdp.cli", "solve", "--N", "32", "--phi", "identity",
           "--seed", "1", "--threads", "1", "--max-epochs", "2", "--test-trajectories", "4", "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar with --json
    out = json.loads(proc.stdout)  # exactly one JSON object
    for key in ("fit_seconds", "epochs", "val_mse", "test_mse", "policy_rel_error", "success",
                "coefficients"):
        assert key in out
    assert out["coefficients"] == 49_409 and isinstance(out["success"], bool)


def test_solve_human_summary(capsys):
    assert main(["solve", "--N", "16", "--nu", "1.2", "--max-epochs", "1",
                 "--test-trajectories", "4", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "phi(relu) N=16 nu=1.2" in out and "Euler MSE" in out and "policy error" not in out


def test_model_flags_are_the_model_fields_with_their_defaults():
    solve = vars(_build_parser().parse_args(["solve"]))
    for f in fields(ModelParams):
        assert solve[f.name] == f.default, f.name
    lq = vars(_build_parser().parse_args(["lq"]))
    for name in inspect.signature(lq_roots).parameters:
        assert lq[name] == getattr(ModelParams(), name), name
    assert "N" not in lq  # lq takes only what lq_roots takes


def test_sweep_runs_an_experiment_and_says_where_results_are(figure3_ci, tmp_path, capsys,
                                                             monkeypatch):
    store, _ = figure3_ci
    argv = ["sweep", "figure3", "--profile", "ci", "--scheduler", "serial", "--store", str(store)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("figure3 (ci): 4 runs; Figure 3")
    assert "4/4 runs stored (4 already there, 0 executed" in out
    assert str(store / "figure3") in out and "success in" in out
    monkeypatch.setattr(sweep, "CONNECT_TIMEOUT", 1.0)
    bad = ["sweep", "figure3", "--profile", "ci", "--scheduler", "tcp://127.0.0.1:9",
           "--store", str(tmp_path / "other")]
    assert main(bad) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("symdp: error: argument --scheduler")


def test_sweep_lists_the_experiments(capsys):
    from symdp.runs import experiments

    assert main(["sweep", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(experiments.EXPERIMENTS)


@pytest.mark.parametrize("argv, flag", [
    (["sweep", "table9"], "experiment"),
    (["sweep", "table2", "--profile", "huge"], "--profile"),
    (["sweep", "table2", "--workers", "0"], "--workers"),
])
def test_sweep_bad_input_exits_2_naming_the_argument(argv, flag, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and captured.out == ""
