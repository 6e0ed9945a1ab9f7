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


# --- Chapter 5 (the linear case) and chapter 6 (scaling in N) ---------------------------------

__all__ += ["BASELINE_LABELS", "policy_paths_vs_lq", "relative_error_bands", "scaling_in_n"]

BASELINE_LABELS = {"identity": r"$\phi$(Identity)", "moments": r"$\phi$(Moments)",
                   "relu": r"$\phi$(ReLU)"}


def _row_of_panels(n: int, width: float = 3.2, height: float = 3.3, sharey: bool = True):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(width * n, height), sharey=sharey,
                             constrained_layout=True, squeeze=False)
    return fig, axes[0]


def policy_paths_vs_lq(u, u_lq, labels=None):
    """Deck Figure 1: investment along equilibrium paths, fitted policies against the LQ solution.

    Parameters
    ----------
    u : mapping name -> array (paths, T + 1)
        Investment :math:`u(X_t)` of each fitted policy along its own simulated equilibrium paths.
    u_lq : array (paths, T + 1) or mapping name -> array
        The LQ solution's investment along the LQ equilibrium paths with the same shocks (one
        array shared by all panels, or one per name).
    labels : mapping name -> str, optional
        Panel titles (default: :data:`BASELINE_LABELS`, else the name).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per policy; each path has its own colour, solid for the network and dashed
        black for the LQ solution on the same shocks.
    """
    from matplotlib.lines import Line2D

    if not u:
        raise ValueError("u is empty: nothing to plot")
    labels = {**BASELINE_LABELS, **(labels or {})}
    fig, axes = _row_of_panels(len(u))
    for ax, (name, un) in zip(axes, u.items()):
        un = np.atleast_2d(np.asarray(un, dtype=float))
        ul = np.atleast_2d(np.asarray(u_lq[name] if isinstance(u_lq, dict) else u_lq, dtype=float))
        if ul.shape != un.shape:
            raise ValueError(f"u[{name!r}] has shape {un.shape} but u_lq has {ul.shape}")
        t = np.arange(un.shape[1])
        for k in range(un.shape[0]):
            ax.plot(t, un[k], color=f"C{k % 7}", lw=1.8, alpha=0.85)
            ax.plot(t, ul[k], color="k", lw=0.9, ls=(0, (3, 2)))
        ax.set(title=labels.get(name, name), xlabel="period $t$")
    axes[0].set_ylabel(r"investment $u(X_t)$")
    handles = [Line2D([], [], color="0.45", lw=1.8,
                      label="network, along its own equilibrium path (one colour per path)"),
               Line2D([], [], color="k", lw=0.9, ls=(0, (3, 2)),
                      label="exact LQ solution, same shocks")]
    fig.legend(handles=handles, loc="outside lower center", ncols=2)
    return fig


def relative_error_bands(bands, labels=None, log: bool = True):
    """Deck Figure 2: relative policy error along test paths, mean and percentile band by date.

    Parameters
    ----------
    bands : mapping name -> :class:`symdp.linear_case.PathBands`
        Summaries of :math:`|u - u_{LQ}|/|u_{LQ}|` over the test paths of each policy.
    labels : mapping name -> str, optional
        Panel titles (default: :data:`BASELINE_LABELS`, else the name).
    log : bool
        Logarithmic error axis (the band spans orders of magnitude).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per policy, errors in percent: the mean (dark blue) and the shaded band.
    """
    if not bands:
        raise ValueError("bands is empty: nothing to plot")
    labels = {**BASELINE_LABELS, **(labels or {})}
    fig, axes = _row_of_panels(len(bands))
    for ax, (name, b) in zip(axes, bands.items()):
        lo, hi = b.q
        ax.fill_between(b.t, 100 * b.lower, 100 * b.upper, color="C0", alpha=0.22, lw=0,
                        label=f"{lo:g}th–{hi:g}th percentile")
        ax.plot(b.t, 100 * b.mean, color="C0", lw=1.8, label=f"mean over {b.n_paths} paths")
        ax.set(title=labels.get(name, name), xlabel="period $t$")
        if log:
            ax.set_yscale("log")
    axes[0].set_ylabel(r"relative error $|u - u_{LQ}|/|u_{LQ}|$ (%)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2)
    return fig


def scaling_in_n(summary):
    """Deck Figure 3: computation time and accuracy of one architecture against N.

    Parameters
    ----------
    summary : pandas.DataFrame
        Indexed by N, from :func:`symdp.linear_case.scaling_summary`: medians ``fit_seconds``,
        ``seconds_per_epoch``, ``policy_rel_error``, ``val_mse`` and their ``_lo``/``_hi``
        quantiles.

    Returns
    -------
    matplotlib.figure.Figure
        (a) time to solution and time per epoch, with a line proportional to N through the last
        point; (b) policy error; (c) validation MSE. Markers are medians, bars the spread.
    """
    if len(summary) == 0:
        raise ValueError("summary is empty: nothing to plot")
    N = np.asarray(summary.index, dtype=float)
    fig, (ax_t, ax_e, ax_m) = _row_of_panels(3, width=3.3, sharey=False)

    def series(ax, col, scale=1.0, **kw):
        y = scale * summary[col].to_numpy(float)
        lo = scale * summary[f"{col}_lo"].to_numpy(float)
        hi = scale * summary[f"{col}_hi"].to_numpy(float)
        ax.errorbar(N, y, yerr=[y - lo, hi - y], marker="o", ms=4, capsize=2.5, **kw)
        return y

    y = series(ax_t, "fit_seconds", color="C0", label="time to solution")
    series(ax_t, "seconds_per_epoch", color="C1", label="time per epoch")
    ax_t.plot(N, y[-1] * N / N[-1], color="k", lw=0.9, ls=":", label=r"$\propto N$")
    series(ax_e, "policy_rel_error", scale=100.0, color="C0")
    series(ax_m, "val_mse", color="C0")
    for ax in (ax_t, ax_e, ax_m):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("firms $N$")
    ax_t.set(ylabel="seconds (one thread)", title="(a) Computation time")
    ax_e.set(ylabel=r"policy error $|u - u_{LQ}|/|u_{LQ}|$ (%)", title="(b) Policy error")
    ax_m.set(ylabel="validation Euler MSE", title="(c) Validation MSE")
    ax_t.legend(loc="upper left")
    return fig


# --- Chapter 2 (permutation invariance) -------------------------------------------------------

__all__ += ["permutation_invariance"]


def permutation_invariance(u_lq, paths, gaps, labels=None, floor: float = 1e-12):
    """Fitted policies at permuted states: one equilibrium path, and all gaps on a log scale.

    Parameters
    ----------
    u_lq : array (T + 1,)
        The LQ policy along one path (the reference).
    paths : mapping name -> (u, lo, hi), arrays (T + 1,)
        Each policy along the same path: :math:`u(X_t)` and the lowest and highest
        :math:`u(\\pi X_t)` over the permutations tried.
    gaps : mapping name -> array
        Every :math:`u(\\pi X) - u(X)` measured (any shape; flattened).
    labels : mapping name -> str, optional
        Legend labels (default: the names).
    floor : float
        Gaps smaller than this (exact zeros included) are counted in the leftmost bin.

    Returns
    -------
    matplotlib.figure.Figure
        (a) u along the path with its band over permutations; (b) histogram of
        :math:`\\log_{10}|u(\\pi X) - u(X)|` per policy.
    """
    import matplotlib.pyplot as plt

    if not paths or not gaps:
        raise ValueError("paths and gaps must name at least one policy")
    labels = dict(labels or {})
    fig, (ax_p, ax_g) = plt.subplots(1, 2, figsize=(8.2, 3.5), constrained_layout=True)
    u_lq = np.asarray(u_lq, dtype=float)
    t = np.arange(len(u_lq))
    for k, (name, (u, lo, hi)) in enumerate(paths.items()):
        color = f"C{k % 7}"
        ax_p.fill_between(t, lo, hi, color=color, alpha=0.25, lw=0)
        ax_p.plot(t, u, color=color, lw=1.4, label=labels.get(name, name))
    ax_p.plot(t, u_lq, color="k", lw=1.0, ls=(0, (3, 2)), label="LQ solution")
    ax_p.set(xlabel="period $t$", ylabel=r"investment $u$",
             title=r"(a) $u(X_t)$ and its range over $u(\pi X_t)$")
    ax_p.legend(loc="best")

    lo_exp = np.log10(floor)
    logs = {name: np.log10(np.maximum(np.abs(np.ravel(g)), floor)) for name, g in gaps.items()}
    hi_exp = max(lo_exp + 1.0, max(float(v.max()) for v in logs.values()) + 0.25)
    bins = np.arange(lo_exp - 0.125, hi_exp + 0.25, 0.25)
    for k, (name, v) in enumerate(logs.items()):
        ax_g.hist(v, bins=bins, weights=np.full(v.size, 1.0 / v.size), color=f"C{k % 7}",
                  alpha=0.55, label=labels.get(name, name))
    ticks = np.arange(np.ceil(lo_exp), np.floor(hi_exp) + 1, 2)
    ax_g.set_xticks(ticks, [("0" if x == lo_exp else f"$10^{{{int(x)}}}$") for x in ticks])
    ax_g.set(xlabel=r"$|u(\pi X) - u(X)|$ (leftmost bin: exactly 0)", ylabel="share of pairs",
             title=r"(b) Gaps over all states and permutations")
    ax_g.legend(loc="upper center")
    return fig


# --- Chapter 3 (representation) ---------------------------------------------------------------

__all__ += ["regression_errors"]


def regression_errors(ours, deck, none_label: str = "NONE"):
    """The appendix regression example: mean relative test error against N, ours next to the deck's.

    Parameters
    ----------
    ours, deck : pandas.DataFrame
        Table 1's layout: index N, one column per latent dimension L, then ``none_label`` (the
        non-symmetric network); cells are fractions.
    none_label : str
        Name of the non-symmetric column.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing a log-scale y axis in percent: (a) ours, (b) the deck's. Deep sets in
        shades of one colour (one line per L, the same shade for the same L in both panels), the
        non-symmetric network in another; one legend below the panels.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    Ls = sorted({c for t in (ours, deck) for c in t.columns if c != none_label})
    shade = dict(zip(Ls, plt.cm.Blues(np.linspace(0.4, 0.95, max(len(Ls), 1)))))
    fig, axes = plt.subplots(1, 2, figsize=(8.2, 3.8), sharey=True, constrained_layout=True)
    lines = {}
    values = []
    for ax, (title, table) in zip(axes, (("(a) symdp", ours), ("(b) the deck", deck))):
        N = np.asarray(table.index, dtype=float)
        for L in [c for c in table.columns if c != none_label]:
            y = 100 * table[L].to_numpy(dtype=float)
            values.append(y)
            lines[f"deep set, L = {L}"] = ax.plot(N, y, color=shade[L], marker="o", ms=3,
                                                  lw=1.2)[0]
        if none_label in table.columns:
            y = 100 * table[none_label].to_numpy(dtype=float)
            values.append(y)
            lines["no symmetry (NONE)"] = ax.plot(N, y, color="C1", marker="s", ms=4,
                                                  lw=2.0)[0]
        ax.set_xscale("log", base=2)
        ax.set_xticks(N, [str(int(n)) for n in N])
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set(xlabel="inputs $N$", title=title)
    axes[0].set_yscale("log")
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in values])
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50)
             if finite.min() / 1.5 <= t <= finite.max() * 1.5]
    axes[0].yaxis.set_major_locator(FixedLocator(ticks))
    axes[0].yaxis.set_minor_locator(NullLocator())
    axes[0].set_yticklabels([f"{t:g}" for t in ticks])
    axes[0].set_ylabel("mean relative test error (%)")
    order = [k for k in (f"deep set, L = {L}" for L in Ls) if k in lines]
    order += [k for k in lines if k not in order]
    fig.legend([lines[k] for k in order], order, loc="outside lower center", ncol=4)
    return fig


# --- Chapter 4 (concentration of measure) -----------------------------------------------------

__all__ += ["one_draw_concentration"]


def one_draw_concentration(N_line, sd_eps_line, sd_u_line, lq_curve, nonlinear, slopes=None):
    """Deck's "Analytic Euler error due to the concentration of measure", with Monte-Carlo checks.

    Parameters
    ----------
    N_line : array
        Numbers of firms at which the analytic standard deviations are drawn.
    sd_eps_line, sd_u_line : array
        :math:`\\sigma_\\varepsilon/\\sqrt N` and :math:`\\sigma_u/\\sqrt N` at ``N_line`` (LQ policy).
    lq_curve : ConcentrationCurve
        Measured spreads of the LQ policy over independent raw draws
        (:func:`symdp.concentration.concentration_curve`).
    nonlinear : mapping label -> ConcentrationCurve
        Measured spreads of the one-draw residual of a nonlinear policy (e.g. raw and
        standardised draws).
    slopes : mapping label -> float, optional
        Fitted log-log slopes, shown in the legend.

    Returns
    -------
    matplotlib.figure.Figure
        (a) LQ policy: analytic lines and measured points for the Euler residual and for
        :math:`u(\\hat X')`; (b) nonlinear policy: measured standard deviation of the one-draw
        residual against N, with a :math:`1/\\sqrt N` reference line. Both log-log.
    """
    import matplotlib.pyplot as plt

    slopes = dict(slopes or {})
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(8.2, 4.2), constrained_layout=True)
    N_line = np.asarray(N_line, dtype=float)
    ax_a.plot(N_line, sd_eps_line, color="C0", lw=1.6,
              label=r"Euler residual, $\sigma_\varepsilon/\sqrt{N}$")
    ax_a.plot(N_line, sd_u_line, color="C2", lw=1.6, label=r"policy, $\sigma_u/\sqrt{N}$")
    ax_a.plot(lq_curve.N, lq_curve.sd_eps, "o", color="C0", ms=5, mfc="white",
              label=f"measured (residual), {lq_curve.n_draws:,} draws")
    ax_a.plot(lq_curve.N, lq_curve.sd_u, "s", color="C2", ms=5, mfc="white",
              label="measured (policy)")
    ax_a.set(xscale="log", yscale="log", xlabel="firms $N$", ylabel="standard deviation",
             title="(a) LQ policy: analytic and measured")
    ax_a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2,
                fontsize=8)

    markers = ["o", "D", "s", "^"]
    for k, (label, curve) in enumerate(nonlinear.items()):
        text = label + (f" (slope {slopes[label]:.2f})" if label in slopes else "")
        ax_b.plot(curve.N, curve.sd_eps, marker=markers[k % 4], color=f"C{(k + 1) % 7}", lw=1.0,
                  ms=5, label=text)
    first = next(iter(nonlinear.values()))
    ref = first.sd_eps[0] * np.sqrt(first.N[0] / N_line)
    ax_b.plot(N_line, ref, color="k", lw=0.9, ls=(0, (3, 2)), label=r"$\propto 1/\sqrt{N}$")
    ax_b.set(xscale="log", yscale="log", xlabel="firms $N$",
             ylabel="sd of the one-draw residual",
             title=r"(b) Nonlinear policy ($\nu = 1.5$): measured")
    ax_b.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2,
                fontsize=8)
    return fig
