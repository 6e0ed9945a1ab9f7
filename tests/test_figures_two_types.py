"""Chapter 11's figure: learning curves against time with the finish's steps told apart."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from symdp.book.figures import finish_curves  # noqa: E402


def _rows(finish_steps):
    rows = [{"epoch": e / 4, "train_loss": 10.0 ** -e, "val_mse": math.nan, "seconds": 0.5 * e}
            for e in range(1, 9)]
    rows[-1]["val_mse"] = 2e-8
    for k in range(finish_steps):
        rows.append({"epoch": 2.0, "train_loss": 1e-10 / 10 ** k, "val_mse": 1e-9 / 10 ** k,
                     "seconds": 5.0 + k, "finish": True})
    return rows


def test_finish_steps_are_drawn_apart_from_adam():
    fig = finish_curves({"with": _rows(3), "alone": _rows(0)}, 2e-7,
                        labels={"alone": "Adam alone"})
    ax = fig.axes[0]
    diamonds = [ln for ln in ax.get_lines() if ln.get_marker() == "D"]
    assert len(diamonds) == 3  # one per finish step, only for the fit that has them
    assert [float(ln.get_xdata()[0]) for ln in diamonds] == [5.0, 6.0, 7.0]
    adam = [ln for ln in ax.get_lines() if ln.get_label() == "with, Adam (training)"][0]
    assert len(adam.get_xdata()) == 8  # the finish rows are not on Adam's line
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Adam alone, Adam (training)" in texts
    assert sum("finish step" in t for t in texts) == 1
    assert ax.get_yscale() == "log"
    plt.close(fig)


def test_no_fit_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        finish_curves({}, 2e-7)
