"""Time to solution against the authors' public code, side by side, runs interleaved.

    .venv/bin/python benchmarks/side_by_side.py --authors "PYTHON RUNNER" --seeds 5
    .venv/bin/python benchmarks/side_by_side.py --authors "PYTHON RUNNER" --nu 1.5 --ours relu

For every (nu, seed) it runs the authors' code once, then each of ours (``--ours``: ``relu``,
the bias-free phi(ReLU) that reduces to two averages of the industry, chapter 3; ``relu-firm``,
phi(ReLU) with hidden biases, evaluated at every firm, the deck's Table 3 network; each with
Adam alone, the deck model's default, and with ``+finish``, ``SolverConfig(finish_from=2)``,
:mod:`symdp.finish`), one process at a time on one torch thread, and prints per network the median fit time over the successful
seeds, the median epochs and policy error, and the ratio of our median to the authors'.
``--json FILE`` also writes every run.

The authors' code (HighDimensionalEconLab/symmetry_dynamic_programming, MIT) is not part of this
repository: build it in a scratch folder outside it and never commit it. ``--authors`` is the
command that runs it once, to which this script appends ``--N N --nu NU --seed S``; it must
print, as its last line, a JSON object with at least ``fit_seconds`` (the wall time of its
``trainer.fit``), ``epochs`` and ``converged_tolerance`` (true when its early stopping met its
validation tolerance; a run is counted only then). Issue 13's text lists what its
``investment_euler.py`` needed to run with torch 2.13 and Lightning 2.6 (a CSV logger instead of wandb, the yaml keys it reads
but lacks, torch threads set after all imports, the progress bar off).

Ours counts :attr:`symdp.SolveResult.fit_seconds`: from before the network is built to the end
of the fit (grid simulation included, the test paths not), our default tolerance (a validation
MSE of 2e-7, five times below the authors' 1e-6) and success as the book counts it: the
tolerance met and the stationary root.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import time

# our networks: architecture overrides and SolverConfig.finish_from (None: the deck model's
# default, Adam alone; 2: the output-layer finish from the second epoch on, symdp.finish)
OURS = {"relu": ({}, None), "relu+finish": ({}, 2),
        "relu-firm": ({"phi_hidden_bias": True}, None),
        "relu-firm+finish": ({"phi_hidden_bias": True}, 2)}


def authors_run(command: str, N: int, nu: float, seed: int) -> dict:
    """One run of the authors' code in its own process; its last printed line, parsed."""
    argv = [*shlex.split(command), "--N", str(N), "--nu", str(nu), "--seed", str(seed)]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        raise RuntimeError(f"the authors' run failed ({done.returncode}): {done.stderr[-2000:]}")
    out = json.loads(lines[-1])
    out["process_seconds"] = time.perf_counter() - started
    return out


def ours_run(network: str, N: int, nu: float, seed: int, test_trajectories: int) -> dict:
    """One fit of ours with the solver's defaults, in this process, on one thread."""
    from symdp import ArchitectureConfig, ModelParams, SolverConfig, solve

    overrides, finish_from = OURS[network]
    r = solve(ModelParams(N=N, nu=nu), ArchitectureConfig(phi="relu", **overrides),
              SolverConfig(seed=seed, threads=1, test_trajectories=test_trajectories,
                           finish_from=finish_from))
    return {**r.scalars(), "finish_steps": sum(bool(h.get("finish")) for h in r.history)}


def summary(runs: list[dict], success) -> dict:
    ok = [r for r in runs if success(r)]
    med = lambda key: (statistics.median(r[key] for r in ok)  # noqa: E731
                       if ok and all(r.get(key) is not None for r in ok) else None)
    return {"runs": len(runs), "successes": len(ok), "median_fit_seconds": med("fit_seconds"),
            "median_epochs": med("epochs"), "median_policy_rel_error": med("policy_rel_error"),
            "largest_fit_seconds": max((r["fit_seconds"] for r in ok), default=None)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authors", required=True,
                    help="command that runs the authors' code once (see the module's docstring)")
    ap.add_argument("--N", type=int, default=128)
    ap.add_argument("--nu", type=float, nargs="+", default=[1.0, 1.5])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--ours", nargs="+", default=list(OURS), choices=list(OURS))
    ap.add_argument("--test-trajectories", type=int, default=256)
    ap.add_argument("--json", help="also write every run to this file")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    # torch's first Adam optimizer imports its compiler stack (a second or so, once per
    # process): paid here, not by the first seed's fit
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    rows = {}
    for nu in args.nu:
        runs = {"authors": [], **{name: [] for name in args.ours}}
        for seed in range(args.seeds):
            runs["authors"].append(authors_run(args.authors, args.N, nu, seed))
            for name in args.ours:
                runs[name].append(ours_run(name, args.N, nu, seed, args.test_trajectories))
            print(f"nu={nu} seed={seed}: " + ", ".join(
                f"{k} {v[-1]['fit_seconds']:.2f} s" for k, v in runs.items()), flush=True)
        authors = summary(runs["authors"], lambda r: r["converged_tolerance"] is True)
        rows[nu] = {"authors": authors, "runs": runs}
        for name in args.ours:
            ours = summary(runs[name], lambda r: r["success"])
            ratio = (ours["median_fit_seconds"] / authors["median_fit_seconds"]
                     if ours["median_fit_seconds"] and authors["median_fit_seconds"] else None)
            rows[nu][name] = {**ours, "ratio": ratio}
        print(f"nu={nu} authors: {authors['successes']}/{authors['runs']} converged, median "
              f"{authors['median_fit_seconds']:.2f} s, {authors['median_epochs']} epochs")
        for name in args.ours:
            o = rows[nu][name]
            err = o["median_policy_rel_error"]
            print(f"nu={nu} {name}: {o['successes']}/{o['runs']} successes, median "
                  f"{o['median_fit_seconds'] or float('nan'):.2f} s (largest "
                  f"{o['largest_fit_seconds'] or float('nan'):.2f}), {o['median_epochs']} epochs, "
                  f"policy error {'n/a' if err is None else f'{100 * err:.4f}%'}, "
                  f"ratio {o['ratio'] or float('nan'):.3f}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"N": args.N, "seeds": args.seeds, "torch": torch.__version__,
                       "rows": rows}, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
