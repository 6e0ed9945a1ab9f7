"""The extensions against their exact benchmarks: success, time and accuracy, seed by seed.

    .venv/bin/python benchmarks/models.py --models decreasing-returns --N 128 --seeds 10
    .venv/bin/python benchmarks/models.py --nu 1.5 --seeds 3 --fresh 8

For each model and N: the model's baseline network (``Model.architecture()``, or with
``--rho-width``), the solver's defaults (``--finish-from 0``: Adam alone), one torch thread,
seeds first..first+k-1. Prints, per (model, N), the success count (tolerance met and the
stationary solution), the median and largest fit time, the median epochs, and in the linear case
the median and largest policy error on the test paths and off them and the largest relative error
of any fitted slope against the exact one over all seeds; for nu > 1 the median test MSE, the
Monte Carlo residual at ``--fresh`` test states and the own slopes against the exact ones.
``--json FILE`` also writes every run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def one_run(name: str, N: int, nu: float, seed: int, args) -> dict:
    from dataclasses import replace

    from symdp.evaluation import FreshDraws
    from symdp.models import get_model
    from symdp.solver import SolverConfig, solve

    model = get_model(name, N=N, nu=nu)
    arch = model.architecture()
    if args.rho_width:
        arch = replace(arch, rho_width=args.rho_width)
    config = SolverConfig(seed=seed, threads=1, max_epochs=args.max_epochs,
                          max_seconds=args.max_seconds, test_trajectories=args.test_trajectories,
                          own_nodes=args.own_nodes,
                          **({} if args.finish_from is None else {"finish_from": args.finish_from}))
    fresh = FreshDraws(states=args.fresh, draws=256, seed=seed) if args.fresh else None
    started = time.perf_counter()
    r = solve(model, arch, config, fresh=fresh)
    out = r.scalars()
    out["wall_seconds"] = time.perf_counter() - started
    out["slope_error"] = max((abs(s["fit"] / s["exact"] - 1) for s in out["slopes"].values()),
                             default=None)
    out["own_slope_error"] = max((abs(s["fit"] / s["exact"] - 1)
                                  for s in out["own_slopes"].values() if s["exact"]), default=None)
    return out


def _median(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def _largest(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return max(values) if values else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+",
                    default=["decreasing-returns", "two-types", "vector-state"])
    ap.add_argument("--N", type=int, nargs="+", default=[128])
    ap.add_argument("--nu", type=float, default=1.0)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--max-epochs", type=int, default=60)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--test-trajectories", type=int, default=32)
    ap.add_argument("--own-nodes", type=int, default=3, help="0: the own shocks at one draw")
    ap.add_argument("--rho-width", type=int, default=None)
    ap.add_argument("--finish-from", type=int, default=None,
                    help="epoch of the first output-layer step (symdp.finish; default: "
                         "SolverConfig's); 0: Adam alone")
    ap.add_argument("--fresh", type=int, default=0, help="Monte Carlo residual at this many states")
    ap.add_argument("--json", help="also write every run to this file")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    # torch's first optimizer imports its compiler stack (1-1.5 s here): a cost of the process,
    # which would otherwise land on the first seed's fit time
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    rows = []
    for name in args.models:
        for N in args.N:
            seeds = range(args.first_seed, args.first_seed + args.seeds)
            runs = [one_run(name, N, args.nu, seed, args) for seed in seeds]
            rows += [{"model": name, **r} for r in runs]
            ok = sum(r["success"] for r in runs)
            line = (f"{name:>18} N={N:<6} nu={args.nu}: success {ok}/{len(runs)}, fit "
                    f"{_median(runs, 'fit_seconds'):.1f} s (largest "
                    f"{_largest(runs, 'fit_seconds'):.1f} s), {_median(runs, 'epochs'):.2f} epochs")
            if args.nu == 1.0:
                line += (f", policy error {100 * _median(runs, 'policy_rel_error'):.4f}% on / "
                         f"{100 * _median(runs, 'offpath_rel_error'):.4f}% off the path "
                         f"(largest {100 * _largest(runs, 'policy_rel_error'):.4f}% / "
                         f"{100 * _largest(runs, 'offpath_rel_error'):.4f}%), every slope within "
                         f"{100 * _largest(runs, 'slope_error'):.3f}%")
            else:
                line += f", test MSE {_median(runs, 'test_mse'):.2e}"
                if args.fresh:
                    line += f", Monte Carlo MSE {_median(runs, 'fresh_mse'):.2e}"
                if _median(runs, "own_slope_error") is not None:
                    line += f", own slopes within {100 * _median(runs, 'own_slope_error'):.2f}%"
            print(line, flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
