"""GPU checks for issue 5: CUDA agrees with the CPU, and how fast large N solves on one GPU.

Needs only torch and numpy (the GPU image has no scipy, dask or jupyter); install the package
there with ``pip install --no-deps -e .``. Writes ``gpu_check.json`` (and prints a summary) under
``--out`` (default ``$OUT`` or the current directory).

    python benchmarks/gpu_check.py --N 1000 10000 100000 1000000 --per-firm-N 10000 100000

1. Agreement at small N: the same seed and architecture give the same Euler residuals on the CPU
   and the GPU (one network, one batch of states) to float32 round-off, and a full solve on the
   GPU reaches the same kind of solution (success, policy error) as on the CPU.
2. Timing: fit time to tolerance, epochs, policy error and peak GPU memory for each N, for the
   mean-only phi(ReLU) (bias-free: two averages of the industry) and for the per-firm phi(ReLU)
   with hidden biases (the deck's Table 3 network, phi evaluated at every firm).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from symdp import ArchitectureConfig, ModelParams, SolverConfig, make_policy, solve  # noqa: E402
from symdp.economics import euler_residual, gauss_hermite, idiosyncratic_draw, initial_state  # noqa: E402


def agreement(N: int = 128) -> dict:
    """Max |residual_cpu - residual_gpu| for one network on the same states."""
    torch.manual_seed(0)
    policy = make_policy("relu", zero_last=False)
    params = ModelParams(N=N)
    gen = torch.Generator().manual_seed(0)
    X = initial_state(params, gen).expand(64, N) + 0.01 * torch.randn(64, N, generator=gen)
    W = idiosyncratic_draw(N, gen)
    z, w = (torch.tensor(a, dtype=torch.float32) for a in gauss_hermite(7))
    with torch.no_grad():
        r_cpu = euler_residual(params, policy, X, W, z, w)
        gpu = policy.to("cuda")
        r_gpu = euler_residual(params, gpu, X.cuda(), W.cuda(), z.cuda(), w.cuda()).cpu()
    return {"N": N, "max_abs_diff": float((r_cpu - r_gpu).abs().max()),
            "max_abs_residual": float(r_cpu.abs().max())}


def run(N: int, device: str, seed: int, test_trajectories: int, per_firm: bool = False,
        max_seconds: float = float("inf")) -> dict:
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    t = time.perf_counter()
    arch = ArchitectureConfig(phi="relu", phi_hidden_bias=per_firm)
    r = solve(ModelParams(N=N), arch, SolverConfig(seed=seed, device=device, threads=1,
                                                  test_trajectories=test_trajectories,
                                                  max_seconds=max_seconds))
    out = r.scalars()
    out["device"] = device
    out["network"] = "per-firm phi(ReLU)" if per_firm else "mean-only phi(ReLU)"
    out["wall_seconds"] = time.perf_counter() - t
    if device == "cuda":
        out["peak_gpu_memory_gb"] = torch.cuda.max_memory_allocated() / 1024**3
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, nargs="+", default=[1000, 10000, 100000, 1000000])
    ap.add_argument("--per-firm-N", type=int, nargs="*", default=[10000, 100000],
                    help="N for the per-firm phi(ReLU) with hidden biases")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--test-trajectories", type=int, default=64)
    ap.add_argument("--max-seconds", type=float, default=float("inf"),
                    help="wall-clock cap on one fit (the solver's max_seconds)")
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device: this script checks the GPU path")
    report = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0),
              "agreement": agreement(), "small_N": [], "timing": []}
    print(f"{report['gpu']}, torch {report['torch']}")
    print("CPU vs GPU residuals:", report["agreement"], flush=True)
    run(128, "cuda", 0, 8)  # warm-up: CUDA context, kernels
    for device in ("cpu", "cuda"):
        row = run(128, device, 0, 256)
        report["small_N"].append(row)
        print(f"N=128 {device}: success {row['success']} epochs {row['epochs']:.2f} "
              f"policy error {100 * row['policy_rel_error']:.3f}% fit {row['fit_seconds']:.2f} s",
              flush=True)
    cases = [(N, False) for N in args.N] + [(N, True) for N in args.per_firm_N]
    for N, per_firm in cases:
        for seed in range(args.seeds):
            try:
                row = run(N, "cuda", seed, args.test_trajectories, per_firm, args.max_seconds)
            except torch.cuda.OutOfMemoryError as exc:  # report, don't hide
                row = {"N": N, "seed": seed, "per_firm": per_firm, "error": f"out of memory: {exc}"}
                torch.cuda.empty_cache()
            report["timing"].append(row)
            print(json.dumps(row), flush=True)
            Path(args.out).mkdir(parents=True, exist_ok=True)
            (Path(args.out) / "gpu_check.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
