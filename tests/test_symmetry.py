"""symdp.symmetry: permutation checks against policies whose (non-)invariance is known exactly."""

import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from symdp.networks import DeepSetPolicy, LinearPolicy, MLPPolicy, MomentsPhi, ReLUPhi
from symdp.symmetry import distribution_check, permutation_check, random_permutations, replicate

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
