"""What one draw of the own shock costs (symdp.studies.own_shock), at the exact linear family."""

import pytest

from symdp.models import get_model
from symdp.studies.own_shock import linear_family_fit, residual_sources


def test_the_own_shock_dominates_the_one_draw_residual_only_where_the_policy_uses_it():
    e1 = residual_sources(get_model("decreasing-returns", N=64))
    assert e1["own"] > 3 * e1["others"] > 0
    e2 = residual_sources(get_model("two-types", N=64))
    assert e2["own"] < 1e-12 and e2["others"] > 1e-4


@pytest.mark.parametrize("name, own_slope", [("decreasing-returns", "H2"), ("vector-state", "H3")])
def test_one_draw_of_the_own_shock_biases_the_fit_and_quadrature_removes_the_bias(name, own_slope):
    model = get_model(name, N=64)
    biased, integrated = linear_family_fit(model, 0), linear_family_fit(model, 3)
    exact = biased["exact"][own_slope]
    assert abs(biased["fitted"][own_slope]) < abs(exact) * 0.99  # pulled towards zero
    assert biased["policy_error"] > 1e-3
    assert integrated["policy_error"] < 1e-8
    assert integrated["fitted"][own_slope] == pytest.approx(exact, rel=1e-8)
