"""Time-to-solution of the three deck baselines, and how far from the machine's limit it runs.

For each N and architecture, fits ``--seeds`` seeds with the default solver on one torch thread and
prints the median time to solution (validation tolerance met AND stationary root), median epochs,
median policy error against the LQ solution, and the number of successes. It also counts the
arithmetic the fit did (matmul FLOPs via torch's FlopCounterMode on one training step and one
validation pass, times the steps and checks the fit took) and compares the rate with this machine's
single-thread matmul throughput measured in the same run.

    .venv/bin/python benchmarks/bench_solve.py                  # the issue's table
    .venv/bin/python benchmarks/bench_solve.py --N 128 --seeds 3 --phis relu
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import torch
from torch.utils import _pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from symdp import ModelParams, SolverConfig, make_policy, solve
from symdp.economics import euler_residual, gauss_hermite
from symdp.networks import PHI_KINDS, ArchitectureConfig


def matmul_gflops(n: int = 1024, repeats: int = 20) -> float:
    """Single-thread float32 matmul throughput (GFLOP/s): the machine's practical limit."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def memory_gbps(n_bytes: int = 1 << 30, repeats: int = 5) -> float:
    """Single-thread memory bandwidth (GB/s): an out-of-cache copy, each byte read and written."""
    a = torch.ones(n_bytes // 4)
    b = torch.zeros_like(a)  # both touched once, so no page is faulted in while timed
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        b.copy_(a)
        times.append(time.perf_counter() - t)
    return 2 * n_bytes / statistics.median(times) / 1e9


class _BytesTouched(TorchDispatchMode):
    """Sums, over the kernels run, the bytes of their tensor inputs and outputs (a broadcast
    axis counted once; views none): the traffic if nothing stayed in cache between kernels."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if not func.is_view:
            for t in pytree.tree_leaves((args, kwargs, out)):
                if isinstance(t, torch.Tensor):
                    kept = [n for n, st in zip(t.shape, t.stride()) if st != 0]
                    self.total += t.element_size() * math.prod(kept)
        return out


def _step_and_check(N: int, phi: str | ArchitectureConfig, batch: int, states: int, nodes: int,
                    mode):
    """Run one training step of ``batch`` states and one validation pass of ``states`` under
    ``mode`` (a fresh one each), returning the two modes."""
    params = ModelParams(N=N)
    policy = make_policy(phi, N=N)
    z, w = gauss_hermite(nodes)
    z, w = torch.tensor(z, dtype=torch.float32), torch.tensor(w, dtype=torch.float32)
    W = torch.randn(N)
    X_train, X_val = torch.rand(batch, N) + 0.5, torch.rand(states, N) + 0.5  # capital > 0
    with mode() as train:
        euler_residual(params, policy, X_train, W, z, w).pow(2).mean().backward()
    with mode() as val, torch.no_grad():
        euler_residual(params, policy, X_val, W, z, w)
    return train, val


def flops_per_step(N: int, phi: str | ArchitectureConfig, batch: int, val_points: int,
                   nodes: int = 7) -> tuple[int, int]:
    """Matmul FLOPs of one training step (forward + backward) and of one validation pass
    (counted on 8 states and scaled: a pass is linear in its states, and at a million firms the
    whole pass at once would not fit in memory)."""
    train, val = _step_and_check(N, phi, batch, 8, nodes, lambda: FlopCounterMode(display=False))
    return train.get_total_flops(), val.get_total_flops() * val_points // 8


def bytes_per_step(N: int, phi: str | ArchitectureConfig, batch: int, nodes: int = 7) -> int:
    """Bytes the kernels of one training step (forward + backward) read and write
    (:class:`_BytesTouched`)."""
    train, _ = _step_and_check(N, phi, batch, 1, nodes, _BytesTouched)
    return train.total


def bench(N: int, phi: str, seeds: int, test_trajectories: int) -> dict:
    cfg0 = SolverConfig(threads=1, test_trajectories=test_trajectories)
    train_flops, val_flops = flops_per_step(N, phi, cfg0.batch_size, cfg0.val_trajectories * (cfg0.T + 1))
    runs = []
    for seed in range(seeds):
        r = solve(ModelParams(N=N), phi, SolverConfig(seed=seed, threads=1,
                                                      test_trajectories=test_trajectories))
        checks = sum(h["val_mse"] == h["val_mse"] for h in r.history)  # NaN: validation skipped
        flops = r.steps * train_flops + checks * val_flops
        runs.append({**r.scalars(), "gflop": flops / 1e9, "gflops_rate": flops / r.fit_seconds / 1e9,
                     "seconds_per_epoch": r.fit_seconds / max(r.epochs, 1e-9)})
    ok = [x for x in runs if x["success"]]
    med = lambda key, rows: statistics.median(x[key] for x in rows) if rows else None  # noqa: E731
    return {
        "N": N, "phi": phi, "seeds": seeds, "successes": len(ok),
        "median_time_to_solution_s": med("fit_seconds", ok),
        "median_epochs": med("epochs", ok),
        "median_policy_rel_error": med("policy_rel_error", ok),
        "median_seconds_per_epoch": med("seconds_per_epoch", runs),
        "median_gflop_per_fit": med("gflop", runs),
        "median_gflops_rate": med("gflops_rate", runs),
        "runs": runs,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, nargs="+", default=[128, 1024, 10000])
    ap.add_argument("--phis", nargs="+", default=list(PHI_KINDS))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--large-seeds", type=int, default=5, help="seeds for N > 128 (phi relu only)")
    ap.add_argument("--test-trajectories", type=int, default=256)
    ap.add_argument("--json", help="also write all runs to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    peak = matmul_gflops()
    print(f"machine: 1-thread float32 matmul {peak:.1f} GFLOP/s (torch {torch.__version__})")
    rows = []
    for N in args.N:
        for phi in args.phis if N == 128 else ["relu"]:
            seeds = args.seeds if N == 128 else args.large_seeds
            row = bench(N, phi, seeds, args.test_trajectories)
            rows.append(row)
            err = row["median_policy_rel_error"]
            print(f"N={N:>6} phi={phi:<8} success {row['successes']}/{seeds}  "
                  f"median time {row['median_time_to_solution_s'] or float('nan'):6.2f} s  "
                  f"epochs {row['median_epochs'] or float('nan'):5.2f}  "
                  f"policy error {100 * err if err is not None else float('nan'):.3f}%  "
                  f"{row['median_seconds_per_epoch']:.3f} s/epoch  "
                  f"{row['median_gflop_per_fit']:.2f} GFLOP/fit = "
                  f"{row['median_gflops_rate']:.2f} GFLOP/s ({100 * row['median_gflops_rate'] / peak:.1f}% of matmul peak)",
                  flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"matmul_gflops": peak, "rows": rows}, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
