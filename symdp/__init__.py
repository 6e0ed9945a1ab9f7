"""symdp: exploiting symmetry in high-dimensional dynamic programming.

This top level is the science, and its public face below: the N-firm investment model
(:mod:`symdp.params`, :mod:`symdp.economics`), its linear-quadratic benchmark (:mod:`symdp.lq`),
deep-sets policies (:mod:`symdp.networks`), the Euler-residual solver (:mod:`symdp.solver`) and
the checks of a solution (:mod:`symdp.evaluation`); and the model interface with the deck's three
extensions (:mod:`symdp.models`: ``get_model("decreasing-returns")``, or a subclass of
:class:`~symdp.models.Model` of your own). It imports with torch and numpy alone.

Above it, each importing only what lies below: :mod:`symdp.studies` (what the book's chapters
compute beyond one solve), :mod:`symdp.runs` (many runs at once: the sweep engine, the worker
tasks, the named experiments), and :mod:`symdp.book` (the book's kit: chapter helpers, figures,
the build, the notebook regression) and :mod:`symdp.cli` (the ``symdp`` command).
"""

from .economics import euler_residual, gauss_hermite, monte_carlo_residual, price, simulate
from .evaluation import Evaluation, StationarityCheck, evaluate
from .lq import LinearPolicyCoefficients, lq_roots, lq_solution, riccati_equilibrium
from .models import Model, get_model
from .networks import ArchitectureConfig, DeepSetPolicy, count_parameters, make_policy
from .params import ModelParams
from .solver import SolveResult, SolverConfig, solve

__version__ = "0.1.0"

__all__ = [
    "ArchitectureConfig",
    "DeepSetPolicy",
    "Evaluation",
    "LinearPolicyCoefficients",
    "Model",
    "ModelParams",
    "SolveResult",
    "SolverConfig",
    "StationarityCheck",
    "count_parameters",
    "euler_residual",
    "evaluate",
    "gauss_hermite",
    "get_model",
    "lq_roots",
    "lq_solution",
    "make_policy",
    "monte_carlo_residual",
    "price",
    "riccati_equilibrium",
    "simulate",
    "solve",
]
