"""The output-layer finish (symdp.finish): what it solves for, that a step is kept only when it
lowers the residual, that it reaches the exact policy of a linear case, and that the deck's
fits take it only when asked."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from numpy.testing import assert_allclose

from symdp import ModelParams, SolverConfig, solve
from symdp.finish import Finish, finish_step, has_output_layer
from symdp.models import get_model
from symdp.networks import AgentDeepSet, make_policy
from symdp.solver import _pick_grid, first_draws, seeded_policy, tensor_kw

SMALL = SolverConfig(train_trajectories=4, val_trajectories=2, test_trajectories=4, T=15,
                     threads=1, dtype="float64", seed=1)


def _set_output(policy: AgentDeepSet, theta: list[torch.Tensor]) -> None:
    with torch.no_grad():
        for (_, p), value in zip(policy.output_parameters(), theta):
            p.copy_(value)


def test_the_output_is_affine_in_the_output_parameters():
    torch.manual_seed(0)
    policy = AgentDeepSet(2, "relu", phi_width=8, rho_width=8, rho_linear=True,
                          zero_last=False).double()
    names = [n for n, _ in policy.output_parameters()]
    assert names == ["rho.8.weight", "rho.8.bias", "rho_skip.weight"]
    F = torch.randn(3, 5, 2, dtype=torch.float64)
    a = [torch.randn_like(p) for _, p in policy.output_parameters()]
    b = [torch.randn_like(p) for _, p in policy.output_parameters()]
    outputs = []
    for t in (0.0, 1.0, 0.3):
        _set_output(policy, [(1 - t) * x + t * y for x, y in zip(a, b)])
        outputs.append(policy(F).detach())
    assert_allclose(outputs[2], 0.7 * outputs[0] + 0.3 * outputs[1], rtol=1e-12, atol=1e-14)


def test_from_two_adam_epochs_three_steps_are_kept_and_lower_the_residual_a_millionfold():
    model = get_model("decreasing-returns", N=16)
    r = solve(model, model.architecture(), replace(SMALL, max_epochs=2, finish_from=0,
                                                   val_tolerance=1e-14))
    q = first_draws(model, SMALL, **tensor_kw(SMALL)).quadrature
    before = [p.detach().clone() for _, p in r.policy.output_parameters()]
    start = model.residual_mse(r.policy, r.train_states, q)
    state = Finish()
    for seed in range(3):
        finish_step(model, r.policy, r.train_states, q, state, torch.Generator().manual_seed(seed))
    assert state.steps == 3 and state.kept == 3
    assert model.residual_mse(r.policy, r.train_states, q) < 1e-6 * start
    assert any(not torch.equal(b, p) for b, (_, p) in zip(before, r.policy.output_parameters()))


def _output_layer(model, arch):
    """A seeded network of ``arch``, its first grid, its output layer's names, shapes and
    coefficients, and its detached twin (:mod:`symdp.finish`)."""
    from symdp.networks import detached_twin

    kw = tensor_kw(SMALL)
    policy = seeded_policy(model, arch, SMALL, **kw)
    named = policy.output_parameters()
    theta = torch.cat([p.detach().reshape(-1) for _, p in named])
    return (policy, _pick_grid(model, SMALL, **kw), [n for n, _ in named],
            [p.shape for _, p in named], theta, detached_twin(policy))


@pytest.mark.parametrize("name, nu", [("decreasing-returns", 1.0), ("two-types", 1.5),
                                      ("vector-state", 1.5), ("investment", 1.0),
                                      ("investment", 1.5)])
def test_the_chain_rule_jacobian_is_forward_mode_through_the_whole_residual(name, nu):
    from torch.func import jacfwd

    from symdp.finish import _forward_ad, _set, jacobian

    model = get_model(name, N=16, nu=nu)
    policy, grid, names, shapes, theta, twin = _output_layer(
        model, replace(model.architecture(), zero_last=False))
    q = grid.draws.quadrature
    _forward_ad()

    def residual(th, X):
        _set(twin, names, shapes, th)
        return model.euler_residual(twin, X, q).reshape(-1)

    X = grid.train[:4]
    expected = jacfwd(residual)(theta, X)
    assert_allclose(jacobian(model, twin, names, shapes, theta, X, q), expected,
                    rtol=1e-10, atol=1e-12 * float(expected.abs().max()))


@pytest.mark.parametrize("nu", [1.0, 1.5])
@pytest.mark.parametrize("arch", [dict(phi="relu"), dict(phi="relu", phi_hidden_bias=True),
                                  dict(phi="moments"), dict(phi="identity"), dict(phi="none"),
                                  dict(phi="relu", own_state=True)])
def test_the_decks_jacobian_by_features_is_the_chain_rule_jacobian(nu, arch):
    from symdp.finish import _forward_ad, _set, jacobian, jacobian_by_features
    from symdp.networks import ArchitectureConfig

    model = get_model("investment", N=16, nu=nu)
    policy, grid, names, shapes, theta, twin = _output_layer(
        model, ArchitectureConfig(**arch, rho_width=16, phi_width=16, zero_last=False))
    q = grid.draws.quadrature
    _set(twin, names, shapes, theta)
    X = grid.train[:6]
    last = policy.net.last if arch["phi"] == "none" else policy.rho.last
    with torch.no_grad():  # the output is its last layer of the features
        assert_allclose(last(policy.output_features(X)).squeeze(-1), policy(X), rtol=1e-14,
                        atol=1e-15)
    _forward_ad()
    expected = jacobian(model, twin, names, shapes, theta, X, q)
    assert_allclose(jacobian_by_features(model, twin, X, q), expected,
                    rtol=1e-10, atol=1e-12 * float(expected.abs().max()))


def test_a_step_that_does_not_lower_the_residual_is_not_kept(monkeypatch):
    import symdp.finish as finish

    model = get_model("decreasing-returns", N=16)
    kw = tensor_kw(SMALL)
    policy = seeded_policy(model, model.architecture(), SMALL, **kw)
    grid = _pick_grid(model, SMALL, **kw)
    kept = [p.detach().clone() for _, p in policy.output_parameters()]
    # every proposed step overshoots by a factor of a million, whatever the damping
    solve_ = torch.linalg.solve
    monkeypatch.setattr(finish.torch.linalg, "solve", lambda A, g: 1e6 * solve_(A, g))
    state = Finish()
    finish_step(model, policy, grid.train, grid.draws.quadrature, state,
                torch.Generator().manual_seed(0))
    assert state.steps == 1 and state.kept == 0 and state.damping > Finish().damping
    for k, (_, p) in zip(kept, policy.output_parameters()):
        assert torch.equal(k, p)


@pytest.mark.parametrize("name", ["decreasing-returns", "vector-state"])
def test_in_the_linear_case_the_finish_reaches_the_exact_stationary_policy(name):
    model = get_model(name, N=16)
    # few nodes: the linear case's integrand is linear in the shocks, so any rule is exact
    config = replace(SMALL, max_epochs=4, val_tolerance=1e-12, finish_from=1, own_nodes=2,
                     quadrature_nodes=2)
    r = solve(model, model.architecture(), config)
    assert r.stationary
    assert any(row.get("finish") for row in r.history)
    assert r.policy_rel_error < 1e-5 and r.offpath_rel_error < 1e-5
    for name_, s in r.evaluation.slopes.items():
        assert_allclose(s["fit"], s["exact"], rtol=1e-4, err_msg=name_)


def test_adam_alone_takes_no_finish_step():
    model = get_model("decreasing-returns", N=16)
    r = solve(model, model.architecture(), replace(SMALL, max_epochs=3, finish_from=0))
    assert not any(row.get("finish") for row in r.history)


def test_the_decks_model_fits_with_adam_alone_by_default_and_the_agent_models_finish():
    assert has_output_layer(make_policy("relu"))
    assert SolverConfig().finish_from is None  # the model's own default
    r = solve(ModelParams(N=8), "identity", replace(SMALL, dtype="float32", max_epochs=3))
    assert not any(row.get("finish") for row in r.history)
    model = get_model("decreasing-returns", N=16)
    r = solve(model, model.architecture(), replace(SMALL, max_epochs=3, val_tolerance=1e-14))
    assert any(row.get("finish") for row in r.history)


def test_the_decks_networks_name_their_output_layer():
    assert [n for n, _ in make_policy("relu").output_parameters()] == ["rho.8.weight",
                                                                        "rho.8.bias"]
    assert [n for n, _ in make_policy("none", N=4).output_parameters()] == ["net.8.weight",
                                                                             "net.8.bias"]


@pytest.mark.parametrize("phi", ["identity", "relu", "none"])
def test_the_decks_networks_finish_when_asked_and_reach_the_lq_policy(phi):
    # the stationary LQ policy H0 + H1 mean(X) is in the span of rho's last hidden features
    config = replace(SMALL, max_epochs=4, val_tolerance=1e-12, finish_from=1, quadrature_nodes=2)
    r = solve(ModelParams(N=16), phi, config)
    assert any(row.get("finish") for row in r.history)
    assert r.stationary and r.policy_rel_error < 1e-5


def test_finish_from_must_be_a_nonnegative_integer():
    with pytest.raises(ValueError, match="finish_from must be None or an integer >= 0"):
        SolverConfig(finish_from=-1)


def test_a_finishing_fit_that_misses_the_tolerance_returns_its_best_validated_network():
    from symdp.solver import _Best

    policy = torch.nn.Linear(2, 1)
    best = _Best()
    best.offer(policy, float("nan"))  # a skipped validation is no candidate
    assert best.state is None
    best.offer(policy, 1e-6)
    good = {k: v.clone() for k, v in policy.state_dict().items()}
    with torch.no_grad():
        policy.weight.add_(1.0)
    best.offer(policy, 1e-3)  # worse: not kept
    assert not best.restore(policy, 1e-7)  # the last validated weights are better: kept
    assert best.restore(policy, float("inf"))  # diverged: the best comes back
    for k, v in policy.state_dict().items():
        assert torch.equal(v, good[k])
