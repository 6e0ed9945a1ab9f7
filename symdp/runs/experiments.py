"""The registry of the deck's experiments: each a named grid of runs with a ``paper`` and a ``ci``
profile, the layout its results are shown in, and what its runs' results mean.

========================  ======================================================================
``table2``                Linear model (nu = 1, N = 128): the deck's Table 2 architecture rows.
``table3``                Nonlinear model (nu = 1.5, N = 128): the deck's Table 3 rows.
``figure3``               phi(ReLU), nu = 1: time and accuracy against N (the deck's Figure 3).
``figure3_firm``          The same with phi(ReLU) with hidden biases, evaluated at every firm (the
                          deck's network), fewer trials.
``implicit_bias``         Which LQ root the fitted networks select, by phi, initialisation and
                          gradient (the deck's multiplicity puzzle).
``regression``            The appendix regression example (the deck's appendix Table 1).
========================  ======================================================================

What this module holds:

* :class:`Experiment` and :data:`EXPERIMENTS`; the profiles, caps and seeds of each grid; the
  rows of Tables 2 and 3 (:data:`TABLE2_ROWS`, :data:`TABLE3_ROWS`) and the grid builders.
  Every run's full configuration is spelled out (all model, network and solver fields, under
  the keys ``model``, ``arch``, ``solver`` of :func:`symdp.runs.tasks.solve_task`), so the
  store's keys capture it.
* The code version of the store's keys: :data:`COMPUTING_MODULES` and :func:`code_version`,
  which the engine (:mod:`symdp.runs.sweep`) is given.
* What a run's ``success`` means (:func:`frame`): it completed, and its result says it succeeded.
* What chapters and the command line call: :func:`results` (runs what is missing, returns a
  DataFrame, one row per run), :func:`layout` (that DataFrame in the deck's layout),
  :func:`deck_layout` (the deck's published values in the same layout), :func:`run` and
  :func:`run_all`. The command line (``symdp sweep <name>``, :mod:`symdp.cli`) parses and prints.

The tasks the runs call are in :mod:`symdp.runs.tasks`, the layouts in :mod:`symdp.runs.layouts`,
the deck's published numbers in :mod:`symdp.deck`.

Architectures. The deck's coefficient counts identify its networks, and we build the same ones
where that is affordable:

* Table 2, phi(Moments) rows: rho has hidden biases (50,305 / 50,049 / 769 coefficients, the
  deck's 50.3K / 50.0K / 0.8K). phi(Identity): the 49,409 baseline (49.4K).
* Table 2, deep-sets rows: phi one hidden layer of 128 (no bias), rho four hidden layers of 256
  with biases: 199,557 coefficients (the deck's 199.6K); L = 16: 204.2K, Deep: 215.9K, Shallow:
  68.0K, all as the deck; L = 2: 198.8K (the deck lists 201.1K, which no variant of these layers
  gives). These are not the book's baseline phi(ReLU) (66.8K), as in the deck.
* Table 3, phi(Moments) rows: the deck's 49.8K / 49.5K / 0.6K / 3.2K exactly.
* Table 3, phi(ReLU) rows: the deck's networks, with hidden biases in phi (67,077 / 68,105 /
  70,161 / 1,413 / 34,309 / 4,485 coefficients, the deck's 67.1K / 68.1K / 70.2K / 1.4K / 34.3K /
  4.5K). With biases phi must be evaluated at every firm, through the table of its affine
  pieces (O(N + P) per state, :class:`symdp.networks.ReLUPhi`, chapter 6); without them it
  reduces to two averages and the policy is a function of the mean alone (chapter 3), the
  "mean-only phi(ReLU)" (66,821 for the baseline).

Tables 2 and 3 also record the test residual with fresh Monte Carlo draws of all N + 1 shocks at
:data:`FRESH` sampled test states (``fresh_mse``, next to the one-draw ``test_mse``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .. import deck
from ..networks import PHI_KINDS
from . import layouts, sweep, tasks

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Experiment",
    "EXPERIMENTS",
    "PROFILES",
    "COMPUTING_MODULES",
    "code_version",
    "default_store",
    "succeeded",
    "frame",
    "results",
    "layout",
    "deck_layout",
    "run",
    "run_all",
]

PROFILES = ("paper", "ci")


# --------------------------------------------------------------------------------------------
# The code version and the store

# The modules a sweep task runs: the tasks (:mod:`symdp.runs.tasks`), the science they call (the
# solver and its economics, the regression), the engine that runs them, and the packages'
# ``__init__`` files every worker imports. Only these make up the code version: editing a chapter
# helper, a plot, a layout, this registry or the command line must not throw away hours of stored
# runs (what the registry puts in a run is its configuration, hashed into the key anyway), and a
# new module enters the hash only when it is listed here (a test checks that the list is closed
# under the package's own imports).
COMPUTING_MODULES = frozenset({
    "__init__.py", "_checks.py", "_sources.py", "params.py", "economics.py", "lq.py", "networks.py",
    "evaluation.py", "solver.py", "finish.py", "models/__init__.py", "models/base.py",
    "models/linear.py", "models/investment.py", "models/decreasing_returns.py", "models/two_types.py",
    "models/vector_state.py", "studies/__init__.py", "studies/regression.py",
    "runs/__init__.py", "runs/tasks.py", "runs/sweep.py",
})


@functools.lru_cache(maxsize=None)
def code_version() -> str:
    """``"<symdp.__version__>+<sha256 of the computing sources, 16 hex digits>"``.

    The version the engine keys every run with (it calls this on the client and on every
    worker). The hash covers the sources in :data:`COMPUTING_MODULES`, read from disk (path and
    bytes, in sorted order), so any change to the model, solver, networks, evaluation,
    regression, tasks or engine changes every key, while chapter helpers, plots and the command
    line do not. Computed once per process: it stands for the code this process has loaded (a
    worker started later that sees other code on disk says so, and its results are not trusted).
    """
    from .. import __version__
    from .._sources import source_hash

    return f"{__version__}+{source_hash(COMPUTING_MODULES)[:16]}"


def default_store() -> Path:
    """``$SYMDP_STORE`` if set, else ``results/store`` under the repository root.

    The repository root is the folder holding ``pyproject.toml`` above the package (an editable
    install); otherwise the current directory.
    """
    env = os.environ.get("SYMDP_STORE")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    base = repo if (repo / "pyproject.toml").is_file() else Path.cwd()
    return base / "results" / "store"


# --------------------------------------------------------------------------------------------
# Grids


def _arch(**kw) -> dict:
    from ..networks import ArchitectureConfig

    return asdict(ArchitectureConfig(**kw))


def _solver(**kw) -> dict:
    from ..solver import SolverConfig

    return SolverConfig(threads=1, **kw).to_dict()


def _model(**kw) -> dict:
    from ..params import ModelParams

    return ModelParams(**kw).to_dict()


def _hard_timeout(max_seconds: float | None) -> float:
    # The solver stops itself (epochs, or max_seconds checked every few steps); the hard limit
    # only catches a hang, after the test simulation (seconds at N = 10,000) has had its time.
    return 300.0 if max_seconds is None else 3.0 * max_seconds + 60.0


# Caps. A run stops at max_epochs (deterministic: the same seed gives the same result on any
# machine, at any load) or, as a safety net against a loaded machine, at max_seconds (then its
# status is "max_seconds" and it counts as a failure: the layouts show how many hit it).
# The paper profile's sizes were set from one or two timed runs per row (1 thread, this 2-core
# machine); see each experiment's description for the resulting estimate.
PAPER_SEEDS = 20  # Tables 2 and 3: runs per row (issue: at least 20)
TABLE2_CAPS = dict(max_epochs=100, max_seconds=90.0)  # converging rows need 6-35 epochs
# Converging rows need 6-45 epochs, but the Thin phi(Moments) row's slowest seeds 94-137
# (2026-12-05): a cap of 80 failed two of its twenty.
TABLE3_CAPS = dict(max_epochs=160, max_seconds=90.0)
# Fresh test paths per run of every sweep: the authors' code's 32 (its `test_trajectories`).
# The tables and the figure show medians over runs, so more paths buy little: at 64 the test
# simulation was a ninth of the sweeps' worker time (246 of 2,284 s, Intel paper build of
# 2026-12-05), at 256 a third of Tables 2 and 3's.
TEST_TRAJECTORIES = 32
NONLINEAR_TOLERANCE = 1e-6  # validation tolerance for nu = 1.5 (the paper's code's value)
FIGURE3_N = (128, 256, 512, 1024, 2048, 4096, 10_000)
FIGURE3_TRIALS = 21  # the deck: "median value of 21 trials"
# phi with hidden biases: a run at N = 10,000 took about a minute on a shared core (2026-12-05),
# 12-20 s once looked up piece by piece (9f338b6), so fewer trials keep the paper build shorter
FIGURE3_FIRM_TRIALS = 7
FIGURE3_CAPS = dict(max_epochs=60, max_seconds=120.0)  # converging runs need 9-15 epochs
IMPLICIT_SEEDS = 8
IMPLICIT_CAPS = dict(max_epochs=100, max_seconds=60.0)
# Seeds per cell of Table 1 (regression). Three left each median too noisy to say whether a
# trend in N holds (chapter 3 compares first and last N). One seed of the 7 x 7 grid costs about
# 21 CPU-seconds (deep sets 0.1-2.7 s a run, median 0.4 s; NONE under 0.6 s), so ten seeds are
# about 3.6 CPU-minutes (Intel paper build of 9f338b6).
REGRESSION_SEEDS = 10
# Fresh-draw test residual of Tables 2 and 3: 32 test states x 256 antithetic draws of all N + 1
# shocks (at N = 128 about a second for the mean-only networks; phi evaluated at every firm of
# every draw costs more, a small part of those fits' own time).
FRESH = dict(states=32, draws=256, seed=0)

# The ci profile: tiny grids, about a second per run, same code paths, epoch caps only (so
# the numbers, hence the regression references, do not depend on the machine's load).
CI_SEEDS = 2
CI_N = 32
CI_SOLVER = dict(train_trajectories=8, val_trajectories=4, test_trajectories=32, T=31,
                 max_epochs=30)

# Deep-sets rows of Table 2: phi one hidden layer (no bias), rho four of 256 with biases.
_T2_DS = dict(phi="relu", phi_depth=1, rho_width=256, rho_hidden_bias=True)

# (group, row, architecture) in the deck's order.
TABLE2_ROWS: tuple[tuple[str, str, dict], ...] = (
    ("Identity", "Baseline", dict(phi="identity")),
    ("Moments", "Baseline: Moments (1,2,3,4)", dict(phi="moments", rho_hidden_bias=True)),
    ("Moments", "Moments (1,2)", dict(phi="moments", moments=2, rho_hidden_bias=True)),
    ("Moments", "Very Shallow (1 layer)",
     dict(phi="moments", rho_depth=1, rho_hidden_bias=True)),
    ("Deep Sets", "Baseline: L = 4", dict(_T2_DS)),
    ("Deep Sets", "L = 2", dict(_T2_DS, L=2)),
    ("Deep Sets", "L = 16", dict(_T2_DS, L=16)),
    ("Deep Sets", "Deep (phi: 2 layers, rho: 4 layers)", dict(_T2_DS, phi_depth=2)),
    ("Deep Sets", "Shallow (phi: 1 layer, rho: 2 layers)", dict(_T2_DS, rho_depth=2)),
)

TABLE3_ROWS: tuple[tuple[str, str, dict], ...] = (
    ("phi(Moments)", "Baseline", dict(phi="moments")),
    ("phi(Moments)", "Moments (1,2)", dict(phi="moments", moments=2)),
    ("phi(Moments)", "Very Shallow (1 layer)", dict(phi="moments", rho_depth=1)),
    ("phi(Moments)", "Thin (32 nodes)", dict(phi="moments", rho_width=32)),
    # The deck's phi(ReLU): hidden biases in phi (its coefficient counts say so), evaluated at
    # every firm; without them phi(ReLU) is mean-only (chapter 3).
    ("phi(ReLU)", "Baseline", dict(phi="relu", phi_hidden_bias=True)),
    ("phi(ReLU)", "L = 8", dict(phi="relu", L=8, phi_hidden_bias=True)),
    ("phi(ReLU)", "L = 16", dict(phi="relu", L=16, phi_hidden_bias=True)),
    ("phi(ReLU)", "Very Shallow (phi, rho: 1 layer)",
     dict(phi="relu", phi_depth=1, rho_depth=1, phi_hidden_bias=True)),
    ("phi(ReLU)", "Shallow (phi, rho: 2 layers)",
     dict(phi="relu", phi_depth=2, rho_depth=2, phi_hidden_bias=True)),
    ("phi(ReLU)", "Thin (phi, rho: 32 nodes)",
     dict(phi="relu", phi_width=32, rho_width=32, phi_hidden_bias=True)),
)

def _table_runs(name: str, profile: str, rows, nu: float, tolerance: float | None,
                caps: dict) -> list[dict]:
    paper = profile == "paper"
    seeds = PAPER_SEEDS if paper else CI_SEEDS
    N = 128 if paper else CI_N
    extra = {} if tolerance is None else {"val_tolerance": tolerance}
    base = dict(caps, test_trajectories=TEST_TRAJECTORIES) if paper else dict(CI_SOLVER)
    runs = []
    for group, row, arch in rows:
        for seed in range(seeds):
            solver = _solver(seed=seed, **base, **extra)
            runs.append(sweep.make_run(
                name, tasks.solve_task,
                {"model": _model(N=N, nu=nu), "arch": _arch(**arch), "solver": solver,
                 "fresh": dict(FRESH)},
                labels={"group": group, "row": row, "seed": seed, "profile": profile},
                timeout=_hard_timeout(solver["max_seconds"])))
    return runs


def _table2_runs(profile: str) -> list[dict]:
    return _table_runs("table2", profile, TABLE2_ROWS, 1.0, None, TABLE2_CAPS)


def _table3_runs(profile: str) -> list[dict]:
    return _table_runs("table3", profile, TABLE3_ROWS, 1.5, NONLINEAR_TOLERANCE, TABLE3_CAPS)


def _figure3_runs(profile: str, per_firm: bool = False) -> list[dict]:
    """Figure 3's trials: the mean-only phi(ReLU), or with ``per_firm`` the deck's, with hidden
    biases (fewer trials at the paper profile)."""
    paper = profile == "paper"
    name, arch = (("figure3_firm", _arch(phi="relu", phi_hidden_bias=True)) if per_firm
                  else ("figure3", _arch(phi="relu")))
    Ns = FIGURE3_N if paper else (16, 64)
    trials = (FIGURE3_FIRM_TRIALS if per_firm else FIGURE3_TRIALS) if paper else CI_SEEDS
    base = dict(FIGURE3_CAPS, test_trajectories=TEST_TRAJECTORIES) if paper else dict(CI_SOLVER)
    runs = []
    for N in Ns:
        for seed in range(trials):
            solver = _solver(seed=seed, **base)
            runs.append(sweep.make_run(
                name, tasks.solve_task,
                {"model": _model(N=N, nu=1.0), "arch": arch, "solver": solver},
                labels={"N": N, "seed": seed, "profile": profile},
                timeout=_hard_timeout(solver["max_seconds"])))
    return runs


def _implicit_runs(profile: str) -> list[dict]:
    paper = profile == "paper"
    seeds = IMPLICIT_SEEDS if paper else 1
    N = 128 if paper else CI_N
    base = dict(IMPLICIT_CAPS, test_trajectories=TEST_TRAJECTORIES) if paper else dict(CI_SOLVER)
    runs = []
    for phi in PHI_KINDS:
        for zero_last in (True, False):
            for gradient in ("semi", "full"):
                for seed in range(seeds):
                    solver = _solver(seed=seed, gradient=gradient, **base)
                    runs.append(sweep.make_run(
                        "implicit_bias", tasks.solve_task,
                        {"model": _model(N=N, nu=1.0),
                         "arch": _arch(phi=phi, zero_last=zero_last), "solver": solver},
                        labels={"phi": phi, "init": "zero last layer" if zero_last else "default",
                                "zero_last": zero_last, "gradient": gradient, "seed": seed,
                                "profile": profile},
                        timeout=_hard_timeout(solver["max_seconds"])))
    return runs


def _regression_runs(profile: str) -> list[dict]:
    from ..studies.regression import TABLE1_L, TABLE1_N, RegressionConfig

    if profile == "paper":
        Ns, Ls, seeds, config = TABLE1_N, TABLE1_L, REGRESSION_SEEDS, RegressionConfig()
    else:
        Ns, Ls, seeds = (2, 16, 128), (1, 4), 1
        config = RegressionConfig(max_steps=300, test_points=200)
    runs = []
    for N in Ns:
        for L in (*Ls, None):
            for seed in range(seeds):
                runs.append(sweep.make_run(
                    "regression", tasks.regression_task,
                    {"N": N, "L": L, "seed": seed, "config": asdict(config)},
                    labels={"N": N, "L": L, "seed": seed, "profile": profile},
                    timeout=600.0))
    return runs


# --------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True)
class Experiment:
    """A named grid of runs with the layout its results are shown in.

    ``layout`` aggregates the DataFrame of :func:`results` in the deck's layout
    (:mod:`symdp.runs.layouts`); ``deck_layout``, where the deck publishes the same table, gives
    its values in that layout (None where it does not). ``estimate_minutes`` is the expected wall
    time of a full sweep on this 2-core machine with 2 workers, per profile: for ``paper``, the
    worker time measured in a from-scratch paper build (one sweep after another, a run on each
    core) divided by 2.
    """

    name: str
    description: str
    build: Callable[[str], list[dict]]
    layout: Callable[["pd.DataFrame"], "pd.DataFrame"]
    estimate_minutes: Mapping[str, float]
    deck_layout: Callable[[], "pd.DataFrame"] | None = None

    def runs(self, profile: str = "paper") -> list[dict]:
        """The run configurations of ``profile`` ("paper" or "ci")."""
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
        return self.build(profile)


def _deck_table(rows: tuple[tuple[str, str, dict], ...], medians_over: str, policy_error: bool,
                published: Mapping[tuple[str, str], tuple], columns: tuple[str, ...]) -> dict:
    """The ``layout`` and ``deck_layout`` of an experiment that is one of the deck's tables:
    ours and the deck's ``published`` values (whose tuples hold ``columns``), row by row of
    ``rows``, medians over ``medians_over`` runs (:func:`symdp.runs.layouts.table_layout`)."""
    return dict(
        layout=functools.partial(layouts.table_layout, rows=rows, medians_over=medians_over,
                                 policy_error=policy_error),
        deck_layout=functools.partial(layouts.deck_layout, published, columns, rows))


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (
        Experiment(
            "table2",
            "Table 2: linear model (nu=1, N=128), 9 architectures x 20 seeds, cap 100 epochs; "
            "paper: 3.7 worker-minutes in a from-scratch build on 2 workers (Intel, 9f338b6), "
            "ci ~0.5 min",
            _table2_runs, estimate_minutes={"paper": 1.8, "ci": 0.5},
            # Medians over the successful runs, as the deck's "-" for a row without one says.
            **_deck_table(TABLE2_ROWS, "successful", True, deck.DECK_TABLE2, deck.TABLE2_COLUMNS)),
        Experiment(
            "table3",
            "Table 3: nonlinear model (nu=1.5, N=128, tolerance 1e-6), 10 architectures x 20 "
            "seeds, cap 160 epochs or 90 s; paper: 4.3 worker-minutes in a from-scratch build on 2 "
            "workers (Intel, 9f338b6; the six phi(ReLU) rows, phi at every firm, medians of 1-1.5 "
            "s a fit), ci ~2 min",
            _table3_runs, estimate_minutes={"paper": 2.2, "ci": 2.0},
            # Medians over every completed run: the deck's Very Shallow rows report the large
            # test MSEs of their failures. No policy error: nu = 1.5 has no exact policy.
            **_deck_table(TABLE3_ROWS, "completed", False, deck.DECK_TABLE3, deck.TABLE3_COLUMNS)),
        Experiment(
            "figure3",
            "Figure 3: phi(ReLU), nu=1, N in 128..10,000 x 21 trials, cap 60 epochs; paper: 3.4 "
            "worker-minutes in a from-scratch build on 2 workers (Intel, 9f338b6), ci ~0.2 min",
            _figure3_runs, estimate_minutes={"paper": 1.7, "ci": 0.2},
            layout=layouts.figure3_layout),
        Experiment(
            "figure3_firm",
            "Figure 3 with the deck's phi(ReLU), hidden biases, evaluated at every firm: nu=1, "
            "N in 128..10,000 x 7 trials, cap 60 epochs; paper: 4.2 worker-minutes in a "
            "from-scratch build on 2 workers (Intel, 9f338b6; a run at N=10,000 12-20 s), "
            "ci ~0.2 min",
            functools.partial(_figure3_runs, per_firm=True),
            estimate_minutes={"paper": 2.1, "ci": 0.2}, layout=layouts.figure3_layout),
        Experiment(
            "implicit_bias",
            "Implicit bias: the LQ root each fit selects, phi x init x gradient x 8 seeds "
            "(nu=1, N=128), cap 100 epochs; paper: 5.6 worker-minutes in a from-scratch build "
            "on 2 workers (Intel, 9f338b6), ci ~0.3 min",
            _implicit_runs, estimate_minutes={"paper": 2.8, "ci": 0.3},
            layout=layouts.implicit_bias_layout),
        Experiment(
            "regression",
            "Appendix Table 1: regression, N in 2..128 x L in {1,2,3,4,5,20,NONE} x 10 seeds; "
            "paper: 3.6 worker-minutes in a from-scratch build on 2 workers (Intel, 9f338b6), "
            "ci ~0.2 min",
            _regression_runs, estimate_minutes={"paper": 1.8, "ci": 0.2},
            layout=layouts.regression_layout),
    )
}


def _experiment(name: str) -> Experiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}") \
            from None


# --------------------------------------------------------------------------------------------
# What a run's result means


def succeeded(record: Mapping) -> bool:
    """Whether a stored run succeeded: it completed (status "ok") and its result's own
    ``success`` is true (a result without one, e.g. a regression cell, succeeds by completing).

    A run that failed (raised, timed out, returned a non-finite number) counts as a failure, so
    a success rate is over every run of a row, not over those that happened to finish.
    """
    return record["status"] == "ok" and bool((record.get("result") or {}).get("success", True))


def frame(records) -> "pd.DataFrame":
    """The stored ``records`` as a DataFrame, one row per record (None: skipped), with the
    engine's columns (:func:`symdp.runs.sweep.records_to_frame`) and ``success``
    (:func:`succeeded`) in place of the result's own."""
    records = [r for r in records if r is not None]
    df = sweep.records_to_frame(records)
    df["success"] = [succeeded(r) for r in records]
    return df


# --------------------------------------------------------------------------------------------
# What chapters and the command line call


def _sweep(runs: list[dict], store: Any, scheduler: Any, workers: int | None,
           progress: bool | None, desc: str) -> sweep.SweepReport:
    return sweep.run_sweep(runs, default_store() if store is None else store, scheduler, workers,
                           progress, desc=desc, version=code_version)


def run(name: str, profile: str = "paper", store: Any = None, scheduler: Any = None,
        workers: int | None = None, progress: bool | None = None) -> sweep.SweepReport:
    """Run what is missing of experiment ``name`` at ``profile``; the engine's report.

    ``store`` (default :func:`default_store`), ``scheduler``, ``workers`` and ``progress`` as in
    :func:`symdp.runs.sweep.run_sweep`.
    """
    return _sweep(_experiment(name).runs(profile), store, scheduler, workers, progress,
                  f"{name} ({profile})")


def results(
    name: str,
    profile: str = "paper",
    store: Any = None,
    run_missing: bool = True,
    scheduler: Any = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> "pd.DataFrame":
    """The results of experiment ``name`` at ``profile``, one row per run, in grid order.

    Runs missing from the store are executed first (unless ``run_missing=False``: then they are
    simply absent). ``store``, ``scheduler`` and ``workers`` as in :func:`run`. Columns: see
    :func:`frame`; ``df.attrs`` holds ``experiment``, ``profile``, ``missing`` (runs without a
    result) and ``problems`` (untrusted store files).
    """
    if run_missing:
        report = run(name, profile, store, scheduler, workers, progress)
        records, problems = report.records, report.problems
    else:
        records, problems = sweep.lookup(_experiment(name).runs(profile),
                                         default_store() if store is None else store,
                                         code_version)
    df = frame(records)
    df.attrs.update(experiment=name, profile=profile,
                    missing=sum(r is None for r in records),
                    problems=[str(p) for p in problems])
    return df


def layout(name: str, df: "pd.DataFrame") -> "pd.DataFrame":
    """``df`` (from :func:`results`) aggregated in the deck's layout for experiment ``name``."""
    return _experiment(name).layout(df)


def deck_layout(name: str) -> "pd.DataFrame":
    """The deck's published values of experiment ``name``'s table (:mod:`symdp.deck`), in
    :func:`layout`'s layout."""
    exp = _experiment(name)
    if exp.deck_layout is None:
        published = [n for n, e in EXPERIMENTS.items() if e.deck_layout is not None]
        raise ValueError(f"the deck has a table for {' and '.join(map(repr, published))}, "
                         f"not {name!r}")
    return exp.deck_layout()


def run_all(profile: str = "paper", names=None, store: Any = None, scheduler: Any = None,
            workers: int | None = None, progress: bool | None = None) -> sweep.SweepReport:
    """Every experiment's grid (or those in ``names``) as one sweep on one cluster.

    One sweep keeps every worker busy to the end (no idle tail between experiments); the book
    can run it once before executing its chapters, which then only read the store.
    """
    names = list(EXPERIMENTS) if names is None else list(names)
    runs = [r for n in names for r in _experiment(n).runs(profile)]
    return _sweep(runs, store, scheduler, workers, progress, f"all ({profile})")
