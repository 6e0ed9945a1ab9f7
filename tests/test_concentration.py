"""symdp.studies.concentration: one-draw errors against the LQ closed forms and the 1/sqrt(N) law."""

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from symdp import ModelParams, lq_solution
from symdp.studies.scaling import loglog_slope
from symdp.studies.concentration import (
    MeanDispersionPolicy,
    concentration_curve,
    one_draw_lq_solution,
    one_draw_policy_values,
    one_draw_residuals,
    residual_gradient_norm,
    shock_draws,
)
from symdp.economics import euler_residual, gauss_hermite, idiosyncratic_draw, initial_state
from symdp.lq import one_draw_error_sd
from symdp.networks import DeepSetPolicy, LinearPolicy, ReLUPhi

F64 = {"dtype": torch.float64}


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _lq_policy(p):
    lq = lq_solution(p)
    return LinearPolicy(lq.H0, lq.H1).double()


def test_shock_draws_raw_and_standardised():
    W = shock_draws(5, 1000, _gen(), standardize=False)
    assert W.shape == (5, 1000) and W.dtype == torch.float64
    assert float(W.mean(-1).abs().max()) > 1e-6
    S = shock_draws(5, 1000, _gen(), standardize=True)
    assert_allclose(S.mean(-1).numpy(), 0.0, atol=1e-14)
    assert_allclose(S.std(-1).numpy(), 1.0, rtol=1e-12)
    # a row standardised here is what the solver's idiosyncratic_draw gives for the same numbers
    raw = shock_draws(1, 50, _gen(3))
    assert_allclose(shock_draws(1, 50, _gen(3), True)[0].numpy(),
                    ((raw[0] - raw[0].mean()) / raw[0].std()).numpy(), rtol=1e-14)
    assert torch.equal(shock_draws(1, 1, _gen(), True), torch.zeros(1, 1, **F64))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_shock_draws_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="n_draws"):
        shock_draws(bad, 4, _gen())


def test_one_draw_residuals_match_row_by_row_and_the_lq_closed_form():
    p = ModelParams(N=40)
    pol = _lq_policy(p)
    X = initial_state(p, _gen(1), **F64)
    W = shock_draws(7, p.N, _gen(2))
    r = one_draw_residuals(p, pol, X, W)
    z, w = gauss_hermite(7)
    nodes, weights = torch.tensor(z, **F64), torch.tensor(w, **F64)
    for d in range(7):
        one = euler_residual(p, pol, X.unsqueeze(0), W[d], nodes, weights)
        assert_allclose(r[d], float(one[0]), rtol=1e-12, atol=1e-15)
    # at the exact LQ solution: eps_hat = -beta (gamma (1 - delta) H1 - 1) sigma mean(W_hat)
    H1 = lq_solution(p).H1
    expected = -p.beta * (p.gamma * (1 - p.delta) * H1 - 1) * p.sigma * W.mean(-1).numpy()
    assert_allclose(r, expected, rtol=1e-9, atol=1e-15)


def test_one_draw_policy_values_of_the_lq_rule_are_h1_sigma_mean_w():
    p = ModelParams(N=30)
    lq = lq_solution(p)
    X = initial_state(p, _gen(1), **F64)
    W = shock_draws(6, p.N, _gen(4))
    u = one_draw_policy_values(p, _lq_policy(p), X, W, omega=0.5)
    mean_next = (1 - p.delta) * float(X.mean()) + lq(float(X.mean())) + p.eta * 0.5
    assert_allclose(u, lq(mean_next + p.sigma * W.mean(-1).numpy()), rtol=1e-12)


def test_shape_errors_name_the_argument():
    p = ModelParams(N=5)
    X = torch.ones(5, **F64)
    with pytest.raises(ValueError, match="X must have shape"):
        one_draw_residuals(p, _lq_policy(p), torch.ones(4, **F64), torch.zeros(2, 5, **F64))
    with pytest.raises(ValueError, match="W must have shape"):
        one_draw_policy_values(p, _lq_policy(p), X, torch.zeros(2, 4, **F64))


def test_lq_curve_matches_the_analytic_standard_deviations():
    p = ModelParams()
    Ns = [16, 256, 4096]
    c = concentration_curve(p, _lq_policy(p), Ns, n_draws=600, seed=1, mc_draws=200)
    for i, N in enumerate(Ns):
        sd = one_draw_error_sd(p.replace(N=N))
        # 600 draws: the sample sd is within ~3 x 1/sqrt(2 * 600) = 9% of the truth
        assert_allclose(c.sd_eps[i], sd["sd_eps"], rtol=0.12)
        assert_allclose(c.sd_u[i], sd["sd_u"], rtol=0.12)
        # the residual is linear in W: the Poincare bound is an equality, up to sampling
        assert_allclose(c.poincare[i], sd["sd_eps"], rtol=0.25)
        # antithetic Monte Carlo: the exact solution's residual is zero to rounding
        assert abs(c.reference[i]) < 1e-12
        assert_allclose(c.rmse_eps[i], math.sqrt(np.mean((c.sd_eps[i]) ** 2)), rtol=0.15)
    assert -0.6 < c.slope("sd_eps") < -0.4
    assert c.to_frame().index.name == "N" and list(c.to_frame().index) == Ns


def test_standardised_draws_remove_the_lq_one_draw_error_exactly():
    p = ModelParams()
    c = concentration_curve(p, _lq_policy(p), [8, 512], n_draws=50, standardize=True)
    assert np.all(c.sd_eps < 1e-13) and np.all(np.abs(c.mean_eps) < 1e-13)
    assert np.all(c.sd_u < 1e-15) and np.all(np.isnan(c.poincare))


def test_nonlinear_deep_set_concentrates_like_one_over_sqrt_n():
    torch.manual_seed(0)
    pol = DeepSetPolicy(ReLUPhi(4, 16, 2, hidden_bias=True), width=16, depth=2, zero_last=False)
    p = ModelParams(nu=1.5)
    c = concentration_curve(p, pol, [16, 256, 2048], n_draws=200, seed=2, mc_draws=600,
                            grad_draws=40)
    assert -0.62 < c.slope() < -0.38
    # the one-draw residuals are centred on the brute-force reference
    se = c.sd_eps / math.sqrt(c.n_draws)
    assert np.all(np.abs(c.mean_eps - c.reference) < 5 * se + 1e-6)
    assert np.all(c.sd_eps <= 1.3 * c.poincare)  # Poincare bound, with sampling slack
    std = concentration_curve(p, pol, [16, 256, 2048], n_draws=100, seed=2, standardize=True)
    assert np.all(std.sd_eps < c.sd_eps / 5)  # standardising removes the mean's part


def test_residual_gradient_norm_of_the_lq_rule_is_the_analytic_sd():
    p = ModelParams(N=100)
    X = initial_state(p, _gen(), **F64)
    g = residual_gradient_norm(p, _lq_policy(p), X, shock_draws(3, p.N, _gen(1)))
    # gradient of -beta(gamma(1-delta)H1 - 1) sigma mean(W): constant, norm sigma_eps/sqrt(N)
    assert_allclose(g, one_draw_error_sd(p)["sd_eps"], rtol=1e-9)


def test_loglog_slope():
    N = np.array([10, 100, 1000])
    assert_allclose(loglog_slope(N, 3.0 / np.sqrt(N)), -0.5, rtol=1e-12)
    with pytest.raises(ValueError, match="positive"):
        loglog_slope([10, 100], [1.0, 0.0])


def test_curve_validates_its_arguments():
    p = ModelParams()
    pol = _lq_policy(p)
    with pytest.raises(ValueError, match="n_draws"):
        concentration_curve(p, pol, [8], n_draws=1)
    with pytest.raises(ValueError, match="mc_draws"):
        concentration_curve(p, pol, [8], n_draws=4, mc_draws=-1)
    with pytest.raises(ValueError, match="Ns"):
        concentration_curve(p, pol, [], n_draws=4)
    with pytest.raises(ValueError, match="N must"):
        concentration_curve(p, pol, [0], n_draws=4)


@pytest.mark.parametrize("N", [16, 200])
def test_one_draw_lq_solution_zeroes_the_raw_one_draw_residual(N):
    p = ModelParams(N=N)
    W_hat = idiosyncratic_draw(N, _gen(N), False, **F64)
    coef = one_draw_lq_solution(p, float(W_hat.mean()))
    X = initial_state(p, _gen(1), **F64).expand(5, N) + torch.linspace(-0.1, 0.1, 5, **F64)[:, None]
    z, w = gauss_hermite(5)
    r = euler_residual(p, LinearPolicy(coef.H0, coef.H1).double(), X, W_hat,
                       torch.tensor(z, **F64), torch.tensor(w, **F64))
    assert float(r.abs().max()) < 1e-13
    assert coef.H1 == lq_solution(p).H1 and coef.H0 != lq_solution(p).H0
    assert one_draw_lq_solution(p, 0.0) == lq_solution(p)


def test_one_draw_lq_solution_needs_the_linear_model():
    with pytest.raises(ValueError, match="nu = 1"):
        one_draw_lq_solution(ModelParams(nu=1.5), 0.1)
    with pytest.raises(ValueError, match="draw_mean"):
        one_draw_lq_solution(ModelParams(), math.nan)


def test_mean_dispersion_policy_value_and_gradient_norm_are_the_closed_forms():
    pol = MeanDispersionPolicy(0.07, -0.05, 0.5)
    X = (0.9 + 0.05 * torch.randn(3, 40, generator=torch.Generator().manual_seed(0),
                                  dtype=torch.float64)).requires_grad_()
    u = pol(X)
    Xd = X.detach().numpy()
    assert_allclose(u.detach().numpy(), 0.07 - 0.05 * Xd.mean(-1) + 0.5 * Xd.std(-1), rtol=1e-12)
    (grad,) = torch.autograd.grad(u.sum(), X)
    assert_allclose((grad ** 2).sum(-1).numpy(), (0.05 ** 2 + 0.5 ** 2) / 40, rtol=1e-10)
    assert_allclose(pol(X.detach()[:, torch.randperm(40)]).numpy(), u.detach().numpy(),
                    rtol=1e-12)


def test_standardising_does_not_remove_the_one_draw_error_of_a_dispersion_rule():
    params = ModelParams()
    lq = lq_solution(params)
    pol = MeanDispersionPolicy(lq.H0, lq.H1, 0.5)
    raw, std = (concentration_curve(params, pol, [64, 1024], 400, standardize=s)
                for s in (False, True))
    assert np.all(std.sd_eps > 0.1 * raw.sd_eps)  # the cov(X, W) term survives
    assert_allclose(raw.slope(), -0.5, atol=0.1)
    assert_allclose(std.slope(), -0.5, atol=0.1)
    with pytest.raises(ValueError):
        MeanDispersionPolicy(0.0, float("nan"), 1.0)
