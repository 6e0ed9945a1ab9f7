"""A reader's own model (chapter "Writing your own model"): the validation helpers are public,
and a Model subclass reaches ``get_model``, the command line and the sweeps' task by its import
path, without an edit to symdp."""

from __future__ import annotations

import json
import textwrap

import pytest
import torch

from symdp import models
from symdp.cli import main
from symdp.models import DecreasingReturns, get_model, model_class
from symdp.runs.tasks import solve_task

# A reader's module: E1 written against the public API only.
OWN_MODEL = textwrap.dedent('''
    from dataclasses import dataclass

    from symdp import ModelParams
    from symdp.models import Model, check, param, validate
    from symdp.models.decreasing_returns import LinearAgentPolicy
    from symdp.models.linear import decreasing_returns_solutions, kappa_threshold


    @dataclass(frozen=True)
    class MyParams(ModelParams):
        kappa: float = param(0.5, "> kappa_threshold(beta, gamma, delta)", lambda v: True,
                             "cost of size")

        def __post_init__(self):
            validate(self)
            low = kappa_threshold(self.beta, self.gamma, self.delta)
            check(self.kappa > low, "kappa", f"> {low:.4g}", self.kappa)


    class MyModel(Model):
        name = "my-model"
        Params = MyParams
        linear_parameters = ("beta", "gamma", "delta", "kappa")

        def transition(self, x, u, W, omega, types):
            p = self.params
            return ((1 - p.delta) * x[..., 0] + u + p.sigma * W[..., 0]
                    + p.eta * omega).unsqueeze(-1)

        def aggregates(self, X):
            return (1 - X[..., 0].pow(self.params.nu).mean(-1)).unsqueeze(-1)

        def euler_lhs(self, u, types):
            return self.params.gamma * u

        def euler_integrand(self, x_next, agg_next, u_next, types):
            p = self.params
            return agg_next[..., 0] - p.kappa * x_next[..., 0] + p.gamma * (1 - p.delta) * u_next

        def exact_solutions(self):
            p = self.params
            return decreasing_returns_solutions(p.beta, p.gamma, p.delta, p.kappa)

        def exact_policy(self, solution=None):  # also draws the first grid
            c = (solution or self.exact_solutions()[0]).coefficients
            return LinearAgentPolicy(c["H0"], [c["H2"]], [c["H1"]]) if self.is_linear else None


    NOT_A_MODEL = 3
''')


@pytest.fixture
def own_module(tmp_path, monkeypatch):
    (tmp_path / "my_own_model.py").write_text(OWN_MODEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "my_own_model:MyModel"


def test_the_validation_helpers_are_public_in_symdp_models():
    for name in ("param", "validate", "check", "model_class"):
        assert name in models.__all__ and callable(getattr(models, name))
    with pytest.raises(ValueError, match=r"^kappa must be > 0, got -1$"):
        models.check(False, "kappa", "> 0", -1)


def test_get_model_takes_the_import_path_of_a_model_subclass(own_module):
    model = get_model(own_module, N=8, kappa=0.25)
    assert type(model).__name__ == "MyModel" and model.params.kappa == 0.25
    assert model_class("decreasing-returns") is DecreasingReturns
    assert get_model("symdp.models.decreasing_returns:DecreasingReturns", N=8).params.N == 8
    X = torch.rand(3, 8, 1)
    assert torch.equal(model.aggregates(X), get_model("decreasing-returns", N=8).aggregates(X))


def test_a_readers_bad_parameter_raises_naming_it_and_its_range(own_module):
    with pytest.raises(ValueError, match=r"^kappa must be > -0\.4618, got -1\.0$"):
        get_model(own_module, kappa=-1.0)


@pytest.mark.parametrize("value, says", [
    ("no_such_module_here:MyModel", "cannot import module 'no_such_module_here'"),
    ("my_own_model:Missing", "has no class 'Missing'"),
    ("my_own_model:NOT_A_MODEL", "NOT_A_MODEL is not a subclass of symdp.models.Model"),
    ("my_own_model:MyParams", "MyParams is not a subclass of symdp.models.Model"),
    ("no-such-name", "model must be one of"),
    (":MyModel", "cannot import module ''"),
    (".relative:MyModel", "cannot import module '.relative'"),
])
def test_a_missing_module_or_class_or_a_non_model_is_a_value_error_naming_the_value(
        own_module, value, says):
    with pytest.raises(ValueError) as err:
        get_model(value)
    assert says in str(err.value) and repr(value) in str(err.value)


def test_symdp_lq_reaches_a_readers_model_by_its_import_path(own_module, capsys):
    assert main(["lq", "--model", own_module, "--kappa", "0.3", "--json"]) == 0
    own = json.loads(capsys.readouterr().out)
    assert main(["lq", "--model", "decreasing-returns", "--kappa", "0.3", "--json"]) == 0
    assert own == json.loads(capsys.readouterr().out)


def test_a_readers_model_gets_its_parameter_flags_and_bad_values_exit_2_in_one_line(
        own_module, capsys):
    with pytest.raises(SystemExit):
        main(["solve", "--model", own_module, "--help"])
    assert "--kappa" in capsys.readouterr().out
    for argv in (["lq", "--model", own_module, "--kappa", "-1"],
                 ["solve", "--model", own_module, "--kappa", "-1"],
                 ["solve", "--model", "my_own_model:Missing"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("symdp: error: argument --")
        assert ("--kappa: kappa must be > -0.4618" in err
                or "--model: model 'my_own_model:Missing'" in err)


def test_symdp_solve_fits_a_readers_model_by_its_import_path(own_module, capsys):
    assert main(["solve", "--model", own_module, "--N", "8", "--max-epochs", "1",
                 "--test-trajectories", "2", "--threads", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "my-model" and out["epochs"] == 1.0


def test_solve_task_runs_a_readers_model_by_its_import_path(own_module):
    out = solve_task({"N": 8}, {"phi": "relu"}, {"max_epochs": 1, "test_trajectories": 2,
                                                 "threads": 1}, name=own_module)
    assert out["model"] == "my-model" and out["epochs"] == 1.0
