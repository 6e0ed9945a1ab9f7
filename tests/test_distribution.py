"""The distribution probe (symdp.studies.distribution) and the fresh-draw residual (symdp.evaluation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from symdp import ModelParams, lq_solution
from symdp.studies.distribution import (dispersion_along_paths, dispersion_share,
                                        dispersion_term, first_order_slopes, industry, probe)
from symdp.economics import gauss_hermite, idiosyncratic_draw, initial_state
from symdp.evaluation import (FreshDraws, evaluate, fresh_draw_residual, sample_points,
                              semi_gradient_factor)
from symdp.networks import LinearPolicy, make_policy


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _quadrature(n=7, dtype=torch.float64):
    z, w = gauss_hermite(n)
    return torch.tensor(z, dtype=dtype), torch.tensor(w, dtype=dtype)


class Constant(torch.nn.Module):
    """u(X) = c for every state."""

    def __init__(self, c):
        super().__init__()
        self.c = torch.nn.Parameter(torch.tensor(c, dtype=torch.float64), requires_grad=False)

    def forward(self, X):
        return self.c.to(X.dtype).expand(X.shape[:-1])


def test_dispersion_term_of_a_two_point_industry_is_the_jensen_gap():
    m, s, nu = 0.9, 0.1, 1.5
    X = industry(64, m, s, "two-point", dtype=torch.float64)
    gap = ((m - s) ** nu + (m + s) ** nu) / 2 - m**nu
    assert_allclose(float(dispersion_term(X, nu)), gap, rtol=1e-12)
    assert_allclose(float(dispersion_share(X, nu)), gap / (1 - ((m - s) ** nu + (m + s) ** nu) / 2),
                    rtol=1e-12)
    assert float(dispersion_term(X, 1.0)) == pytest.approx(0.0, abs=1e-15)  # linear demand


def test_dispersion_term_matches_the_second_order_expansion_for_a_small_spread():
    m, s, nu = 0.7, 0.01, 1.5
    X = industry(256, m, s, "normal", _gen(3), dtype=torch.float64)
    second = nu * (nu - 1) / 2 * m ** (nu - 2) * s**2
    assert_allclose(float(dispersion_term(X, nu)), second, rtol=0.02)


@pytest.mark.parametrize("shape", ["normal", "two-point"])
def test_industries_have_exactly_the_asked_mean_and_sd(shape):
    X = industry(32, 0.6, 0.05, shape, _gen(1), dtype=torch.float64)
    assert_allclose(float(X.mean()), 0.6, rtol=1e-12)
    assert_allclose(float(X.std(unbiased=False)), 0.05, rtol=1e-12)


def test_industry_rejects_odd_two_point_and_nonpositive_capital():
    with pytest.raises(ValueError, match="even"):
        industry(31, 0.9, 0.05, "two-point")
    with pytest.raises(ValueError, match="<= 0"):
        industry(32, 0.1, 0.2, "two-point")
    with pytest.raises(ValueError, match="shape"):
        industry(32, 0.9, 0.05, "uniform")


def test_fresh_draw_residual_of_the_lq_policy_is_zero_at_any_industry():
    # nu = 1: the LQ policy solves the Euler equation at every state, and with antithetic pairs
    # the Monte Carlo mean of a function linear in the shocks is exact.
    p = ModelParams(N=16)
    lq = lq_solution(p)
    pol = LinearPolicy(lq.H0, lq.H1)
    X = torch.stack([industry(16, 0.7, sd, "normal", _gen(2), dtype=torch.float64)
                     for sd in (0.02, 0.1)])
    r = fresh_draw_residual(p, pol, X, 64, _gen(5))
    assert_allclose(r, 0.0, atol=1e-13)


def test_fresh_draw_residual_of_a_constant_policy_matches_one_dimensional_quadrature():
    # u = c: E p(X') = 1 - mean_i E (a_i + c + sigma W_i + eta omega)^nu, and each firm's shock is
    # N(0, sigma^2 + eta^2), so the expectation is a 1-D Gauss-Hermite sum per firm.
    p = ModelParams(N=8, nu=1.5)
    c = 0.03
    X = industry(8, 0.8, 0.05, "normal", _gen(4), dtype=torch.float64)
    z, w = gauss_hermite(40)
    a = (1 - p.delta) * X.numpy() + c
    sd = math.hypot(p.sigma, p.eta)
    Ep = 1 - np.mean([(w * (ai + sd * z) ** p.nu).sum() for ai in a])
    exact = p.gamma * c - p.beta * (Ep + p.gamma * (1 - p.delta) * c)
    r = fresh_draw_residual(p, Constant(c), X.unsqueeze(0), 4000, _gen(6))[0]
    # Antithetic pairs cancel the first-order term; what is left is O(sigma^2 / sqrt(draws)).
    assert_allclose(r, exact, atol=2e-8)


def test_sample_points_spread_over_dates_and_paths():
    paths, dates = sample_points(8, 31, 5)
    assert list(dates) == [0, 8, 16, 23, 31] and list(paths) == [0, 1, 2, 3, 4]
    paths, dates = sample_points(2, 3, 100)  # more states than points: every point once
    assert sorted(zip(paths, dates)) == [(i, t) for i in range(2) for t in range(4)]


def test_evaluate_with_fresh_draws_keeps_the_paths_and_scores_the_lq_policy_zero():
    p = ModelParams(N=16)
    lq = lq_solution(p)
    pol = LinearPolicy(lq.H0, lq.H1)
    X0 = initial_state(p, _gen(0), dtype=torch.float64)
    W = idiosyncratic_draw(16, _gen(1), dtype=torch.float64)
    nodes, weights = _quadrature()
    plain = evaluate(p, pol, X0, W, nodes, weights, 4, 10, _gen(2))
    ev = evaluate(p, pol, X0, W, nodes, weights, 4, 10, _gen(2), fresh=FreshDraws(states=6,
                                                                                  draws=32))
    assert_allclose(ev.mean_X, plain.mean_X)  # the extra work does not move the test paths
    assert plain.fresh_mse is None and ev.fresh_residual.shape == (6,)
    assert ev.fresh_mse < 1e-24
    r = ev.residual[ev.fresh_paths, ev.fresh_dates]
    assert_allclose(ev.sample_mse, np.mean(r**2))


def test_semi_gradient_factor_of_a_linear_policy_is_the_closed_form():
    # nu = 1, u = H0 + H1 mean(X): d/du [p(X') + gamma (1 - delta) u(X')] = -1 + gamma (1-delta) H1.
    p = ModelParams(N=8)
    X = industry(8, 0.7, 0.05, "normal", _gen(0), dtype=torch.float64).unsqueeze(0)
    nodes, weights = _quadrature()
    W = torch.zeros(8, dtype=torch.float64)
    for H1 in (-0.05, 0.5, 1.2):
        pol = LinearPolicy(0.01, H1)
        c = semi_gradient_factor(p, pol, X, W, nodes, weights)
        assert_allclose(float(c), p.gamma - p.beta * (-1 + p.gamma * (1 - p.delta) * H1),
                        rtol=1e-12)
    pole = (1 / p.beta + 1 / p.gamma) / (1 - p.delta)  # where the step stalls
    c = semi_gradient_factor(p, LinearPolicy(0.01, pole), X, W, nodes, weights)
    assert abs(float(c)) < 1e-10


def test_probe_tells_a_mean_only_policy_from_one_that_sees_the_dispersion():
    p = ModelParams(N=16, nu=1.5)
    torch.manual_seed(0)
    mean_only = make_policy("relu", zero_last=False).double()
    torch.manual_seed(0)
    biased = make_policy("relu", phi_hidden_bias=True, zero_last=False).double()
    df = probe(p, {"mean-only": mean_only, "biased": biased}, 0.9, sds=(0.02, 0.1), draws=16)
    assert len(df) == 2 * 3  # two sds (normal) and one two-point industry, for each policy
    u = df[df["policy"] == "mean-only"]["u"].to_numpy()
    assert_allclose(u, u[0], rtol=1e-12)  # a function of the mean alone (chapter 3)
    ub = df[df["policy"] == "biased"]["u"].to_numpy()
    assert np.ptp(ub) > 1e-6  # phi with biases sees more than the mean
    share = df[df["policy"] == "biased"].set_index(["shape", "sd"])["dispersion share"]
    assert share[("normal", 0.1)] > share[("normal", 0.02)] > 0


def test_dispersion_along_paths_starts_at_the_initial_industry():
    p = ModelParams(N=32, nu=1.5)
    X0 = initial_state(p, _gen(0), dtype=torch.float64)
    lq = lq_solution(p.replace(nu=1.0))
    d = dispersion_along_paths(p, LinearPolicy(lq.H0, lq.H1), X0, 3, 20, seed=1)
    assert d.shape == (3, 21)
    assert_allclose(d[:, 0], float(dispersion_share(X0, 1.5)))
    assert np.all(d > 0)


def test_first_order_slopes_are_the_lq_slope_and_zero_for_linear_demand():
    p = ModelParams()
    h1, g = first_order_slopes(p, 0.7)
    assert_allclose(h1, lq_solution(p).H1, rtol=1e-10)
    assert g == 0.0


def test_first_order_variance_slope_solves_the_matched_euler_coefficient():
    # g must satisfy gamma g = beta [-a g - c (1-delta)^2 + gamma (1-delta)(h1 g + g (1-delta)^2)].
    p = ModelParams(nu=1.5)
    m = 0.9
    h1, g = first_order_slopes(p, m)
    a, c = 1.5 * m**0.5, 0.375 * m**-0.5
    b, gam, d = p.beta, p.gamma, p.delta
    assert_allclose(b * gam * (1 - d) * h1**2 + (b * gam * (1 - d) ** 2 - b * a - gam) * h1
                    - b * a * (1 - d), 0.0, atol=1e-12)
    rhs = b * (-a * g - c * (1 - d) ** 2 + gam * (1 - d) * (h1 * g + g * (1 - d) ** 2))
    assert_allclose(gam * g, rhs, rtol=1e-12)
    assert g < 0 and h1 < 0  # dispersion lowers the price, hence investment


def test_distribution_probe_figure_draws_one_line_per_policy_and_the_share_in_percent():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    from symdp.book.figures import distribution_probe

    share = np.full((3, 5), 0.01)
    df = pd.DataFrame({"policy": ["a", "a", "b", "b", "a"],
                       "shape": ["normal", "normal", "normal", "normal", "two-point"],
                       "sd": [0.02, 0.1, 0.02, 0.1, 0.05], "dispersion share": 0.0,
                       "u": [1.0, 2.0, 1.0, 1.0, 3.0], "residual": [1e-3, -1e-2, 0.0, 1e-4, 1.0]})
    fig = distribution_probe(share, df, {"a": "A"})
    ax_s, ax_u, ax_r = fig.axes
    assert_allclose(ax_s.lines[0].get_ydata(), 1.0)  # 0.01 of the price, drawn as 1%
    assert [line.get_label() for line in ax_u.lines] == ["A", "b"]
    assert_allclose(ax_u.lines[0].get_ydata(), [1.0, 2.0])  # normal industries only, by sd
    assert_allclose(ax_r.lines[0].get_ydata(), [1e-3, 1e-2])  # magnitudes
    assert ax_r.lines[1].get_ydata()[0] == 1e-12  # a zero residual is floored for the log axis
