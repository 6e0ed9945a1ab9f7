"""symdp.studies.symmetry: permutation checks against policies whose (non-)invariance is known exactly."""

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from symdp.networks import DeepSetPolicy, LinearPolicy, MLPPolicy, MomentsPhi, ReLUPhi
from symdp.studies.symmetry import (deviation_half_life, distribution_check, nearest_grid_distance,
                            permutation_check, random_permutations, rank_persistence,
                            replicate, stationary_dispersion)

F64 = {"dtype": torch.float64}


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _states(S=6, N=12, seed=0):
    return 0.5 + torch.rand(S, N, generator=_gen(seed), **F64)


def test_random_permutations_are_permutations():
    perms = random_permutations(20, 9, _gen())
    assert perms.shape == (20, 9)
    assert all(sorted(row.tolist()) == list(range(9)) for row in perms)
    assert len({tuple(r.tolist()) for r in perms}) > 1
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="n_perms"):
            random_permutations(bad, 3, _gen())


@pytest.mark.parametrize("make", [
    lambda: LinearPolicy(0.07, -0.05).double(),
    lambda: DeepSetPolicy(MomentsPhi(3), width=8, depth=2, zero_last=False).double(),
    lambda: DeepSetPolicy(ReLUPhi(3, 8, 2, hidden_bias=True), width=8, depth=2,
                          zero_last=False).double(),
])
def test_symmetric_policies_have_rounding_level_gaps(make):
    torch.manual_seed(1)
    pol = make()
    X = _states()
    check = permutation_check(pol, X, random_permutations(50, X.shape[1], _gen(2)))
    assert check.u_perm.shape == (50, 6) and check.gaps.shape == (50, 6)
    scale = np.abs(check.u).max() + 1.0
    assert check.max_abs_gap < 1e-13 * scale
    d = distribution_check(pol, X, k=3)
    assert d.sorted_gap < 1e-13 * scale and d.replicated_gap < 1e-13 * scale and d.k == 3


def test_gaps_of_a_non_symmetric_function_are_exact():
    X = _states(S=4, N=5)
    perms = random_permutations(10, 5, _gen(3))
    check = permutation_check(lambda Z: Z[..., 0], X, perms)  # u(X) = X_1
    expected = np.stack([(X[:, p[0]] - X[:, 0]).numpy() for p in perms])
    assert_allclose(check.gaps, expected, rtol=0, atol=0)
    assert check.max_abs_gap == pytest.approx(np.abs(expected).max())
    lo, hi = check.band
    assert np.all(lo <= check.u) and np.all(check.u <= hi)
    assert_allclose(check.spread, hi - lo)
    assert check.mean_abs_gap == pytest.approx(np.abs(expected).mean())


def test_mlp_is_not_invariant_and_cannot_take_other_n():
    torch.manual_seed(0)
    pol = MLPPolicy(12, width=16, depth=2, zero_last=False).double()
    X = _states()
    check = permutation_check(pol, X, random_permutations(20, 12, _gen(4)))
    assert check.max_abs_gap > 1e-4
    d = distribution_check(pol, X)
    assert d.sorted_gap > 1e-6 and math.isnan(d.replicated_gap)


def test_replicate_keeps_the_empirical_distribution():
    X = _states(S=2, N=4)
    R = replicate(X, 3)
    assert R.shape == (2, 12)
    assert torch.equal(R.sort(-1).values, X.repeat(1, 3).sort(-1).values)
    assert_allclose(R.mean(-1).numpy(), X.mean(-1).numpy(), rtol=1e-15)
    with pytest.raises(ValueError, match="k must"):
        replicate(X, 0)


def test_permutation_check_validates_shapes():
    pol = LinearPolicy(0.0, 1.0).double()
    with pytest.raises(ValueError, match="X must have shape"):
        permutation_check(pol, torch.zeros(5, **F64), random_permutations(2, 5, _gen()))
    with pytest.raises(ValueError, match="perms must have shape"):
        permutation_check(pol, _states(N=5), random_permutations(2, 4, _gen()))


def test_half_life_is_where_the_decay_factor_reaches_one_half():
    h = deviation_half_life(0.05)
    assert_allclose(0.95 ** h, 0.5, rtol=1e-12)
    assert_allclose(h, 13.513, atol=1e-3)


def test_stationary_dispersion_is_the_fixed_point_of_the_variance_recursion():
    s = stationary_dispersion(0.05, 0.005)
    assert_allclose(0.95 ** 2 * s ** 2 + 0.005 ** 2, s ** 2, rtol=1e-12)
    with pytest.raises(ValueError):
        stationary_dispersion(0.0, 0.005)


def test_rank_persistence_is_one_for_kept_ranks_and_minus_one_for_reversed():
    base = np.arange(5.0)
    paths = np.stack([base, base * 2 + 1, base[::-1]])[None]  # dates 0, 1, 2
    assert_allclose(rank_persistence(paths), [1.0, 1.0, -1.0], atol=1e-12)
    # one swap of neighbours among 5: Spearman 1 - 6 * 2 / (5 * 24) = 0.9
    swapped = np.stack([base, np.array([1.0, 0.0, 2.0, 3.0, 4.0])])[None]
    assert_allclose(rank_persistence(swapped)[1], 0.9, atol=1e-12)


def test_nearest_grid_distance_is_zero_on_the_grid_and_rms_per_firm_off_it():
    grid = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    states = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.2], [3.0, 3.0, 3.0, 3.0]])
    assert_allclose(nearest_grid_distance(states, grid), [0.0, 0.1, 2.0], atol=1e-12)


def test_permutation_figure_legend_counts_the_gaps_below_the_floor():
    import matplotlib
    matplotlib.use("Agg")
    from symdp.book.figures import permutation_invariance

    u = np.linspace(0.07, 0.08, 5)
    gaps = {"a": np.array([0.0, 0.0, 1e-3, 1e-2]), "b": np.array([1e-4, 1e-3, 1e-2, 1e-1])}
    fig = permutation_invariance(u, {"a": (u, u, u)}, gaps, floor=1e-11)
    texts = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert texts == ["a (50% below 1e-11)", "b (0% below 1e-11)"]
    assert fig.axes[1].get_xlim()[0] == pytest.approx(-11.0)


def test_learning_curves_draw_training_and_measured_validation_points():
    import matplotlib
    matplotlib.use("Agg")
    from symdp.book.figures import learning_curves

    rows = [{"epoch": 0.25 * k, "train_loss": 10.0 ** -k, "val_mse": math.nan if k < 3 else 1e-4}
            for k in range(1, 6)]
    fig = learning_curves({"mlp": rows}, 2e-7)
    lines = fig.axes[0].get_lines()
    assert len(lines[1].get_xdata()) == 3  # validation measured at 3 of 5 checks
    with pytest.raises(ValueError):
        learning_curves({}, 2e-7)
