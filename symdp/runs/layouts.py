"""The deck's table layouts: an experiment's runs aggregated as the deck prints them.

Each function takes the DataFrame of :func:`symdp.runs.experiments.results` (one row per run,
with its ``ok`` and ``success`` columns) and returns a table in the layout of one of the deck's
tables or figures: medians over seeds, success rates, counts of runs stopped by the wall-clock
safety net. The registry (:mod:`symdp.runs.experiments`) says which layout each experiment has,
with which rows; :func:`deck_layout` puts the deck's own published values
(:mod:`symdp.deck`) in the same layout, for side-by-side display.

:func:`table_layout`
    Tables 2 and 3: one row per architecture.
:func:`figure3_layout`
    Figure 3: one row per number of firms N.
:func:`implicit_bias_layout`
    The implicit-bias study: which LQ root the fits select, by phi, initialisation and gradient.
:func:`regression_layout`
    The appendix Table 1: N by latent dimension L.
:func:`deck_layout`
    A table of the deck's published values in :func:`table_layout`'s layout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from ..networks import PHI_KINDS

if TYPE_CHECKING:  # pandas is an optional dependency (the ``sweep`` extra)
    import pandas as pd

__all__ = [
    "MEDIANS_OVER",
    "table_layout",
    "figure3_layout",
    "implicit_bias_layout",
    "regression_layout",
    "deck_layout",
]

#: The runs a table's medians can be taken over (:func:`table_layout`'s ``medians_over``).
MEDIANS_OVER = ("successful", "completed")


def _median(s) -> float:
    import pandas as pd

    s = pd.to_numeric(s, errors="coerce").dropna()
    return float(s.median()) if len(s) else float("nan")


def _time_capped(df: "pd.DataFrame") -> int:
    """Runs stopped by the wall-clock safety net (a loaded machine), not by epochs."""
    return int((df["status"] == "max_seconds").sum()) if "status" in df else 0


def table_layout(df: "pd.DataFrame", rows: Sequence[tuple[str, str, dict]], medians_over: str,
                 policy_error: bool) -> "pd.DataFrame":
    """Tables 2 and 3's layout: one row per ``(group, row, architecture)`` of ``rows`` with runs.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per run, with ``group`` and ``row`` labels.
    rows : sequence of (group, row, architecture)
        The table's rows in the deck's order (e.g. :data:`symdp.runs.experiments.TABLE2_ROWS`).
    medians_over : {"successful", "completed"}
        The runs whose time, MSEs and policy error are medians: the successful ones (Table 2:
        NaN, the deck's "-", when none succeeded, as the deck shows its Very Shallow row), or every
        run that completed (Table 3: the deck's Very Shallow rows report their large test MSEs,
        so its medians include the failures).
    policy_error : bool
        Add the ``Policy error`` column (a fraction, mean over test points): nu = 1 only.

    Returns
    -------
    pandas.DataFrame
        Index (``Group``, ``Description``). ``Success (%)`` counts every run (failed runs count
        as failures); ``Parameters (K)``: ours. ``Test MSE (fresh draws)``: the median of each
        run's Euler MSE at sampled test states with fresh Monte Carlo draws of all N + 1 shocks
        (:data:`symdp.runs.experiments.FRESH`; ``Test MSE`` reuses the training draw of the
        idiosyncratic shocks). ``Time cap hit``: runs stopped by the wall-clock safety net rather
        than by epochs (0 on a machine that is not overloaded).
    """
    import pandas as pd

    if medians_over not in MEDIANS_OVER:
        raise ValueError(f"medians_over must be one of {MEDIANS_OVER}, got {medians_over!r}")
    out = []
    for group, row, _ in rows:
        sub = df[(df["group"] == group) & (df["row"] == row)] if len(df) else df
        if not len(sub):
            continue
        pick = sub[sub["success"]] if medians_over == "successful" else sub[sub["ok"]]
        entry = {
            "Group": group, "Description": row, "Runs": len(sub),
            "Success (%)": 100.0 * float(sub["success"].mean()),
            "Parameters (K)": _median(sub["coefficients"]) / 1000.0,
            "Time (s)": _median(pick["fit_seconds"]) if len(pick) else float("nan"),
            "Train MSE": _median(pick["train_mse"]) if len(pick) else float("nan"),
            "Val MSE": _median(pick["val_mse"]) if len(pick) else float("nan"),
            "Test MSE": _median(pick["test_mse"]) if len(pick) else float("nan"),
            # Fresh draws of all shocks at sampled test states (not the training draw).
            "Test MSE (fresh draws)": (_median(pick["fresh_mse"])
                                       if len(pick) and "fresh_mse" in pick else float("nan")),
        }
        if policy_error:
            entry["Policy error"] = (_median(pick["policy_rel_error"]) if len(pick)
                                     else float("nan"))
        entry["Time cap hit"] = _time_capped(sub)
        out.append(entry)
    return pd.DataFrame(out).set_index(["Group", "Description"]) if out else pd.DataFrame()


def figure3_layout(df: "pd.DataFrame") -> "pd.DataFrame":
    """By N: trials, successes, and medians of fit time, epochs, policy error and test MSE
    (over all trials, as the deck's "median value of 21 trials")."""
    import pandas as pd

    out = []
    for N, sub in df.groupby("N", sort=True) if len(df) else []:
        out.append({"N": int(N), "Trials": len(sub), "Successes": int(sub["success"].sum()),
                    "Time (s)": _median(sub["fit_seconds"]), "Epochs": _median(sub["epochs"]),
                    "Policy error": _median(sub["policy_rel_error"]),
                    "Test MSE": _median(sub["test_mse"]), "Val MSE": _median(sub["val_mse"]),
                    "Time cap hit": _time_capped(sub)})
    return pd.DataFrame(out).set_index("N") if out else pd.DataFrame()


def implicit_bias_layout(df: "pd.DataFrame") -> "pd.DataFrame":
    """By (phi, initialisation, gradient): runs, success %, the share of fits nearest each LQ
    root (within :data:`symdp.lq.ROOT_TOLERANCE`) or neither, and the median fitted slope H1."""
    import pandas as pd

    out = []
    for phi in PHI_KINDS:
        for init in ("zero last layer", "default"):
            for gradient in ("semi", "full"):
                sub = df[(df["phi"] == phi) & (df["init"] == init) & (df["gradient"] == gradient)] \
                    if len(df) else df
                if not len(sub):
                    continue
                root = sub["root"].fillna("neither") if "root" in sub else pd.Series(
                    ["neither"] * len(sub))
                out.append({
                    "phi": phi, "Initialisation": init, "Gradient": gradient, "Runs": len(sub),
                    "Success (%)": 100.0 * float(sub["success"].mean()),
                    "Stable root (%)": 100.0 * float((root == "stable").mean()),
                    "Explosive root (%)": 100.0 * float((root == "explosive").mean()),
                    "Neither (%)": 100.0 * float((root == "neither").mean()),
                    "Median H1": _median(sub["H1_fit"]) if "H1_fit" in sub else float("nan"),
                })
    return (pd.DataFrame(out).set_index(["phi", "Initialisation", "Gradient"]) if out
            else pd.DataFrame())


def regression_layout(df: "pd.DataFrame") -> "pd.DataFrame":
    """Table 1's layout: median relative test error over seeds, N by L then NONE (fractions)."""
    from ..studies.regression import regression_table

    return regression_table(df, "rel_error")


def deck_layout(values: Mapping[tuple[str, str], tuple], columns: Sequence[str],
                rows: Sequence[tuple[str, str, dict]]) -> "pd.DataFrame":
    """The deck's published ``values`` (e.g. :data:`symdp.deck.DECK_TABLE2`, whose tuples hold
    ``columns``) in :func:`table_layout`'s layout, one row per entry of ``rows`` in its order."""
    import pandas as pd

    out = [{"Group": g, "Description": r, **dict(zip(columns, values[(g, r)]))}
           for g, r, _ in rows]
    return pd.DataFrame(out).set_index(["Group", "Description"])
