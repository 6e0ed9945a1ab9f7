"""The learning-curve figure of chapter 10 (the output-layer finish's steps marked)."""

import math

import pytest


def test_finish_learning_curves_mark_the_finish_steps_in_both_panels():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from symdp.book.figures import finish_learning_curves

    adam = [{"epoch": 0.5 * k, "seconds": 1.0 * k, "train_loss": 10.0 ** -k,
             "val_mse": math.nan if k < 3 else 10.0 ** -k} for k in range(1, 7)]
    finished = [*adam[:4],
                *({"epoch": 2.0, "seconds": 4.0 + k, "train_loss": 10.0 ** (-6 - 2 * k),
                   "val_mse": 10.0 ** (-6 - 2 * k), "finish": True} for k in range(3))]
    fig = finish_learning_curves({"default": finished, "adam": adam}, 2e-7,
                                 labels={"adam": "Adam alone"})
    assert len(fig.axes) == 2
    for ax, key in zip(fig.axes, ("epoch", "seconds")):
        lines = {line.get_label(): line for line in ax.get_lines()}
        steps = lines["default: finish step (validation MSE)"]
        assert list(steps.get_xdata()) == [r[key] for r in finished[4:]]
        assert list(steps.get_ydata()) == [r["val_mse"] for r in finished[4:]]
        # validation points exclude the finish rows; Adam alone has no finish marker
        assert len(lines["default: validation MSE"].get_xdata()) == 2
        assert "Adam alone: finish step (validation MSE)" not in lines
        assert ax.get_yscale() == "log"
    plt.close(fig)
    with pytest.raises(ValueError):
        finish_learning_curves({}, 2e-7)
