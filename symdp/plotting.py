"""Figures of the book: each function takes results (arrays) and returns a matplotlib Figure.

A plain module of independent functions; chapters add theirs here. The style (sizes, colours) is
set once per chapter by :func:`symdp.chapters.setup`, so functions here only draw.
"""

from __future__ import annotations

import numpy as np

__all__ = ["lq_equilibrium_paths"]


def lq_equilibrium_paths(
    mean_X: np.ndarray,
    u: np.ndarray,
    steady_state: float,
    explosive_mean: np.ndarray | None = None,
    band: tuple[float, float] = (0.0, 1.0),
):
    """Equilibrium paths under a linear policy: the industry's mean capital and investment.

    Parameters
    ----------
    mean_X : array (trajectories, T + 1)
        Cross-sectional mean :math:`\\bar X_t` along each simulated path.
    u : array (trajectories, T + 1)
        Investment :math:`u(X_t)` along the same paths.
    steady_state : float
        :math:`\\bar X^* = H_0 / (\\delta - H_1)`, drawn as a reference line.
    explosive_mean : array (T + 1,), optional
        A path under the explosive root from the same start, drawn until it leaves ``band``.
    band : (float, float)
        The economically sensible range of the mean (capital and prices positive).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels: (a) mean capital, (b) investment.
    """
    import matplotlib.pyplot as plt

    mean_X, u = np.atleast_2d(mean_X), np.atleast_2d(u)
    t = np.arange(mean_X.shape[1])
    fig, (ax_x, ax_u) = plt.subplots(1, 2, figsize=(9.0, 3.6), constrained_layout=True)
    for k in range(mean_X.shape[0]):
        label = "stationary root, simulated paths" if k == 0 else None
        ax_x.plot(t, mean_X[k], color="C0", alpha=0.55, lw=1.0, label=label)
        ax_u.plot(t, u[k], color="C0", alpha=0.55, lw=1.0)
    ax_x.axhline(steady_state, color="k", ls=":", lw=1.0, label=r"steady state $\bar X^*$")
    if explosive_mean is not None:
        e = np.asarray(explosive_mean, dtype=float)
        inside = (e > band[0]) & (e < band[1])
        stop = int(np.argmin(inside)) + 1 if not inside.all() else len(e)
        ax_x.plot(t[:stop], e[:stop], color="C1", ls="--", marker="o", ms=3,
                  label="explosive root, no shocks")
    lo, hi = band
    ax_x.set_ylim(lo, hi)
    ax_x.set(xlabel="period $t$", ylabel=r"mean capital $\bar X_t$", title="(a) Mean capital")
    ax_u.set(xlabel="period $t$", ylabel=r"investment $u(X_t)$", title="(b) Investment")
    ax_x.legend(loc="lower right")
    return fig
