"""Command line: ``symdp lq``, ``symdp solve`` and ``symdp sweep``.

All parsing and printing is here; the work is the package's (:func:`symdp.lq.lq_roots`,
:func:`symdp.solver.solve`, :func:`symdp.runs.experiments.run`). The model's flags and their
defaults are :class:`~symdp.params.ModelParams`'s fields, so the command line cannot drift from the
model's calibration.

Bad input exits with status 2 and a single line on stderr naming the argument.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import sys
from dataclasses import fields

from ._checks import integer
from .lq import lq_roots
from .networks import PHI_KINDS
from .params import ModelParams
from .runs import experiments

__all__ = ["main"]

#: The model flags of ``symdp solve``: every field of :class:`~symdp.params.ModelParams`.
_PARAM_FLAGS = tuple(f.name for f in fields(ModelParams))
#: The model flags of ``symdp lq``: the fields :func:`~symdp.lq.lq_roots` takes.
_LQ_FLAGS = tuple(name for name in inspect.signature(lq_roots).parameters if name in _PARAM_FLAGS)
_HELP = {"N": "number of firms", "nu": "demand curvature >= 1"}


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise _UsageError(message)


def _positive_int(text: str) -> int:
    """An argparse type: the text as an int >= 1 (the package's own rule, :func:`_checks.integer`)."""
    try:
        return integer("value", int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def _add_model_flags(parser: argparse.ArgumentParser, names: tuple[str, ...]) -> None:
    """``--<field>`` for each named field of :class:`ModelParams`, defaulting to the field's own
    default; an integer field takes integers >= 1, the others finite floats (the model checks
    the rest)."""
    for f in fields(ModelParams):
        if f.name in names:
            kind = _positive_int if isinstance(f.default, int) else _finite_float
            parser.add_argument(f"--{f.name}", type=kind, default=f.default,
                                help=_HELP.get(f.name))


def _build_parser() -> _Parser:
    parser = _Parser(prog="symdp", description="Symmetry in high-dimensional dynamic programming.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    lq = sub.add_parser("lq", help="both linear solutions of the nu = 1 Euler equation")
    _add_model_flags(lq, _LQ_FLAGS)
    lq.add_argument("--json", action="store_true", help="print one JSON object")

    solve = sub.add_parser("solve", help="fit a deep-sets policy on the Euler residual")
    _add_model_flags(solve, _PARAM_FLAGS)
    solve.add_argument("--phi", choices=PHI_KINDS, default="relu")
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument("--device", default="cpu", help="cpu or cuda")
    solve.add_argument("--threads", type=_positive_int, default=None, help="torch CPU threads")
    solve.add_argument("--max-epochs", type=_positive_int, default=None)
    solve.add_argument("--tolerance", type=_finite_float, default=None,
                       help="validation Euler MSE at which to stop")
    solve.add_argument("--test-trajectories", type=_positive_int, default=None)
    solve.add_argument("--json", action="store_true", help="print one JSON object, no progress")

    sweep = sub.add_parser("sweep", help="run a named experiment on Dask (resumable)")
    sweep.add_argument("experiment", help="experiment name (see `symdp sweep --list`)", nargs="?")
    sweep.add_argument("--profile", choices=experiments.PROFILES,
                       default=experiments.PROFILES[0])
    sweep.add_argument("--scheduler", default=None, help="address of a running Dask scheduler")
    sweep.add_argument("--workers", type=_positive_int, default=None,
                       help="workers of the local cluster (default: CPU count)")
    sweep.add_argument("--store", default=None, help="result store directory")
    sweep.add_argument("--list", action="store_true", help="list the experiments and exit")
    return parser


def _cmd_lq(args) -> int:
    try:
        roots = lq_roots(**{k: getattr(args, k) for k in _LQ_FLAGS})
    except ValueError as exc:
        raise _UsageError(f"argument --{str(exc).split()[0]}: {exc}") from None
    out = {k: (v.to_dict() if v is not None else None) for k, v in roots.items()}
    if args.json:
        print(json.dumps(out))
    else:
        for name, coef in roots.items():
            if coef is None:
                print(f"{name:>9}: none (delta = 1: the Euler equation is linear in H1)")
                continue
            print(f"{name:>9}: u = {coef.H0:.13f} + ({coef.H1:.13f}) * mean(X)")
    return 0


def _cmd_solve(args) -> int:
    from .solver import SolverConfig, solve

    overrides = {"seed": args.seed, "device": args.device, "threads": args.threads}
    if args.max_epochs is not None:
        overrides["max_epochs"] = args.max_epochs
    if args.tolerance is not None:
        overrides["val_tolerance"] = args.tolerance
    if args.test_trajectories is not None:
        overrides["test_trajectories"] = args.test_trajectories
    try:
        params = ModelParams(**{k: getattr(args, k) for k in _PARAM_FLAGS})
        config = SolverConfig(**overrides)
    except ValueError as exc:  # the message starts with the parameter's name
        raise _UsageError(f"argument --{str(exc).split()[0]}: {exc}") from None
    if config.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise _UsageError(f"argument --device: {config.device!r} requested but no CUDA "
                              "device is available")
    result = solve(params, args.phi, config, progress=not args.json and sys.stderr.isatty())
    summary = result.scalars()
    if args.json:
        print(json.dumps({k: _json_number(v) for k, v in summary.items()}))
        return 0
    err = summary["policy_rel_error"]
    print(f"phi({args.phi}) N={params.N} nu={params.nu} seed={args.seed}: "
          f"{'SUCCESS' if summary['success'] else 'FAILURE'} ({summary['stationarity']})")
    print(f"  fit {summary['fit_seconds']:.2f} s, {summary['epochs']:.2f} epochs "
          f"({summary['steps']} steps), {summary['coefficients']:,} coefficients, "
          f"status {summary['status']}")
    print(f"  Euler MSE train {summary['train_mse']:.2e}  val {summary['val_mse']:.2e}  "
          f"test {summary['test_mse']:.2e}")
    if err is not None:
        print(f"  policy error vs LQ: {100 * err:.3f}% (mean over {config.test_trajectories} "
              f"test paths)")
    return 0


def _json_number(v):
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _cmd_sweep(args) -> int:
    """``symdp sweep <experiment> [--profile] [--scheduler] [--workers] [--store]``: run what is
    missing, then say how many runs succeeded and where the results are."""
    if args.list or not args.experiment:
        for name, exp in experiments.EXPERIMENTS.items():
            print(f"{name:>14}  {exp.description}")
        return 0
    if args.experiment not in experiments.EXPERIMENTS:
        raise _UsageError(f"argument experiment: unknown experiment {args.experiment!r} "
                          f"(choose from {', '.join(experiments.EXPERIMENTS)})")
    exp = experiments.EXPERIMENTS[args.experiment]
    print(f"{exp.name} ({args.profile}): {len(exp.runs(args.profile))} runs; {exp.description}",
          flush=True)
    try:
        report = experiments.run(exp.name, args.profile, args.store, args.scheduler, args.workers)
    except OSError as exc:  # e.g. no scheduler at --scheduler
        if args.scheduler is None:
            raise
        raise _UsageError(f"argument --scheduler: cannot use {args.scheduler!r}: {exc}") from None
    except KeyboardInterrupt:
        print("interrupted: finished runs are stored; run the same command again to resume",
              file=sys.stderr)
        return 130
    for problem in report.problems:
        print(f"skipped untrusted file {problem}", file=sys.stderr)
    df = experiments.frame(report.records)
    ok = int(df["success"].sum()) if len(df) else 0
    print(report.describe())
    print(f"success in {ok}/{len(df)} runs; results in {report.store / exp.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "lq":
            return _cmd_lq(args)
        if args.command == "solve":
            return _cmd_solve(args)
        return _cmd_sweep(args)
    except _UsageError as exc:
        print(f"symdp: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
