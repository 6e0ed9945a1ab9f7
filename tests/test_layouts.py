"""The deck's table layouts: failures counted, medians over the right runs, the deck's values
in the same layout."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from symdp import deck
from symdp.runs import experiments as ex
from symdp.runs import layouts


def _fake(rows, values):
    """A results frame: for each (group, row), runs with given (ok, success, fit_seconds)."""
    recs = []
    for (group, row, _), runs in zip(rows, values):
        for i, (ok, success, t) in enumerate(runs):
            recs.append({"group": group, "row": row, "seed": i, "ok": ok, "success": success,
                         "coefficients": 1000, "fit_seconds": t, "train_mse": t * 1e-7,
                         "val_mse": t * 1e-7, "test_mse": t * 1e-7, "fresh_mse": t * 2e-7,
                         "policy_rel_error": t * 1e-3})
    return pd.DataFrame(recs)


def test_table_layouts_count_failures_and_take_medians():
    rows = ex.TABLE2_ROWS[:2]
    df = _fake(rows, [[(True, True, 1.0), (True, True, 3.0), (False, False, 100.0),
                       (True, False, 50.0)],
                      [(True, False, 7.0), (False, False, 9.0)]])
    t2 = ex.layout("table2", df)
    first, second = t2.iloc[0], t2.iloc[1]
    assert first["Runs"] == 4 and first["Success (%)"] == 50.0
    assert first["Time (s)"] == 2.0  # median over the successful runs only
    assert first["Policy error"] == pytest.approx(2e-3) and first["Parameters (K)"] == 1.0
    assert first["Test MSE (fresh draws)"] == pytest.approx(4e-7)  # median of 2e-7 and 6e-7
    assert second["Success (%)"] == 0.0 and math.isnan(second["Time (s)"])  # the deck's "-"
    t3 = ex.layout("table3", _fake(ex.TABLE3_ROWS[:1], [[(True, True, 1.0), (True, False, 5.0),
                                                          (False, False, 99.0)]]))
    assert t3.iloc[0]["Time (s)"] == 3.0  # Table 3: every completed run
    assert t3.iloc[0]["Test MSE (fresh draws)"] == pytest.approx(6e-7)
    assert "Policy error" not in t3.columns
    assert list(ex.deck_layout("table2").index) == [(g, r) for g, r, _ in ex.TABLE2_ROWS]
    assert list(ex.deck_layout("table3").index) == [(g, r) for g, r, _ in ex.TABLE3_ROWS]


def test_table_layout_takes_its_rows_and_says_which_medians():
    rows = ex.TABLE3_ROWS[:1]
    df = _fake(rows, [[(True, True, 1.0), (True, False, 5.0)]])
    successful = layouts.table_layout(df, rows, "successful", policy_error=True)
    completed = layouts.table_layout(df, rows, "completed", policy_error=False)
    assert successful.iloc[0]["Time (s)"] == 1.0 and completed.iloc[0]["Time (s)"] == 3.0
    assert len(layouts.table_layout(df, ex.TABLE3_ROWS[1:], "completed", False)) == 0
    with pytest.raises(ValueError, match="medians_over"):
        layouts.table_layout(df, rows, "all", policy_error=False)


def test_implicit_bias_layout_counts_roots():
    df = pd.DataFrame([
        {"phi": "relu", "init": "default", "gradient": "full", "success": s, "root": r, "H1_fit": h}
        for s, r, h in ((True, "stable", -0.05), (False, "explosive", 0.22),
                        (False, None, None), (False, "neither", 1.1))])
    row = ex.layout("implicit_bias", df).iloc[0]
    assert row["Runs"] == 4 and row["Success (%)"] == 25.0
    assert (row["Stable root (%)"], row["Explosive root (%)"], row["Neither (%)"]) == (25, 25, 50)
    assert row["Median H1"] == pytest.approx(0.22)


def test_deck_layout_puts_each_published_value_under_its_column():
    table = layouts.deck_layout(deck.DECK_TABLE3, deck.TABLE3_COLUMNS, ex.TABLE3_ROWS)
    row = table.loc[("phi(ReLU)", "Baseline")]
    assert (row["Time (s)"], row["Parameters (K)"], row["Test MSE"]) == (60, 67.1, 4.7e-06)
    t2 = layouts.deck_layout(deck.DECK_TABLE2, deck.TABLE2_COLUMNS, ex.TABLE2_ROWS)
    assert t2.loc[("Deep Sets", "Baseline: L = 4"), "Success (%)"] == 97
    assert math.isnan(t2.loc[("Moments", "Very Shallow (1 layer)"), "Time (s)"])  # the deck's "-"
