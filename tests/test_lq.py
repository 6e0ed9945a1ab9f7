import numpy as np
import pytest
from numpy.testing import assert_allclose

from symdp import ModelParams, lq_roots, lq_solution, riccati_equilibrium
from symdp.lq import deterministic_euler_residual, one_draw_error_sd


def test_deck_defaults_stationary_root():
    stable = lq_roots()["stable"]
    assert_allclose(stable.H0, 0.0687224390648, atol=1e-12)
    assert_allclose(stable.H1, -0.0504613550013, atol=1e-12)


@pytest.mark.parametrize("beta, gamma, delta", [(0.95, 90.0, 0.05), (0.9, 10.0, 0.1),
                                                (0.99, 200.0, 0.02)])
def test_roots_solve_the_quadratic_and_are_ordered(beta, gamma, delta):
    roots = lq_roots(beta, gamma, delta)
    for coef in roots.values():
        h1 = coef.H1
        q = (beta * gamma * (1 - delta) * h1**2
             + (beta * gamma * (1 - delta) ** 2 - beta - gamma) * h1 - beta * (1 - delta))
        assert abs(q) < 1e-12
    assert roots["stable"].H1 < 0 < roots["explosive"].H1
    assert abs(roots["stable"].persistence(delta)) < 1
    assert abs(roots["explosive"].persistence(delta)) > 1


@pytest.mark.parametrize("root", ["stable", "explosive"])
@pytest.mark.parametrize("beta, gamma, delta", [(0.95, 90.0, 0.05), (0.9, 10.0, 0.1)])
def test_both_roots_zero_the_euler_residual(root, beta, gamma, delta):
    params = ModelParams(beta=beta, gamma=gamma, delta=delta)
    coef = lq_solution(params, root)
    m = np.linspace(-2.0, 3.0, 41)
    assert np.max(np.abs(deterministic_euler_residual(params, coef, m))) < 1e-10


def test_non_root_does_not_zero_the_residual():
    params = ModelParams()
    coef = lq_solution(params)
    off = type(coef)(coef.H0, coef.H1 * 1.01)
    assert np.max(np.abs(deterministic_euler_residual(params, off, np.linspace(0, 1, 5)))) > 1e-4


@pytest.mark.parametrize("beta, gamma, delta", [(0.95, 90.0, 0.05), (0.9, 10.0, 0.1),
                                                (0.97, 40.0, 0.2)])
def test_closed_form_matches_riccati_fixed_point(beta, gamma, delta):
    params = ModelParams(beta=beta, gamma=gamma, delta=delta)
    closed, riccati = lq_solution(params), riccati_equilibrium(params)
    assert_allclose([riccati.H0, riccati.H1], [closed.H0, closed.H1], rtol=0, atol=1e-10)


def test_one_draw_error_at_deck_defaults():
    sd = one_draw_error_sd(ModelParams())
    # beta^2 (gamma (1 - delta) H1 - 1)^2 sigma^2 / N = 5.0e-6 at N = 128 (issue 2)
    assert_allclose(sd["sd_eps"] ** 2, 4.978e-6, rtol=1e-3)
    assert_allclose(sd["sd_u"], abs(lq_solution(ModelParams()).H1) * 0.005 / np.sqrt(128))


def test_bad_root_and_bad_parameters():
    with pytest.raises(ValueError, match="root"):
        lq_solution(ModelParams(), "other")
    with pytest.raises(ValueError, match="^beta"):
        lq_roots(beta=1.2)


def test_full_depreciation_has_a_single_root():
    roots = lq_roots(0.9, 10.0, 1.0)
    assert roots["explosive"] is None and roots["stable"].H1 == 0.0
    params = ModelParams(beta=0.9, gamma=10.0, delta=1.0)
    assert abs(deterministic_euler_residual(params, roots["stable"], np.array([0.3, 2.0]))).max() < 1e-12
    with pytest.raises(ValueError, match="explosive"):
        lq_solution(params, "explosive")
