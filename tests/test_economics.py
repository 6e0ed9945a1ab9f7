import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from symdp import ModelParams, euler_residual, gauss_hermite, lq_solution, monte_carlo_residual, price
from symdp.economics import idiosyncratic_draw, initial_state, next_state, simulate
from symdp.lq import one_draw_error_sd
from symdp.networks import DeepSetPolicy, LinearPolicy, ReLUPhi

F64 = {"dtype": torch.float64}


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_price_linear_and_nonlinear():
    X = torch.tensor([[0.5, 1.0, 1.5], [0.0, 2.0, 1.0]], **F64)
    assert_allclose(price(X, 1.0), [0.0, 0.0])
    assert_allclose(price(X, 2.0), [1 - (0.25 + 1 + 2.25) / 3, 1 - 5 / 3])


def test_law_of_motion():
    p = ModelParams(N=3)
    X = torch.tensor([1.0, 2.0, 3.0], **F64)
    W = torch.tensor([0.1, -0.2, 0.3], **F64)
    out = next_state(p, X, torch.tensor(0.02, **F64), W, torch.tensor(-1.0, **F64))
    expected = 0.95 * X.numpy() + 0.02 + 0.005 * W.numpy() + 0.001 * -1.0
    assert_allclose(out, expected, rtol=1e-14)


@pytest.mark.parametrize("n", [1, 3, 7, 12])
def test_gauss_hermite_integrates_normal_moments(n):
    z, w = gauss_hermite(n)
    assert len(z) == n and math.isclose(w.sum(), 1.0, rel_tol=1e-12)
    for k in range(0, 2 * n):  # exact up to degree 2n - 1
        exact = 0.0 if k % 2 else float(np.prod(np.arange(k - 1, 0, -2))) if k else 1.0
        assert_allclose(np.sum(w * z**k), exact, rtol=1e-9, atol=1e-9 * np.sum(w * np.abs(z) ** k))


def test_gauss_hermite_rejects_bad_n():
    with pytest.raises(ValueError, match="quadrature_nodes"):
        gauss_hermite(0)


def test_initial_state_is_folded_normal_and_draw_is_standardised():
    p = ModelParams(N=20000)
    X0 = initial_state(p, _gen(), **F64)
    assert X0.min() >= 0 and abs(X0.mean() - 0.9) < 2e-3 and abs(X0.std() - 0.05) < 2e-3
    W = idiosyncratic_draw(1000, _gen(), True, **F64)
    assert abs(float(W.mean())) < 1e-12 and abs(float(W.std()) - 1) < 1e-12
    W_raw = idiosyncratic_draw(1000, _gen(), False, **F64)
    assert abs(float(W_raw.mean())) > 1e-6


def test_simulation_without_shocks_follows_the_lq_mean_dynamics():
    p = ModelParams(N=16, sigma=0.0, eta=0.0)
    lq = lq_solution(p)
    X0 = initial_state(p, _gen(), **F64)
    paths = simulate(p, LinearPolicy(lq.H0, lq.H1).double(), X0, 3, 40, _gen(1))
    assert paths.shape == (3, 41, 16)
    m = float(X0.mean())
    for t in range(41):
        assert_allclose(paths[:, t].mean(-1), m, rtol=1e-12)
        m = lq.H0 + (1 - p.delta + lq.H1) * m
    assert abs(m - lq.steady_state_mean(p.delta)) < 1e-2


def test_simulation_is_reproducible_from_the_seed():
    p = ModelParams(N=8)
    X0 = initial_state(p, _gen(), **F64)
    pol = LinearPolicy(0.03, -0.01).double()
    a, b = simulate(p, pol, X0, 2, 5, _gen(3)), simulate(p, pol, X0, 2, 5, _gen(3))
    assert torch.equal(a, b)


def _quadrature(n=7):
    z, w = gauss_hermite(n)
    return torch.tensor(z, **F64), torch.tensor(w, **F64)


@pytest.mark.parametrize("root", ["stable", "explosive"])
def test_both_lq_roots_zero_the_one_draw_residual_with_a_standardised_draw(root):
    p = ModelParams(N=64)
    lq = lq_solution(p, root)
    X = simulate(p, LinearPolicy(0.0687, -0.0505).double(), initial_state(p, _gen(), **F64),
                 4, 20, _gen(2)).reshape(-1, p.N)
    W_hat = idiosyncratic_draw(p.N, _gen(5), True, **F64)
    r = euler_residual(p, LinearPolicy(lq.H0, lq.H1).double(), X, W_hat, *_quadrature())
    assert r.shape == (X.shape[0],) and float(r.abs().max()) < 1e-12


@pytest.mark.parametrize("nu", [1.0, 1.5])
@pytest.mark.parametrize("hidden_bias", [False, True])
def test_euler_residual_is_the_formula_at_the_formed_next_states(nu, hidden_bias):
    """However tomorrow's states are evaluated (from today's base alone where the policy and
    the price allow), the residual is gamma u - beta sum_k w_k [p(X'_k) + gamma (1-delta)
    u(X'_k)] with X'_k formed firm by firm."""
    p = ModelParams(N=64, nu=nu)
    torch.manual_seed(3)
    policy = DeepSetPolicy(ReLUPhi(4, 16, 2, hidden_bias=hidden_bias), width=16, depth=2,
                           zero_last=False).double()
    X = initial_state(p, _gen(1), **F64) * (1 + 0.1 * torch.rand(6, 1, **F64))
    W_hat = idiosyncratic_draw(p.N, _gen(2), True, **F64)
    z, w = _quadrature()
    u = policy(X)
    X_next = ((1 - p.delta) * X + p.sigma * W_hat).unsqueeze(-2) + (u.unsqueeze(-1)
                                                                   + p.eta * z).unsqueeze(-1)
    expected = p.gamma * u - p.beta * ((price(X_next, nu) + p.gamma * (1 - p.delta)
                                        * policy(X_next)) * w).sum(-1)
    assert_allclose(euler_residual(p, policy, X, W_hat, z, w).detach().numpy(),
                    expected.detach().numpy(), rtol=0, atol=1e-13)


def test_raw_draw_error_matches_the_analytic_formula():
    # eps_hat = -beta (gamma (1 - delta) H1 - 1) sigma mean(W_hat) at the exact solution
    p = ModelParams(N=50)
    lq = lq_solution(p)
    X = torch.full((3, p.N), 0.8, **F64)
    W_hat = idiosyncratic_draw(p.N, _gen(7), False, **F64)
    r = euler_residual(p, LinearPolicy(lq.H0, lq.H1).double(), X, W_hat, *_quadrature())
    expected = -p.beta * (p.gamma * (1 - p.delta) * lq.H1 - 1) * p.sigma * float(W_hat.mean())
    assert_allclose(r.numpy(), expected, rtol=1e-9)


def _nonlinear_policy(seed=0):
    torch.manual_seed(seed)
    pol = DeepSetPolicy(ReLUPhi(4, 16, 2, hidden_bias=True), width=16, depth=2, zero_last=False)
    return pol.double()


@torch.no_grad()
def test_one_draw_residual_concentrates_like_one_over_sqrt_N():
    """sd over independent single draws of W shrinks like 1/sqrt(N) (a nonlinear policy, nu = 1.5)."""
    policy, z_w = _nonlinear_policy(), _quadrature()
    sds = {}
    for N in (16, 256, 4096):
        p = ModelParams(N=N, nu=1.5)
        X = initial_state(p, _gen(1), **F64).unsqueeze(0)
        gen = _gen(2)
        draws = torch.stack([idiosyncratic_draw(N, gen, False, **F64) for _ in range(150)])
        r = euler_residual(p, policy, X.expand(150, N), draws, *z_w)  # one row per draw
        sds[N] = float(r.std())
    # 16x more firms -> 4x smaller sd (ratio measured with 150 draws: allow sampling noise)
    assert 2.8 < sds[16] / sds[256] < 5.7
    assert 2.8 < sds[256] / sds[4096] < 5.7


@torch.no_grad()
def test_one_draw_sd_matches_lq_formula_and_mc_reference():
    p = ModelParams(N=256)
    lq = lq_solution(p)
    pol = LinearPolicy(lq.H0, lq.H1).double()
    X = initial_state(p, _gen(1), **F64).unsqueeze(0)
    gen = _gen(3)
    # At the LQ rule the one-draw residual is exactly normal (linear in mean(W)), so the sample
    # sd of n draws is off by 1/sqrt(2(n - 1)) relative, one sd. With 400 draws rtol = 0.1 was
    # 2.8 sd (generators seeded 301 and 303 instead of 1 and 3 gave -10.05%); 1250 draws put it
    # at 5 sd (measured over the seeds 1 + 100k, 3 + 100k, k = 0-9: |error| <= 4.4%).
    draws = torch.stack([idiosyncratic_draw(p.N, gen, False, **F64) for _ in range(1250)])
    r = euler_residual(p, pol, X.expand(len(draws), p.N), draws, *_quadrature())  # row = draw
    assert_allclose(float(r.std()), one_draw_error_sd(p, lq)["sd_eps"], rtol=0.1)
    mc = monte_carlo_residual(p, pol, X, 2000, _gen(4))
    assert abs(float(mc)) < 1e-12  # antithetic draws cancel the linear policy's error exactly


@torch.no_grad()
def test_monte_carlo_residual_agrees_with_the_one_draw_mean_for_a_nonlinear_policy():
    p = ModelParams(N=128, nu=1.5)
    policy = _nonlinear_policy(1)
    X = initial_state(p, _gen(1), **F64).unsqueeze(0)
    gen = _gen(6)
    one = torch.stack([euler_residual(p, policy, X, idiosyncratic_draw(p.N, gen, False, **F64),
                                      *_quadrature()) for _ in range(300)]).squeeze(-1)
    mc = float(monte_carlo_residual(p, policy, X, 4000, _gen(8)))
    se = float(one.std()) / math.sqrt(300)
    assert abs(float(one.mean()) - mc) < 5 * se + 1e-6
