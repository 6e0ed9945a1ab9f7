"""Tests for symdp.studies.baselines (chapters 5 and 7), the line and growth fits they use, and
their figures in symdp.book.figures."""


import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch

from symdp import ModelParams, SolverConfig, count_parameters, make_policy
from symdp.evaluation import linear_fit
from symdp.studies.baselines import path_bands, solve_baselines
from symdp.studies.scaling import loglog_slope, quantiles_by_n
from symdp.networks import ArchitectureConfig
from symdp.book.figures import policy_paths_vs_lq, relative_error_bands, scaling_in_n


# ---------------------------------------------------------------------------------- sizes

@pytest.mark.parametrize("L, deck_k", [(4, 199.6), (16, 204.2)])
def test_deck_deep_sets_size_is_width_256_rho_with_biases(L, deck_k):
    # The deck's deep-sets rows: rho 4 x 256 with biases, phi one bias-free layer of 128.
    arch = ArchitectureConfig(phi="relu", L=L, phi_depth=1, rho_width=256, rho_hidden_bias=True)
    assert round(count_parameters(make_policy(arch)) / 1000, 1) == deck_k


def test_our_baselines_match_the_decks_stated_sizes():
    # The deck's text: 49.4K, 49.8K and 66.8K coefficients for the three baselines.
    from symdp.deck import BASELINE_THOUSANDS

    sizes = {p: round(count_parameters(make_policy(p)) / 1000, 1) for p in BASELINE_THOUSANDS}
    assert sizes == BASELINE_THOUSANDS == {"identity": 49.4, "moments": 49.8, "relu": 66.8}


# ---------------------------------------------------------------------------------- path bands

def test_path_bands_against_numpy():
    rng = np.random.default_rng(0)
    v = rng.lognormal(size=(200, 11))
    b = path_bands(v)
    np.testing.assert_allclose(b.mean, v.mean(0))
    np.testing.assert_allclose(b.lower, np.percentile(v, 2.5, axis=0))
    np.testing.assert_allclose(b.upper, np.percentile(v, 97.5, axis=0))
    assert b.n_paths == 200 and b.q == (2.5, 97.5)
    assert np.all(b.lower <= b.mean) and np.all(b.mean <= b.upper)
    np.testing.assert_array_equal(b.t, np.arange(11))


def test_path_bands_of_constant_paths_collapse():
    b = path_bands(np.full((5, 4), 0.3), 10, 90)
    np.testing.assert_allclose([b.lower, b.mean, b.upper], 0.3)


@pytest.mark.parametrize("values, lo, hi", [
    (np.ones(5), 2.5, 97.5),  # not 2-D
    (np.ones((0, 3)), 2.5, 97.5),  # no path
    (np.array([[1.0, np.inf]]), 2.5, 97.5),  # diverged path
    (np.ones((3, 3)), 60, 40),  # lower > upper
    (np.ones((3, 3)), -1, 50),
])
def test_path_bands_rejects_bad_input(values, lo, hi):
    with pytest.raises(ValueError):
        path_bands(values, lo, hi)


# ---------------------------------------------------------------------------------- summaries

def test_quantiles_by_n_medians_and_spread():
    rows = [{"N": N, "success": True, "fit_seconds": N / 100 * (1 + 0.1 * s), "epochs": 2.0 + s,
             "val_mse": 1e-7, "policy_rel_error": 1e-3} for N in (1000, 100) for s in range(5)]
    rows.append({"N": 100, "success": False, "fit_seconds": 1e6, "epochs": 1.0,
                 "val_mse": np.nan, "policy_rel_error": np.nan})
    s = quantiles_by_n(pd.DataFrame(rows), over="success")
    assert list(s.index) == [100, 1000]
    assert s.loc[100, "runs"] == 6 and s.loc[100, "success"] == pytest.approx(5 / 6)
    assert s.loc[1000, "fit_seconds"] == pytest.approx(12.0)  # median of 10, 11, ..., 14
    assert s.loc[1000, "fit_seconds_lo"] == pytest.approx(11.0)
    assert s.loc[1000, "fit_seconds_hi"] == pytest.approx(13.0)
    per_epoch = [10 * (1 + 0.1 * k) / (2 + k) for k in range(5)]
    assert s.loc[1000, "seconds_per_epoch"] == pytest.approx(np.median(per_epoch))


def test_quantiles_by_n_over_all_trials_includes_failures():
    rows = [{"N": 8, "success": s < 2, "fit_seconds": float(s), "epochs": 1.0, "val_mse": 1.0,
             "policy_rel_error": 1.0} for s in range(5)]
    assert quantiles_by_n(pd.DataFrame(rows)).loc[8, "fit_seconds"] == 2.0
    assert quantiles_by_n(pd.DataFrame(rows), over="success").loc[8, "fit_seconds"] == 0.5
    with pytest.raises(ValueError, match="over"):
        quantiles_by_n(pd.DataFrame(rows), over="some")


def test_quantiles_by_n_rejects_bad_quantiles():
    with pytest.raises(ValueError, match="q must"):
        quantiles_by_n(pd.DataFrame({"N": [1]}), q=(0.6, 0.9))


def test_loglog_slope_recovers_the_exponent():
    N = np.array([100, 1000, 10000])
    assert loglog_slope(N, 3e-4 * N) == pytest.approx(1.0)
    assert loglog_slope(N, 2.0 * np.sqrt(N)) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        loglog_slope([1, 2], [1.0, -1.0])
    with pytest.raises(ValueError):
        loglog_slope([1], [1.0])


# ---------------------------------------------------------------------------------- solves

@pytest.fixture(scope="module")
def baselines():
    torch.set_num_threads(1)
    # phi(Moments) is the slow one at small N; two baselines test the same plumbing.
    cfg = SolverConfig(seed=0, threads=1, test_trajectories=16, val_tolerance=1e-6)
    return solve_baselines(ModelParams(N=16), cfg, phis=("identity", "relu"))


def test_baselines_share_the_economy_and_match_lq(baselines):
    assert list(baselines) == ["identity", "relu"]
    evs = [r.evaluation for r in baselines.values()]
    for r in baselines.values():
        assert r.success, r.scalars()
        assert r.policy_rel_error < 0.01  # 1% of the exact LQ policy
    # Same seed: same start and same test shocks, so the LQ comparison paths coincide.
    for e in evs[1:]:
        np.testing.assert_array_equal(e.mean_X_lq, evs[0].mean_X_lq)
        np.testing.assert_array_equal(e.mean_X[:, 0], evs[0].mean_X[:, 0])


def test_figures_1_and_2_draw(baselines):
    u = {k: r.evaluation.u[:3] for k, r in baselines.items()}
    e0 = next(iter(baselines.values())).evaluation
    lq = ModelParams(N=16)
    from symdp import lq_solution

    u_lq = lq_solution(lq)(e0.mean_X_lq[:3])
    fig = policy_paths_vs_lq(u, u_lq)
    assert len(fig.axes) == 4 and fig.axes[1].get_title() == r"$\phi$(ReLU)"
    assert len(fig.axes[0].lines) == 6  # three paths, network and LQ
    gaps = fig.axes[2].lines[:3]  # the bottom row: the gap of each path, in percent
    first = next(iter(u.values()))
    np.testing.assert_allclose(gaps[0].get_ydata(), 100 * (first[0] - u_lq[0]) / abs(u_lq[0]))
    legend = fig.legends[0]
    assert len(legend.get_lines()) == 4  # one entry per path colour, and the LQ solution
    bands = {k: path_bands(r.evaluation.rel_error) for k, r in baselines.items()}
    fig2 = relative_error_bands(bands)
    assert len(fig2.axes) == 2 and fig2.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="shape"):
        policy_paths_vs_lq(u, u_lq[:2])
    with pytest.raises(ValueError):
        relative_error_bands({})


def test_figure_3_draws():
    rows = [{"N": N, "success": True, "fit_seconds": 1 + N / 500 + s, "epochs": 4.0,
             "val_mse": 1e-7, "policy_rel_error": 1e-3} for N in (128, 1024) for s in range(3)]
    fig = scaling_in_n(quantiles_by_n(pd.DataFrame(rows)))
    assert len(fig.axes) == 3
    assert all(ax.get_xscale() == "log" for ax in fig.axes)


def test_linear_fit_recovers_a_linear_policy():
    m = np.linspace(0.5, 0.9, 40).reshape(4, 10)
    c = linear_fit(m, 0.07 - 0.05 * m)
    assert c.H0 == pytest.approx(0.07) and c.H1 == pytest.approx(-0.05)
    with pytest.raises(ValueError, match="identified"):
        linear_fit(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-finite"):
        linear_fit(m, m * np.inf)


def test_fitted_baselines_imply_the_stationary_root(baselines):
    from symdp import lq_solution

    exact = lq_solution(ModelParams(N=16))
    for r in baselines.values():
        c = linear_fit(r.evaluation.mean_X, r.evaluation.u)
        assert c.H1 < 0
        assert c.H1 == pytest.approx(exact.H1, abs=0.01)
        assert c.H0 == pytest.approx(exact.H0, abs=0.01)


def test_a_fit_stops_at_a_check_so_its_epochs_come_in_quarters():
    from symdp import lq_solution, solve
    from symdp.networks import LinearPolicy

    p = ModelParams(N=64)
    exact = lq_solution(p)
    config = SolverConfig(lr=1e-12, max_epochs=1, test_trajectories=4, threads=1)
    # A warm start at the exact root meets the tolerance at the first check: a quarter epoch.
    result = solve(p, LinearPolicy(exact.H0, exact.H1, trainable=True), config)
    assert result.converged
    assert result.epochs == 1 / config.checks_per_epoch


def test_line_departure_is_zero_for_a_line_and_the_relative_gap_for_a_bend():
    from types import SimpleNamespace

    from symdp.studies.baselines import line_departure

    m = np.linspace(0.6, 0.9, 31)[None, :]
    line = SimpleNamespace(mean_X=m, u=0.07 - 0.05 * m)
    assert line_departure(line) < 1e-13
    bent = SimpleNamespace(mean_X=m, u=0.07 - 0.05 * m + 1e-3 * (m - 0.75) ** 2)
    # The least-squares line through a parabola on a symmetric grid: the parabola minus its
    # mean, so the largest gap is at the ends, (0.15^2 - mean((m - 0.75)^2)) * 1e-3.
    gap = 1e-3 * (0.15**2 - np.mean((m - 0.75) ** 2))
    np.testing.assert_allclose(line_departure(bent), gap / np.mean(np.abs(bent.u)), rtol=1e-9)


def test_figure_1_1_panel_c_draws_each_path_minus_the_average_path():
    from symdp.book.figures import lq_equilibrium_paths

    rng = np.random.default_rng(1)
    mean_X = 0.7 + 1e-3 * rng.standard_normal((5, 12))
    fig = lq_equilibrium_paths(mean_X, 0.07 - 0.05 * mean_X, 0.684, np.linspace(0.9, 1.2, 12))
    assert len(fig.axes) == 3
    drawn = np.array([line.get_ydata() for line in fig.axes[2].lines[:5]])
    np.testing.assert_allclose(drawn, mean_X - mean_X.mean(0))
    np.testing.assert_allclose(drawn.sum(0), 0.0, atol=1e-15)
