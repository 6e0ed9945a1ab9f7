"""Timing the solver's Adam steps (symdp.studies.scaling, chapter 6)."""

import math

import pytest
import torch

from symdp import ModelParams
from symdp.economics import simulate
from symdp.networks import ArchitectureConfig
from symdp.studies.scaling import StepTiming, step_seconds
from symdp.solver import (SolverConfig, first_draws, lq_path_policy, seeded_policy, tensor_kw,
                          training_step)

SMALL = SolverConfig(train_trajectories=2, T=15, batch_size=4, threads=1)


def test_first_loss_is_the_euler_residual_of_the_zero_policy():
    # The output layer starts at zero, so u = 0 today and tomorrow. With nu = 1, a standardised
    # draw (mean 0) and symmetric quadrature nodes, E p(X') = 1 - (1 - delta) mean(X), and the
    # residual gamma u - beta E[p + gamma (1 - delta) u'] is -beta (1 - (1 - delta) mean(X)).
    params = ModelParams(N=8)
    timing = step_seconds(params, "relu", SMALL, steps=2, warmup=0)
    X = timing.states.double()
    assert X.shape == (SMALL.batch_size, 8)
    expected = (params.beta * (1 - (1 - params.delta) * X.mean(-1))).pow(2).mean()
    assert timing.losses[0] == pytest.approx(float(expected), rel=1e-5)


def test_timed_steps_are_adam_steps_that_lower_the_loss():
    timing = step_seconds(ModelParams(N=8), "identity", SMALL, steps=5, warmup=0)
    assert len(timing.seconds) == len(timing.losses) == 5
    assert timing.losses[-1] < timing.losses[0]
    assert all(s > 0 for s in timing.seconds)


def test_an_epoch_is_the_grid_divided_by_the_batch():
    timing = step_seconds(ModelParams(N=8), "identity", SMALL, steps=1)
    assert timing.steps_per_epoch == math.ceil(2 * 16 / 4)
    assert timing.seconds_per_epoch == pytest.approx(timing.seconds_per_step * 8)


def test_seconds_per_step_is_the_median():
    t = StepTiming((3.0, 1.0, 2.0, 10.0), (1.0,) * 4, 4)
    assert t.seconds_per_step == 2.5
    assert StepTiming((3.0, 1.0, 2.0), (1.0,) * 3, 4).seconds_per_step == 2.0


def test_phi_at_every_firm_costs_more_than_two_averages():
    # Looked up in its table of pieces, the per-firm step was about 4 times the mean-only one at
    # N = 2,048 (fastest of three steps each, two test runs at once): the fastest steps, and a
    # factor 1.5, leave room for a busy machine.
    params = ModelParams(N=2048)
    mean_only = step_seconds(params, ArchitectureConfig(phi="relu"), SMALL, steps=3)
    per_firm = step_seconds(params, ArchitectureConfig(phi="relu", phi_hidden_bias=True), SMALL,
                            steps=3)
    assert min(per_firm.seconds) > 1.5 * min(mean_only.seconds)


def test_step_seconds_validates():
    with pytest.raises(ValueError, match="steps"):
        step_seconds(ModelParams(N=4), "relu", SMALL, steps=0)
    with pytest.raises(ValueError, match="warmup"):
        step_seconds(ModelParams(N=4), "relu", SMALL, warmup=-1)


def test_figure_3_draws_the_per_firm_network_dashed_and_puts_the_mse_power_in_the_label():
    import matplotlib.pyplot as plt
    import pandas as pd

    from symdp.studies.scaling import quantiles_by_n
    from symdp.book.figures import scaling_in_n

    def summary(seconds, mse):
        return quantiles_by_n(pd.DataFrame([
            {"N": N, "success": True, "fit_seconds": seconds * (1 + N / 500) + s, "epochs": 4.0,
             "val_mse": mse, "policy_rel_error": 1e-3} for N in (128, 1024) for s in range(3)]))

    fig = scaling_in_n(summary(1.0, 1.5e-7), per_firm=summary(3.0, 2.5e-7))
    ax_t, _, ax_m = fig.axes
    dashed = [line for line in ax_t.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 2  # the per-firm network's time to solution and time per epoch
    assert list(dashed[0].get_ydata()) == pytest.approx([3 * (1 + 128 / 500) + 1,
                                                          3 * (1 + 1024 / 500) + 1])
    fig.canvas.draw()
    assert ax_m.yaxis.get_offset_text().get_text() == ""  # nothing over the panel title
    assert "10^{-7}" in ax_m.get_ylabel()
    # the plotted medians are in units of 1e-7, both networks on one scale
    assert max(max(line.get_ydata()) for line in ax_m.lines) == pytest.approx(2.5)
    plt.close(fig)


def test_the_timed_steps_are_the_solvers_steps_on_a_path_from_its_first_draws():
    params = ModelParams(N=8)
    timing = step_seconds(params, "relu", SMALL, steps=2, warmup=1)
    kw = tensor_kw(SMALL)
    policy = seeded_policy(params, "relu", SMALL, **kw)
    draws = first_draws(params, SMALL, **kw)
    path = simulate(params, lq_path_policy(params), draws.X0, 1, SMALL.T, draws.gen)[0]
    assert torch.equal(timing.states, path[[0, 5, 10, 15]])  # 4 dates from 0 to T = 15
    step = training_step(params, policy, draws, SMALL)
    losses = [float(step(timing.states)) for _ in range(3)]
    assert tuple(losses[1:]) == timing.losses  # after one untimed step
