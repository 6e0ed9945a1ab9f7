import math

import pytest

from symdp import ModelParams


def test_defaults_are_the_decks_calibration():
    p = ModelParams()
    assert (p.N, p.beta, p.gamma, p.delta, p.sigma, p.eta, p.nu) == (
        128, 0.95, 90.0, 0.05, 0.005, 0.001, 1.0)
    assert (p.x0_loc, p.x0_scale) == (0.9, 0.05)
    assert p.is_linear


@pytest.mark.parametrize(
    "field, value, allowed",
    [
        ("beta", 0.0, "in (0, 1)"),
        ("beta", 1.0, "in (0, 1)"),
        ("gamma", 0.0, "> 0"),
        ("gamma", -1.0, "> 0"),
        ("delta", 0.0, "in (0, 1]"),
        ("delta", 1.5, "in (0, 1]"),
        ("sigma", -0.1, ">= 0"),
        ("eta", -1e-9, ">= 0"),
        ("nu", 0.5, ">= 1"),
        ("N", 0, "an integer >= 1"),
        ("N", 2.5, "an integer >= 1"),
        ("x0_scale", -1.0, ">= 0"),
    ],
)
def test_bad_values_raise_naming_parameter_and_range(field, value, allowed):
    with pytest.raises(ValueError) as err:
        ModelParams(**{field: value})
    msg = str(err.value)
    assert msg.startswith(field + " ") and allowed in msg


@pytest.mark.parametrize("field", ["N", "beta", "gamma", "delta", "sigma", "eta", "nu", "x0_loc"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_rejected_everywhere(field, value):
    with pytest.raises(ValueError, match=f"^{field} must be finite"):
        ModelParams(**{field: value})


def test_non_numbers_rejected():
    with pytest.raises(ValueError, match="^N must be a real number"):
        ModelParams(N="128")
    with pytest.raises(ValueError, match="^nu must be a real number"):
        ModelParams(nu=True)


def test_integral_float_N_is_accepted_as_int_and_frozen():
    p = ModelParams(N=256.0)
    assert p.N == 256 and isinstance(p.N, int)
    with pytest.raises(AttributeError):
        p.N = 3  # frozen
    assert p.replace(nu=1.5).nu == 1.5 and not p.replace(nu=1.5).is_linear
    with pytest.raises(ValueError, match="^beta"):
        p.replace(beta=2.0)
