"""Command line: ``symdp models``, ``symdp lq``, ``symdp solve`` and ``symdp sweep``.

All parsing and printing is here; the work is the package's (:mod:`symdp.models`,
:func:`symdp.solver.solve`, :func:`symdp.runs.experiments.run`). ``--model NAME`` picks a model of
:data:`symdp.models.MODELS` (default ``investment``, the deck's) or, by an import path
``package.module:ClassName``, a reader's own :class:`~symdp.models.Model` subclass
(:func:`symdp.models.model_class`); its flags, their defaults and
their ranges are its parameters dataclass's fields, so the command line cannot drift from the
model's calibration.

Bad input exits with status 2 and a single line on stderr naming the argument.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import fields

from ._checks import integer
from .models import MODELS, model_class
from .networks import PHI_KINDS
from .runs import experiments

__all__ = ["main"]

_DEFAULT_MODEL = "investment"


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


def _nonnegative_int(text: str) -> int:
    try:
        return integer("value", int(text), low=0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def _flags(name: str) -> list[str]:
    """``--share-a`` (and the field's own spelling, ``--share_a``, where it differs)."""
    dashed = f"--{name.replace('_', '-')}"
    return [dashed] if "_" not in name else [dashed, f"--{name}"]


def _add_model_flags(parser: argparse.ArgumentParser, model: type, names=None) -> None:
    """A flag for each field of ``model.Params`` (or those in ``names``), defaulting to the
    field's default: an integer field takes integers >= 1, a pair two finite floats, the others
    a finite float (the model checks the rest)."""
    for f in fields(model.Params):
        if names is not None and f.name not in names:
            continue
        kind = _positive_int if isinstance(f.default, int) else _finite_float
        extra = {"nargs": len(f.default), "metavar": ("A", "B")} if isinstance(
            f.default, tuple) else {}
        help_ = f.metadata.get("help", "")
        allowed = f.metadata.get("allowed")
        parser.add_argument(*_flags(f.name), dest=f.name, type=kind, default=f.default,
                            help=f"{help_}; {allowed}" if allowed else help_ or None, **extra)


def _model_class(argv: list[str]) -> type:
    """The class ``--model`` names in ``argv`` (read before the model's own flags exist)."""
    pre = _Parser(add_help=False)
    pre.add_argument("--model", default=_DEFAULT_MODEL)
    known, _ = pre.parse_known_args(argv)
    try:
        return model_class(known.model)
    except ValueError as exc:
        raise _UsageError(f"argument --model: {exc}") from None


_MODEL_HELP = (f"one of {', '.join(MODELS)}, or a Model subclass by its import path "
               "package.module:ClassName (default: %(default)s)")


def _build_parser(model: type = MODELS[_DEFAULT_MODEL]) -> _Parser:
    parser = _Parser(prog="symdp", description="Symmetry in high-dimensional dynamic programming.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("models", help="the models, their parameters and ranges")

    lq = sub.add_parser("lq", help="every exact solution of a model's linear case")
    lq.add_argument("--model", default=_DEFAULT_MODEL, help=_MODEL_HELP)
    _add_model_flags(lq, model, model.linear_parameters)
    lq.add_argument("--json", action="store_true", help="print one JSON object")

    solve = sub.add_parser("solve", help="fit a deep-sets policy on the Euler residual")
    solve.add_argument("--model", default=_DEFAULT_MODEL, help=_MODEL_HELP)
    _add_model_flags(solve, model)
    solve.add_argument("--phi", choices=PHI_KINDS, default=None,
                       help="the model's baseline network with this phi (default: its own)")
    solve.add_argument("--seed", type=int, default=0)
    solve.add_argument("--device", default="cpu", help="cpu or cuda")
    solve.add_argument("--threads", type=_positive_int, default=None, help="torch CPU threads")
    solve.add_argument("--max-epochs", type=_positive_int, default=None)
    solve.add_argument("--tolerance", type=_finite_float, default=None,
                       help="validation Euler MSE at which to stop")
    solve.add_argument("--test-trajectories", type=_positive_int, default=None)
    solve.add_argument("--own-nodes", type=_nonnegative_int, default=None,
                       help="agent models: Gauss-Hermite nodes per own shock (0: one draw)")
    solve.add_argument("--agents", type=_positive_int, default=None,
                       help="agent models: agents per industry whose residuals are taken")
    solve.add_argument("--finish-from", type=_nonnegative_int, default=None,
                       help="from this epoch on, Levenberg-Marquardt steps on the output layer "
                            "after each epoch (0: Adam alone; default: the model's, 0 for the "
                            "deck's model, 2 for the agent models)")
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


def _usage_from(exc: ValueError) -> _UsageError:
    """A model's ValueError (its message starts with the parameter's name) as a usage error
    naming the flag."""
    name = str(exc).split()[0]
    return _UsageError(f"argument {_flags(name)[0]}: {exc}")


def _model(args, names=None):
    """The model the arguments describe (:func:`symdp.models.get_model`)."""
    cls = model_class(args.model)  # read and checked before the parser was built
    names = names if names is not None else [f.name for f in fields(cls.Params)]
    try:
        return cls(cls.Params(**{k: getattr(args, k) for k in names}))
    except ValueError as exc:
        raise _usage_from(exc) from None


def _cmd_models(args) -> int:
    for name, cls in MODELS.items():
        doc = (sys.modules[cls.__module__].__doc__ or "").strip().splitlines()[0]
        print(f"{name}: {doc}")
        for f in fields(cls.Params):
            default = " ".join(map(str, f.default)) if isinstance(f.default, tuple) else f.default
            print(f"  {_flags(f.name)[0]} {default}: {f.metadata.get('help', '')} "
                  f"[{f.metadata.get('allowed', '')}]")
    return 0


def _cmd_lq(args) -> int:
    model = _model(args, model_class(args.model).linear_parameters)
    solutions = model.exact_solutions()
    stationary = [s for s in solutions if s.stationary]
    out = {"stationary": stationary[0].to_dict()["coefficients"] if stationary else None,
           "others": [s.to_dict() for s in solutions if not s.stationary]}
    if args.model == _DEFAULT_MODEL:  # the deck's two roots by the names chapter 5 uses
        for s in solutions:
            out["stable" if s.stationary else "explosive"] = s.to_dict()["coefficients"]
        out.setdefault("explosive", None)
    if args.json:
        print(json.dumps(out))
        return 0
    for s in solutions:
        coef = ", ".join(f"{k} = {_show(v)}" for k, v in s.to_dict()["coefficients"].items())
        roots = ", ".join(_show(r) for r in s.to_dict()["roots"])
        print(f"{'stationary' if s.stationary else 'explosive':>10}: {coef}  (roots {roots})")
    if args.model == _DEFAULT_MODEL and len(solutions) == 1:
        print("  explosive: none (delta = 1: the Euler equation is linear in H1)")
    return 0


def _show(v) -> str:
    if isinstance(v, list):
        return "(" + ", ".join(_show(x) for x in v) + ")"
    if isinstance(v, dict):  # a complex root
        return f"{v['real']:.6g}{v['imag']:+.6g}i"
    return f"{v:.13g}"


def _cmd_solve(args) -> int:
    from .solver import SolverConfig, solve

    overrides = {"seed": args.seed, "device": args.device, "threads": args.threads}
    for flag, name in (("max_epochs", "max_epochs"), ("tolerance", "val_tolerance"),
                       ("test_trajectories", "test_trajectories"), ("own_nodes", "own_nodes"),
                       ("agents", "agents"), ("finish_from", "finish_from")):
        if getattr(args, flag) is not None:
            overrides[name] = getattr(args, flag)
    model = _model(args)
    try:
        config = SolverConfig(**overrides)
    except ValueError as exc:  # the message starts with the parameter's name
        raise _usage_from(exc) from None
    if config.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise _UsageError(f"argument --device: {config.device!r} requested but no CUDA "
                              "device is available")
    arch = model.architecture() if args.phi is None else model.architecture(args.phi)
    result = solve(model, arch, config, progress=not args.json and sys.stderr.isatty())
    summary = result.scalars()
    if args.json:
        print(json.dumps({k: _json_number(v) for k, v in summary.items()}))
        return 0
    params = model.params
    print(f"{model.name}: phi({arch.phi}) N={params.N} nu={getattr(params, 'nu', '-')} "
          f"seed={args.seed}: "
          f"{'SUCCESS' if summary['success'] else 'FAILURE'} ({summary['stationarity']})")
    print(f"  fit {summary['fit_seconds']:.2f} s, {summary['epochs']:.2f} epochs "
          f"({summary['steps']} steps), {summary['coefficients']:,} coefficients, "
          f"status {summary['status']}")
    print(f"  Euler MSE train {summary['train_mse']:.2e}  val {summary['val_mse']:.2e}  "
          f"test {summary['test_mse']:.2e}")
    err = summary["policy_rel_error"]
    if err is not None:
        print(f"  policy error vs the exact policy: {100 * err:.3f}% on the paths (mean over "
              f"{config.test_trajectories} test paths)")
    if summary.get("offpath_rel_error") is not None:
        print(f"  policy error off the paths: {100 * summary['offpath_rel_error']:.3f}%")
    for name, s in {**summary.get("slopes", {}), **{
            f"d u / d {k}": v for k, v in summary.get("own_slopes", {}).items()}}.items():
        if s.get("exact") is not None:
            print(f"  {name:>10}: fitted {s['fit']:+.6f}, exact {s['exact']:+.6f}")
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
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _build_parser(_model_class(argv)).parse_args(argv)
        if args.command == "models":
            return _cmd_models(args)
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
