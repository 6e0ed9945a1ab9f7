"""Parameters of the N-firm investment model (Lucas and Prescott, 1971, with N firms).

The industry has N firms. Firm i's capital follows

.. math::

    X_i' = (1 - \\delta) X_i + u(X) + \\sigma W_i + \\eta \\omega,
    \\qquad W_i, \\omega \\sim \\mathcal{N}(0, 1) \\text{ i.i.d.},

faces the inverse demand :math:`p(X) = 1 - \\frac{1}{N}\\sum_i X_i^\\nu` and pays
:math:`\\frac{\\gamma}{2} u^2` to invest u. Defaults are the deck's calibration.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

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

    N: int = 128  # number of firms
    beta: float = 0.95  # discount factor
    gamma: float = 90.0  # investment adjustment cost
    delta: float = 0.05  # depreciation
    sigma: float = 0.005  # idiosyncratic shock sd
    eta: float = 0.001  # aggregate shock sd
    nu: float = 1.0  # demand curvature (1 = linear demand, LQ case)
    x0_loc: float = 0.9  # mean of initial capital
    x0_scale: float = 0.05  # sd of initial capital

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{f.name} must be a real number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{f.name} must be finite, got {value!r}")
        if isinstance(self.N, float):
            if not self.N.is_integer():
                raise ValueError(f"N must be an integer >= 1, got {self.N!r}")
            object.__setattr__(self, "N", int(self.N))
        _check(self.N >= 1, "N", "an integer >= 1", self.N)
        _check(0.0 < self.beta < 1.0, "beta", "in (0, 1)", self.beta)
        _check(self.gamma > 0.0, "gamma", "> 0", self.gamma)
        _check(0.0 < self.delta <= 1.0, "delta", "in (0, 1]", self.delta)
        _check(self.sigma >= 0.0, "sigma", ">= 0", self.sigma)
        _check(self.eta >= 0.0, "eta", ">= 0", self.eta)
        _check(self.nu >= 1.0, "nu", ">= 1", self.nu)
        _check(self.x0_scale >= 0.0, "x0_scale", ">= 0", self.x0_scale)

    @property
    def is_linear(self) -> bool:
        """True when demand is linear (nu = 1) and the LQ benchmark applies."""
        return self.nu == 1.0

    def replace(self, **changes) -> "ModelParams":
        """A copy with some fields changed (validated again)."""
        return ModelParams(**{**asdict(self), **changes})

    def to_dict(self) -> dict:
        return asdict(self)


def _check(ok: bool, name: str, allowed: str, value) -> None:
    if not ok:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
