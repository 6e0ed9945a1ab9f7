"""The exact linear solutions of the three extensions (symdp.models.linear), checked three ways:
the coefficient equations, backward time iteration from a finite horizon, and the Euler residual
of a small simulated economy with the expectation computed exactly by Gauss-Hermite quadrature."""

import itertools
import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from symdp.lq import lq_roots
from symdp.models.linear import (
    decreasing_returns_solutions,
    kappa_threshold,
    stationary_solution,
    two_types_solutions,
    vector_state_solutions,
)

BETA, GAMMA, DELTA = 0.95, 90.0, 0.05  # the deck's calibration
KAPPA, RHO = 0.5, 0.9
E2 = {"beta": BETA, "share_a": 0.5, "theta": (1.0, 1.2), "gamma": (90.0, 90.0),
      "delta": (0.05, 0.10)}
SIGMA, ETA, SIGMA_Z = 0.005, 0.001, 0.02  # shocks: they must not matter to linear policies


def e1():
    return decreasing_returns_solutions(BETA, GAMMA, DELTA, KAPPA)


def e3():
    return vector_state_solutions(BETA, GAMMA, DELTA, KAPPA, RHO)


def e2():
    return two_types_solutions(**E2)


# --- the small economies ------------------------------------------------------------------------


def gauss_hermite_grid(n_shocks):
    """Tensor-product Gauss-Hermite, 2 nodes per N(0, 1) shock: (nodes (K, n), weights (K,)).

    Exact for functions of degree <= 3 in each shock, so for the linear ones here."""
    x, w = np.polynomial.hermite_e.hermegauss(2)
    w = w / w.sum()
    nodes = np.array(list(itertools.product(x, repeat=n_shocks)))
    weights = np.prod(np.array(list(itertools.product(w, repeat=n_shocks))), axis=1)
    return nodes, weights


def e1_residual(theta, theta_next, X, kappa=KAPPA, Z=None):
    """Euler residuals (N,) of E1 (Z None) or E3 at state X (and Z): today's policy theta,
    tomorrow's theta_next, expectation over all N + 1 (E3: 2N + 1) shocks by quadrature."""
    a, N = 1.0 - DELTA, X.size
    vector = Z is not None

    def policy(th, X, Z):
        u = th[0] + th[1] * X.mean(-1, keepdims=True) + th[2] * X
        if vector:
            u = u + th[3] * Z + th[4] * Z.mean(-1, keepdims=True)
        return u

    nodes, weights = gauss_hermite_grid(2 * N + 1 if vector else N + 1)
    u = policy(theta, X, Z)
    Xn = a * X + u + SIGMA * nodes[:, :N] + ETA * nodes[:, N:N + 1]
    Zn = RHO * Z + SIGMA_Z * nodes[:, N + 1:] if vector else None
    R = 1.0 - Xn.mean(-1, keepdims=True) - kappa * Xn  # the price taken as given
    if vector:
        R = R + Zn
    rhs = BETA * weights @ (R + GAMMA * a * policy(theta_next, Xn, Zn))
    return GAMMA * u - rhs


TYPES = np.array([0, 0, 1, 1])  # N = 4 firms, 2 of each type: share_a = 0.5


def e2_residual(theta, theta_next, X, params=E2):
    """Euler residuals (4,) of E2; theta = (h0_A, h0_B, H_AA, H_AB, H_BA, H_BB)."""
    t = np.asarray(params["theta"])[TYPES]
    g = np.asarray(params["gamma"])[TYPES]
    a = 1.0 - np.asarray(params["delta"])[TYPES]

    def policy(th, X):
        m = np.stack([X[..., TYPES == 0].mean(-1), X[..., TYPES == 1].mean(-1)], -1)
        h0, H = np.asarray(th[:2]), np.asarray(th[2:]).reshape(2, 2)
        return (h0 + m @ H.T)[..., TYPES]

    nodes, weights = gauss_hermite_grid(5)
    u = policy(theta, X)
    Xn = a * X + u + SIGMA * nodes[:, :4] + ETA * nodes[:, 4:]
    p = 1.0 - (t * Xn).mean(-1, keepdims=True)
    rhs = params["beta"] * weights @ (t * p + g * a * policy(theta_next, Xn))
    return g * u - rhs


def flat(solution):
    c = solution.coefficients
    if "h0" in c:
        return np.array([*c["h0"], *c["H"][0], *c["H"][1]])
    return np.array([c[f"H{k}"] for k in range(len(c))])


def random_states(rng, n, vector=False):
    X = 0.9 + 0.3 * rng.standard_normal((n, 4))
    return [(x, 0.2 * rng.standard_normal(4)) if vector else (x, None) for x in X]


def backward_iteration(residuals, n_coefficients, max_steps=5000):
    """Policy zero at the last date; each earlier date's coefficients solve that date's Euler
    equations given the next date's. The residual is affine in today's coefficients, so it is
    read off at 0 and the unit vectors and solved by least squares over the states."""
    following = np.zeros(n_coefficients)
    eye = np.eye(n_coefficients)
    for _ in range(max_steps):
        r0 = residuals(np.zeros(n_coefficients), following)
        J = np.stack([residuals(e, following) - r0 for e in eye], axis=1)
        today = np.linalg.lstsq(J, -r0, rcond=None)[0]
        if np.max(np.abs(today - following)) < 1e-15:
            return today
        following = today
    raise AssertionError("backward time iteration did not converge")


# --- 1. the issue's numbers and the number of solutions -----------------------------------------


def test_decreasing_returns_has_four_solutions_and_the_issues_stationary_one():
    solutions = e1()
    assert len(solutions) == 4
    s = stationary_solution(solutions)
    assert s is solutions[0] and sum(x.stationary for x in solutions) == 1
    assert_allclose([s.coefficients[k] for k in ("H0", "H1", "H2")],
                    [0.06031656846452, -0.03950297471174, -0.02882860894693], rtol=0, atol=1e-10)


def test_vector_state_has_four_solutions_and_the_issues_stationary_one():
    solutions = e3()
    assert len(solutions) == 4
    s = stationary_solution(solutions)
    assert s is solutions[0] and sum(x.stationary for x in solutions) == 1
    assert_allclose([s.coefficients["H3"], s.coefficients["H4"]],
                    [0.04336996549954, -0.007555046269226], rtol=0, atol=1e-10)
    assert s.roots[2:] == (RHO, RHO)


def test_vector_state_keeps_the_decreasing_returns_coefficients():
    for with_z, without in zip(e3(), e1()):
        assert {k: with_z.coefficients[k] for k in ("H0", "H1", "H2")} == without.coefficients
        assert with_z.roots[:2] == without.roots


def test_two_types_has_four_real_solutions_and_the_issues_stationary_one():
    solutions = e2()
    # Of the C(4, 2) = 6 choices of eigenvalues, the two that take both members of a pair
    # {lambda, 1/(beta lambda)} (one shared eigenvector) are singular: 4 solutions, all real here.
    assert len(solutions) == 4
    s = stationary_solution(solutions)
    assert s is solutions[0] and sum(x.stationary for x in solutions) == 1
    assert_allclose(s.coefficients["h0"], [0.07045183626444, 0.06202049550331], rtol=0, atol=1e-10)
    assert_allclose(s.coefficients["H"], [[-0.02539631946152, -0.02335225291003],
                                          [-0.02464960029393, -0.02397515084410]],
                    rtol=0, atol=1e-10)


def test_two_types_eigenvalues_pair_up_with_product_one_over_beta():
    aggregate = sorted({round(r, 12) for s in e2() for r in s.roots[2:]})
    assert len(aggregate) == 4  # each solution takes one member of each of the two pairs
    small, large = aggregate[:2], aggregate[2:]
    assert_allclose(np.multiply(small, large[::-1]), 1 / BETA, rtol=1e-10)
    assert sorted(stationary_solution(e2()).roots[2:]) == pytest.approx(small, abs=1e-12)
    for s in e2():
        assert s.roots[:2] == (0.95, 0.90)  # the firm's own capital: 1 - delta_g


def test_the_stationary_solution_is_first_and_the_roots_decide_it():
    for solutions in (e1(), e2(), e3()):
        for s in solutions:
            assert s.stationary == (max(abs(r) for r in s.roots) < 1.0)
        assert [s.stationary for s in solutions] == [True, False, False, False]
    with pytest.raises(ValueError, match="exactly one stationary solution .* found 0"):
        stationary_solution(e1()[1:])


def test_to_dict_is_json_ready():
    for solutions in (e1(), e2(), e3()):
        d = json.loads(json.dumps(solutions[0].to_dict()))
        assert d["stationary"] is True and len(d["roots"]) == len(solutions[0].roots)
    assert json.loads(json.dumps(e2()[0].to_dict()))["coefficients"]["H"] == [
        list(row) for row in e2()[0].coefficients["H"]]


@pytest.mark.parametrize("seed", range(5))
def test_away_from_the_calibration_there_are_still_four_solutions_one_stationary(seed):
    rng = np.random.default_rng(100 + seed)
    beta, gamma, delta = rng.uniform(0.8, 0.99), rng.uniform(1.0, 200.0), rng.uniform(0.01, 0.5)
    kappa = kappa_threshold(beta, gamma, delta) + rng.uniform(0.0, 3.0)
    params = {"beta": beta, "share_a": rng.uniform(0.05, 0.95),
              "theta": tuple(rng.uniform(0.2, 3.0, 2)), "gamma": tuple(rng.uniform(1.0, 200.0, 2)),
              "delta": tuple(rng.uniform(0.01, 0.5, 2))}
    for solutions in (decreasing_returns_solutions(beta, gamma, delta, kappa),
                      vector_state_solutions(beta, gamma, delta, kappa, rng.uniform(-0.99, 0.99)),
                      two_types_solutions(**params)):
        assert len(solutions) == 4
        assert stationary_solution(solutions) is solutions[0]
        assert all(isinstance(r, float) for x in solutions for r in x.roots)
    params = {**params, "share_a": 0.5}  # the simulated economy has 2 firms of each type
    for s in two_types_solutions(**params):
        for X, _ in random_states(rng, 2):
            assert np.max(np.abs(e2_residual(flat(s), flat(s), X, params))) < 1e-9


# --- 2. the coefficient equations -------------------------------------------------------------


def test_every_decreasing_returns_and_vector_state_solution_zeroes_its_coefficient_equations():
    b, g, a, k, r = BETA, GAMMA, 1.0 - DELTA, KAPPA, RHO
    c = g * a
    for s in e3():
        H0, H1, H2, H3, H4 = flat(s)
        e = b * (c * H2 - k)
        equations = [
            g * H0 - b * (1 + c * H0 + (c * H1 - 1) * H0) - e * H0,  # constant
            g * H1 - b * (c * H1 - 1) * (a + H1 + H2) - e * H1,  # mean X
            g * H2 - e * (a + H2),  # own x
            g * H3 - e * H3 - b * (1 + c * H3) * r,  # own z
            g * H4 - b * (c * H1 - 1) * (H3 + H4) - e * H4 - b * c * H4 * r,  # mean Z
        ]
        assert np.max(np.abs(equations)) < 1e-12


def test_every_two_types_solution_zeroes_its_coefficient_equations():
    t = np.asarray(E2["theta"])
    w = np.array([E2["share_a"], 1 - E2["share_a"]]) * t
    G, D = np.diag(E2["gamma"]), np.diag(1 - np.asarray(E2["delta"]))
    for s in e2():
        h0, H = np.asarray(s.coefficients["h0"]), np.asarray(s.coefficients["H"])
        # Euler equations of both types at M: Gamma u(M) = beta [t p(EM') + Gamma D u(EM')]
        for M in np.eye(2).tolist() + [[0.0, 0.0]]:
            M = np.asarray(M)
            EM = h0 + (D + H) @ M  # expected next group means
            lhs = G @ (h0 + H @ M)
            rhs = BETA * (t * (1 - w @ EM) + G @ D @ (h0 + H @ EM))
            assert np.max(np.abs(lhs - rhs)) < 1e-12


# --- 3. backward time iteration -----------------------------------------------------------------


def test_backward_time_iteration_reaches_the_decreasing_returns_stationary_solution():
    states = random_states(np.random.default_rng(0), 3)
    limit = backward_iteration(
        lambda th, nxt: np.concatenate([e1_residual(th, nxt, X) for X, _ in states]), 3)
    assert_allclose(limit, flat(e1()[0]), rtol=0, atol=1e-10)


def test_backward_time_iteration_reaches_the_vector_state_stationary_solution():
    states = random_states(np.random.default_rng(1), 3, vector=True)
    limit = backward_iteration(
        lambda th, nxt: np.concatenate([e1_residual(th, nxt, X, Z=Z) for X, Z in states]), 5)
    assert_allclose(limit, flat(e3()[0]), rtol=0, atol=1e-10)


def test_backward_time_iteration_reaches_the_two_types_stationary_solution():
    states = random_states(np.random.default_rng(2), 5)
    limit = backward_iteration(
        lambda th, nxt: np.concatenate([e2_residual(th, nxt, X) for X, _ in states]), 6)
    assert_allclose(limit, flat(e2()[0]), rtol=0, atol=1e-10)


# --- 4. the Euler residual of a small economy, every solution ------------------------------------


def test_every_decreasing_returns_solution_zeroes_the_simulated_euler_residual():
    for s in e1():
        for X, _ in random_states(np.random.default_rng(3), 5):
            assert np.max(np.abs(e1_residual(flat(s), flat(s), X))) < 1e-10


def test_every_vector_state_solution_zeroes_the_simulated_euler_residual():
    for s in e3():
        for X, Z in random_states(np.random.default_rng(4), 5, vector=True):
            assert np.max(np.abs(e1_residual(flat(s), flat(s), X, Z=Z))) < 1e-10


def test_every_two_types_solution_zeroes_the_simulated_euler_residual():
    for s in e2():
        for X, _ in random_states(np.random.default_rng(5), 5):
            assert np.max(np.abs(e2_residual(flat(s), flat(s), X))) < 1e-10


def test_a_perturbed_solution_does_not_zero_the_simulated_euler_residual():
    X = random_states(np.random.default_rng(6), 1)[0][0]
    for solution, residual in ((e1()[0], e1_residual), (e2()[0], e2_residual)):
        off = flat(solution) * (1 + 1e-3)
        assert np.max(np.abs(residual(off, off, X))) > 1e-6


def test_full_depreciation_of_one_type_leaves_two_solutions_that_zero_the_euler_residual():
    params = {**E2, "delta": (0.05, 1.0)}  # one eigenvalue pair is {0, infinity}
    solutions = two_types_solutions(**params)
    assert len(solutions) == 2 and stationary_solution(solutions) is solutions[0]
    for s in solutions:
        assert s.coefficients["H"][0][1] == pytest.approx(0.0, abs=1e-14)  # m_B' ignores m_B
        for X, _ in random_states(np.random.default_rng(7), 3):
            assert np.max(np.abs(e2_residual(flat(s), flat(s), X, params))) < 1e-10


# --- 5. special cases and validation -----------------------------------------------------------


def test_at_kappa_zero_decreasing_returns_is_the_decks_solution_with_H2_exactly_zero():
    solutions = decreasing_returns_solutions(BETA, GAMMA, DELTA, 0.0)
    deck = lq_roots(BETA, GAMMA, DELTA)
    s = stationary_solution(solutions)
    assert s.coefficients["H2"] == 0.0  # exactly: the x equation is H2 (beta c H2 + ...) = 0
    assert_allclose([s.coefficients["H0"], s.coefficients["H1"]],
                    [deck["stable"].H0, deck["stable"].H1], rtol=0, atol=1e-14)
    # The deck's explosive root is E1's other solution with H2 = 0; the remaining two have the
    # own root 1/(beta (1 - delta)).
    zero = [x for x in solutions if x.coefficients["H2"] == 0.0]
    assert len(zero) == 2
    assert_allclose(sorted(x.coefficients["H1"] for x in zero),
                    [deck["stable"].H1, deck["explosive"].H1], rtol=0, atol=1e-14)
    for x in solutions:
        if x not in zero:
            assert_allclose(x.roots[0], 1 / (BETA * (1 - DELTA)), rtol=1e-12)


def test_identical_types_reduce_to_the_deck():
    s = stationary_solution(two_types_solutions(BETA, 0.3, (1.0, 1.0), (GAMMA, GAMMA),
                                                (DELTA, DELTA)))
    deck = lq_roots(BETA, GAMMA, DELTA)["stable"]  # u = H0 + H1 (0.3 m_A + 0.7 m_B)
    assert_allclose(s.coefficients["h0"], [deck.H0] * 2, rtol=0, atol=1e-12)
    assert_allclose(s.coefficients["H"], [[0.3 * deck.H1, 0.7 * deck.H1]] * 2, rtol=0, atol=1e-12)


def test_kappa_threshold_is_where_the_own_root_reaches_one():
    threshold = kappa_threshold(BETA, GAMMA, DELTA)
    assert_allclose(threshold, -GAMMA * DELTA * (1 - BETA * (1 - DELTA)) / BETA, rtol=1e-15)
    assert_allclose(threshold, -0.46184210526315805, rtol=1e-14)
    # Just above it the stationary own root is just below 1, linearly in the gap (the root is
    # simple there: the other one is 1/beta).
    for gap in (1e-4, 1e-6):
        own = stationary_solution(decreasing_returns_solutions(BETA, GAMMA, DELTA,
                                                               threshold + gap)).roots[0]
        assert 0 < 1 - own < 10 * gap


@pytest.mark.parametrize("call, message", [
    (lambda: decreasing_returns_solutions(BETA, GAMMA, DELTA, -1.0),
     (r"^kappa must be > -0\.4618 \(the threshold -gamma\*delta\*\(1 - beta\*\(1 - delta\)\)/beta "
      r"below which firm size is not stationary\), got -1\.0$")),
    (lambda: vector_state_solutions(BETA, GAMMA, DELTA, -0.4619, RHO),
     r"^kappa must be > -0\.4618"),
    (lambda: vector_state_solutions(BETA, GAMMA, DELTA, KAPPA, 1.0),
     r"^rho must be in \(-1, 1\) .*got 1\.0$"),
    (lambda: vector_state_solutions(BETA, GAMMA, DELTA, KAPPA, -1.5), r"^rho must be in \(-1, 1\)"),
    (lambda: two_types_solutions(**{**E2, "share_a": 1.0}), r"^share_a must be in \(0, 1\)"),
    (lambda: two_types_solutions(**{**E2, "share_a": 0.0}), r"^share_a must be in \(0, 1\)"),
    (lambda: two_types_solutions(**{**E2, "theta": (1.0, 0.0)}), r"^theta must be .* > 0"),
    (lambda: two_types_solutions(**{**E2, "gamma": (-1.0, 90.0)}), r"^gamma must be .* > 0"),
    (lambda: two_types_solutions(**{**E2, "delta": (0.05, 1.5)}), r"^delta must be .* in \(0, 1\]"),
    (lambda: two_types_solutions(**{**E2, "delta": (0.05,)}), r"^delta must be a pair"),
    (lambda: two_types_solutions(**{**E2, "beta": 1.0}), r"^beta must be in \(0, 1\)"),
    (lambda: decreasing_returns_solutions(1.2, GAMMA, DELTA, KAPPA), r"^beta must be in \(0, 1\)"),
    (lambda: kappa_threshold(BETA, 0.0, DELTA), r"^gamma must be > 0"),
])
def test_validation_errors_name_the_parameter_and_its_range(call, message):
    with pytest.raises(ValueError, match=message):
        call()
