"""The model interface: the method's steps for any model, checked on the three extensions'
exact linear solutions, and the deck's model as one instance of it."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from symdp import ModelParams, SolverConfig, solve
from symdp.cli import main
from symdp.models import (MODELS, AgentEvaluation, DecreasingReturns, Investment, Model,
                          TwoTypes, VectorState, as_model, get_model)
from symdp.models.base import OFFSETS
from symdp.networks import AgentDeepSet
from symdp.solver import first_draws, tensor_kw

EXTENSIONS = ("decreasing-returns", "two-types", "vector-state")
F64 = SolverConfig(dtype="float64", threads=1)


def _draws(model: Model, **config):
    cfg = replace(F64, **config)
    kw = tensor_kw(cfg)
    return first_draws(model, cfg, **kw), kw


def _states(model: Model, policy, draws, n=3, T=12):
    return model.simulate(policy, draws.X0, n, T, draws.gen).reshape(-1, *draws.X0.shape)


@pytest.mark.parametrize("name", EXTENSIONS)
def test_the_exact_policy_zeroes_the_quadrature_residual_and_the_monte_carlo_one(name):
    model = get_model(name, N=24)
    draws, kw = _draws(model)
    exact = model.exact_policy().to(**kw)
    X = model.widen(_states(model, exact, draws), draws.quadrature, draws.gen)
    r = model.euler_residual(exact, X, draws.quadrature)
    assert r.shape == (X.shape[0], len(draws.quadrature.agents))
    assert float(r.abs().max()) < 1e-12
    mc = model.monte_carlo_residual(exact, X[3], draws.quadrature.agents, 64,
                                    torch.Generator().manual_seed(0))
    assert float(mc.abs().max()) < 1e-12  # linear in the shocks: antithetic pairs are exact


@pytest.mark.parametrize("name, biased", [("decreasing-returns", True), ("two-types", False),
                                          ("vector-state", True)])
def test_one_draw_of_the_own_shock_biases_the_residual_where_the_policy_uses_the_own_state(
        name, biased):
    model = get_model(name, N=24)
    draws, kw = _draws(model, own_nodes=0)
    exact = model.exact_policy().to(**kw)
    r = model.euler_residual(exact, _states(model, exact, draws), draws.quadrature)
    assert (float(r.abs().max()) > 1e-3) == biased


@pytest.mark.parametrize("name", EXTENSIONS)
def test_the_exact_policy_passes_its_own_evaluation(name):
    model = get_model(name, N=24)
    draws, kw = _draws(model)
    exact = model.exact_policy().to(**kw)
    ev = model.evaluate(exact, draws.X0, draws.quadrature, 4, 20, torch.Generator().manual_seed(1))
    assert isinstance(ev, AgentEvaluation) and ev.stationary, ev.reason
    assert ev.policy_rel_error < 1e-12 and ev.offpath_rel_error < 1e-12
    assert ev.test_mse < 1e-24
    for name_, s in ev.slopes.items():
        assert_allclose(s["fit"], s["exact"], rtol=1e-8, atol=1e-12, err_msg=name_)
    for state, slope in ev.own_slope_exact.items():
        assert_allclose(ev.own_slope_fit[state], slope, rtol=1e-6)


def test_a_non_stationary_exact_solution_fails_the_evaluation():
    model = get_model("decreasing-returns", N=24)
    draws, kw = _draws(model)
    own_stable = [s for s in model.exact_solutions() if abs(s.roots[0]) < 1 < abs(s.roots[1])]
    assert len(own_stable) == 1  # each firm's own capital mean-reverts, the industry's explodes
    explosive = model.exact_policy(own_stable[0]).to(**kw)
    ev = model.evaluate(explosive, draws.X0, draws.quadrature, 4, 63,
                        torch.Generator().manual_seed(1))
    assert not ev.stationary


def test_off_path_states_move_the_agents_own_state_by_the_offsets():
    model = get_model("vector-state", N=16)
    draws, kw = _draws(model)
    exact = model.exact_policy().to(**kw)
    X = _states(model, exact, draws, n=1, T=3)[:2]
    out = model._off_path(exact, exact, X, draws.quadrature.agents)
    assert out["u_offpath"].shape == (2 * 2 * len(OFFSETS), len(draws.quadrature.agents))


def test_the_grid_is_widened_at_the_residual_agents_only_and_within_the_spread():
    model = get_model("decreasing-returns", N=32)
    draws, kw = _draws(model, agents=4)
    X = _states(model, model.exact_policy().to(**kw), draws)
    Y = model.widen(X, draws.quadrature, draws.gen)
    idx = draws.quadrature.agents
    others = torch.ones(32, dtype=torch.bool)
    others[idx] = False
    assert torch.equal(Y[:, others], X[:, others])
    moved = (Y[:, idx] - X[:, idx]).abs()
    assert float(moved.max()) <= model.grid_spread and float(moved.max()) > 0.5 * model.grid_spread


def test_an_agent_deep_set_is_permutation_equivariant_and_its_head_is_its_forward():
    torch.manual_seed(0)
    net = AgentDeepSet(2, "relu", zero_last=False).double()
    F = torch.rand(5, 9, 2, dtype=torch.float64)
    perm = torch.randperm(9)
    assert_allclose(net(F[:, perm]).detach(), net(F)[:, perm].detach(), rtol=1e-12)
    e = net.embed(F).unsqueeze(-2)
    assert_allclose(net.head(F, e).detach(), net(F).detach(), rtol=1e-12)


def test_the_bias_free_scalar_phi_is_evaluated_exactly_from_two_points():
    torch.manual_seed(0)
    net = AgentDeepSet(1, "relu").double()
    F = torch.randn(7, 1, dtype=torch.float64)
    assert_allclose(net.phi(F).detach(), net.phi_net(F).detach(), rtol=1e-12, atol=1e-14)


def test_two_types_pools_each_group_invariance_within_types_only():
    model = get_model("two-types", N=8)
    torch.manual_seed(0)
    net = model.make_policy(model.architecture()).double()
    for p in net.rho.last.parameters():
        torch.nn.init.normal_(p)
    X = torch.rand(1, 8, 1, dtype=torch.float64)
    within = torch.tensor([1, 0, 3, 2, 5, 4, 7, 6])  # swaps inside A (0-3) and inside B (4-7)
    across = torch.tensor([4, 1, 2, 3, 0, 5, 6, 7])  # swaps a firm of A with one of B
    u = net(model.features(X))
    assert_allclose(net(model.features(X[:, within])).detach(), u[:, within].detach(),
                    rtol=1e-12)
    assert not torch.allclose(net(model.features(X[:, across])), u[:, across])


def test_the_decks_model_is_one_instance_and_solves_as_before():
    params = ModelParams(N=8)
    cfg = SolverConfig(max_epochs=1, test_trajectories=4, threads=1, seed=3)
    a = solve(params, "identity", cfg).scalars()
    b = solve(Investment(params), "identity", cfg).scalars()
    for r in (a, b):
        r.pop("fit_seconds"), r.pop("test_seconds")
    assert a == b and as_model(params).params is params
    assert [s.coefficients for s in as_model(params).exact_solutions()][0]["H1"] < 0


def test_an_extension_solves_through_the_same_solver():
    r = solve(get_model("decreasing-returns", N=16), "relu",
              SolverConfig(max_epochs=1, test_trajectories=4, threads=1))
    s = r.scalars()
    assert s["model"] == "decreasing-returns" and s["epochs"] == 1.0
    assert set(s["slopes"]) == {"H0", "H1", "H2"} and "x" in s["own_slopes"]
    assert np.isfinite(s["policy_rel_error"]) and np.isfinite(s["offpath_rel_error"])
    assert r.success == (r.converged and r.stationary)


@pytest.mark.parametrize("name, values, allowed", [
    ("decreasing-returns", {"kappa": -1.0}, "kappa must be > -0.4618"),
    ("two-types", {"share_a": 0.3}, "share_a must be such that share_a * N is an integer"),
    ("two-types", {"share_a": 1.0}, "share_a must be in (0, 1)"),
    ("two-types", {"theta": (1.0, -1.0)}, "theta must be > 0 for both types"),
    ("vector-state", {"rho": 1.0}, "rho must be in (-1, 1)"),
    ("vector-state", {"nu": 0.5}, "nu must be >= 1"),
])
def test_bad_parameters_raise_naming_the_parameter_and_its_range(name, values, allowed):
    with pytest.raises(ValueError) as err:
        get_model(name, **values)
    assert str(err.value).startswith(allowed)


def test_models_are_listed_with_their_parameters_and_ranges(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in MODELS:
        assert f"\n{name}: " in "\n" + out
    assert "--share-a 0.5" in out and "--sigma-z 0.01" in out and "[in (-1, 1)" in out


def test_lq_prints_every_exact_solution_with_the_stationary_one_named(capsys):
    argv = ["lq", "--model", "decreasing-returns", "--beta", "0.95", "--gamma", "90",
            "--delta", "0.05", "--kappa", "0.5", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert_allclose([out["stationary"][k] for k in ("H0", "H1", "H2")],
                    [0.06031656846452, -0.03950297471174, -0.02882860894693], atol=1e-10)
    assert len(out["others"]) == 3 and not any(o["stationary"] for o in out["others"])
    assert main(["lq", "--model", "two-types", "--share-a", "0.5", "--theta", "1", "1.2",
                 "--gamma", "90", "90", "--delta", "0.05", "0.10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert_allclose(out["stationary"]["h0"], [0.07045183626444, 0.06202049550331], atol=1e-10)
    assert main(["lq", "--model", "vector-state", "--rho", "0.9", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert_allclose(out["stationary"]["H3"], 0.04336996549954, atol=1e-10)


@pytest.mark.parametrize("argv, flag", [
    (["lq", "--model", "decreasing-returns", "--kappa", "-1"], "--kappa"),
    (["lq", "--model", "vector-state", "--rho", "1.5"], "--rho"),
    (["solve", "--model", "two-types", "--share-a", "0.3"], "--share-a"),
    (["solve", "--model", "two-types", "--theta", "1"], "--theta"),
    (["solve", "--model", "nope"], "--model"),
    (["solve", "--model", "decreasing-returns", "--own-nodes", "-1"], "--own-nodes"),
])
def test_bad_model_values_exit_2_with_one_line(argv, flag, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0]


def test_solve_json_for_an_extension_reports_the_off_path_error_and_slopes(capsys):
    assert main(["solve", "--model", "vector-state", "--N", "16", "--max-epochs", "1",
                 "--test-trajectories", "4", "--threads", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "vector-state" and out["offpath_rel_error"] is not None
    assert set(out["slopes"]) == {"H0", "H1", "H2", "H3", "H4"}
    assert set(out["own_slopes"]) == {"x", "z"}
    assert out["own_slopes"]["z"]["exact"] == pytest.approx(0.04336996549954, abs=1e-10)


def test_every_model_is_registered_under_its_name():
    assert list(MODELS) == ["investment", *EXTENSIONS]
    assert {MODELS[n] for n in EXTENSIONS} == {DecreasingReturns, TwoTypes, VectorState}


@pytest.mark.parametrize("nu", [1.0, 1.5])
def test_the_model_fit_figure_draws_the_fit_against_the_exact_solution(nu):
    import matplotlib

    matplotlib.use("Agg")
    from symdp.book.figures import model_fit

    r = solve(get_model("vector-state", N=16, nu=nu), "relu",
              SolverConfig(max_epochs=1, test_trajectories=4, threads=1))
    fig = model_fit(r.evaluation, title="E3")
    a, b = fig.axes[:2]
    if nu == 1.0:
        assert len(a.lines) == 3 and a.get_xlabel() == "exact action"
        labels = [t.get_text() for t in b.get_yticklabels()]
        assert labels == ["H0", "H1", "H2", "H3", "H4", "d u / d x", "d u / d z"]
    else:  # no exact policy: the residuals by date, and the own slopes that stay exact
        assert a.get_ylabel() == "|Euler residual|"
        assert [t.get_text() for t in b.get_yticklabels()] == ["d u / d x", "d u / d z"]


def test_the_aggregate_spread_moves_each_types_agents_together():
    model = get_model("two-types", N=16)
    draws, kw = _draws(model, agents=2)
    X = _states(model, model.exact_policy().to(**kw), draws)
    Y = model.widen(X, draws.quadrature, draws.gen)
    types = model.types()
    others = torch.ones(16, dtype=torch.bool)
    others[draws.quadrature.agents] = False
    for g in (0, 1):
        shift = (Y - X)[:, others & (types == g), 0]  # (states, agents of type g)
        assert torch.allclose(shift, shift[:, :1].expand_as(shift), atol=1e-15)
        assert float(shift.abs().max()) <= model.aggregate_spread
    assert not torch.allclose((Y - X)[:, others & (types == 0), 0][:, 0],
                              (Y - X)[:, others & (types == 1), 0][:, 0])


def test_a_linear_map_beside_rho_starts_at_zero_and_is_for_agent_models_only():
    from symdp.networks import ArchitectureConfig, make_policy

    model = get_model("vector-state", N=8)
    arch = model.architecture()
    assert arch.phi == "identity" and arch.rho_linear
    net = model.make_policy(arch).double()
    F = model.features(torch.rand(3, 8, 2, dtype=torch.float64))
    assert torch.equal(net(F), torch.zeros(3, 8, dtype=torch.float64))
    torch.nn.init.normal_(net.rho_skip.weight)
    assert not torch.equal(net(F), torch.zeros(3, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match="rho_linear"):
        make_policy(ArchitectureConfig(rho_linear=True), N=8)


@pytest.mark.parametrize("name", EXTENSIONS)
def test_the_quadrature_residual_takes_the_aggregate_shock_at_its_scale(name):
    """With no idiosyncratic shocks and a large aggregate one, the quadrature (exact over omega
    up to Gauss-Hermite's degree) and a long Monte Carlo average of a curved policy agree; a
    residual that scaled the shock twice (eta^2 instead of eta) would not."""
    model = get_model(name, N=8, nu=1.5, sigma=0.0, eta=0.05, **(
        {"sigma_z": 0.0} if name == "vector-state" else {}))
    draws, kw = _draws(model)
    torch.manual_seed(0)
    net = model.make_policy(model.architecture()).double()
    for p in net.rho.last.parameters():
        torch.nn.init.normal_(p, std=0.01)
    X = model.initial_state(torch.Generator().manual_seed(2), **kw).unsqueeze(0)
    quad = model.euler_residual(net, X, draws.quadrature)[0]
    mc = model.monte_carlo_residual(net, X[0], draws.quadrature.agents, 20_000,
                                    torch.Generator().manual_seed(3))
    assert_allclose(quad.detach(), mc, rtol=0, atol=2e-4)
    twice = replace(model.params, eta=0.05**2)
    wrong = type(model)(twice).euler_residual(net, X, draws.quadrature)[0]
    assert (wrong - quad).abs().max() > 1e-3  # the check can tell the two apart
