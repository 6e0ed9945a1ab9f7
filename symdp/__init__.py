"""symdp: exploiting symmetry in high-dimensional dynamic programming.

The N-firm investment model (:mod:`symdp.params`, :mod:`symdp.economics`), its linear-quadratic
benchmark (:mod:`symdp.lq`), deep-sets policies (:mod:`symdp.networks`), the Euler-residual solver
(:mod:`symdp.solver`) and the checks of a solution (:mod:`symdp.evaluation`).
"""

from .economics import euler_residual, gauss_hermite, monte_carlo_residual, price, simulate
from .evaluation import Evaluation, StationarityCheck, evaluate
from .lq import LinearPolicyCoefficients, lq_roots, lq_solution, riccati_equilibrium
from .networks import ArchitectureConfig, DeepSetPolicy, count_parameters, make_policy
from .params import ModelParams
from .solver import SolveResult, SolverConfig, solve

__version__ = "0.1.0"

__all__ = [
    "ArchitectureConfig",
    "DeepSetPolicy",
    "Evaluation",
    "LinearPolicyCoefficients",
    "ModelParams",
    "SolveResult",
    "SolverConfig",
    "StationarityCheck",
    "count_parameters",
    "euler_residual",
    "evaluate",
    "gauss_hermite",
    "lq_roots",
    "lq_solution",
    "make_policy",
    "monte_carlo_residual",
    "price",
    "riccati_equilibrium",
    "simulate",
    "solve",
]
