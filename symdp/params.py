"""Parameters of the N-firm investment model (Lucas and Prescott, 1971, with N firms).

The industry has N firms. Firm i's capital follows

.. math::

    X_i' = (1 - \\delta) X_i + u(X) + \\sigma W_i + \\eta \\omega,
    \\qquad W_i, \\omega \\sim \\mathcal{N}(0, 1) \\text{ i.i.d.},

faces the inverse demand :math:`p(X) = 1 - \\frac{1}{N}\\sum_i X_i^\\nu` and pays
:math:`\\frac{\\gamma}{2} u^2` to invest u. Defaults are the deck's calibration.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ._checks import param, validate

__all__ = ["ModelParams"]


@dataclass(frozen=True)
class ModelParams:
    """Primitive parameters of the investment model, validated on construction.

    Parameters
    ----------
    N : int
        Number of firms, N >= 1.
    beta : float
        Discount factor, in (0, 1).
    gamma : float
        Adjustment-cost curvature in :math:`\\frac{\\gamma}{2}u^2`, > 0.
    delta : float
        Depreciation rate, in (0, 1].
    sigma : float
        Standard deviation of the idiosyncratic shock W_i, >= 0.
    eta : float
        Standard deviation of the aggregate shock omega, >= 0.
    nu : float
        Curvature of demand, :math:`p(X) = 1 - \\mathrm{mean}(X^\\nu)`, >= 1; nu = 1 is the
        linear-quadratic case with a closed-form solution.
    x0_loc, x0_scale : float
        Initial capital is drawn per firm as :math:`|\\mathcal{N}(x0\\_loc, x0\\_scale^2)|`,
        as in the paper's code; x0_loc finite, x0_scale >= 0.
    """

    N: int = param(128, "an integer >= 1", lambda v: isinstance(v, int) and v >= 1,
                   "number of firms")
    beta: float = param(0.95, "in (0, 1)", lambda v: 0.0 < v < 1.0, "discount factor")
    gamma: float = param(90.0, "> 0", lambda v: v > 0.0, "investment adjustment cost")
    delta: float = param(0.05, "in (0, 1]", lambda v: 0.0 < v <= 1.0, "depreciation")
    sigma: float = param(0.005, ">= 0", lambda v: v >= 0.0, "idiosyncratic shock sd")
    eta: float = param(0.001, ">= 0", lambda v: v >= 0.0, "aggregate shock sd")
    nu: float = param(1.0, ">= 1", lambda v: v >= 1.0,
                      "demand curvature (1 = linear demand, the LQ case)")
    x0_loc: float = param(0.9, "finite", lambda v: True, "mean of initial capital")
    x0_scale: float = param(0.05, ">= 0", lambda v: v >= 0.0, "sd of initial capital")

    def __post_init__(self) -> None:
        validate(self)

    @property
    def is_linear(self) -> bool:
        """True when demand is linear (nu = 1) and the LQ benchmark applies."""
        return self.nu == 1.0

    def replace(self, **changes) -> "ModelParams":
        """A copy with some fields changed (validated again)."""
        return type(self)(**{**asdict(self), **changes})

    def to_dict(self) -> dict:
        return asdict(self)
