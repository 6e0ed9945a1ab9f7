import math
import os
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from symdp import ModelParams, SolverConfig, evaluate, gauss_hermite, lq_solution, solve, solver
from symdp.economics import euler_residual, idiosyncratic_draw, initial_state, simulate
from symdp.evaluation import fitted_linear_policy
from symdp.lq import ROOT_TOLERANCE
from symdp.models import as_model
from symdp.networks import ArchitectureConfig, LinearPolicy, make_policy
from symdp.solver import Draws, Fit, Grid, first_draws, tensor_kw, training_step

FAST = dict(test_trajectories=32, threads=1)


@pytest.fixture(scope="module")
def baseline():
    return solve(ModelParams(N=128), "relu", SolverConfig(seed=0, **FAST))


def test_end_to_end_solve_matches_the_lq_solution(baseline):
    r = baseline
    assert r.converged and r.stationary and r.success
    assert r.val_mse <= r.config.val_tolerance
    assert r.policy_rel_error < 1e-3  # measured 0.02-0.06% with the defaults
    lq = lq_solution(r.params)
    fit = fitted_linear_policy(r.policy, torch.from_numpy(r.evaluation.mean_X[:, :, None]).float()
                               .expand(-1, -1, 4).reshape(-1, 4))
    assert abs(fit.H1 - lq.H1) < 2e-3 and abs(fit.H0 - lq.H0) < 2e-3
    s = r.scalars()
    assert s["coefficients"] == 66_821 and s["policy_rel_error"] == r.policy_rel_error
    assert r.history and r.history[-1]["val_mse"] == r.val_mse


def test_solve_is_deterministic_on_cpu():
    cfg = SolverConfig(seed=3, max_epochs=1, test_trajectories=4, threads=1)
    a, b = solve(ModelParams(N=16), "identity", cfg), solve(ModelParams(N=16), "identity", cfg)
    def trace(r):  # everything but wall-clock seconds
        return [(h["step"], h["train_loss"], h["val_mse"]) for h in r.history]

    assert trace(a) == trace(b)
    for pa, pb in zip(a.policy.parameters(), b.policy.parameters()):
        assert torch.equal(pa, pb)
    c = solve(ModelParams(N=16), "identity", SolverConfig(seed=4, max_epochs=1, test_trajectories=4))
    assert c.history[-1]["val_mse"] != a.history[-1]["val_mse"]


def test_a_fit_of_the_explosive_root_is_reported_as_a_failure():
    """Tiny residual, explosive policy: converged, but not a success."""
    p = ModelParams(N=64)
    ex = lq_solution(p, "explosive")
    # lr ~ 0 keeps the warm start exactly at the explosive root
    r = solve(p, LinearPolicy(ex.H0, ex.H1, trainable=True),
              SolverConfig(lr=1e-12, max_epochs=1, test_trajectories=16, threads=1))
    assert r.converged and r.val_mse < 1e-9
    assert not r.stationary and not r.success
    assert "band" in r.evaluation.reason or "diverged" in r.evaluation.reason
    stable = solve(p, LinearPolicy(*lq_solution(p).to_dict().values(), trainable=True),
                   SolverConfig(lr=1e-12, max_epochs=1, test_trajectories=16, threads=1))
    assert stable.success and stable.policy_rel_error < 1e-6


def test_careless_training_can_fit_the_explosive_root_and_is_caught():
    """Full-gradient training of phi(Moments) from PyTorch's default initialisation, seed 1, lands
    on the explosive root with a small residual, and the stationarity check rejects it.

    Measured over seeds 0-5 (200-epoch cap) under every kernel setting (ATEN_CPU_CAPABILITY
    default/avx2/avx512, MKL_CBWR=COMPATIBLE): seed 1 ends at H1 = 0.222-0.223; seeds 0, 2, 3, 4
    near neither root, seed 5 near the stationary one. Seed 1 with the 40-epoch cap: validation
    MSE 9.8e-7 (avx2, avx512) to 4.4e-6 (MKL_CBWR=COMPATIBLE), so under some settings it stops
    just short of the tolerance."""
    r = solve(ModelParams(N=128), ArchitectureConfig(phi="moments", zero_last=False),
              SolverConfig(seed=1, gradient="full", val_tolerance=1e-6, max_epochs=40, **FAST))
    grid = simulate(r.params, LinearPolicy(*lq_solution(r.params).to_dict().values()).float(),
                    r.X0, 2, 63, torch.Generator().manual_seed(0)).reshape(-1, 128)
    slope = fitted_linear_policy(r.policy, grid).H1
    explosive = lq_solution(r.params, "explosive").H1
    assert abs(slope - explosive) < ROOT_TOLERANCE * abs(explosive), slope
    assert r.val_mse < 1e-4  # the residual alone would not tell this fit from a solution
    assert not r.stationary and not r.success


def _lq_test_inputs(p: ModelParams):
    """The stationary LQ policy of ``p`` and what :func:`evaluate` needs besides (float64)."""
    lq = lq_solution(p)
    gen = torch.Generator().manual_seed(0)
    z, w = gauss_hermite(7)
    X0 = initial_state(p, gen, dtype=torch.float64)
    W = idiosyncratic_draw(p.N, gen, True, dtype=torch.float64)
    return lq, (X0, W, torch.tensor(z), torch.tensor(w))


def test_evaluate_accepts_the_stationary_lq_policy():
    p = ModelParams(N=32)
    lq, inputs = _lq_test_inputs(p)
    ev = evaluate(p, LinearPolicy(lq.H0, lq.H1), *inputs, n_trajectories=8, T=40)
    assert ev.stationary and ev.policy_rel_error < 1e-12 and ev.test_mse < 1e-24
    assert ev.mean_X.shape == (8, 41) and np.all(np.abs(ev.mean_X - ev.mean_X_lq) < 1e-12)


def test_a_test_path_evaluates_todays_policy_once_per_date():
    # The residual is handed today's actions (evaluation.actions_and_residuals), not asked to
    # evaluate the policy at the same states again.
    p = ModelParams(N=32)
    lq, inputs = _lq_test_inputs(p)
    today = []

    class Counting(LinearPolicy):
        def forward(self, X):
            today.append(tuple(X.shape))
            return super().forward(X)

    ev = evaluate(p, Counting(lq.H0, lq.H1), *inputs, n_trajectories=8, T=10)
    assert today == [(8, 32)] * 11
    assert ev.stationary and ev.test_mse < 1e-24


def test_nonlinear_solve_has_no_lq_error_and_checks_the_band():
    r = solve(ModelParams(N=32, nu=1.5), "relu",
              SolverConfig(seed=0, max_epochs=3, test_trajectories=8, threads=1))
    assert r.policy_rel_error is None and r.evaluation.u_lq is None
    assert r.stationary  # mean stays in (0, 1) along the fitted policy's paths
    assert math.isfinite(r.test_mse)


@pytest.fixture(scope="module")
def nonlinear_fits():
    """phi(ReLU) at nu = 1.5 with the grid kept (0 redraws) and redrawn once under the fit."""
    cfg = dict(seed=0, val_tolerance=1e-6, test_trajectories=64, threads=1)
    return {k: solve(ModelParams(N=128, nu=1.5), "relu", SolverConfig(grid_redraws=k, **cfg))
            for k in (0, 1)}


def _late_mean(states: torch.Tensor, paths: int, T: int = 63) -> float:
    return float(states.double().reshape(paths, T + 1, -1).mean(-1)[:, -10:].mean())


def test_nonlinear_grid_is_redrawn_where_the_fitted_policy_goes(nonlinear_fits):
    kept, redrawn = nonlinear_fits[0], nonlinear_fits[1]
    assert kept.redraws == 0 and redrawn.redraws == 1 and kept.success and redrawn.success
    # Without a redraw the grid is the LQ-drawn one, which sits below the fitted paths.
    lq = lq_solution(ModelParams(N=128))
    x_star = lq.H0 / (kept.params.delta - lq.H1)  # the nu = 1 stationary mean capital
    assert abs(_late_mean(kept.train_states, 16) - x_star) < 0.01
    test_late = float(redrawn.evaluation.mean_X[:, -10:].mean())
    assert test_late - _late_mean(kept.train_states, 16) > 0.03
    assert abs(test_late - _late_mean(redrawn.train_states, 16)) < 0.01
    # Converged means: the validation MSE on the final (redrawn) states meets the tolerance.
    assert redrawn.val_mse <= 1e-6 and any("redraw" in row for row in redrawn.history)
    # Validation on a grid drawn where the policy goes predicts the test error; the LQ grid
    # does not. Until the redraw the two runs are one fit (same seed, same steps), so the redraw
    # row's val_mse_new_grid is the kept policy validated on a grid drawn under it: the same
    # policy is checked on both grids. Measured (seeds 0-3, torch's default/AVX2/AVX-512
    # kernels, 12 runs): test MSE / own-grid validation MSE 0.985-1.036 for the kept policy and
    # 0.92-1.24 for the redrawn fit, against 0.95-4.6 for test / LQ-grid validation. A bar on
    # the last ratio alone (it was "> 1.6") failed 3 of those 12 runs: how far an LQ-grid fit
    # misses off its grid is the luck of the network's extrapolation, so here it is compared
    # with the own-grid miss of the same policy instead (at least 4x larger in log, 12 of 12).
    at = next(i for i, row in enumerate(redrawn.history) if "redraw" in row)
    trace = [(h["step"], h["train_loss"], h["val_mse"]) for h in redrawn.history[:at + 1]]
    assert trace == [(h["step"], h["train_loss"], h["val_mse"]) for h in kept.history]
    own_grid = redrawn.history[at]["val_mse_new_grid"]
    assert redrawn.test_mse / redrawn.val_mse < 1.6 and 1 / 1.6 < kept.test_mse / own_grid < 1.6
    assert abs(math.log(kept.test_mse / kept.val_mse)) > abs(math.log(kept.test_mse / own_grid))
    # Where the kept policy misses the tolerance on its own paths the redraw trains on and
    # lowers the test MSE (test MSE ratio redrawn/kept <= 0.66 in the 8 such runs of 12);
    # otherwise the redraw is accepted at once and the two fits are one policy.
    if own_grid > 1e-6:
        assert redrawn.steps > kept.steps and redrawn.test_mse < kept.test_mse
    else:
        assert redrawn.steps == kept.steps and redrawn.test_mse == kept.test_mse


def test_linear_grid_is_never_redrawn():
    cfg = dict(seed=1, max_epochs=2, test_trajectories=4, threads=1, val_tolerance=1e-3)
    a, b = (solve(ModelParams(N=16), "relu", SolverConfig(grid_redraws=k, **cfg)) for k in (0, 3))
    assert a.redraws == b.redraws == 0 and a.steps == b.steps
    torch.testing.assert_close(a.train_states, b.train_states)
    assert a.val_mse == b.val_mse and a.test_mse == b.test_mse


def test_train_points_subsamples_the_grid():
    r = solve(ModelParams(N=16), "identity",
              SolverConfig(train_points=3, max_epochs=2, test_trajectories=4, threads=1))
    assert r.steps == 2  # one step per epoch: 3 points fit in one batch


@pytest.mark.parametrize("kw, name", [
    ({"batch_size": 0}, "batch_size"), ({"lr": -1.0}, "lr"), ({"val_tolerance": 0.0}, "val_tolerance"),
    ({"dtype": "float16"}, "dtype"), ({"device": "tpu"}, "device"), ({"gradient": "half"}, "gradient"),
    ({"threads": 0}, "threads"), ({"train_points": 0}, "train_points"), ({"T": 0}, "T"),
    ({"grid_redraws": -1}, "grid_redraws"), ({"grid_redraws": 1.0}, "grid_redraws"),
    ({"plateau_checks": -1}, "plateau_checks"), ({"lr_halvings": 1.5}, "lr_halvings"),
    ({"warmup_steps": -1}, "warmup_steps"),
])
def test_solver_config_validation(kw, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        SolverConfig(**kw)


def test_progress_bar_reports_on_stderr_only_when_asked(capsys):
    cfg = SolverConfig(max_epochs=1, test_trajectories=4, threads=1)
    solve(ModelParams(N=16), "identity", cfg, progress=False)
    assert capsys.readouterr().err == ""
    solve(ModelParams(N=16), "identity", cfg, progress=True)
    err = capsys.readouterr().err
    assert "fit" in err and "tol" in err


# The steps of solve(), one at a time.

TINY = SolverConfig(train_trajectories=2, val_trajectories=2, T=7, batch_size=4,
                    test_trajectories=4, max_epochs=3, threads=1)
KW = {"device": torch.device("cpu"), "dtype": torch.float32}


def test_the_grid_step_draws_x0_the_draw_and_paths_from_one_generator():
    p = ModelParams(N=8)
    grid = solver._pick_grid(p, TINY, **KW)
    gen = torch.Generator().manual_seed(TINY.seed)
    X0 = initial_state(p, gen, **KW)
    W = idiosyncratic_draw(p.N, gen, True, **KW)
    lq = solver.lq_path_policy(p).float()
    train = simulate(p, lq, X0, 2, 7, gen).reshape(-1, 8)
    val = simulate(p, lq, X0, 2, 7, gen).reshape(-1, 8)
    assert torch.equal(grid.draws.X0, X0) and torch.equal(grid.draws.W_hat, W)
    assert torch.equal(grid.train, train) and torch.equal(grid.val, val)
    # the generator goes on where the grid left it (a redraw continues the stream)
    assert torch.equal(grid.draws.gen.get_state(), gen.get_state())
    z, w = gauss_hermite(TINY.quadrature_nodes)
    assert torch.equal(grid.draws.nodes, torch.tensor(z, **KW))
    assert torch.equal(grid.draws.weights, torch.tensor(w, **KW))


def test_the_grid_step_thins_the_training_states_over_the_first_path_then_over_all():
    p = ModelParams(N=8)
    full = solver._pick_grid(p, TINY, **KW)
    few = solver._pick_grid(p, replace(TINY, train_points=3), **KW)
    assert torch.equal(few.train, full.train[[0, 4, 7]])  # dates 0, 3.5 -> 4 and T of path 0
    many = solver._pick_grid(p, replace(TINY, train_points=10), **KW)
    keep = torch.linspace(0, 15, 10).round().long()
    assert torch.equal(many.train, full.train[keep]) and keep.max() > 7  # into the second path
    assert torch.equal(few.val, full.val) and torch.equal(few.draws.X0, full.draws.X0)


def test_a_redrawn_grid_keeps_the_draws_and_continues_the_generator():
    p = ModelParams(N=8, nu=1.5)
    grid = solver._pick_grid(p, TINY, **KW)
    policy = LinearPolicy(*lq_solution(ModelParams(N=8)).to_dict().values()).float()
    state = grid.draws.gen.get_state()
    new = solver._redrawn(as_model(p), policy, grid, TINY)
    gen = torch.Generator().manual_seed(0)
    gen.set_state(state)
    assert torch.equal(new.train, simulate(p, policy, grid.draws.X0, 2, 7, gen).reshape(-1, 8))
    assert new.draws is grid.draws and new.train.shape == grid.train.shape

    class Explodes(torch.nn.Module):
        def forward(self, X):
            return torch.full(X.shape[:-1], math.inf)

    assert solver._redrawn(as_model(p), Explodes(), grid, TINY) is None


def test_the_training_step_is_one_adam_step_on_the_mean_squared_residual():
    p = ModelParams(N=8)
    grid = solver._pick_grid(p, TINY, **KW)
    X = grid.train[:4]
    grads = {}
    for gradient in ("semi", "full"):
        cfg = replace(TINY, gradient=gradient, lr=1e-2, warmup_steps=0)
        a = LinearPolicy(0.1, 0.0, trainable=True).float()
        b = LinearPolicy(0.1, 0.0, trainable=True).float()
        loss = training_step(p, a, grid.draws, cfg)(X)
        # by hand: full gradient through u(X'), or u(X') held at the current weights
        fixed = LinearPolicy(0.1, 0.0).float() if gradient == "semi" else None
        r = euler_residual(p, b, X, grid.draws.W_hat, grid.draws.nodes,
                                  grid.draws.weights, policy_next=fixed)
        expected = r.pow(2).mean()
        opt = torch.optim.Adam(b.parameters(), lr=1e-2)
        opt.zero_grad()
        expected.backward()
        opt.step()
        assert float(loss) == pytest.approx(float(expected.detach()), rel=1e-6)
        assert not loss.requires_grad
        for pa, pb in zip(a.parameters(), b.parameters()):
            torch.testing.assert_close(pa.grad, pb.grad)  # the step leaves its gradient
            torch.testing.assert_close(pa, pb)
        grads[gradient] = a.H1.grad
    assert not torch.allclose(grads["semi"], grads["full"])


@pytest.mark.parametrize("train_loss, val_mse, elapsed, can_redraw, expected", [
    (1e-3, math.nan, 0.0, False, None),  # validation skipped: go on
    (1e-3, 1e-3, 0.0, False, None),
    (math.nan, math.nan, 0.0, False, "diverged"),
    (1e-7, math.inf, 0.0, True, "diverged"),
    (1e-7, 1e-7, 0.0, False, "converged"),
    (1e-7, 1e-7, 0.0, True, "redraw"),
    (1e-7, 1e-7, 99.0, False, "converged"),  # met the tolerance: the time cap does not matter
    (1e-3, math.nan, 99.0, True, "max_seconds"),
])
def test_a_check_decides_divergence_then_the_tolerance_then_the_time_cap(
        train_loss, val_mse, elapsed, can_redraw, expected):
    cfg = SolverConfig(val_tolerance=2e-7, max_seconds=10.0)
    assert solver._verdict(train_loss, val_mse, elapsed, cfg, can_redraw) == expected


def test_validation_is_skipped_while_the_training_loss_is_far_above_the_tolerance():
    p = ModelParams(N=8)
    grid = solver._pick_grid(p, TINY, **KW)
    policy = LinearPolicy(0.0, 0.0).float()
    measured = grid.draws.mse(as_model(p), policy, grid.val)
    tol = 1e-4
    assert math.isnan(solver._validation_mse(as_model(p), policy, grid, 1.01 * solver.VAL_GATE * tol, tol))
    assert solver._validation_mse(as_model(p), policy, grid, solver.VAL_GATE * tol, tol) == measured
    assert solver._validation_mse(as_model(p), policy, grid, math.inf, tol) == measured  # a blow-up


def test_checks_fall_every_few_steps_and_at_every_epochs_end():
    checks = solver._Checks(per_epoch=32, every=10, started=0.0)
    due, means = [], []
    for k in range(1, 70):
        if checks.count(torch.tensor(float(k))):
            due.append(k)
            means.append(checks.running_loss())
    assert due == [10, 20, 30, 32, 40, 50, 60, 64]
    assert means[:4] == [5.5, 15.5, 25.5, 31.5]  # each the mean since the check before
    assert checks.running_loss() == 67.0 and checks.losses == []  # steps 65-69


def test_the_fit_step_alone_checks_on_its_cadence_and_runs_out_of_epochs():
    p = ModelParams(N=8)
    torch.manual_seed(0)
    policy = make_policy("identity", N=8)
    cfg = replace(TINY, val_tolerance=1e-12, checks_per_epoch=2)
    fit = solver._fit(as_model(p), policy, solver._pick_grid(p, cfg, **KW), cfg, started=0.0)
    assert (fit.status, fit.steps, fit.epochs, fit.redraws) == ("max_epochs", 12, 3.0, 0)
    assert [row["step"] for row in fit.history] == [2, 4, 6, 8, 10, 12]  # 4 steps an epoch
    assert all(row["seconds"] <= fit.seconds for row in fit.history)


def test_the_learning_rate_decays_once_per_epoch(monkeypatch):
    p = ModelParams(N=8)
    steps = []
    real = solver.training_step
    monkeypatch.setattr(solver, "training_step", lambda *a: steps.append(real(*a)) or steps[-1])
    torch.manual_seed(0)
    cfg = replace(TINY, val_tolerance=1e-12, lr_decay=0.5, warmup_steps=0)  # 3 epochs, never converges
    fit = solver._fit(as_model(p), make_policy("identity", N=8), solver._pick_grid(p, cfg, **KW),
                      cfg, started=0.0)
    assert fit.epochs == 3.0
    assert steps[0].optimizer.param_groups[0]["lr"] == pytest.approx(cfg.lr * 0.5**3)
    with pytest.raises(ValueError, match="lr_decay"):
        replace(TINY, lr_decay=0.0)


def test_the_learning_rate_rises_linearly_over_the_warmup_and_multiplies_other_changes():
    p = ModelParams(N=8)
    grid = solver._pick_grid(p, TINY, **KW)
    step = training_step(p, LinearPolicy(0.1, 0.0, trainable=True).float(), grid.draws,
                         replace(TINY, lr=1e-2, warmup_steps=4))
    rates = []
    for k in range(6):
        if k == 2:  # a halving on the way (a plateau) stays
            step.optimizer.param_groups[0]["lr"] *= 0.5
        step(grid.train[:4])
        rates.append(step.optimizer.param_groups[0]["lr"])
    assert rates == pytest.approx([2.5e-3, 5e-3, 3.75e-3, 5e-3, 5e-3, 5e-3])


def test_the_learning_rate_halves_after_validated_checks_without_a_new_best_at_most_twice():
    cfg = SolverConfig(plateau_checks=2, lr_halvings=2)
    checks = solver._Checks(per_epoch=4, every=1, started=0.0)
    vals = [math.nan, 5.0, 4.0, 4.5, math.nan, 4.2, 3.0, 3.5, 3.6, 3.7, 3.8, 3.9, 4.0]
    halved = [checks.plateaued(v, cfg) for v in vals]
    # skipped validations (NaN) do not count; the third plateau finds both halvings spent
    assert [i for i, h in enumerate(halved) if h] == [5, 8]
    checks.new_grid(9.0)  # a redrawn grid: its first validation is the best on it
    assert checks.best_val == checks.val_mse == 9.0 and checks.since_best == 0
    assert not solver._Checks(4, 1, 0.0).plateaued(1.0, SolverConfig(plateau_checks=0))


@pytest.mark.parametrize("plateau_checks, halvings", [(0, 0), (3, 2)])
def test_a_fit_that_stalls_near_the_tolerance_halves_its_learning_rate(plateau_checks, halvings,
                                                                       monkeypatch):
    p = ModelParams(N=8)
    steps = []
    real = solver.training_step
    monkeypatch.setattr(solver, "training_step", lambda *a: steps.append(real(*a)) or steps[-1])
    monkeypatch.setattr(solver, "_validation_mse", lambda *a: 1.0)  # validated, never better
    torch.manual_seed(0)
    cfg = replace(TINY, plateau_checks=plateau_checks, checks_per_epoch=4, warmup_steps=0)  # 12 checks
    fit = solver._fit(as_model(p), make_policy("identity", N=8), solver._pick_grid(p, cfg, **KW),
                      cfg, started=0.0)
    assert len(fit.history) == 12
    assert steps[0].optimizer.param_groups[0]["lr"] == pytest.approx(cfg.lr * 0.5**halvings)


def test_the_fit_step_redraws_the_grid_once_the_tolerance_is_met():
    p = ModelParams(N=8, nu=1.5)
    torch.manual_seed(0)
    policy = make_policy("identity", N=8)
    cfg = replace(TINY, val_tolerance=1.0, grid_redraws=2)  # met at the first check
    grid = solver._pick_grid(p, cfg, **KW)
    fit = solver._fit(as_model(p), policy, grid, cfg, started=time.perf_counter())
    assert fit.status == "converged" and fit.redraws == 1 and fit.steps == 1
    assert fit.history[-1]["redraw"] == 1 and fit.val_mse == fit.history[-1]["val_mse_new_grid"]
    assert fit.grid.draws is grid.draws and not torch.equal(fit.grid.train, grid.train)
    assert fit.val_mse == grid.draws.mse(as_model(p), policy, fit.grid.val)


def test_the_fit_step_keeps_the_grid_where_the_fitted_paths_are_not_finite(monkeypatch):
    p = ModelParams(N=8, nu=1.5)
    monkeypatch.setattr(solver, "_redrawn", lambda *args: None)
    cfg = replace(TINY, val_tolerance=1.0)
    grid = solver._pick_grid(p, cfg, **KW)
    fit = solver._fit(as_model(p), LinearPolicy(0.1, 0.0, trainable=True).float(), grid, cfg, 0.0)
    assert fit.status == "converged" and fit.redraws == 0 and fit.grid is grid
    assert "redraw" not in fit.history[-1]


def test_the_verify_step_measures_a_skipped_validation_and_tests_on_fresh_paths():
    p = ModelParams(N=8)
    lq = lq_solution(p)
    policy = LinearPolicy(lq.H0, lq.H1).float()
    grid = solver._pick_grid(p, TINY, **KW)
    fit = Fit(grid, [], "max_epochs", 4, 1.0, math.nan, 0, 0.1)
    out = solver._verify(as_model(p), policy, fit, TINY)
    assert out.val_mse == grid.draws.mse(as_model(p), policy, grid.val) < 1e-10
    assert out.train_mse == grid.draws.mse(as_model(p), policy, grid.train)
    ev = evaluate(p, policy, grid.draws.X0, grid.draws.W_hat, grid.draws.nodes,
                  grid.draws.weights, 4, 7, torch.Generator().manual_seed(10_000))
    np.testing.assert_array_equal(out.evaluation.mean_X, ev.mean_X)
    assert out.evaluation.stationary and out.seconds > 0
    assert solver._verify(as_model(p), policy, replace(fit, val_mse=0.5), TINY).val_mse == 0.5


def test_the_pack_step_puts_the_fit_and_its_verification_in_a_result():
    p = ModelParams(N=8)
    grid = solver._pick_grid(p, TINY, **KW)
    policy = LinearPolicy(0.1, 0.0).float()
    fit = Fit(grid, [{"step": 1}], "max_seconds", 3, 0.75, 1e-3, 0, 2.0)
    checked = solver._verify(as_model(p), policy, fit, TINY)
    r = solver._pack(as_model(p), TINY, policy, fit, checked)
    assert (r.status, r.converged, r.steps, r.epochs, r.fit_seconds) == ("max_seconds", False, 3,
                                                                        0.75, 2.0)
    assert r.test_seconds == checked.seconds and r.evaluation is checked.evaluation
    assert r.train_states is grid.train and r.val_states is grid.val and r.X0 is grid.draws.X0
    assert r.val_mse == 1e-3 and r.history == fit.history
    assert solver._pack(as_model(p), TINY, policy, replace(fit, status="converged"), checked).converged


def test_solve_is_the_steps_in_turn():
    p, cfg = ModelParams(N=8, nu=1.5), replace(TINY, val_tolerance=5e-2, max_epochs=6)
    r = solve(p, "relu", cfg)
    kw = tensor_kw(cfg)
    policy = solver.seeded_policy(p, "relu", cfg, **kw)
    grid = solver._pick_grid(p, cfg, **kw)
    solver.start_level(p, policy, grid)
    fit = solver._fit(as_model(p), policy, grid, cfg, time.perf_counter())
    by_hand = solver._pack(as_model(p), cfg, policy, fit, solver._verify(as_model(p), policy, fit, cfg))

    def drop_seconds(history):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in history]

    assert drop_seconds(r.history) == drop_seconds(by_hand.history)
    assert r.scalars() | {"fit_seconds": 0, "test_seconds": 0} == \
        by_hand.scalars() | {"fit_seconds": 0, "test_seconds": 0}
    for a, b in zip(r.policy.parameters(), by_hand.policy.parameters()):
        assert torch.equal(a, b)
    assert isinstance(r.policy, torch.nn.Module) and isinstance(fit.grid, Grid)
    assert isinstance(fit.grid.draws, Draws) and first_draws  # the grid's first half, public


def test_a_cpu_run_asks_for_huge_pages_unless_the_environment_says_otherwise(monkeypatch):
    from symdp.solver import tensor_kw

    monkeypatch.delenv("THP_MEM_ALLOC_ENABLE", raising=False)
    tensor_kw(SolverConfig())
    assert os.environ["THP_MEM_ALLOC_ENABLE"] == "1"
    monkeypatch.setenv("THP_MEM_ALLOC_ENABLE", "0")
    tensor_kw(SolverConfig())
    assert os.environ["THP_MEM_ALLOC_ENABLE"] == "0"


def test_the_start_step_puts_a_constant_network_at_the_closed_form_level_at_nu_1():
    """At nu = 1 a constant policy c has the mean residual
    gamma c - beta (1 - (1-delta) mean(X) - c + gamma (1-delta) c) over the states (the draw and
    the nodes average zero), so the level is c = beta (1 - (1-delta) m) / (gamma (1 - beta
    (1-delta)) + beta)."""
    p = ModelParams(N=8)
    grid = solver._pick_grid(p, replace(TINY, dtype="float64"), **{**KW, "dtype": torch.float64})
    policy = make_policy("relu", N=8).double()
    shift = solver.start_level(p, policy, grid)
    m = float(grid.train.mean())  # 16 states, all of them used (fewer than LEVEL_STATES)
    b, g, d = p.beta, p.gamma, p.delta
    c = b * (1 - (1 - d) * m) / (g * (1 - b * (1 - d)) + b)
    np.testing.assert_allclose(shift, c, rtol=1e-10)
    np.testing.assert_allclose(policy(grid.train).detach().numpy(), c, rtol=1e-10)
    r = as_model(p).euler_residual(policy, grid.train, grid.draws.quadrature)
    assert abs(float(r.detach().mean())) < 1e-12


def test_the_start_step_zeroes_the_mean_residual_at_nu_1_5_and_leaves_other_networks_alone():
    p = ModelParams(N=8, nu=1.5)
    grid = solver._pick_grid(p, replace(TINY, dtype="float64"), **{**KW, "dtype": torch.float64})
    policy = make_policy("moments", N=8).double()
    assert solver.start_level(p, policy, grid) > 0
    r = as_model(p).euler_residual(policy, grid.train, grid.draws.quadrature)
    assert abs(float(r.detach().mean())) < 1e-12 * float(r.detach().abs().max() + 1)
    # not constant: PyTorch's default output layer, or a warm start; and no output bias
    for other in (make_policy(ArchitectureConfig(zero_last=False), N=8).double(),
                  LinearPolicy(0.1, -0.05, trainable=True).double()):
        before = [q.clone() for q in other.parameters()]
        assert solver.start_level(p, other, grid) is None
        assert all(torch.equal(a, q) for a, q in zip(before, other.parameters()))
    # no finite level (states whose residuals are NaN): the constant network stays as built
    constant = make_policy("moments", N=8).double()
    before = [q.clone() for q in constant.parameters()]
    assert solver.start_level(p, constant, replace(grid, train=grid.train * math.nan)) is None
    assert all(torch.equal(a, q) for a, q in zip(before, constant.parameters()))


def test_a_fit_starts_at_the_level_unless_told_to_start_at_zero(monkeypatch):
    """The start is the step between picking the grid and fitting: with level_start=False the
    first Adam step sees u = 0."""
    p = ModelParams(N=8)
    seen = []
    real_fit = solver._fit
    monkeypatch.setattr(solver, "_fit", lambda model, policy, grid, *a, **k: (
        seen.append(float(policy(grid.train[:1]).detach())), real_fit(model, policy, grid, *a, **k))[1])
    solve(p, "relu", replace(TINY, max_epochs=1))
    solve(p, "relu", replace(TINY, max_epochs=1, level_start=False))
    assert seen[0] > 0.01 and seen[1] == 0.0
