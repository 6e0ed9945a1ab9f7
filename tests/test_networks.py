import math

import pytest
import torch

from symdp import networks
from symdp.networks import (ArchitectureConfig, DeepSetPolicy, IdentityPhi, MLPPolicy, MomentsPhi,
                            ReLUPhi, count_parameters, detached_twin, make_policy)


@pytest.mark.parametrize("phi, expected", [("identity", 49_409), ("moments", 49_793),
                                           ("relu", 66_821)])
def test_deck_baselines_have_the_decks_coefficient_counts(phi, expected):
    assert count_parameters(make_policy(phi)) == expected


SYMMETRIC = [
    ArchitectureConfig(phi="identity", zero_last=False),
    ArchitectureConfig(phi="moments", zero_last=False),
    ArchitectureConfig(phi="moments", moments=2, zero_last=False),
    ArchitectureConfig(phi="relu", zero_last=False),
    ArchitectureConfig(phi="relu", L=16, phi_hidden_bias=True, rho_hidden_bias=True, zero_last=False),
]


@pytest.mark.parametrize("arch", SYMMETRIC, ids=lambda a: f"{a.phi}-{a.L}-{a.phi_hidden_bias}")
def test_symmetric_policies_are_permutation_invariant(arch):
    torch.manual_seed(0)
    policy = make_policy(arch)
    X = torch.rand(5, 64) * 1.5 - 0.2  # include negative entries (both ReLU branches)
    u = policy(X)
    for seed in range(3):
        perm = torch.randperm(64, generator=torch.Generator().manual_seed(seed))
        assert torch.allclose(policy(X[:, perm]), u, atol=1e-6, rtol=0)
    assert u.abs().max() > 1e-4  # the check is not vacuous


def test_own_state_policy_is_invariant_in_the_others_and_uses_x():
    torch.manual_seed(0)
    policy = make_policy(ArchitectureConfig(phi="relu", own_state=True, zero_last=False))
    X = torch.rand(4, 32)
    perm = torch.cat([torch.tensor([0]), 1 + torch.randperm(31)])
    assert torch.allclose(policy(X[:, perm]), policy(X), atol=1e-6, rtol=0)
    per_firm = policy.investment(X)
    assert per_firm.shape == (4, 32)
    assert torch.allclose(per_firm[:, 0], policy(X), atol=1e-6)
    assert per_firm.std(-1).max() > 1e-6  # firms with different x invest differently


def test_non_symmetric_baseline_is_not_invariant():
    torch.manual_seed(0)
    policy = make_policy("none", N=64, zero_last=False)
    X = torch.rand(5, 64)
    perm = torch.randperm(64, generator=torch.Generator().manual_seed(1))
    assert (policy(X[:, perm]) - policy(X)).abs().max() > 1e-4
    with pytest.raises(ValueError, match="N=64"):
        policy(torch.rand(2, 32))


def test_relu_phi_exact_aggregation_matches_direct_evaluation():
    torch.manual_seed(1)
    phi = ReLUPhi(L=4)
    X = torch.randn(3, 7, 200, dtype=torch.float64)
    phi = phi.double()
    direct = phi(X).mean(-2)
    assert torch.allclose(phi.mean(X), direct, atol=1e-12, rtol=0)
    assert phi.homogeneous and not ReLUPhi(hidden_bias=True).homogeneous


def test_moments_and_identity_aggregation():
    X = torch.rand(2, 50, dtype=torch.float64)
    m = MomentsPhi(4).mean(X)
    for k in range(4):
        assert torch.allclose(m[..., k], X.pow(k + 1).mean(-1))
    assert torch.allclose(IdentityPhi().mean(X)[..., 0], X.mean(-1))
    assert torch.allclose(MomentsPhi(3)(X).mean(-2), MomentsPhi(3).mean(X))


def test_zero_last_starts_from_zero_policy_and_investment_broadcasts():
    policy = make_policy("relu")
    X = torch.rand(3, 10)
    assert torch.equal(policy(X), torch.zeros(3))
    assert policy.investment(X).shape == (3, 10)


@pytest.mark.parametrize("kw, name", [({"phi": "cnn"}, "phi"), ({"moments": 0}, "moments"),
                                      ({"rho_depth": -1}, "rho_depth"), ({"L": 0}, "L"),
                                      ({"phi_width": 0}, "phi_width")])
def test_architecture_validation(kw, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        ArchitectureConfig(**kw)


def test_make_policy_needs_N_for_the_mlp_and_rejects_mixed_arguments():
    with pytest.raises(ValueError, match="N is required"):
        make_policy("none")
    with pytest.raises(TypeError):
        make_policy(ArchitectureConfig(), L=3)
    assert isinstance(make_policy(ArchitectureConfig(phi="moments")), DeepSetPolicy)
    assert isinstance(make_policy("none", N=3), MLPPolicy)


SHIFTABLE = SYMMETRIC + [ArchitectureConfig(phi="relu", own_state=True, zero_last=False)]


@pytest.mark.parametrize("arch", SHIFTABLE,
                         ids=lambda a: f"{a.phi}-{a.L}-{a.phi_hidden_bias}-{a.own_state}")
@pytest.mark.parametrize("signs", ["positive", "mixed"])
def test_policy_at_shifted_states_equals_the_policy_at_the_formed_states(arch, signs):
    """``at_shifts`` (tomorrow's policy at the quadrature nodes) agrees, value and gradient, with
    the policy at the (..., K, N) states, whether or not it forms them (mixed signs: it must)."""
    torch.manual_seed(0)
    policy = make_policy(arch).double()
    base = torch.rand(3, 5, 40, dtype=torch.float64) + (0.3 if signs == "positive" else -0.5)
    shifts = (0.1 * torch.randn(3, 5, 7, dtype=torch.float64)).requires_grad_()
    formed = policy(base.unsqueeze(-2) + shifts.unsqueeze(-1))
    shifted = policy.at_shifts(base, shifts)
    assert shifted.shape == (3, 5, 7) and formed.abs().max() > 1e-4
    torch.testing.assert_close(shifted, formed, atol=1e-12, rtol=0)
    g_formed, = torch.autograd.grad(formed.sum(), shifts)
    g_shifted, = torch.autograd.grad(policy.at_shifts(base, shifts).sum(), shifts)
    torch.testing.assert_close(g_shifted, g_formed, atol=1e-12, rtol=0)


def test_relu_phi_at_shifts_forms_no_states_only_where_every_firm_keeps_its_sign():
    phi = ReLUPhi(L=4).double()
    base = torch.rand(2, 30, dtype=torch.float64) + 0.2  # min >= 0.2
    assert phi.mean_at_shifts(base, torch.tensor([[-0.1], [0.3]], dtype=torch.float64)) is not None
    assert phi.mean_at_shifts(base, torch.tensor([[-0.3], [0.3]], dtype=torch.float64)) is None
    assert ReLUPhi(hidden_bias=True).mean_at_shifts(base.float(), torch.zeros(2, 1)) is None


@pytest.mark.parametrize("route", ["table", "firm by firm"])
@pytest.mark.parametrize("N", [128, 5000])
@pytest.mark.parametrize("depth", [0, 1, 2, 3])
def test_phi_with_hidden_biases_without_gradient_matches_phi_at_every_firm(N, depth, route,
                                                                           monkeypatch):
    """Firm by firm, 128 firms are whole states several to a block, 5,000 a state in blocks
    with a part left over; the depths take either buffer last, and depth 0 none."""
    X = torch.randn(3, 50, N, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    # firm by firm: no table (as beyond a table's limit), in blocks of 1,200 firms, so that
    # 5,000 leave a part of 200 and 150 states of 128 leave six states over
    monkeypatch.setattr(networks, "_PHI_CHUNK", 1200)
    torch.manual_seed(2)
    phi = ReLUPhi(L=4, depth=depth, hidden_bias=True,
                  tabulate_from=X.numel() + 1 if route == "firm by firm" else 0).double()
    direct = phi(X).mean(-2)
    with torch.no_grad():
        pieces = phi.mean(X)
    torch.testing.assert_close(pieces, direct, atol=1e-12, rtol=0)


def test_phi_with_hidden_biases_under_vmap_without_gradient_is_phi_at_every_firm():
    """torch.func's transforms allow no table and no buffers written in blocks: phi is then
    evaluated at every firm, state by state as without the transform."""
    torch.manual_seed(4)
    phi = ReLUPhi(L=4, hidden_bias=True).double()
    X = torch.randn(5, 300, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(torch.vmap(phi.mean)(X), phi(X).mean(-2), atol=1e-12, rtol=0)


@pytest.mark.parametrize("depth, width", [(1, 128), (2, 128), (2, 32), (3, 8)])
def test_a_phi_with_hidden_biases_is_the_piecewise_affine_function_its_table_says(depth, width):
    """On each piece between consecutive knots phi is the tabulated affine function; adjacent
    pieces meet at their knot (phi is continuous); no more than (width + 1)^depth pieces."""
    torch.manual_seed(3)
    phi = ReLUPhi(L=4, width=width, depth=depth, hidden_bias=True).double()
    knots, coef = networks._tabulate(phi.net)
    assert 1 + knots.numel() <= (width + 1) ** depth and knots.numel() >= width // 2
    assert bool((knots[1:] > knots[:-1]).all())
    inner = torch.cat([knots[:1] - 1.0, 0.5 * (knots[1:] + knots[:-1]), knots[-1:] + 1.0])
    x = torch.cat([inner, torch.randn(500, dtype=torch.float64) * 3])
    piece = torch.searchsorted(knots, x)
    tabulated = coef[piece, :4] * x[:, None] + coef[piece, 4:]
    torch.testing.assert_close(tabulated, phi(x), atol=1e-12, rtol=0)
    left, right = coef[:-1], coef[1:]  # the pieces either side of each knot
    torch.testing.assert_close(left[:, :4] * knots[:, None] + left[:, 4:],
                               right[:, :4] * knots[:, None] + right[:, 4:], atol=1e-12, rtol=0)


# Two ways to look a table up: each firm's coefficients gathered (a few firms), or the firms
# summed piece by piece (many): the second forced by lowering the threshold to none.
LOOKUPS = pytest.mark.parametrize("lookup", ["gather", "piece by piece"])


def _lookup(lookup, monkeypatch):
    if lookup == "piece by piece":
        monkeypatch.setattr(networks, "_GATHER_BELOW", 0)


@LOOKUPS
def test_tomorrows_policy_from_the_table_has_the_value_and_gradient_of_phi_at_every_firm(
        lookup, monkeypatch):
    """The time-iteration step's copy (weights detached) looks phi up in its table; the value
    and the gradient in the states equal phi evaluated at every firm."""
    _lookup(lookup, monkeypatch)
    torch.manual_seed(4)
    policy = make_policy(ArchitectureConfig(phi_hidden_bias=True, zero_last=False)).double()
    twin = detached_twin(policy)
    X = (torch.rand(4, 7, 64, dtype=torch.float64) * 2 - 0.5).requires_grad_()
    direct = policy(X)
    looked_up = twin(X)
    torch.testing.assert_close(looked_up, direct, atol=1e-12, rtol=0)
    g_direct, = torch.autograd.grad(direct.sum(), X)
    g_looked_up, = torch.autograd.grad(twin(X).sum(), X)
    assert g_direct.abs().max() > 1e-4
    torch.testing.assert_close(g_looked_up, g_direct, atol=1e-12, rtol=0)


@LOOKUPS
@pytest.mark.parametrize("depth", [1, 2])
def test_phi_with_hidden_biases_from_its_table_has_the_gradient_in_the_weights_of_phi_at_every_firm(
        depth, lookup, monkeypatch):
    """Trained through its table, phi passes each weight the gradient it has evaluated at every
    firm (the pieces are fixed under a small change of weights)."""
    _lookup(lookup, monkeypatch)
    torch.manual_seed(5)
    policy = make_policy(ArchitectureConfig(phi_hidden_bias=True, phi_depth=depth,
                                            zero_last=False)).double()
    X = torch.rand(6, 3, 50, dtype=torch.float64) * 2 - 0.5
    looked_up = policy(X)
    direct = policy.rho(policy.phi(X).mean(-2)).squeeze(-1)  # phi at every firm
    torch.testing.assert_close(looked_up, direct, atol=1e-12, rtol=0)
    weights = [p for p in policy.phi.parameters()]
    g_looked_up = torch.autograd.grad(looked_up.pow(2).sum(), weights)
    g_direct = torch.autograd.grad(direct.pow(2).sum(), weights)
    for a, b in zip(g_looked_up, g_direct):
        assert b.abs().max() > 1e-6
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


def test_a_phi_table_is_built_once_per_weights_unless_a_gradient_needs_it(monkeypatch):
    """Today's policy (gradient in the weights) builds its table; its time-iteration copy and
    passes without gradient reuse it while the weights are unchanged, and a changed weight, even
    updated in place by a fused optimizer, rebuilds it."""
    built = []
    tabulate = networks._tabulate
    monkeypatch.setattr(networks, "_tabulate", lambda net: built.append(1) or tabulate(net))
    torch.manual_seed(6)
    policy = make_policy(ArchitectureConfig(phi_hidden_bias=True, zero_last=False)).double()
    twin = detached_twin(policy)
    X = torch.rand(5, 40, dtype=torch.float64)
    live = policy(X)
    torch.testing.assert_close(twin(X), live.detach(), atol=0, rtol=0)
    with torch.no_grad():
        policy(X)
    assert len(built) == 1
    policy(X).sum().backward()  # a gradient in the weights: built afresh
    assert len(built) == 2 and policy.phi.net[0].weight.grad.abs().max() > 0
    torch.optim.Adam(policy.parameters(), lr=1e-2, fused=True).step()
    direct = policy.rho(policy.phi(X).mean(-2)).squeeze(-1).detach()  # phi at every firm
    torch.testing.assert_close(twin(X), direct, atol=1e-12, rtol=0)
    assert len(built) == 3


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("knots", [1, 2, 7, 300, 5000])
def test_the_grid_of_cells_finds_every_firms_piece_as_a_binary_search_does(knots, dtype):
    """Also at the knots themselves and a rounding error either side of them, over states
    wider and narrower than the knots; with many knots in one cell, or an infinite state, it
    falls back to the binary search."""
    torch.manual_seed(knots)
    k = torch.randn(knots, dtype=dtype).sort().values.unique_consecutive()
    if knots == 5000:  # most knots crowded into one cell of the grid
        k = torch.cat([k[:-1] * 1e-6, k[-1:].abs() + 10]).sort().values.unique_consecutive()
    X = torch.cat([torch.randn(4000, dtype=dtype) * 3, k, k.nextafter(k + 1), k.nextafter(k - 1)])
    assert torch.equal(networks._piece_of(X, k), torch.searchsorted(k, X))
    inside = X[X.abs() < 1]  # a range of states inside the knots'
    assert torch.equal(networks._piece_of(inside, k), torch.searchsorted(k, inside))
    X[0] = math.inf  # not finite: the binary search
    assert torch.equal(networks._piece_of(X, k), torch.searchsorted(k, X))


def test_phi_tabulates_only_calls_of_at_least_tabulate_from_inputs(monkeypatch):
    """Below ``tabulate_from`` inputs a call evaluates phi at every input, from it on it looks
    phi up in its table; both give phi's mean and its gradient in the weights."""
    tabulated = []
    real = networks._lookup_mean
    monkeypatch.setattr(networks, "_lookup_mean",
                        lambda X, *table: tabulated.append(X.numel()) or real(X, *table))
    torch.manual_seed(5)
    phi = ReLUPhi(L=3, width=16, depth=2, hidden_bias=True, tabulate_from=100).double()
    for n in (99, 100):  # one row of firms below the threshold, one at it
        X = torch.rand(1, n, dtype=torch.float64) * 2 - 0.5
        mean = phi.mean(X)
        torch.testing.assert_close(mean, phi(X).mean(-2), atol=1e-12, rtol=0)
        got, = torch.autograd.grad(mean.sum(), phi.net[0].weight)
        expected, = torch.autograd.grad(phi(X).mean(-2).sum(), phi.net[0].weight)
        torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)
    assert tabulated == [100]
    assert ReLUPhi(hidden_bias=True).tabulate_from == 0  # the default always tabulates


@pytest.mark.parametrize("bad", [-1, 2.5, True, None])
def test_tabulate_from_must_be_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match="tabulate_from"):
        ReLUPhi(hidden_bias=True, tabulate_from=bad)
