"""Figures of the book: each function takes results (arrays, tables) and returns a Figure.

In chapter order, one section per chapter. The style (sizes, colours) is set once per chapter by
:func:`symdp.book.chapter.setup`, so functions here only draw. Networks are labelled from
:data:`PHI_LABELS`.
"""

from __future__ import annotations

import numpy as np

from ..networks import PHI_KINDS

__all__ = [
    "PHI_LABELS",
    "phi_label",
    "lq_equilibrium_paths",
    "permutation_invariance",
    "learning_curves",
    "regression_errors",
    "one_draw_concentration",
    "policy_paths_vs_lq",
    "relative_error_bands",
    "scaling_in_n",
    "euler_residual_bands",
    "grid_coverage",
    "policy_paths_by_nu",
    "distribution_probe",
    "sparse_grid_fits",
    "time_iteration_cobweb",
    "root_selection",
    "model_fit",
    "finish_learning_curves",
]

_PHI_NAMES = {"identity": "Identity", "moments": "Moments", "relu": "ReLU"}


def phi_label(kind: str, mean_only: bool = False, plain: bool = False) -> str:
    """How the book names a network by its phi: ``$\\phi$(ReLU)``, or ``φ(ReLU)`` with ``plain``.

    The TeX form is for figures and tables (matplotlib's mathtext, MyST); the plain form for glued
    prose, which is pasted as text. ``mean_only`` marks the bias-free phi(ReLU), which sees the
    industry only through its mean (chapter 3); it changes no other kind's name.
    """
    name = ("φ" if plain else r"$\phi$") + f"({_PHI_NAMES[kind]})"
    return f"mean-only {name}" if mean_only and kind == "relu" else name


PHI_LABELS = {kind: phi_label(kind) for kind in PHI_KINDS}  # the names in figures' legends


def _row_of_panels(n: int, width: float = 3.2, height: float = 3.3, sharey: bool = True):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(width * n, height), sharey=sharey,
                             constrained_layout=True, squeeze=False)
    return fig, axes[0]


def _as_floats(values):
    """Numbers as floats, None and non-numbers as NaN (stored results may hold None)."""
    out = []
    for v in values:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(float("nan"))
    return out


# --- Chapter 1 (the problem) ------------------------------------------------------------------


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
        Three panels: (a) mean capital, (b) investment, (c) each path's mean capital minus the
        average over paths, on its own scale: the paths of (a) differ by less than a line's
        width, and (c) shows by how much.
    """
    import matplotlib.pyplot as plt

    mean_X, u = np.atleast_2d(mean_X), np.atleast_2d(u)
    t = np.arange(mean_X.shape[1])
    fig, (ax_x, ax_u, ax_d) = plt.subplots(1, 3, figsize=(11.0, 3.6), constrained_layout=True)
    centre = mean_X.mean(0)
    for k in range(mean_X.shape[0]):
        label = "stationary root, simulated paths" if k == 0 else None
        ax_x.plot(t, mean_X[k], color="C0", alpha=0.55, lw=1.0, label=label)
        ax_u.plot(t, u[k], color="C0", alpha=0.55, lw=1.0)
        ax_d.plot(t, mean_X[k] - centre, color="C0", alpha=0.55, lw=1.0)
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
    ax_d.axhline(0.0, color="k", lw=0.8)
    ax_d.set(xlabel="period $t$", ylabel=r"$\bar X_t$ minus its average over paths",
             title="(c) How the paths differ")
    ax_x.legend(loc="lower right")
    return fig


# --- Chapter 2 (permutation invariance) -------------------------------------------------------


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
        The left end of the log axis of panel (b). Gaps below it (exact zeros included) are not
        drawn on that axis, which has no zero; the legend gives each policy's share of them.

    Returns
    -------
    matplotlib.figure.Figure
        (a) u along the path with its band over permutations; (b) outlined histogram (one line
        per policy, no overlapping fills) of :math:`\\log_{10}|u(\\pi X) - u(X)|` for the gaps
        of at least ``floor``.
    """
    import matplotlib.pyplot as plt

    if not paths or not gaps:
        raise ValueError("paths and gaps must name at least one policy")
    labels = dict(labels or {})
    fig, (ax_p, ax_g) = plt.subplots(1, 2, figsize=(8.2, 4.0), constrained_layout=True)
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
    flat = {name: np.abs(np.ravel(g)) for name, g in gaps.items()}
    top = max(float(np.max(v)) for v in flat.values())
    hi_exp = max(lo_exp + 1.0, np.log10(max(top, floor)) + 0.25)
    bins = np.arange(lo_exp, hi_exp + 0.25, 0.25)
    styles = ["-", "--", "-.", ":"]
    for k, (name, v) in enumerate(flat.items()):
        shown = v[v >= floor]
        below = 1.0 - shown.size / v.size
        text = f"{labels.get(name, name)} ({below:.0%} below {floor:.0e})"
        ax_g.hist(np.log10(shown) if shown.size else np.array([]), bins=bins,
                  weights=np.full(shown.size, 1.0 / v.size), histtype="step",
                  color=f"C{k % 7}", ls=styles[k % 4], lw=1.5, label=text)
    ticks = np.arange(np.ceil(lo_exp), np.floor(hi_exp) + 1, 2)
    ax_g.set_xticks(ticks, [f"$10^{{{int(x)}}}$" for x in ticks])
    ax_g.set_xlim(lo_exp, hi_exp)
    ax_g.set(xlabel=r"$|u(\pi X) - u(X)|$", ylabel="share of pairs",
             title=r"(b) Gaps over all states and permutations")
    # below the axis: the outlines fill the top of the panel at both ends of the axis
    ax_g.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=7.5)
    return fig


def learning_curves(histories, tolerance, labels=None):
    """Training curves of the solver: the mean squared Euler residual by epoch.

    Parameters
    ----------
    histories : mapping name -> list of dict
        :attr:`symdp.solver.SolveResult.history` of each fit (rows with ``epoch``,
        ``train_loss`` and ``val_mse``, NaN where the validation pass was skipped).
    tolerance : float
        The solver's stopping tolerance on the validation MSE (drawn as a line).
    labels : mapping name -> str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One log-scale axis: the training loss of each fit (lines) and its validation MSE where
        measured (points), against passes over the grid.
    """
    import matplotlib.pyplot as plt

    if not histories:
        raise ValueError("histories must name at least one fit")
    labels = dict(labels or {})
    fig, ax = plt.subplots(figsize=(6.2, 3.6), constrained_layout=True)
    for k, (name, rows) in enumerate(histories.items()):
        epoch = np.array([r["epoch"] for r in rows], dtype=float)
        train = np.array([r["train_loss"] for r in rows], dtype=float)
        val = np.array([r["val_mse"] for r in rows], dtype=float)
        color = f"C{k % 7}"
        ax.plot(epoch, train, color=color, lw=1.2, label=f"{labels.get(name, name)}, training")
        seen = np.isfinite(val)
        if seen.any():
            ax.plot(epoch[seen], val[seen], "o", color=color, ms=3, mfc="white",
                    label=f"{labels.get(name, name)}, validation")
    ax.axhline(tolerance, color="k", lw=0.9, ls=(0, (3, 2)), label="tolerance")
    ax.set(yscale="log", xlabel="passes over the grid (epochs)",
           ylabel="mean squared Euler residual")
    ax.legend(loc="upper right", fontsize=7.5, ncol=2)
    return fig


# --- Chapter 3 (representation) ---------------------------------------------------------------


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


def one_draw_concentration(N_line, sd_eps_line, sd_u_line, lq_curve, nonlinear, slopes=None):
    """Deck's "Analytic Euler error due to the concentration of measure", with Monte-Carlo checks.

    Parameters
    ----------
    N_line : array
        Numbers of firms at which the analytic standard deviations are drawn.
    sd_eps_line, sd_u_line : array
        :math:`\\sigma_\\varepsilon/\\sqrt N` and :math:`\\sigma_u/\\sqrt N` at ``N_line``
        (LQ policy).
    lq_curve : ConcentrationCurve
        Measured spreads of the LQ policy over independent raw draws
        (:func:`symdp.studies.concentration.concentration_curve`).
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
    # one column each: two-column legends of the two panels collide between them
    ax_a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, fontsize=8)

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
             title=r"(b) Nonlinear model ($\nu = 1.5$): measured")
    ax_b.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, fontsize=8)
    return fig


# --- Chapter 5 (the linear case) --------------------------------------------------------------


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
        Column titles (default: :data:`PHI_LABELS`, else the name).

    Returns
    -------
    matplotlib.figure.Figure
        One column per policy. Top: each path's investment in its own colour, over the LQ
        solution's on the same shocks (wide grey, so both stay visible where they coincide).
        Bottom: the gap :math:`100\\,(u - u_{LQ})/|u_{LQ}|` in percent, path by path, which the
        top row cannot show. The legend names every path's colour.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if not u:
        raise ValueError("u is empty: nothing to plot")
    labels = {**PHI_LABELS, **(labels or {})}
    n = len(u)
    fig, axes = plt.subplots(2, n, figsize=(3.2 * n, 5.6), sharex=True, sharey="row",
                             constrained_layout=True, squeeze=False,
                             gridspec_kw={"height_ratios": (3, 2)})
    paths = 0
    for col, (name, un) in enumerate(u.items()):
        ax, ax_gap = axes[0, col], axes[1, col]
        un = np.atleast_2d(np.asarray(un, dtype=float))
        ul = np.atleast_2d(np.asarray(u_lq[name] if isinstance(u_lq, dict) else u_lq, dtype=float))
        if ul.shape != un.shape:
            raise ValueError(f"u[{name!r}] has shape {un.shape} but u_lq has {ul.shape}")
        t = np.arange(un.shape[1])
        paths = max(paths, un.shape[0])
        for k in range(un.shape[0]):
            ax.plot(t, ul[k], color="0.75", lw=4.0, solid_capstyle="butt", zorder=1)
            ax.plot(t, un[k], color=f"C{k % 7}", lw=1.2, zorder=2)
            ax_gap.plot(t, 100 * (un[k] - ul[k]) / np.abs(ul[k]), color=f"C{k % 7}", lw=1.2)
        ax_gap.axhline(0.0, color="0.5", lw=0.8)
        ax.set(title=labels.get(name, name))
        ax_gap.set(xlabel="period $t$")
    axes[0, 0].set_ylabel(r"investment $u(X_t)$")
    axes[1, 0].set_ylabel(r"$(u - u_{LQ})/|u_{LQ}|$ (%)")
    handles = [Line2D([], [], color=f"C{k % 7}", lw=1.2, label=f"network, path {k + 1}")
               for k in range(paths)]
    handles.append(Line2D([], [], color="0.75", lw=4.0, label="exact LQ solution, same shocks"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5))
    return fig


def relative_error_bands(bands, labels=None, log: bool = True):
    """Deck Figure 2: relative policy error along test paths, mean and percentile band by date.

    Parameters
    ----------
    bands : mapping name -> :class:`symdp.studies.baselines.PathBands`
        Summaries of :math:`|u - u_{LQ}|/|u_{LQ}|` over the test paths of each policy.
    labels : mapping name -> str, optional
        Panel titles (default: :data:`PHI_LABELS`, else the name).
    log : bool
        Logarithmic error axis (the band spans orders of magnitude).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per policy, errors in percent: the mean (dark blue) and the shaded band.
    """
    if not bands:
        raise ValueError("bands is empty: nothing to plot")
    labels = {**PHI_LABELS, **(labels or {})}
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


# --- Chapter 6 (scaling in N) -----------------------------------------------------------------


def scaling_in_n(summary, per_firm=None):
    """Deck Figure 3: computation time and accuracy against N, of one network or two.

    Parameters
    ----------
    summary : pandas.DataFrame
        Indexed by N, from :func:`symdp.studies.scaling.quantiles_by_n`: medians
        ``fit_seconds``, ``seconds_per_epoch``, ``policy_rel_error``, ``val_mse`` and their
        ``_lo``/``_hi`` quantiles.
    per_firm : pandas.DataFrame, optional
        The same for a second network (chapter 6: phi with hidden biases, evaluated at every
        firm), drawn with square markers and dashed lines in every panel.

    Returns
    -------
    matplotlib.figure.Figure
        (a) time to solution and time per epoch (log-log), with a line proportional to N
        through the first network's last point; (b) policy error in percent and (c) validation
        MSE, on linear axes from zero. Markers are medians, bars the spread.
    """
    if len(summary) == 0:
        raise ValueError("summary is empty: nothing to plot")
    N = np.asarray(summary.index, dtype=float)
    fig, (ax_t, ax_e, ax_m) = _row_of_panels(3, width=3.3, sharey=False)
    networks = [(summary, "o", "-", "")]
    if per_firm is not None and len(per_firm):
        networks.append((per_firm, "s", "--", r"$\phi$ at every firm: "))
    mse_peak = max(float(np.nanmax(df["val_mse_hi"].to_numpy(float))) for df, *_ in networks)
    power = int(np.floor(np.log10(mse_peak))) if np.isfinite(mse_peak) and mse_peak > 0 else 0

    def series(ax, df, col, marker, ls, scale=1.0, **kw):
        x = np.asarray(df.index, dtype=float)
        y = scale * df[col].to_numpy(float)
        lo = scale * df[f"{col}_lo"].to_numpy(float)
        hi = scale * df[f"{col}_hi"].to_numpy(float)
        ax.errorbar(x, y, yerr=[y - lo, hi - y], marker=marker, ms=4, capsize=2.5, ls=ls, **kw)
        return y

    for k, (df, marker, ls, name) in enumerate(networks):
        colors = ("C0", "C1") if k == 0 else ("C3", "C2")
        y = series(ax_t, df, "fit_seconds", marker, ls, color=colors[0],
                   label=f"{name}time to solution")
        series(ax_t, df, "seconds_per_epoch", marker, ls, color=colors[1],
               label=f"{name}time per epoch")
        if k == 0:
            ax_t.plot(N, y[-1] * N / N[-1], color="k", lw=0.9, ls=":", label=r"$\propto N$")
        series(ax_e, df, "policy_rel_error", marker, ls, scale=100.0, color=colors[0])
        # The MSE's power of ten goes into the axis label: matplotlib's offset text ("1e-7")
        # would sit on the panel title.
        series(ax_m, df, "val_mse", marker, ls, scale=10.0 ** -power, color=colors[0])
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    ax_t.set_yscale("log")
    ax_t.yaxis.set_minor_formatter(NullFormatter())
    for ax in (ax_t, ax_e, ax_m):
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(N))  # a tick at every N of the sweep
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.set_xlabel("firms $N$")
    for ax in (ax_e, ax_m):  # accuracy varies little with N: a linear axis from zero shows it
        ax.set_ylim(bottom=0.0)
    ax_t.set(ylabel="seconds (one thread)", title="(a) Computation time")
    ax_e.set(ylabel=r"policy error $|u - u_{LQ}|/|u_{LQ}|$ (%)", title="(b) Policy error")
    unit = rf" ($\times 10^{{{power}}}$)" if power else ""
    ax_m.set(ylabel="validation Euler MSE" + unit, title="(c) Validation MSE")
    ax_t.legend(loc="best", fontsize=7 if len(networks) > 1 else 8)
    return fig


# --- Chapter 7 (the nonlinear case) -----------------------------------------------------------


def euler_residual_bands(bands, labels=None):
    """Deck Figure 4: Euler residuals along test paths, mean and percentile band by date.

    Parameters
    ----------
    bands : mapping name -> :class:`symdp.studies.baselines.PathBands`
        Date-by-date summaries of the (signed) residuals :math:`\\varepsilon(X_t)` over the
        test paths of each fitted policy.
    labels : mapping name -> str, optional
        Panel titles (default: the phi names, else the name).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per policy, a shared residual axis: the mean (dark blue line) and the band.
    """
    import matplotlib.pyplot as plt

    if not bands:
        raise ValueError("bands is empty: nothing to plot")
    labels = {**PHI_LABELS, **(labels or {})}
    fig, axes = plt.subplots(1, len(bands), figsize=(4.6 * len(bands), 3.5), sharey=True,
                             constrained_layout=True, squeeze=False)
    for ax, (name, b) in zip(axes[0], bands.items()):
        lo, hi = b.q
        ax.fill_between(b.t, b.lower, b.upper, color="C0", alpha=0.22, lw=0,
                        label=f"{lo:g}th–{hi:g}th percentile")
        ax.plot(b.t, b.mean, color="C0", lw=1.8, label=f"mean over {b.n_paths} paths")
        ax.axhline(0.0, color="k", lw=0.8)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        ax.set(title=labels.get(name, name), xlabel="period $t$")
    axes[0][0].set_ylabel(r"Euler residual $\varepsilon(X_t)$")
    axes[0][-1].legend(loc="lower right")
    return fig


def grid_coverage(paths, q=(2.5, 97.5)):
    """Where training grids lie against the paths a fit is tested on: mean capital by date.

    Parameters
    ----------
    paths : mapping label -> array (paths, T + 1)
        :math:`\\bar X_t` along each set of paths (a training grid, test paths, ...), drawn in
        the mapping's order.
    q : (float, float)
        Percentiles of the bands.

    Returns
    -------
    matplotlib.figure.Figure
        One panel: the range of each set of paths by date (band) and its mean (line).
    """
    import matplotlib.pyplot as plt

    if not paths:
        raise ValueError("paths is empty: nothing to draw")
    fig, ax = plt.subplots(figsize=(6.0, 3.5), constrained_layout=True)
    for k, (label, values) in enumerate(paths.items()):
        v = np.atleast_2d(np.asarray(values, dtype=float))
        t = np.arange(v.shape[1])
        lo, hi = np.percentile(v, q, axis=0)
        color = f"C{k}"
        ax.fill_between(t, lo, hi, color=color, alpha=0.2, lw=0)
        ax.plot(t, v.mean(0), color=color, lw=1.7, label=f"{label}, {v.shape[0]} paths")
    ax.set(xlabel="period $t$", ylabel=r"mean capital $\bar X_t$")
    ax.legend(loc="upper right")
    return fig


def policy_paths_by_nu(u, mean_X, u_lq=None):
    """Deck Figure 5: the policy along one equilibrium path for several values of nu.

    Parameters
    ----------
    u, mean_X : mapping nu -> array (T + 1,)
        Investment :math:`u(X_t)` and mean capital :math:`\\bar X_t` along one path simulated
        under the policy fitted for each nu (the same shocks for every nu).
    u_lq : array (T + 1,), optional
        The exact LQ policy along the nu = 1 path, drawn dashed.

    Returns
    -------
    matplotlib.figure.Figure
        (a) investment, (b) mean capital, one colour per nu.
    """
    import matplotlib.pyplot as plt

    if not u:
        raise ValueError("u is empty: nothing to plot")
    fig, (ax_u, ax_x) = plt.subplots(1, 2, figsize=(9.6, 3.6), constrained_layout=True)
    for k, nu in enumerate(u):
        un = np.asarray(u[nu], dtype=float)
        t = np.arange(len(un))
        ax_u.plot(t, un, color=f"C{k % 7}", lw=1.7, label=rf"$\nu = {nu:g}$")
        ax_x.plot(t, np.asarray(mean_X[nu], dtype=float), color=f"C{k % 7}", lw=1.7)
    if u_lq is not None:
        ul = np.asarray(u_lq, dtype=float)
        ax_u.plot(np.arange(len(ul)), ul, color="k", lw=0.9, ls=(0, (3, 2)),
                  label=r"LQ solution ($\nu = 1$)")
    ax_u.set(xlabel="period $t$", ylabel=r"investment $u(X_t)$", title="(a) Policy")
    ax_x.set(xlabel="period $t$", ylabel=r"mean capital $\bar X_t$", title="(b) Mean capital")
    ax_u.legend(loc="lower right")
    return fig


def distribution_probe(share, probe, labels=None, q=(2.5, 97.5)):
    """Chapter 7: how large the dispersion term is, and which fitted policies respond to it.

    Parameters
    ----------
    share : array (paths, T + 1)
        The dispersion term of the price as a fraction of the price,
        :func:`symdp.studies.distribution.dispersion_share`, along equilibrium paths.
    probe : pandas.DataFrame
        :func:`symdp.studies.distribution.probe`'s rows; the normal industries (one per sd)
        are drawn.
    labels : mapping policy name -> str, optional
        Legend labels (default: the name).
    q : (float, float)
        Percentiles of the band in panel (a).

    Returns
    -------
    matplotlib.figure.Figure
        (a) the dispersion share by date (mean and band, percent); (b) each policy's investment
        at industries of one mean against their sd; (c) the magnitude of its fresh-draw Euler
        residual there (log scale).
    """
    import matplotlib.pyplot as plt

    labels = dict(labels or {})
    s = 100.0 * np.atleast_2d(np.asarray(share, dtype=float))
    t = np.arange(s.shape[1])
    fig, (ax_s, ax_u, ax_r) = plt.subplots(1, 3, figsize=(12.0, 3.5), constrained_layout=True)
    lo, hi = np.percentile(s, q, axis=0)
    ax_s.fill_between(t, lo, hi, color="C0", alpha=0.22, lw=0)
    ax_s.plot(t, s.mean(0), color="C0", lw=1.7)
    ax_s.set(xlabel="period $t$", ylabel="dispersion term / price (%)",
             title="(a) Along equilibrium paths", ylim=(0, None))
    normal = probe[probe["shape"] == "normal"]
    for k, (name, sub) in enumerate(normal.groupby("policy", sort=False)):
        sub = sub.sort_values("sd")
        color = f"C{(k + 1) % 7}"
        ax_u.plot(sub["sd"], sub["u"], "o-", color=color, lw=1.5, label=labels.get(name, name))
        ax_r.semilogy(sub["sd"], np.abs(sub["residual"]).clip(lower=1e-12), "o-", color=color,
                      lw=1.5)
    ax_u.set(xlabel="cross-sectional sd of capital", ylabel=r"investment $u(X)$",
             title="(b) Same mean, other dispersion")
    ax_u.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2), useOffset=False)
    ax_r.set(xlabel="cross-sectional sd of capital", ylabel=r"$|\varepsilon(X)|$, fresh draws",
             title="(c) Euler residual there")
    ax_u.legend(loc="best")
    return fig


# --- Chapter 8 (implicit bias and the choice of root) -----------------------------------------


def sparse_grid_fits(means, u_line, lq_stable, lq_explosive, train_means, test, labels=None):
    """Chapter 8: networks fitted at three states, against both LQ solutions.

    Parameters
    ----------
    means : array (n,)
        Means :math:`m` of the states on a line through the initial state.
    u_line : mapping name -> array (n,)
        Each fitted policy at those states.
    lq_stable, lq_explosive : callable
        :math:`m \\mapsto H_0 + H_1 m` for the two LQ roots.
    train_means : array (k,)
        Means of the training states (marked in both panels).
    test : mapping name -> (mean_X, rel_error)
        Arrays of any equal shapes: the mean and the relative policy error at every test point.
    labels : mapping name -> str, optional

    Returns
    -------
    matplotlib.figure.Figure
        (a) u against the mean along the line, with both LQ lines; (b) relative policy error
        against the mean at every test point (log scale).
    """
    import matplotlib.pyplot as plt

    if not u_line:
        raise ValueError("u_line is empty: nothing to plot")
    labels = dict(labels or {})
    means = np.asarray(means, dtype=float)
    fig, (ax_u, ax_e) = plt.subplots(1, 2, figsize=(10.0, 3.9), constrained_layout=True)
    for k, (name, un) in enumerate(u_line.items()):
        ax_u.plot(means, un, color=f"C{k % 7}", lw=2.2, alpha=0.8, label=labels.get(name, name))
    # The exact lines on top: the fits lie on the stationary one almost everywhere.
    ax_u.plot(means, lq_stable(means), color="k", lw=0.9, zorder=4,
              label=r"LQ, stationary root $H_1^-$")
    ax_u.plot(means, lq_explosive(means), color="k", lw=0.9, ls=(0, (3, 2)), zorder=4,
              label=r"LQ, explosive root $H_1^+$")
    for m in np.asarray(train_means, dtype=float):
        ax_u.axvline(m, color="0.5", lw=0.8, ls=":")
        ax_e.axvline(m, color="0.5", lw=0.8, ls=":")
    lo = min(float(np.min(lq_stable(means))), float(np.min(lq_explosive(means))))
    hi = max(float(np.max(lq_stable(means))), float(np.max(lq_explosive(means))))
    pad = 0.1 * (hi - lo)
    ax_u.set_ylim(lo - pad, hi + pad)
    ax_u.set(xlabel=r"mean capital $\bar X$", ylabel=r"investment $u$",
             title="(a) Fitted policies on a line of states")
    ax_u.legend(loc="upper left", fontsize=8)
    for k, (name, (m, e)) in enumerate(test.items()):
        ax_e.scatter(np.ravel(m), np.maximum(np.ravel(e), 1e-8), s=2, color=f"C{k % 7}",
                     alpha=0.25, lw=0, rasterized=True)
    ax_e.set_yscale("log")
    ax_e.set(xlabel=r"mean capital $\bar X_t$ on test paths (colours as in (a))",
             ylabel=r"$|u - u_{LQ}|/|u_{LQ}|$", title="(b) Policy error at every test point")
    return fig


def time_iteration_cobweb(b, b_next, roots, paths=None, slopes=None, zoom=None):
    """Chapter 8: the time-iteration map of the slope H1, its two fixed points and cobwebs.

    Parameters
    ----------
    b, b_next : array (n,)
        A grid of slopes :math:`H_1` and their images :math:`H_1'` under time iteration.
    roots : mapping label -> float
        The fixed points (the LQ roots), marked.
    paths : mapping label -> array (k,), optional
        Successive iterates :math:`H_1^{(0)}, H_1^{(1)}, \\dots`, each drawn as a cobweb.
    slopes : mapping label -> float, optional
        The map's derivative at each root, printed next to it.
    zoom : (float, float), optional
        A range of :math:`H_1` shown again in a second panel with the first of ``paths`` only,
        every iterate marked: the iterates from :math:`u = 0` stay close to the stationary root,
        too close to see on the scale of both roots. The first path is drawn above the others
        in both panels (later paths through the same region would hide it).

    Returns
    -------
    matplotlib.figure.Figure
        One panel, or two with ``zoom``: (a) the whole map, (b) the zoomed range.
    """
    import matplotlib.pyplot as plt

    b, b_next = np.asarray(b, dtype=float), np.asarray(b_next, dtype=float)
    if zoom is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.4), constrained_layout=True)
        axes = [ax]
    else:
        fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.4), constrained_layout=True,
                                 width_ratios=(1.35, 1.0))
    ranges = [(b.min(), b.max())] + ([tuple(zoom)] if zoom is not None else [])
    for n, (ax, (lo, hi)) in enumerate(zip(axes, ranges)):
        ax.plot(b, b_next, color="C0", lw=1.8, label=r"time iteration $H_1 \mapsto H_1'$")
        ax.plot(b, b, color="k", lw=0.8, ls=(0, (3, 2)), label=r"$45^\circ$ line")
        items = list((paths or {}).items())
        for k, (label, path) in enumerate(items):
            p = np.asarray(path, dtype=float)
            if len(p) < 2 or (n and k):
                continue
            xs = np.repeat(p[:-1], 2)  # (p0,p0) -> (p0,p1) -> (p1,p1) -> (p1,p2) ...
            ys = np.empty_like(xs)
            ys[0::2], ys[1::2] = p[:-1], p[1:]
            color = f"C{(k + 4) % 7}"
            # Above the map and the 45-degree line, which the iterates otherwise hide.
            z = 4 + len(items) - k  # the first path on top
            ax.plot(xs, ys, color=color, lw=1.6 if k == 0 else 1.0, label=label, zorder=z)
            ax.plot(p[:1], p[:1], "o", color=color, ms=5, zorder=z)
            if n:  # the zoom: every iterate on the 45-degree line
                ax.plot(p[1:], p[1:], ".", color=color, ms=5, zorder=z)
        for k, (label, r) in enumerate(roots.items()):
            if not lo <= r <= hi:
                continue
            ax.plot([r], [r], "o", color="C1" if k else "C2", ms=7, zorder=5)
            note = label if slopes is None else f"{label}\nslope {slopes[label]:.3f}"
            ax.annotate(note, (r, r), textcoords="offset points",
                        xytext=(22, -16) if n else (10, -30), fontsize=9)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set(xlabel=r"tomorrow's slope $H_1$", ylabel=r"today's slope $H_1'$")
    axes[0].legend(loc="upper left")
    if zoom is not None:
        axes[0].set_title("(a) The map and both roots")
        axes[1].set_title("(b) Near the stationary root")
    return fig


def root_selection(df, roots, order=None, window=(-0.2, 0.45), labels=None):
    """Chapter 8: the slope H1 of every fitted network, by configuration, with both LQ roots.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per run with columns ``phi``, ``init``, ``gradient``, ``H1_fit`` (NaN allowed)
        and ``success``.
    roots : mapping label -> float
        Horizontal reference lines (the two LQ slopes).
    order : list of (phi, init, gradient), optional
        The configurations along the x axis (default: as they appear).
    window : (float, float)
        The y range shown; slopes outside it (or NaN: no fit possible) are drawn as triangles on
        the upper or lower edge.
    labels : mapping phi -> str, optional
        Tick labels of the networks, over the defaults (chapter 8: "mean-only" for the bias-free
        phi(ReLU)).

    Returns
    -------
    matplotlib.figure.Figure
        One column of dots per configuration (filled: success; hollow: not).
    """
    import matplotlib.pyplot as plt

    keys = order or list(dict.fromkeys(zip(df["phi"], df["init"], df["gradient"])))
    names = {**PHI_LABELS, **(labels or {})}
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(keys) + 2.0), 4.2),
                           constrained_layout=True)
    rng = np.random.default_rng(0)  # horizontal jitter only, for legibility
    lo, hi = window
    edge = 0.03 * (hi - lo)
    for i, (phi, init, grad) in enumerate(keys):
        sub = df[(df["phi"] == phi) & (df["init"] == init) & (df["gradient"] == grad)]
        h = np.asarray(_as_floats(sub["H1_fit"]), dtype=float)
        ok = np.asarray(sub["success"], dtype=bool)
        x = i + rng.uniform(-0.18, 0.18, len(h))
        color = f"C{PHI_KINDS.index(phi) if phi in PHI_LABELS else 6}"
        inside = np.isfinite(h) & (h >= lo) & (h <= hi)
        above = ~inside & ~(h < lo)  # NaN and too large: top edge
        below = ~inside & (h < lo)
        for mask, marker, y in [(inside, "o", h), (above, "^", np.full(len(h), hi - edge)),
                                (below, "v", np.full(len(h), lo + edge))]:
            ax.scatter(x[mask & ok], y[mask & ok], s=24, marker=marker, color=color, zorder=3)
            ax.scatter(x[mask & ~ok], y[mask & ~ok], s=24, marker=marker, facecolors="none",
                       edgecolors=color, zorder=3)
    for k, (label, r) in enumerate(roots.items()):
        ax.axhline(r, color="k", lw=0.9, ls="-" if k == 0 else (0, (3, 2)), label=label)
    ax.scatter([], [], marker="^", color="0.4", label="off scale or diverged")
    for i in range(1, len(keys)):
        if keys[i][0] != keys[i - 1][0]:
            ax.axvline(i - 0.5, color="0.6", lw=0.8)
    ax.set_ylim(lo, hi)
    ax.set_xlim(-0.5, len(keys) - 0.5)
    ax.set_xticks(range(len(keys)),
                  [f"{names.get(p, p)}\n{'zero' if i.startswith('zero') else 'default'}"
                   f"\n{g}" for p, i, g in keys], fontsize=8)
    ax.set_ylabel(r"fitted slope $H_1$ (least squares of $u$ on $\bar X$)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)  # outside: no overlap
    return fig


# --- Other models (symdp.models) ------------------------------------------------------------


def model_fit(evaluation, title: str | None = None):
    """A fitted agent model against its exact solution (:class:`symdp.models.AgentEvaluation`).

    (a) each agent's fitted action against the exact one, on the test paths and at the off-path
    states, with the 45-degree line (the linear case; otherwise the Euler residuals along the
    paths, by date); (b) the relative error of every fitted slope (least squares on the exact
    policy's form) and own slope (at a fixed embedding) against the exact ones.
    """
    fig, (a, b) = _row_of_panels(2, width=3.6, sharey=False)
    if evaluation.u_exact is not None:
        for u, exact, label, marker in (
                (evaluation.u, evaluation.u_exact, "on the paths", "."),
                (evaluation.u_offpath, evaluation.u_offpath_exact, "off the paths", "x")):
            a.plot(np.ravel(exact), np.ravel(u), marker, ms=3, alpha=0.5, label=label)
        lo = np.nanmin(evaluation.u_exact)
        hi = np.nanmax(evaluation.u_exact)
        if evaluation.u_offpath_exact is not None:
            lo = min(lo, np.nanmin(evaluation.u_offpath_exact))
            hi = max(hi, np.nanmax(evaluation.u_offpath_exact))
        a.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        a.set_xlabel("exact action")
        a.set_ylabel("fitted action")
        a.legend(frameon=False, fontsize="small")
    else:
        r = np.abs(evaluation.residual).reshape(evaluation.residual.shape[0],
                                                evaluation.residual.shape[1], -1)
        dates = np.arange(r.shape[1])
        a.semilogy(dates, np.median(r, axis=(0, 2)), label="median")
        a.semilogy(dates, np.max(r, axis=(0, 2)), label="largest")
        a.set_xlabel("date on the test paths")
        a.set_ylabel("|Euler residual|")
        a.legend(frameon=False, fontsize="small")
    a.set_title("(a)", loc="left")
    names, errors = [], []
    for name, s in evaluation.slopes.items():
        names.append(name)
        errors.append(abs(s["fit"] / s["exact"] - 1))
    for state, fit in evaluation.own_slope_fit.items():
        exact = evaluation.own_slope_exact.get(state)
        if exact:
            names.append(f"d u / d {state}")
            errors.append(abs(fit / exact - 1))
    if names:
        b.barh(np.arange(len(names)), 100 * np.asarray(errors))
        b.set_yticks(np.arange(len(names)), names)
        b.invert_yaxis()
    b.set_xlabel("|fitted / exact - 1| (%)")
    b.set_title("(b)", loc="left")
    if title:
        fig.suptitle(title)
    return fig



# --- Chapter 10 (decreasing returns: the output-layer finish) ---------------------------------


def finish_learning_curves(histories, tolerance, labels=None):
    """Learning curves with the output-layer finish's steps marked (:mod:`symdp.finish`).

    Parameters
    ----------
    histories : mapping name -> list of dict
        :attr:`symdp.solver.SolveResult.history` of each fit: rows with ``epoch``, ``seconds``,
        ``train_loss`` and ``val_mse`` (NaN where the validation pass was skipped); a finish
        step's row has ``"finish": True`` and its ``train_loss`` is the squared residual of the
        step's subset of states.
    tolerance : float
        The solver's stopping tolerance on the validation MSE (drawn as a line).
    labels : mapping name -> str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Two log-scale panels, against (a) passes over the grid and (b) seconds since the start:
        each fit's training loss at Adam's checks (line), its validation MSE where measured
        (open points) and the finish steps' validation MSE (filled diamonds). A finish step
        takes no pass over the grid, so in (a) its steps stand on one epoch; (b) shows what
        they cost.
    """
    if not histories:
        raise ValueError("histories must name at least one fit")
    labels = dict(labels or {})
    fig, axes = _row_of_panels(2, width=3.6, height=3.4, sharey=True)
    for ax, x_key, x_label, title in ((axes[0], "epoch", "passes over the grid (epochs)", "(a)"),
                                      (axes[1], "seconds", "seconds since the start", "(b)")):
        for k, (name, rows) in enumerate(histories.items()):
            label = labels.get(name, name)
            color = f"C{k % 7}"
            x = np.array(_as_floats(r.get(x_key) for r in rows))
            train = np.array(_as_floats(r.get("train_loss") for r in rows))
            val = np.array(_as_floats(r.get("val_mse") for r in rows))
            fin = np.array([bool(r.get("finish", False)) for r in rows], dtype=bool)
            # one line through every row: a finish step's drop shows where it happens
            ax.plot(x, train, color=color, lw=1.1,
                    label=f"{label}: training loss")
            seen = np.isfinite(val) & ~fin
            if seen.any():
                ax.plot(x[seen], val[seen], "o", color=color, ms=3, mfc="white",
                        label=f"{label}: validation MSE")
            if fin.any():
                ax.plot(x[fin], val[fin], "D", color=color, ms=4.5, mec="k", mew=0.6,
                        label=f"{label}: finish step (validation MSE)")
        ax.axhline(tolerance, color="k", lw=0.9, ls=(0, (3, 2)), label="tolerance")
        ax.set(yscale="log", xlabel=x_label)
        ax.set_title(title, loc="left")
    axes[0].set_ylabel("mean squared Euler residual")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=2, fontsize=7.5, frameon=False)
    return fig
