"""Does a policy use the distribution? Industries of equal mean, and the size of the effect.

With :math:`\\nu > 1` the price :math:`p(X) = 1 - \\frac1N\\sum_i X_i^\\nu` depends on the whole
cross-section, through the *dispersion term*

.. math::

    D(X) = \\frac1N\\sum_i X_i^\\nu - \\bar X^\\nu \\;\\ge\\; 0 \\quad (\\text{Jensen}),

so :math:`p(X) = 1 - \\bar X^\\nu - D(X)`. Along simulated paths that all start from one
industry, mean and dispersion move together, and a policy of the mean alone can match one that
uses the dispersion. The probe here breaks that link: industries with the same mean and
different dispersion (:func:`industry`) and shape, at which each fitted policy and its Euler
residual, with fresh draws of all shocks, are evaluated (:func:`probe`). A policy that ignores
dispersion invests the same at all of them; if the equilibrium does not, its residual there
shows it. Chapter 7 reports the measurements.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from ..economics import price, simulate
from ..evaluation import fresh_draw_residual
from ..params import ModelParams

__all__ = ["SHAPES", "dispersion_term", "dispersion_share", "industry", "probe",
           "dispersion_along_paths", "first_order_slopes"]

SHAPES = ("normal", "two-point")


def dispersion_term(X: torch.Tensor, nu: float) -> torch.Tensor:
    """:math:`D(X) = \\frac1N\\sum_i X_i^\\nu - \\bar X^\\nu` over the last axis (0 for nu = 1)."""
    return X.pow(nu).mean(-1) - X.mean(-1).pow(nu)


def dispersion_share(X: torch.Tensor, nu: float) -> torch.Tensor:
    """The dispersion term as a fraction of the price, :math:`D(X) / p(X)`."""
    return dispersion_term(X, nu) / price(X, nu)


def industry(N: int, mean: float, sd: float, shape: str = "normal",
             generator: torch.Generator | None = None, dtype=torch.float32) -> torch.Tensor:
    """An industry of N firms with cross-sectional mean ``mean`` and sd ``sd`` exactly.

    ``shape`` "normal": a standard normal draw, recentred and rescaled to sample mean 0 and sd 1
    (population sd, ddof 0), then ``mean + sd * z``; "two-point": half the firms at
    ``mean - sd`` and half at ``mean + sd`` (N even), the least dispersed shape of a given sd in
    its fourth moment. Capital must stay positive (nu > 1 needs it): an industry with a
    nonpositive firm is an error.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    if not (isinstance(N, int) and N >= 2):
        raise ValueError(f"N must be an integer >= 2, got {N!r}")
    if not sd >= 0:
        raise ValueError(f"sd must be >= 0, got {sd!r}")
    if shape == "two-point":
        if N % 2:
            raise ValueError(f"a two-point industry needs an even N, got {N}")
        z = torch.tensor([-1.0, 1.0], dtype=torch.float64).repeat_interleave(N // 2)
    else:
        if generator is None:
            generator = torch.Generator().manual_seed(0)
        z = torch.randn(N, generator=generator, dtype=torch.float64)
        z = (z - z.mean()) / z.std(unbiased=False)
    X = mean + sd * z
    if float(X.min()) <= 0:
        raise ValueError(f"industry(mean={mean}, sd={sd}) has a firm with capital <= 0")
    return X.to(dtype)


@torch.no_grad()
def probe(params: ModelParams, policies: Mapping[str, torch.nn.Module], mean: float,
          sds=(0.02, 0.05, 0.10), shapes=SHAPES, shape_sd: float = 0.05, draws: int = 256,
          seed: int = 0):
    """Each policy, and its fresh-draw Euler residual, at industries of one mean.

    Industries: "normal" at every sd in ``sds``, and every other shape in ``shapes`` at
    ``shape_sd`` (same mean and sd as the normal one, another shape).

    Returns
    -------
    pandas.DataFrame
        One row per (policy, industry): ``policy``, ``shape``, ``sd``, ``dispersion share``
        (:func:`dispersion_share`), ``u`` and ``residual`` (the Euler residual with the
        expectation over ``draws`` antithetic Monte Carlo draws of all N + 1 shocks,
        :func:`symdp.evaluation.fresh_draw_residual`; the same draws for every policy).
    """
    import pandas as pd

    cases = [("normal", sd) for sd in sds]
    cases += [(shape, shape_sd) for shape in shapes if shape != "normal"]
    rows = []
    for shape, sd in cases:
        X = industry(params.N, mean, sd, shape, torch.Generator().manual_seed(seed),
                     dtype=torch.float64)
        share = float(dispersion_share(X, params.nu))
        for name, policy in policies.items():
            dtype = next(policy.parameters()).dtype
            Xp = X.to(dtype).unsqueeze(0)
            u = float(policy(Xp))
            gen = torch.Generator().manual_seed(seed + 1)
            r = float(fresh_draw_residual(params, policy, Xp, draws, gen)[0])
            rows.append({"policy": name, "shape": shape, "sd": sd, "dispersion share": share,
                         "u": u, "residual": r})
    return pd.DataFrame(rows)


@torch.no_grad()
def dispersion_along_paths(params: ModelParams, policy, X0: torch.Tensor, n_paths: int, T: int,
                           seed: int = 0) -> np.ndarray:
    """:func:`dispersion_share` at every date of ``n_paths`` paths simulated under ``policy``
    from ``X0``, shape (n_paths, T + 1) (float64)."""
    gen = torch.Generator(device=X0.device).manual_seed(seed)
    states = simulate(params, policy, X0, n_paths, T, gen)
    return dispersion_share(states.double(), params.nu).cpu().numpy()


def first_order_slopes(params: ModelParams, x_mean: float) -> tuple[float, float]:
    r"""Slopes :math:`(h_1, g)` of :math:`u \approx h_0 + h_1\bar X + g s^2` near mean ``x_mean``.

    A first-order estimate of the distribution effect, independent of any fit. Expand the price
    to first order around :math:`\bar X = m`, :math:`p \approx p_0 - a\bar X - c s^2` with
    :math:`a = \nu m^{\nu-1}` and :math:`c = \frac{\nu(\nu-1)}2 m^{\nu-2}`
    (chapter 7), take the law of motion of mean and variance for large N,
    :math:`\bar X' = (1-\delta)\bar X + u`, :math:`s'^2 = (1-\delta)^2 s^2 + \sigma^2`, and
    match coefficients in the Euler equation
    :math:`\gamma u = \beta[p(X') + \gamma(1-\delta)u(X')]` (the aggregate shock enters
    linearly and drops out). The mean slope is the stable root of

    .. math::

        \beta\gamma(1-\delta)h_1^2 + (\beta\gamma(1-\delta)^2 - \beta a - \gamma)h_1
            - \beta a(1-\delta) = 0

    (for nu = 1, a = 1, the LQ slope :math:`H_1`), and the variance slope

    .. math::

        g = \frac{-\beta c(1-\delta)^2}
                 {\gamma + \beta a - \beta\gamma(1-\delta)\left(h_1 + (1-\delta)^2\right)}.

    So two industries of mean m whose variances differ by :math:`\Delta s^2` invest
    :math:`g\,\Delta s^2` apart, to first order (0 for nu = 1).
    """
    b, gam, d, nu = params.beta, params.gamma, params.delta, params.nu
    a = nu * x_mean ** (nu - 1)
    c = nu * (nu - 1) / 2 * x_mean ** (nu - 2)
    roots = np.roots([b * gam * (1 - d), b * gam * (1 - d) ** 2 - b * a - gam, -b * a * (1 - d)])
    h1 = float(np.min(roots.real))  # the stable (negative) root
    g = -b * c * (1 - d) ** 2 / (gam + b * a - b * gam * (1 - d) * (h1 + (1 - d) ** 2))
    return h1, float(g)
