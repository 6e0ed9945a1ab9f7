import math

import numpy as np
import pytest
import torch

from symdp import ModelParams, SolverConfig, evaluate, gauss_hermite, lq_solution, solve
from symdp.economics import idiosyncratic_draw, initial_state, simulate
from symdp.evaluation import fitted_linear_policy
from symdp.networks import LinearPolicy

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
    """Full-gradient training of phi(Moments) lands on the explosive root (measured: seeds 0-2)."""
    outcomes = []
    for seed in range(3):
        r = solve(ModelParams(N=128), "moments",
                  SolverConfig(seed=seed, gradient="full", val_tolerance=1e-6, **FAST))
        grid = simulate(r.params, LinearPolicy(*lq_solution(r.params).to_dict().values()).float(),
                        r.X0, 2, 63, torch.Generator().manual_seed(0)).reshape(-1, 128)
        slope = fitted_linear_policy(r.policy, grid).H1
        outcomes.append((r.converged, slope, r.success))
        if slope > 0.1:  # explosive root (H1 = +0.22) however small the residual
            assert not r.success
    assert any(conv and slope > 0.1 for conv, slope, _ in outcomes), outcomes


def test_evaluate_accepts_the_stationary_lq_policy():
    p = ModelParams(N=32)
    lq = lq_solution(p)
    gen = torch.Generator().manual_seed(0)
    z, w = gauss_hermite(7)
    X0 = initial_state(p, gen, dtype=torch.float64)
    W = idiosyncratic_draw(p.N, gen, True, dtype=torch.float64)
    ev = evaluate(p, LinearPolicy(lq.H0, lq.H1), X0, W, torch.tensor(z), torch.tensor(w),
                  n_trajectories=8, T=40)
    assert ev.stationary and ev.policy_rel_error < 1e-12 and ev.test_mse < 1e-24
    assert ev.mean_X.shape == (8, 41) and np.all(np.abs(ev.mean_X - ev.mean_X_lq) < 1e-12)


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
