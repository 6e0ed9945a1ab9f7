"""Symmetry in a regression problem: the deck's appendix example and its Table 1.

The data-generating process is the generalized (power) mean of N exchangeable inputs,

.. math::

    y = f(X) = \\left(\\frac1N\\sum_{i=1}^N x_i^\\zeta\\right)^{1/\\zeta},
    \\qquad a \\sim \\mathcal U(a_{\\min}, a_{\\max}),
    \\quad x_i \\mid a \\overset{iid}{\\sim} \\mathcal N(a, \\sigma^2),

with :math:`\\zeta = 1.5`, :math:`a \\sim \\mathcal U(1, 2)`, :math:`\\sigma = 0.2` and only
M = 10 training points. f is permutation invariant and has an exact deep-set representation with
latent dimension L = 1: :math:`\\phi(x) = x^\\zeta`, :math:`\\rho(z) = z^{1/\\zeta}`.

We fit either a deep set :math:`\\hat f(X) = \\rho(\\frac1N\\sum_i\\phi(x_i))`,
:math:`\\phi:\\mathbb R\\to\\mathbb R^L`, or a non-symmetric MLP on the raw vector X ("NONE"), and
report the mean relative error :math:`|\\hat f(X) - f(X)| / |f(X)|` on fresh draws from the same
process. As N grows the deep set's input :math:`\\frac1N\\sum_i\\phi(x_i)` concentrates, so ten
points suffice to learn a one-dimensional map; the MLP must find the symmetric direction in
:math:`\\mathbb R^N` from ten points and generalizes worse as N grows.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Iterable, Mapping

import numpy as np
import torch
from torch import nn

from .._checks import integer
from ..networks import TABULATE_FROM, DeepSetPolicy, MLPPolicy, ReLUPhi, count_parameters
from ..solver import DTYPES

if TYPE_CHECKING:  # pandas is an optional dependency (the ``sweep`` extra)
    import pandas as pd

__all__ = [
    "RegressionConfig",
    "generalized_mean",
    "sample",
    "make_regressor",
    "Standardized",
    "train_regressor",
    "fit_regressor",
    "relative_error",
    "fit_regression",
    "regression_table",
    "TABLE1_N",
    "TABLE1_L",
]

#: The deck's Table 1 grid: rows N, columns latent dimension L (then the non-symmetric "NONE").
TABLE1_N = (2, 4, 8, 16, 32, 64, 128)
TABLE1_L = (1, 2, 3, 4, 5, 20)




@dataclass(frozen=True)
class RegressionConfig:
    """Settings of the regression experiment, validated on construction.

    The process (``zeta``, ``a_min``, ``a_max``, ``sigma``, ``M``) is the deck's. The deck does not
    give the networks; ours are:

    * phi: :class:`~symdp.networks.ReLUPhi` with ``phi_depth`` hidden layers of ``phi_width``
      units **with hidden biases**. Without hidden biases a ReLU network is positively
      homogeneous, :math:`h(x) = x^+ h(1) + x^- h(-1)`, so :math:`\\frac1N\\sum_i\\phi(x_i)` would
      only see the means of :math:`x^+` and :math:`x^-` (here, all :math:`x_i > 0`: only the
      plain mean), whatever L is. The target depends on the mean of :math:`x^\\zeta`, so phi
      needs biases to bend.
    * rho: :class:`~symdp.networks.MLP`, ``rho_depth`` hidden layers of ``rho_width`` units,
      with hidden biases.
    * NONE: :class:`~symdp.networks.MLPPolicy`, an MLP from :math:`\\mathbb R^N` with
      ``none_depth`` hidden layers of ``none_width`` units and hidden biases.

    All output layers start from PyTorch's default initialisation (not zero), so an untrained
    NONE network is already not permutation invariant.

    With ``standardize`` the network sees :math:`(x_i - x_0)/s_x` and predicts
    :math:`(y - y_0)/s_y`, where the four scalars are the mean and standard deviation of all
    training inputs and of the training targets (:class:`Standardized`). Scalar shifts keep the
    symmetry of the deep set; they spare Adam the thousands of steps it otherwise spends moving the
    output bias from 0 to :math:`\\bar y \\approx 1.5`.

    Training is full-batch Adam on the M points' mean squared error (in the units of y), for at
    most ``max_steps`` steps, stopped once the training MSE is <= ``train_tolerance``: the
    networks interpolate the ten points (RMSE 3e-4, 0.02% of y, well below the test errors).
    There is deliberately no validation set: the experiment is about what ten points teach.

    Parameters
    ----------
    zeta : float
        Exponent of the generalized mean, finite (0 means the geometric mean).
    a_min, a_max : float
        Bounds of the uniform location :math:`a`, 0 < a_min < a_max.
    sigma : float
        Standard deviation of :math:`x_i` around :math:`a`, >= 0. Draws are conditioned on
        :math:`x_i > 0` (rejection), which for the deck's values changes nothing measurable
        (:math:`x_i \\le 0` is a 5-sigma event).
    M : int
        Training points, >= 1.
    test_points : int
        Fresh points for the reported error, >= 1.
    phi_width, phi_depth, rho_width, rho_depth, none_width, none_depth : int
        Network sizes (widths >= 1, depths >= 0; phi_depth >= 1).
    lr : float
        Adam learning rate, > 0.
    max_steps : int
        Cap on full-batch Adam steps, >= 1.
    train_tolerance : float
        Stop when the training MSE is <= this, >= 0 (0: always run ``max_steps``).
    standardize : bool
        Standardize inputs and targets with training-set scalars (see above).
    dtype : str
        "float32" or "float64" for the networks (data are generated in float64).
    threads : int or None
        torch intra-op threads set by :func:`fit_regression` (None: leave as is).
    """

    zeta: float = 1.5
    a_min: float = 1.0
    a_max: float = 2.0
    sigma: float = 0.2
    M: int = 10  # training points
    test_points: int = 1000  # fresh points for the reported error
    phi_width: int = 64
    phi_depth: int = 2
    rho_width: int = 64
    rho_depth: int = 2
    none_width: int = 64
    none_depth: int = 4
    lr: float = 1e-3
    max_steps: int = 5000
    train_tolerance: float = 1e-7
    standardize: bool = True
    dtype: str = "float32"
    threads: int | None = 1

    def __post_init__(self) -> None:
        for name in ("zeta", "a_min", "a_max", "sigma", "lr", "train_tolerance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if not self.a_min > 0:
            raise ValueError(f"a_min must be > 0, got {self.a_min!r}")
        if not self.a_max > self.a_min:
            raise ValueError(f"a_max must be > a_min = {self.a_min!r}, got {self.a_max!r}")
        if self.sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {self.sigma!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if self.train_tolerance < 0:
            raise ValueError(f"train_tolerance must be >= 0, got {self.train_tolerance!r}")
        minimum = {"M": 1, "test_points": 1, "phi_width": 1, "rho_width": 1, "none_width": 1,
                   "phi_depth": 1, "rho_depth": 0, "none_depth": 0, "max_steps": 1}
        for name, low in minimum.items():
            integer(name, getattr(self, name), low)
        if not isinstance(self.standardize, bool):
            raise ValueError(f"standardize must be True or False, got {self.standardize!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {self.dtype!r}")
        if self.threads is not None:
            integer("threads", self.threads, 1)

    def to_dict(self) -> dict:
        return asdict(self)


def generalized_mean(X, zeta: float):
    """The generalized (power) mean over the last axis.

    .. math::

        M_\\zeta(X) = \\left(\\frac1N\\sum_{i=1}^N x_i^\\zeta\\right)^{1/\\zeta},
        \\qquad M_0(X) = \\exp\\left(\\frac1N\\sum_{i=1}^N \\log x_i\\right).

    Parameters
    ----------
    X : numpy.ndarray or torch.Tensor, shape (..., N)
        Positive entries (non-negative for zeta > 0).
    zeta : float
        The exponent; 1 is the arithmetic mean, 0 the geometric mean (the limit).

    Returns
    -------
    Same type as ``X``, shape (...).
    """
    if not math.isfinite(zeta):
        raise ValueError(f"zeta must be finite, got {zeta!r}")
    if bool((X < 0).any()) or (zeta <= 0 and bool((X == 0).any())):
        raise ValueError("generalized_mean needs X > 0 (X >= 0 when zeta > 0)")
    if zeta == 0:
        log = torch.log if isinstance(X, torch.Tensor) else np.log
        exp = torch.exp if isinstance(X, torch.Tensor) else np.exp
        return exp(log(X).mean(-1))
    return (X**zeta).mean(-1) ** (1.0 / zeta)


def sample(N: int, M: int, config: RegressionConfig, generator: torch.Generator):
    """Draw M points of the process: :math:`a_m \\sim \\mathcal U(a_{\\min}, a_{\\max})`,
    :math:`x_{mi} \\sim \\mathcal N(a_m, \\sigma^2)` conditioned on :math:`x_{mi} > 0`,
    :math:`y_m = f(X_m)`.

    Parameters
    ----------
    N, M : int
        Inputs per point and number of points, both >= 1.
    config : RegressionConfig
        The process' parameters.
    generator : torch.Generator
        The only source of randomness (CPU generator).

    Returns
    -------
    X : torch.Tensor, float64, shape (M, N)
    y : torch.Tensor, float64, shape (M,)
    """
    N, M = integer("N", N, 1), integer("M", M, 1)
    kw = {"dtype": torch.float64, "generator": generator}
    a = config.a_min + (config.a_max - config.a_min) * torch.rand(M, 1, **kw)
    X = a + config.sigma * torch.randn(M, N, **kw)
    bad = X <= 0
    while bool(bad.any()):  # rejection: keeps x^zeta real; practically never runs at the deck's values
        redraw = a.expand(M, N)[bad] + config.sigma * torch.randn(int(bad.sum()), **kw)
        X[bad] = redraw
        bad = X <= 0
    return X, generalized_mean(X, config.zeta)


def make_regressor(N: int, L: int | None, config: RegressionConfig = RegressionConfig(),
                   seed: int = 0) -> nn.Module:
    """The network fitted in one cell of Table 1, mapping X of shape (..., N) to shape (...).

    ``L`` is phi's latent dimension; ``None`` builds the non-symmetric MLP on the raw vector
    (the column "NONE"). Weights are seeded by ``seed`` without touching the global RNG state.
    """
    N = integer("N", N, 1)
    L = None if L is None else integer("L", L, 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if L is None:
            net = MLPPolicy(N, width=config.none_width, depth=config.none_depth,
                            hidden_bias=True, zero_last=False)
        else:
            # ten points: every training call is far below where a table of phi pays
            phi = ReLUPhi(L, width=config.phi_width, depth=config.phi_depth, hidden_bias=True,
                          tabulate_from=TABULATE_FROM)
            net = DeepSetPolicy(phi, width=config.rho_width, depth=config.rho_depth,
                                own_state=False, hidden_bias=True, zero_last=False)
    return net.to(DTYPES[config.dtype])


class Standardized(nn.Module):
    """:math:`\\hat f(X) = y_0 + s_y\\, g((X - x_0) / s_x)` with scalar shifts and scales.

    Scalars keep g's symmetry (a permutation of X permutes :math:`(X - x_0)/s_x` the same way).
    """

    def __init__(self, net: nn.Module, x_loc: float, x_scale: float, y_loc: float, y_scale: float):
        super().__init__()
        if not (x_scale > 0 and y_scale > 0):
            raise ValueError(f"scales must be > 0, got x_scale={x_scale!r}, y_scale={y_scale!r}")
        self.net = net
        self.x_loc, self.x_scale, self.y_loc, self.y_scale = x_loc, x_scale, y_loc, y_scale

    @classmethod
    def from_data(cls, net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> "Standardized":
        """Scalars from training data: mean and sd of all entries of X, and of y.

        A degenerate spread (one point, or sigma = 0 with one point) falls back to scale 1.
        """
        def scale(t: torch.Tensor) -> float:
            sd = t.std().item() if t.numel() > 1 else math.nan
            return sd if math.isfinite(sd) and sd > 0 else 1.0

        return cls(net, X.mean().item(), scale(X), y.mean().item(), scale(y))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.y_loc + self.y_scale * self.net((X - self.x_loc) / self.x_scale)


def train_regressor(net: nn.Module, X: torch.Tensor, y: torch.Tensor,
                    config: RegressionConfig = RegressionConfig()) -> dict:
    """Full-batch Adam on the mean squared error until ``train_tolerance`` or ``max_steps``.

    Trains ``net`` in place; returns ``{"steps", "train_mse", "converged"}``.
    """
    dtype = next(net.parameters()).dtype
    X, y = X.to(dtype), y.to(dtype)
    # fused: one kernel per step for all tensors; a step on ten points is dispatch-bound
    opt = torch.optim.Adam(net.parameters(), lr=config.lr, fused=True)
    steps = 0
    while True:
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((net(X) - y) ** 2)
        mse = loss.item()  # at the current parameters: the stopping rule sees the final fit
        if mse <= config.train_tolerance or steps >= config.max_steps or not math.isfinite(mse):
            break
        loss.backward()
        opt.step()
        steps += 1
    return {"steps": steps, "train_mse": mse, "converged": mse <= config.train_tolerance}


def relative_error(y_hat, y) -> float:
    """Mean of :math:`|\\hat y - y| / |y|`."""
    return float(((y_hat - y).abs() / y.abs()).mean())


def fit_regressor(N: int, L: int | None, seed: int,
                  config: RegressionConfig = RegressionConfig()) -> tuple[nn.Module, dict]:
    """:func:`fit_regression`, also returning the fitted network (X of shape (..., N) -> (...))."""
    N = integer("N", N, 1)
    L = None if L is None else integer("L", L, 1)
    seed = integer("seed", seed, 0)
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(seed)
    X, y = sample(N, config.M, config, gen)
    X_test, y_test = sample(N, config.test_points, config, gen)
    net = make_regressor(N, L, config, seed)
    if config.standardize:
        net = Standardized.from_data(net, X, y)
    info = train_regressor(net, X, y, config)
    fit_seconds = time.perf_counter() - t0
    dtype = next(net.parameters()).dtype
    with torch.no_grad():
        y_hat = net(X_test.to(dtype)).double()
        y_fit = net(X.to(dtype)).double()
    result = {
        "rel_error": relative_error(y_hat, y_test),
        "trivial_rel_error": relative_error(y.mean().expand_as(y_test), y_test),
        "train_rel_error": relative_error(y_fit, y),
        "train_mse": info["train_mse"],
        "steps": info["steps"],
        "converged": info["converged"],
        "fit_seconds": fit_seconds,
        "coefficients": count_parameters(net),
        "N": N,
        "L": L,
        "seed": seed,
    }
    return net, result


def fit_regression(N: int, L: int | None, seed: int,
                   config: RegressionConfig = RegressionConfig()) -> dict:
    """Fit one cell of Table 1 and measure its mean relative test error.

    Draws M training and ``config.test_points`` test points from the process (one generator
    seeded by ``seed``), builds :func:`make_regressor` (weights seeded by ``seed``), wraps it in
    :class:`Standardized` (if ``config.standardize``), trains it with :func:`train_regressor`, and
    evaluates it on the test points. Deterministic given ``seed`` on the CPU.

    Parameters
    ----------
    N : int
        Inputs per point, >= 1.
    L : int or None
        Latent dimension of phi; None for the non-symmetric MLP (Table 1's "NONE").
    seed : int
        Seeds data and weights, >= 0.
    config : RegressionConfig
        Process, networks and optimiser.

    Returns
    -------
    dict
        JSON-ready scalars: ``rel_error`` (mean relative test error, a fraction),
        ``trivial_rel_error`` (the same for the constant predictor "training mean of y", on the
        same test points), ``train_rel_error``, ``train_mse``, ``steps`` (Adam steps taken),
        ``converged`` (training MSE met the tolerance), ``fit_seconds`` (sampling and training,
        not the test), ``params`` (coefficients), ``N``, ``L`` (None for NONE), ``seed``.
    """
    return fit_regressor(N, L, seed, config)[1]


def _label(L) -> int | str:
    if L is None or (isinstance(L, float) and math.isnan(L)):
        return "NONE"
    return int(L)


def regression_table(results: "pd.DataFrame | Iterable[Mapping]", value: str = "rel_error",
                     ) -> "pd.DataFrame":
    """Table 1's layout: the median of ``value`` over seeds by N (rows) and L (columns).

    Columns are the L values present in increasing order, then ``"NONE"`` (rows whose L is None);
    cells are fractions (format them as percentages for display).
    """
    import pandas as pd

    df = results.copy() if isinstance(results, pd.DataFrame) else pd.DataFrame(list(results))
    for col in ("N", "L", value):
        if col not in df.columns:
            raise ValueError(f"results need a {col!r} column/key")
    df["L"] = [_label(L) for L in df["L"].astype(object)]
    table = df.pivot_table(index="N", columns="L", values=value, aggfunc="median")
    ints = sorted(c for c in table.columns if c != "NONE")
    table = table[ints + (["NONE"] if "NONE" in table.columns else [])]
    table.index.name, table.columns.name = "N", "L"
    return table
