"""The appendix regression example (Table 1): data, networks, fit and table layout."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from symdp.studies.regression import (
    TABLE1_N,
    RegressionConfig,
    Standardized,
    fit_regression,
    fit_regressor,
    generalized_mean,
    make_regressor,
    regression_table,
    sample,
)

torch.set_num_threads(1)

SMALL = RegressionConfig(test_points=200, max_steps=300)


# --- the data-generating process ---------------------------------------------------------------

@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_generalized_mean_closed_forms(lib):
    rng = np.random.default_rng(0)
    X = rng.uniform(0.5, 2.0, size=(5, 7))
    if lib == "torch":
        X = torch.as_tensor(X)
    as_np = lambda t: np.asarray(t)  # noqa: E731
    # zeta = 1: arithmetic mean; zeta = 2: root mean square; zeta = 0: geometric mean
    np.testing.assert_allclose(as_np(generalized_mean(X, 1.0)), as_np(X).mean(-1), rtol=1e-12)
    np.testing.assert_allclose(as_np(generalized_mean(X, 2.0)),
                               np.sqrt((as_np(X) ** 2).mean(-1)), rtol=1e-12)
    np.testing.assert_allclose(as_np(generalized_mean(X, 0.0)),
                               np.exp(np.log(as_np(X)).mean(-1)), rtol=1e-12)
    # a hand-computed value: ((sqrt(1) + sqrt(4)) / 2)^2 = 2.25
    pair = torch.tensor([1.0, 4.0], dtype=torch.float64) if lib == "torch" else np.array([1.0, 4.0])
    assert float(generalized_mean(pair, 0.5)) == pytest.approx(2.25, rel=1e-14)
    # power-mean inequality: M_zeta increases in zeta
    means = [as_np(generalized_mean(X, z)) for z in (-1.0, 0.0, 1.0, 1.5, 3.0)]
    assert all(np.all(a < b) for a, b in zip(means, means[1:]))


@pytest.mark.parametrize("zeta", [-2.0, 0.0, 0.5, 1.0, 1.5, 4.0])
def test_generalized_mean_of_a_constant_vector_is_the_constant(zeta):
    X = np.full((3, 11), 1.7)
    np.testing.assert_allclose(generalized_mean(X, zeta), 1.7, rtol=1e-13)


def test_generalized_mean_is_permutation_invariant():
    X = torch.rand(4, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.1
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(generalized_mean(X[:, perm], 1.5), generalized_mean(X, 1.5),
                               rtol=1e-14, atol=0)


def test_generalized_mean_rejects_negative_inputs():
    with pytest.raises(ValueError, match="X > 0"):
        generalized_mean(np.array([1.0, -0.5]), 1.5)
    with pytest.raises(ValueError, match="zeta"):
        generalized_mean(np.array([1.0, 2.0]), math.inf)


def test_sample_shapes_targets_and_determinism():
    cfg = RegressionConfig()
    X, y = sample(16, 50, cfg, torch.Generator().manual_seed(0))
    assert X.shape == (50, 16) and y.shape == (50,) and X.dtype == torch.float64
    assert bool((X > 0).all())
    torch.testing.assert_close(y, generalized_mean(X, 1.5), rtol=0, atol=0)
    X2, y2 = sample(16, 50, cfg, torch.Generator().manual_seed(0))
    assert torch.equal(X, X2) and torch.equal(y, y2)


def test_sample_without_noise_gives_the_uniform_location():
    # sigma = 0: every x_i equals a, so y = a ~ U(a_min, a_max)
    cfg = RegressionConfig(sigma=0.0, a_min=1.0, a_max=2.0)
    X, y = sample(5, 2000, cfg, torch.Generator().manual_seed(3))
    torch.testing.assert_close(X, y[:, None].expand_as(X), rtol=1e-14, atol=0)
    assert 1.0 <= float(y.min()) and float(y.max()) <= 2.0
    assert float(y.mean()) == pytest.approx(1.5, abs=0.03)  # sd of the mean ~ 0.0065


def test_sample_rejects_nonpositive_draws():
    # a = 0.05 with sigma = 1: about half the raw draws are <= 0 and must be redrawn
    cfg = RegressionConfig(a_min=0.05, a_max=0.06, sigma=1.0)
    X, y = sample(30, 40, cfg, torch.Generator().manual_seed(0))
    assert bool((X > 0).all()) and bool(torch.isfinite(y).all())


# --- networks ----------------------------------------------------------------------------------

def _permutation_gap(net, N, seed=0):
    X, _ = sample(N, 64, RegressionConfig(), torch.Generator().manual_seed(seed))
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        return float((net(X.float()) - net(X[:, perm].float())).abs().max())


@pytest.mark.parametrize("L", [1, 4])
def test_deep_set_regressor_is_permutation_invariant(L):
    untrained = make_regressor(12, L, RegressionConfig(), seed=0)
    assert _permutation_gap(untrained, 12) < 1e-6
    trained, _ = fit_regressor(12, L, 0, SMALL)
    assert isinstance(trained, Standardized)
    assert _permutation_gap(trained, 12) < 1e-6


def test_non_symmetric_regressor_is_not_permutation_invariant():
    untrained = make_regressor(12, None, RegressionConfig(), seed=0)
    assert _permutation_gap(untrained, 12) > 1e-3
    trained, _ = fit_regressor(12, None, 0, SMALL)
    assert _permutation_gap(trained, 12) > 1e-3


def test_deep_set_phi_has_hidden_biases():
    # without them phi would be positively homogeneous and see only the mean of x (see config)
    net = make_regressor(4, 3, RegressionConfig(), seed=0)
    assert not net.phi.homogeneous and net.rho.hidden_bias


def test_training_on_table_1s_largest_n_evaluates_phi_at_every_input(monkeypatch):
    """M points of N inputs are too few for a table of phi to pay (``tabulate_from``): every
    training call evaluates phi directly; the test points, many more, are looked up."""
    from symdp import networks

    calls = []
    real = networks._lookup_mean
    monkeypatch.setattr(networks, "_lookup_mean",
                        lambda X, *table: calls.append(X.numel()) or real(X, *table))
    config = RegressionConfig(test_points=1000, max_steps=5)
    fit_regression(max(TABLE1_N), 4, 0, config)
    assert calls == [1000 * max(TABLE1_N)]  # the test points alone; the fit of M x N never


def test_make_regressor_validates_its_arguments():
    with pytest.raises(ValueError, match="L must be"):
        make_regressor(4, 0)
    with pytest.raises(ValueError, match="N must be"):
        make_regressor(0, 2)


# --- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("zeta", math.nan),
        ("a_min", 0.0),
        ("a_max", 1.0),  # not above a_min = 1
        ("sigma", -0.1),
        ("M", 0),
        ("M", 2.5),
        ("test_points", 0),
        ("phi_width", 0),
        ("phi_depth", 0),
        ("rho_depth", -1),
        ("none_depth", -1),
        ("lr", 0.0),
        ("max_steps", 0),
        ("train_tolerance", -1e-9),
        ("standardize", "yes"),
        ("dtype", "float16"),
        ("threads", 0),
    ],
)
def test_config_validation_names_the_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        RegressionConfig(**{name: value})


def test_config_defaults_are_the_decks_process():
    cfg = RegressionConfig()
    assert (cfg.zeta, cfg.a_min, cfg.a_max, cfg.sigma, cfg.M) == (1.5, 1.0, 2.0, 0.2, 10)
    assert cfg.threads == 1
    json.dumps(cfg.to_dict())


# --- fitting -----------------------------------------------------------------------------------

def test_fit_is_deterministic_given_the_seed():
    a = fit_regression(6, 2, 3, SMALL)
    b = fit_regression(6, 2, 3, SMALL)
    c = fit_regression(6, 2, 4, SMALL)
    assert a["rel_error"] == b["rel_error"] and a["steps"] == b["steps"]
    assert c["rel_error"] != a["rel_error"]


def test_fit_beats_the_trivial_predictor_by_far():
    r = fit_regression(16, 2, 0, RegressionConfig(test_points=500))
    json.dumps(r)  # JSON-ready for the sweep engine
    assert {"rel_error", "fit_seconds", "coefficients", "N", "L", "seed"} <= set(r)
    assert (r["N"], r["L"], r["seed"]) == (16, 2, 0)
    assert r["converged"] and r["train_mse"] <= 1e-7
    # predicting the training mean of y is off by ~18% (y ~ U(1, 2)); the deep set by < 2%
    assert 0.1 < r["trivial_rel_error"] < 0.3
    assert r["rel_error"] < 0.1 * r["trivial_rel_error"]


def test_fit_accepts_numpy_integers_and_reports_none_for_the_mlp():
    r = fit_regression(np.int64(4), None, np.int64(0), SMALL)
    assert r["L"] is None and type(r["N"]) is int and type(r["seed"]) is int
    assert r["coefficients"] == sum(p.numel() for p in make_regressor(4, None).parameters())


# --- the table ---------------------------------------------------------------------------------

def _fake_results():
    rows = []
    for N in (8, 2):
        for L in (20, None, 1):
            for seed, err in enumerate((0.03, 0.01, 0.02)):
                rows.append({"N": N, "L": L, "seed": seed, "rel_error": err * N * (L or 100)})
    return rows


def test_regression_table_layout_and_medians():
    import pandas as pd

    for results in (_fake_results(), pd.DataFrame(_fake_results())):
        t = regression_table(results)
        assert list(t.index) == [2, 8] and t.index.name == "N"
        assert list(t.columns) == [1, 20, "NONE"]
        assert t.loc[2, 1] == pytest.approx(0.02 * 2 * 1)
        assert t.loc[8, 20] == pytest.approx(0.02 * 8 * 20)
        assert t.loc[8, "NONE"] == pytest.approx(0.02 * 8 * 100)
    with pytest.raises(ValueError, match="rel_error"):
        regression_table([{"N": 2, "L": 1}])


def test_the_paper_grid_is_the_decks_table_1():
    from symdp.deck import DECK_TABLE1, TABLE1_COLUMNS
    from symdp.studies.regression import TABLE1_L, TABLE1_N

    assert TABLE1_N == tuple(DECK_TABLE1)
    assert (*TABLE1_L, "NONE") == TABLE1_COLUMNS
    assert all(len(row) == len(TABLE1_COLUMNS) for row in DECK_TABLE1.values())
