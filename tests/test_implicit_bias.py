"""Time iteration on linear policies, and the sparse-grid (three-point) study."""

import math

import numpy as np
import pytest
import torch

from symdp import LinearPolicyCoefficients, ModelParams, lq_roots
from symdp.economics import gauss_hermite
from symdp.evaluation import residual_mse
from symdp.studies.implicit_bias import (
    SPARSE_ARCHITECTURES,
    fit_sparse_grid,
    policy_on_line,
    sparse_grid_config,
    sparse_grid_table,
    time_iteration_jacobian,
    time_iteration_path,
    time_iteration_step,
)
from symdp.networks import LinearPolicy, count_parameters, make_policy
from symdp.solver import solve

P = ModelParams()
ROOTS = lq_roots(P.beta, P.gamma, P.delta)


@pytest.mark.parametrize("root", ["stable", "explosive"])
def test_lq_roots_are_fixed_points_of_time_iteration(root):
    coef = ROOTS[root]
    new = time_iteration_step(coef, P)
    assert new.H0 == pytest.approx(coef.H0, abs=1e-13)
    assert new.H1 == pytest.approx(coef.H1, abs=1e-13)


def test_step_solves_todays_euler_equation_given_tomorrows_policy():
    old = LinearPolicyCoefficients(0.03, 0.1)
    new = time_iteration_step(old, P)
    for m in (0.2, 0.7, 1.3):
        u = new(m)
        m_next = (1 - P.delta) * m + u
        rhs = P.beta * (1 - m_next + P.gamma * (1 - P.delta) * old(m_next))
        assert P.gamma * u - rhs == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("a,b", [(0.0, 0.0), (0.05, -0.2), (-0.1, 0.3)])
def test_jacobian_matches_finite_differences(a, b):
    J = time_iteration_jacobian(LinearPolicyCoefficients(a, b), P)
    h = 1e-6
    for j, (da, db) in enumerate([(h, 0.0), (0.0, h)]):
        up = time_iteration_step(LinearPolicyCoefficients(a + da, b + db), P)
        dn = time_iteration_step(LinearPolicyCoefficients(a - da, b - db), P)
        col = np.array([up.H0 - dn.H0, up.H1 - dn.H1]) / (2 * h)
        np.testing.assert_allclose(J[:, j], col, rtol=1e-6, atol=1e-9)


def test_multipliers_at_the_roots_are_beta_rho_and_beta_rho_squared():
    eig = {}
    for name, coef in ROOTS.items():
        rho = coef.persistence(P.delta)
        J = time_iteration_jacobian(coef, P)
        assert J[1, 1] == pytest.approx(P.beta * rho**2, rel=1e-12)
        assert J[0, 0] == pytest.approx(P.beta * rho, rel=1e-12)
        assert J[1, 0] == 0.0
        eig[name] = max(abs(np.linalg.eigvals(J)))
    assert eig["stable"] < 1 < eig["explosive"]


def test_time_iteration_from_zero_finds_the_stationary_root_and_leaves_the_explosive_one():
    path = time_iteration_path(LinearPolicyCoefficients(0.0, 0.0), P, steps=400)
    assert path[-1] == pytest.approx([ROOTS["stable"].H0, ROOTS["stable"].H1], abs=1e-10)
    ex = ROOTS["explosive"]
    near = time_iteration_path(LinearPolicyCoefficients(ex.H0, ex.H1 - 1e-6), P, steps=40)
    gaps = np.abs(near[:, 1] - ex.H1)
    assert gaps[-1] > 100 * gaps[0]  # repelled at rate beta * rho+^2 = 1.30 per step


def test_time_iteration_path_validates_and_stops_at_the_bound():
    with pytest.raises(ValueError, match="steps"):
        time_iteration_path(ROOTS["stable"], P, steps=-1)
    ex = ROOTS["explosive"]
    short = time_iteration_path(LinearPolicyCoefficients(ex.H0 + 1.0, ex.H1 + 1.0), P, steps=500,
                                bound=10.0)
    assert len(short) < 501 and np.all(np.abs(short) < 10.0)


def test_time_iteration_needs_nu_one():
    with pytest.raises(ValueError, match="nu"):
        time_iteration_step(ROOTS["stable"], ModelParams(nu=1.5))
    with pytest.raises(ValueError, match="nu"):
        time_iteration_jacobian(ROOTS["stable"], ModelParams(nu=1.5))


def test_sparse_architectures_have_about_the_decks_17_7k_coefficients():
    counts = {k: count_parameters(make_policy(a.arch)) for k, a in SPARSE_ARCHITECTURES.items()}
    assert counts["moments"] == 17_709  # the deck's 17.7K
    for k, n in counts.items():
        assert 17_000 <= n <= 17_800, (k, n)


def test_sparse_grid_config_validates():
    with pytest.raises(ValueError, match="points"):
        sparse_grid_config(points=0)
    with pytest.raises(ValueError, match="points"):
        sparse_grid_config(points=100, T=63)
    with pytest.raises(ValueError, match="steps"):
        sparse_grid_config(steps=0)
    with pytest.raises(ValueError, match="unknown architecture"):
        fit_sparse_grid(P, ["nope"], [0], sparse_grid_config(steps=1))


def test_sparse_grid_states_are_the_solvers_grid():
    params = ModelParams(N=16)
    config = sparse_grid_config(points=3, steps=5, test_trajectories=2, T=15)
    r = solve(params, "relu", config)
    X = r.train_states
    assert X.shape == (3, 16)
    assert torch.equal(X[0], r.X0)  # date 0 of the first path
    z, w = gauss_hermite(config.quadrature_nodes)
    nodes, weights = torch.tensor(z, dtype=X.dtype), torch.tensor(w, dtype=X.dtype)
    mse = residual_mse(params, r.policy, X, r.W_hat, nodes, weights)
    assert mse == pytest.approx(r.train_mse, rel=1e-6)


def test_policy_on_line_is_exact_for_linear_policies():
    coef = ROOTS["stable"]
    X = torch.linspace(0.5, 1.0, 10, dtype=torch.float64)
    means = np.array([0.3, 0.6, 0.9])
    u = policy_on_line(LinearPolicy(coef.H0, coef.H1), X, means)
    np.testing.assert_allclose(u, coef.H0 + coef.H1 * means, rtol=1e-12)


def test_three_points_pin_down_the_lq_policy_with_an_affine_network():
    # phi(Identity) with a bias-free ReLU rho is exactly affine in mean(X) > 0: fitted to the
    # Euler residual at three states it must land on an LQ root; time iteration picks H1 < 0.
    # Adam at a constant lr does not settle on a zero-residual fit (in float32 its loss kept
    # jumping between ~1e-11 and ~1e-6, and where the last step landed was a lottery over seeds
    # and CPU kernels); fit_sparse_grid's settling phases at lr/10 and lr/100, in float64, do.
    params = ModelParams(N=16)
    config = sparse_grid_config(points=3, steps=3000, lr=3e-4, test_trajectories=8, T=31)
    assert config.dtype == "float64"
    fit = fit_sparse_grid(params, ["identity"], [0], config)[("identity", 0)]
    assert fit.steps == 3000 // 4  # the result is the last settling phase's
    assert fit.config.lr == pytest.approx(3e-6)
    assert fit.config.warmup_steps == 0  # a warm start near the fit: no rising rate
    table = sparse_grid_table({("identity", 0): fit})
    row = table.loc["identity"]
    assert row["seeds"] == 1 and row["coefficients"] == 17_481
    assert row["policy_error"] < 1e-6
    assert row["stationary"] == 1.0
    assert row["H1_fit"] == pytest.approx(ROOTS["stable"].H1, rel=1e-5)
    assert math.isfinite(row["test_mse"]) and row["test_mse"] < 1e-12


def test_settling_keeps_the_grid_and_lowers_the_residual():
    params = ModelParams(N=16)
    config = sparse_grid_config(points=3, steps=400, test_trajectories=2, T=15)
    plain = fit_sparse_grid(params, ["relu"], [0], config, settle=())[("relu", 0)]
    settled = fit_sparse_grid(params, ["relu"], [0], config)[("relu", 0)]
    assert torch.equal(plain.train_states, settled.train_states)
    assert settled.train_mse < plain.train_mse
    with pytest.raises(ValueError, match="settle"):
        fit_sparse_grid(params, ["relu"], [0], config, settle=(0.0,))


def test_three_point_fit_is_the_same_under_generic_cpu_kernels():
    # In float32 the interpolant depended on the CPU's rounding: this fit's policy error moved by
    # about 4% between the machine's own vector kernels and the generic ones. In float64 it moves
    # by about 1e-4.
    import os
    import subprocess
    import sys

    code = (
        "from symdp import ModelParams\n"
        "from symdp.studies.implicit_bias import fit_sparse_grid, sparse_grid_config\n"
        "c = sparse_grid_config(points=3, steps=1000, T=15, test_trajectories=4)\n"
        "r = fit_sparse_grid(ModelParams(N=16), ['relu'], [0], c)[('relu', 0)]\n"
        "print(repr(r.policy_rel_error))\n")
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default", MKL_CBWR="COMPATIBLE",
               ONEDNN_MAX_CPU_ISA="SSE41")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    generic = float(out.stdout.strip().splitlines()[-1])
    config = sparse_grid_config(points=3, steps=1000, T=15, test_trajectories=4)
    here = fit_sparse_grid(ModelParams(N=16), ["relu"], [0], config)[("relu", 0)]
    # the fit now ends within about 2e-5 of the exact policy, where 1% of the error is below the
    # kernels' rounding: absolutely, the float32 drift (4% of an error of 1e-2) still fails
    assert here.policy_rel_error == pytest.approx(generic, rel=0.01, abs=1e-4)


def test_sparse_grid_table_rejects_empty():
    with pytest.raises(ValueError, match="empty"):
        sparse_grid_table({})


# --- the figures of chapters 7 and 8 (symdp.book.figures) ---------------------------------------


def _close(fig):
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_chapter_7_figures_draw_their_inputs():
    from symdp.studies.baselines import path_bands
    from symdp.book.figures import euler_residual_bands, grid_coverage, policy_paths_by_nu

    rng = np.random.default_rng(0)
    bands = {k: path_bands(rng.normal(size=(20, 11)) * 1e-3) for k in ("moments", "relu")}
    fig = euler_residual_bands(bands)
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == r"$\phi$(Moments)"
    _close(fig)
    with pytest.raises(ValueError, match="empty"):
        euler_residual_bands({})
    t = np.linspace(0.02, 0.03, 11)
    fig = policy_paths_by_nu({1.0: t, 1.5: t + 0.005}, {1.0: 1 - t, 1.5: 1.1 - t}, u_lq=t)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 3
    _close(fig)
    with pytest.raises(ValueError, match="empty"):
        policy_paths_by_nu({}, {})
    fig = grid_coverage({"grid": rng.uniform(0.6, 0.9, (4, 11)),
                         "redrawn": rng.uniform(0.7, 0.9, (4, 11)),
                         "test": rng.uniform(0.7, 0.9, (8, 11))})
    assert len(fig.axes[0].lines) == 3
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][2] == "test, 8 paths"
    _close(fig)
    with pytest.raises(ValueError, match="empty"):
        grid_coverage({})


def test_chapter_8_figures_draw_their_inputs():
    import pandas as pd

    from symdp.book.figures import root_selection, sparse_grid_fits, time_iteration_cobweb

    st, ex = ROOTS["stable"], ROOTS["explosive"]
    m = np.linspace(0.5, 1.0, 11)
    fig = sparse_grid_fits(m, {"a": st(m), "b": st(m) * 1.01}, st, ex, [0.7, 0.9],
                           {"a": (m, np.full(11, 1e-4)), "b": (m, np.full(11, 1e-2))})
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 4 + 2  # fits, LQ lines, markers
    _close(fig)
    with pytest.raises(ValueError, match="empty"):
        sparse_grid_fits(m, {}, st, ex, [], {})
    b = np.linspace(-0.1, 0.3, 50)
    bn = np.array([time_iteration_step(LinearPolicyCoefficients(0.0, x), P).H1 for x in b])
    path = time_iteration_path(LinearPolicyCoefficients(0.0, 0.0), P, 5)[:, 1]
    fig = time_iteration_cobweb(b, bn, {"-": st.H1, "+": ex.H1}, {"from 0": path},
                                {"-": 0.77, "+": 1.3})
    assert len(fig.axes) == 1
    _close(fig)
    # The zoom panel shows the iterates from u = 0, too close together to see on the full scale,
    # above the map and the 45-degree line.
    other = time_iteration_path(LinearPolicyCoefficients(0.0, ex.H1 - 0.01), P, 60)[:, 1]
    fig = time_iteration_cobweb(b, bn, {"-": st.H1, "+": ex.H1},
                                {"from 0": path, "from below H1+": other},
                                {"-": 0.77, "+": 1.3}, zoom=(st.H1 - 0.01, 0.01))
    assert len(fig.axes) == 2
    full, zoomed = fig.axes
    assert zoomed.get_xlim() == pytest.approx((st.H1 - 0.01, 0.01))
    web = [line for line in zoomed.lines if line.get_label() == "from 0"]
    assert len(web) == 1 and web[0].get_zorder() > zoomed.lines[0].get_zorder()
    assert not [line for line in zoomed.lines if line.get_label() == "from below H1+"]
    first, second = ([line for line in full.lines if line.get_label() == k][0]
                     for k in ("from 0", "from below H1+"))
    assert first.get_zorder() > second.get_zorder()  # the path from u = 0 is not hidden
    assert len(zoomed.texts) == 1  # only the stationary root is in range
    _close(fig)
    df = pd.DataFrame({"phi": ["relu", "relu", "moments"], "init": ["zero last layer"] * 3,
                       "gradient": ["semi", "semi", "full"], "H1_fit": [-0.05, None, 1e11],
                       "success": [True, False, False]})
    fig = root_selection(df, {"H1-": st.H1, "H1+": ex.H1})
    assert len(fig.axes) == 1 and fig.axes[0].get_ylim() == (-0.2, 0.45)
    _close(fig)
    fig = root_selection(df, {"H1-": st.H1, "H1+": ex.H1}, labels={"relu": "mean-only"})
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks[0].startswith("mean-only\n") and ticks[-1].startswith(r"$\phi$(Moments)")
    _close(fig)
