"""How time and memory grow with N: one fresh process per (N, seed) so peak memory is that run's.

    .venv/bin/python benchmarks/scale.py --N 1000 10000 100000 --seeds 3 --threads 1

``--arch relu-firm`` fits the deck's Table 3 phi(ReLU), with hidden biases, instead of the
mean-only network (the names of ``side_by_side.py``); ``--finish-from 2`` fits with the
output-layer finish (:mod:`symdp.finish`). For each N prints
the median fit time (to the validation tolerance), epochs, seconds per
epoch, the peak resident memory of the process, the policy error against the LQ solution, the
matmul FLOPs of one epoch next to its time (the fraction of the 1-thread matmul peak it reaches),
and, timed in a process of its own, one Adam step: its median seconds over 20 steps, the bytes
its kernels read and write (``bench_solve.bytes_per_step``) and the rate that makes, against
this machine's single-thread memory bandwidth (an out-of-cache copy). The mean-only network's
step is a few passes over a batch of states, so bandwidth, not arithmetic, bounds it. With
``--arch relu-firm`` also phi's mean over a minibatch of states evaluated at every firm, layer
by layer, and its matmul rate against the peak: the arithmetic the table of phi's pieces saves.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys


def _arch(name: str):
    """The network ``side_by_side.py`` calls ``name`` (without a finish)."""
    from side_by_side import OURS

    from symdp.networks import ArchitectureConfig

    overrides, _ = OURS[name]
    return ArchitectureConfig(**overrides)


def child(N: int, seed: int, threads: int, test_trajectories: int, device: str,
          finish_from: int | None, arch: str) -> None:
    from symdp import ModelParams, SolverConfig, solve

    r = solve(ModelParams(N=N), _arch(arch), SolverConfig(seed=seed, threads=threads, device=device,
                                                          test_trajectories=test_trajectories,
                                                          finish_from=finish_from))
    out = r.scalars()
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    out["seconds_per_epoch"] = r.fit_seconds / max(r.epochs, 1e-9)
    out["val_checks"] = sum(h["val_mse"] == h["val_mse"] for h in r.history)
    print(json.dumps(out))


def _phi_at_every_firm(phi, X) -> dict:
    """phi's mean over the firms of each state of ``X``, evaluated at every firm, layer by layer
    without gradient (``ReLUPhi._mean_in_chunks``: the path beyond a table's limit and in calls
    below ``tabulate_from``): median seconds of five calls after one, and its matmul FLOPs."""
    import time

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad():
        phi._mean_in_chunks(X)
        with FlopCounterMode(display=False) as counter:
            phi._mean_in_chunks(X)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            phi._mean_in_chunks(X)
            times.append(time.perf_counter() - t)
    return {"phi_firm_seconds": statistics.median(times),
            "phi_firm_flops": counter.get_total_flops(), "phi_firm_states": X.shape[0]}


def step_child(N: int, threads: int, arch: str) -> None:
    """One Adam step of the default fit at N, timed (median of 20 after 3 warm-up steps), and
    the bytes and FLOPs of its kernels; for a phi with hidden biases also phi at every firm of
    a batch of states (:func:`_phi_at_every_firm`); printed as JSON."""
    import time

    import torch
    from bench_solve import bytes_per_step, flops_per_step

    from symdp import ModelParams, SolverConfig, make_policy
    from symdp.solver import _pick_grid, tensor_kw, training_step

    config = SolverConfig(threads=threads)
    torch.set_num_threads(threads)
    grid = _pick_grid(ModelParams(N=N), config, **tensor_kw(config))
    torch.manual_seed(0)
    policy = make_policy(_arch(arch))
    phi = ({} if policy.phi.homogeneous
           else _phi_at_every_firm(policy.phi, grid.train[:config.batch_size]))
    step = training_step(ModelParams(N=N), policy, grid.draws, config)
    batches = grid.train[:23 * config.batch_size].split(config.batch_size)
    times = []
    for i, X in enumerate(batches):
        t = time.perf_counter()
        step(X)
        if i >= 3:
            times.append(time.perf_counter() - t)
    train_flops, val_flops = flops_per_step(N, _arch(arch), config.batch_size,
                                            config.val_trajectories * (config.T + 1))
    print(json.dumps({"step_seconds": statistics.median(times), "train_flops": train_flops,
                      "val_flops": val_flops,
                      "bytes_per_step": bytes_per_step(N, _arch(arch), config.batch_size), **phi}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--test-trajectories", type=int, default=32)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--arch", default="relu", choices=["relu", "relu-firm"],
                    help="relu: the mean-only phi(ReLU) (default); relu-firm: phi with hidden "
                         "biases, the deck's Table 3 network")
    ap.add_argument("--finish-from", type=int, default=None,
                    help="SolverConfig.finish_from (default: the deck model's, Adam alone; 2: the "
                         "output-layer finish from the second epoch, symdp.finish)")
    ap.add_argument("--child", nargs=2, type=int, metavar=("N", "SEED"), help=argparse.SUPPRESS)
    ap.add_argument("--step-child", type=int, metavar="N", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    if args.child:
        child(*args.child, args.threads, args.test_trajectories, args.device, args.finish_from,
              args.arch)
        return
    if args.step_child:
        step_child(args.step_child, args.threads, args.arch)
        return

    import torch
    from bench_solve import matmul_gflops, memory_gbps

    torch.set_num_threads(args.threads)
    peak, bandwidth = matmul_gflops(), memory_gbps()
    print(f"network: {args.arch}; machine: {args.threads}-thread float32 matmul {peak:.1f} GFLOP/s, "
          f"memory bandwidth {bandwidth:.1f} GB/s (copy)")
    rows = []
    for N in args.N:
        runs = []
        for seed in range(args.seeds):
            cmd = [sys.executable, __file__, "--child", str(N), str(seed), "--threads",
                   str(args.threads), "--test-trajectories", str(args.test_trajectories),
                   "--device", args.device, "--arch", args.arch,
                   *([] if args.finish_from is None else ["--finish-from", str(args.finish_from)])]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        cmd = [sys.executable, __file__, "--step-child", str(N), "--threads", str(args.threads),
               "--arch", args.arch]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        step = json.loads(proc.stdout.strip().splitlines()[-1])
        train_flops, val_flops = step["train_flops"], step["val_flops"]
        # 64 steps an epoch; validation passes actually run (the rest are gated off)
        checks_per_epoch = statistics.median(r["val_checks"] / max(r["epochs"], 1e-9) for r in runs)
        epoch_flops = 64 * train_flops + checks_per_epoch * val_flops
        med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
        row = {"N": N, "arch": args.arch, "successes": sum(r["success"] for r in runs),
               "seeds": args.seeds,
               "median_fit_seconds": med("fit_seconds"), "median_epochs": med("epochs"),
               "median_seconds_per_epoch": med("seconds_per_epoch"),
               "max_peak_rss_gb": max(r["peak_rss_gb"] for r in runs),
               "median_policy_rel_error": statistics.median(
                   r["policy_rel_error"] for r in runs if r["policy_rel_error"] is not None),
               "gflop_per_epoch": epoch_flops / 1e9,
               "step_seconds": step["step_seconds"], "step_bytes": step["bytes_per_step"],
               "step_gbps": step["bytes_per_step"] / step["step_seconds"] / 1e9,
               "memory_gbps": bandwidth,
               "runs": runs}
        row["gflops_rate"] = row["gflop_per_epoch"] / row["median_seconds_per_epoch"]
        if "phi_firm_seconds" in step:
            row["phi_firm_seconds"] = step["phi_firm_seconds"]
            row["phi_firm_states"] = step["phi_firm_states"]
            row["phi_firm_gflops_rate"] = step["phi_firm_flops"] / step["phi_firm_seconds"] / 1e9
        rows.append(row)
        print(f"N={N:>8}  success {row['successes']}/{args.seeds}  fit {row['median_fit_seconds']:7.2f} s  "
              f"epochs {row['median_epochs']:5.2f}  {row['median_seconds_per_epoch']:6.3f} s/epoch  "
              f"peak RSS {row['max_peak_rss_gb']:.2f} GB  policy error "
              f"{100 * row['median_policy_rel_error']:.3f}%  {row['gflop_per_epoch']:.2f} GFLOP/epoch "
              f"-> {row['gflops_rate']:.2f} GFLOP/s ({100 * row['gflops_rate'] / peak:.0f}% of peak)"
              f"\n{'':10}one step {1e3 * row['step_seconds']:.1f} ms, "
              f"{row['step_bytes'] / 1e6:.1f} MB read and written -> {row['step_gbps']:.1f} GB/s "
              f"({100 * row['step_gbps'] / bandwidth:.0f}% of the copy bandwidth)"
              + ("" if "phi_firm_seconds" not in row else
                 f"\n{'':10}phi at every firm of {row['phi_firm_states']} states, layer by layer: "
                 f"{1e3 * row['phi_firm_seconds']:.1f} ms, {row['phi_firm_gflops_rate']:.1f} "
                 f"GFLOP/s ({100 * row['phi_firm_gflops_rate'] / peak:.0f}% of peak)"),
              flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
