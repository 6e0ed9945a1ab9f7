"""Training a policy network on the Euler residual.

The method of the deck, step by step:

1. **Pick** the grid: trajectories simulated from one initial state :math:`X_0` under the
   stationary LQ policy of the nu = 1 model, as the paper's code draws its first grid (a linear
   rule with H0 > 0, H1 < 0 keeps the simulated states positive and stationary for any nu). For
   nu = 1 that is where the solution lives. For nu > 1 the equilibrium settles elsewhere (higher
   capital), so once the validation MSE meets the tolerance the training and validation paths are
   redrawn under the fitted policy and the fit goes on until it meets the tolerance on the new
   grid too (``grid_redraws`` times; the paper's code redraws every few epochs instead). Chapter 7
   measures the effect of the redraw.
2. **Choose** the family: a deep set (:mod:`symdp.networks`). Its output layer starts at zero,
   so the network starts constant; **start** it at the constant whose Euler residuals average
   zero over the training grid (``level_start``). Started at u = 0 instead, the first Adam
   steps all push the level up, their momentum carries it past the solution, and a network
   whose level and slope move together (rho without biases on raw moments, chapter 7) leaves
   with a positive response to aggregate capital, towards the explosive root.
3. **Fit** with Adam on minibatches. By default (``gradient="semi"``) each step holds u(X') fixed
   and moves u(X) towards the right-hand side of the Euler equation: a damped step of time
   iteration, not a descent on the squared residual (``gradient="full"`` is that descent). The
   expectation uses one standardised draw of the N idiosyncratic shocks and Gauss-Hermite
   quadrature over the aggregate shock. Stop as soon as the validation MSE meets
   ``val_tolerance``.
4. **Verify**: simulate fresh test trajectories under the fitted policy and check residuals,
   policy errors (nu = 1) and stationarity (:mod:`symdp.evaluation`).

Why the fit selects the stationary root (nu = 1 has two exact linear solutions, H1 ~ -0.05 and
H1 ~ +0.22): rho's output layer starts at zero, so the fit starts flat (a constant u), and the
time-iteration step's derivative at a root is :math:`\\beta(1-\\delta+H_1)^2`: below one at the stationary root, above one at the
explosive one. Chapter 8 measures how often each start and step finds which root; full-gradient
fits from PyTorch's default initialisation can fit the explosive root with equally small
residuals, and :func:`symdp.evaluation.evaluate` rejects those.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from .evaluation import Evaluation, FreshDraws, StationarityCheck
from .finish import Finish, finish_step, has_output_layer
from .models import Model, Quadrature, as_model
from .models.base import AgentEvaluation
from .networks import ArchitectureConfig, LinearPolicy, count_parameters, detached_twin
from .params import ModelParams

__all__ = ["SolverConfig", "SolveResult", "solve"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}
VAL_GATE = 10.0  # validate only once the running training MSE is within this factor of tolerance
FINISH_STEPS = 6  # most output-layer steps in a row (symdp.finish) before Adam moves on
FINISH_LR = 0.1  # Adam's learning rate is scaled by this after the first kept finish step
FINISH_BELOW = 1e-3  # finish steps go on past the tolerance down to this fraction of it
LEVEL_STATES = 64  # training states (evenly spaced) whose mean residual sets the starting level
LEVEL_STEPS = 3  # Newton steps on the level: one is exact where the residual is linear in it


@dataclass(frozen=True)
class SolverConfig:
    """Settings of one training run. Defaults follow the paper's code, except where a comment
    says why not."""

    train_trajectories: int = 16  # simulated paths forming the training grid
    val_trajectories: int = 8  # paths for the stopping rule
    test_trajectories: int = 256  # fresh paths, simulated under the fitted policy
    T: int = 63  # periods per path (T + 1 = 64 points)
    train_points: int | None = None  # keep only this many grid points, evenly spaced (None: all)
    batch_size: int = 16  # points per Adam step
    # Adam learning rate (the paper's code: 1e-3). Adam scales each step to about lr whatever
    # the gradient's size, and a fit started at the level has small gradients from its first
    # step: at 1e-3, the first steps of rho's output layer, all of one sign, killed its last
    # hidden layer in 3 of 14 seeds of Table 2's L = 2 row; at 3e-4 in none of 6
    lr: float = 3e-4
    # the rate rises linearly to lr over the first steps (multiplying any other change): from
    # the level start, Adam's first steps at full rate still killed rho's last hidden layer in 2
    # of Table 2's 20 L = 2 seeds; over 32 steps in neither (16: one)
    warmup_steps: int = 32
    lr_decay: float = 1.0  # the learning rate is multiplied by this after every epoch
    # once validation runs, the learning rate halves after this many validated checks in a row
    # without a new best validation MSE on the grid (0: never), at most lr_halvings times:
    # near the tolerance Adam's steps at lr leave a noise floor that a fit can hover on
    plateau_checks: int = 4
    lr_halvings: int = 2
    max_epochs: int = 200  # hard cap on passes over the training grid
    val_tolerance: float = 2e-7  # stop when validation Euler MSE <= this (paper: 1e-6)
    quadrature_nodes: int = 7  # Gauss-Hermite nodes for the aggregate shock
    standardize_draw: bool = True  # recentre/rescale the one draw of W (paper's code)
    checks_per_epoch: int = 4  # validation checks per epoch (stopping granularity)
    seed: int = 0  # seeds initial weights, X0, the draw of W, paths and minibatches
    device: str = "cpu"  # "cpu" or "cuda"
    dtype: str = "float32"  # "float32" or "float64"
    threads: int | None = None  # torch intra-op threads (None: leave as is)
    max_seconds: float = math.inf  # wall-clock cap on fitting
    gradient: str = "semi"  # "semi": u(X') held fixed in each step (time iteration); "full"
    grid_redraws: int = 1  # nu != 1: redraw the grid under the fitted policy this often at tol
    # a network with an output layer to solve (symdp.finish): from this epoch on, each epoch
    # ends with Levenberg-Marquardt steps on it; 0: Adam alone; None: the model's default
    # (Model.finish_from: the agent models 2, the deck's model 0)
    finish_from: int | None = None
    # a network that starts constant (its output layer's weights at zero) starts at the constant
    # whose Euler residuals average zero on the training grid; False: where it was built (u = 0)
    level_start: bool = True
    own_nodes: int = 3  # agent models: Gauss-Hermite nodes per own shock (0: the one draw)
    agents: int = 8  # agent models: agents per industry whose residuals are taken
    stationarity: StationarityCheck = field(default_factory=StationarityCheck)

    def __post_init__(self) -> None:
        for name in ("train_trajectories", "val_trajectories", "test_trajectories", "T",
                     "batch_size", "max_epochs", "quadrature_nodes", "checks_per_epoch"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("plateau_checks", "lr_halvings", "warmup_steps"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if self.train_points is not None and not (
            isinstance(self.train_points, int)
            and 1 <= self.train_points <= self.train_trajectories * (self.T + 1)
        ):
            raise ValueError(f"train_points must be None or an integer in [1, "
                             f"{self.train_trajectories * (self.T + 1)}], got {self.train_points!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if not 0.0 < self.lr_decay <= 1.0:
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay!r}")
        if not self.val_tolerance > 0:
            raise ValueError(f"val_tolerance must be > 0, got {self.val_tolerance!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {self.dtype!r}")
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ValueError(f"device must be 'cpu' or 'cuda[:k]', got {self.device!r}")
        if self.gradient not in ("semi", "full"):
            raise ValueError(f"gradient must be 'semi' or 'full', got {self.gradient!r}")
        if self.finish_from is not None and not (isinstance(self.finish_from, int)
                                                 and self.finish_from >= 0):
            raise ValueError(f"finish_from must be None or an integer >= 0, "
                             f"got {self.finish_from!r}")
        if not isinstance(self.own_nodes, int) or self.own_nodes < 0:
            raise ValueError(f"own_nodes must be an integer >= 0, got {self.own_nodes!r}")
        if not isinstance(self.agents, int) or self.agents < 1:
            raise ValueError(f"agents must be an integer >= 1, got {self.agents!r}")
        if not isinstance(self.grid_redraws, int) or self.grid_redraws < 0:
            raise ValueError(f"grid_redraws must be an integer >= 0, got {self.grid_redraws!r}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads!r}")

    def to_dict(self) -> dict:
        """Plain JSON-ready fields (a run's configuration in the sweeps' store)."""
        d = asdict(self)
        d["stationarity"] = asdict(self.stationarity)
        d["max_seconds"] = None if math.isinf(self.max_seconds) else self.max_seconds
        return d

    @classmethod
    def from_dict(cls, fields: dict) -> "SolverConfig":
        """The inverse of :meth:`to_dict`."""
        fields = dict(fields)
        check = fields.pop("stationarity", None)
        if check is not None:
            fields["stationarity"] = StationarityCheck(**{**check, "band": tuple(check["band"])})
        if fields.get("max_seconds") is None:
            fields["max_seconds"] = math.inf
        return cls(**fields)


@dataclass
class SolveResult:
    """What :func:`solve` returns: the fitted policy, its history, timings and metrics."""

    params: ModelParams | object  # the model's parameters
    config: SolverConfig
    policy: nn.Module
    history: list[dict]  # one row per check; val_mse is NaN where the validation pass was skipped
    fit_seconds: float  # data simulation + training, excluding the final test
    test_seconds: float
    epochs: float  # passes over the training grid (fractional at an early stop)
    steps: int
    converged: bool  # validation MSE met the tolerance
    status: str  # "converged", "max_epochs", "max_seconds" or "diverged"
    train_mse: float
    val_mse: float
    evaluation: Evaluation
    X0: torch.Tensor
    W_hat: torch.Tensor
    train_states: torch.Tensor  # the final training grid, (points, N)
    val_states: torch.Tensor  # the final validation states, (points, N)
    redraws: int = 0  # grids drawn under the fitted policy (after the first, LQ-drawn one)
    model: Model | None = None  # what was solved (the deck's model for ModelParams)

    @property
    def n_params(self) -> int:
        return count_parameters(self.policy)

    @property
    def test_mse(self) -> float:
        return self.evaluation.test_mse

    @property
    def fresh_mse(self) -> float | None:
        """Test MSE with fresh draws of all shocks at sampled test states (None if not asked)."""
        return self.evaluation.fresh_mse

    @property
    def policy_rel_error(self) -> float | None:
        return self.evaluation.policy_rel_error

    @property
    def offpath_rel_error(self) -> float | None:
        """Mean relative policy error off the equilibrium path (agent models, linear case)."""
        return getattr(self.evaluation, "offpath_rel_error", None)

    @property
    def stationary(self) -> bool:
        return self.evaluation.stationary

    @property
    def success(self) -> bool:
        """Validation tolerance met AND the fitted policy is the stationary solution."""
        return self.converged and self.evaluation.stationary

    def scalars(self) -> dict:
        """The run's numbers and outcome, JSON-ready (a sweep's record, the CLI's ``--json``)."""
        return {
            "success": self.success,
            "converged": self.converged,
            "status": self.status,
            "stationary": self.stationary,
            "stationarity": self.evaluation.reason,
            "fit_seconds": self.fit_seconds,
            "test_seconds": self.test_seconds,
            "epochs": self.epochs,
            "steps": self.steps,
            "redraws": self.redraws,
            "train_mse": self.train_mse,
            "val_mse": self.val_mse,
            "test_mse": self.test_mse,
            "fresh_mse": self.fresh_mse,
            "fresh_sample_mse": self.evaluation.sample_mse,
            "policy_rel_error": self.policy_rel_error,
            "coefficients": self.n_params,
            "N": self.params.N,
            "nu": self.params.nu,
            "seed": self.config.seed,
            **self._agent_scalars(),
        }

    def _agent_scalars(self) -> dict:
        """An agent model's own numbers: its name, the off-path error and the fitted slopes
        against the exact ones (:class:`symdp.models.AgentEvaluation`)."""
        ev = self.evaluation
        if not isinstance(ev, AgentEvaluation):
            return {}
        return {"model": self.model.name, "offpath_rel_error": ev.offpath_rel_error,
                "slopes": ev.slopes,
                "own_slopes": {k: {"fit": v, "exact": ev.own_slope_exact.get(k)}
                               for k, v in ev.own_slope_fit.items()}}


def _finite_or_inf(x: float) -> float:
    return x if math.isfinite(x) else math.inf


def solve(
    params: Model | ModelParams = ModelParams(),
    arch: ArchitectureConfig | str | nn.Module = "relu",
    config: SolverConfig = SolverConfig(),
    progress: bool = False,
    fresh: FreshDraws | None = None,
) -> SolveResult:
    """Fit a policy to the Euler equation of ``params`` and evaluate it.

    Parameters
    ----------
    params : Model or ModelParams
        The economy: a :class:`symdp.models.Model`, or the deck's parameters (its model,
        :class:`symdp.models.Investment`).
    arch : ArchitectureConfig, str or torch.nn.Module
        What to fit: an architecture (a phi name, ``"identity"``, ``"moments"``, ``"relu"`` or
        ``"none"``, for the model's baseline with it, :meth:`symdp.models.Model.architecture`;
        or a config), built with weights seeded by ``config.seed``; or a ready module, trained as given
        (a warm start).
    config : SolverConfig
        Grid sizes, optimiser, stopping rule, seed and device.
    progress : bool
        Show a progress bar of validation MSE against the tolerance.
    fresh : FreshDraws, optional
        Also compute the test residual with fresh Monte Carlo draws of all N + 1 shocks at a
        subsample of the test states (:func:`symdp.evaluation.evaluate`); its time counts in
        ``test_seconds``. Not part of :class:`SolverConfig`, so the sweeps' keys of runs that do
        not ask for it stay as they were.

    Notes
    -----
    The method's steps (the module's docstring), one function each: pick the grid
    (:func:`_pick_grid`), choose the family (:func:`seeded_policy`) and start it
    (:func:`start_level`), fit (:func:`_fit`) and verify (:func:`_verify`); :func:`_pack` puts
    the result together. ``fit_seconds`` runs from before the policy is built to the end of the
    fit, ``test_seconds`` over the test paths only.
    """
    model = as_model(params)
    kw = tensor_kw(config)
    started = time.perf_counter()
    policy = seeded_policy(model, arch, config, **kw)
    grid = _pick_grid(model, config, **kw)
    if config.level_start:
        start_level(model, policy, grid)
    fit = _fit(model, policy, grid, config, started, progress)
    verification = _verify(model, policy, fit, config, fresh)
    return _pack(model, config, policy, fit, verification)


def tensor_kw(config: SolverConfig) -> dict:
    """Apply ``config.threads`` and return the run's tensor keywords (``device``, ``dtype``).

    A CUDA device that is absent fails here, before any work, rather than at the first tensor.
    On the CPU, PyTorch is asked to back its large tensors with transparent huge pages
    (``THP_MEM_ALLOC_ENABLE=1``, unless the environment already sets it): at large N every step
    allocates tensors of tens of megabytes afresh, and faulting them in 4 KiB pages was most of a
    fit's time (``benchmarks/scale.py`` measures it). It changes where memory comes from, not a
    single number of the fit.
    """
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch.cuda.is_available() is False")
    if device.type == "cpu":
        os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")  # read by PyTorch at allocation
    return {"device": device, "dtype": DTYPES[config.dtype]}


def seeded_policy(model: Model | ModelParams, arch: ArchitectureConfig | str | nn.Module,
                  config: SolverConfig, **kw) -> nn.Module:
    """The network to fit, its weights drawn from torch's global generator, seeded first.

    A ready module is taken as given (a warm start); the seed is set all the same, so what runs
    after draws the same numbers either way.
    """
    model = as_model(model)
    torch.manual_seed(config.seed)
    if isinstance(arch, str):  # a phi name: the model's baseline with that phi
        arch = model.architecture(arch)
    policy = arch if isinstance(arch, nn.Module) else model.make_policy(arch)
    return policy.to(**kw)


@dataclass(frozen=True)
class Draws:
    """What every grid and every residual of one run shares.

    One generator, ``gen``, seeded with the run's seed, draws the initial state ``X0``, then
    the one draw of the N agents' idiosyncratic shocks that every expectation uses, then the
    grid's paths; a grid redrawn later continues its stream. ``quadrature``: that draw, the
    Gauss-Hermite quadrature of the aggregate shock (and of an agent model's own shocks), and
    the agents whose residuals are taken (:class:`symdp.models.Quadrature`).
    """

    X0: torch.Tensor
    quadrature: Quadrature
    gen: torch.Generator

    @property
    def W_hat(self) -> torch.Tensor:
        return self.quadrature.W_hat

    @property
    def nodes(self) -> torch.Tensor:
        return self.quadrature.nodes

    @property
    def weights(self) -> torch.Tensor:
        return self.quadrature.weights

    @property
    def chunk(self) -> int:
        """Elements per chunk when evaluating many points: bounded memory on a laptop, big
        kernels on a GPU."""
        return 1 << 22 if self.X0.device.type == "cpu" else 1 << 26

    def mse(self, model: Model, policy: nn.Module, states: torch.Tensor) -> float:
        """Mean squared Euler residual of ``policy`` at ``states`` (inf where not finite)."""
        return _finite_or_inf(model.residual_mse(policy, states, self.quadrature, self.chunk))


def first_draws(model: Model | ModelParams, config: SolverConfig, **kw) -> Draws:
    """``X0``, then the quadrature with its one draw, from a generator on the device seeded
    by ``config.seed`` (:class:`Draws`)."""
    model = as_model(model)
    gen = torch.Generator(device=kw["device"]).manual_seed(config.seed)
    X0 = model.initial_state(gen, **kw)
    quadrature = model.quadrature(gen, config.standardize_draw, config.quadrature_nodes,
                                  config.own_nodes, config.agents, **kw)
    return Draws(X0, quadrature, gen)


@dataclass(frozen=True)
class Grid:
    """The states a fit trains and validates on, each ``(points, *X0.shape)``, and their
    draws."""

    draws: Draws
    train: torch.Tensor
    val: torch.Tensor


def _pick_grid(model: Model | ModelParams, config: SolverConfig, **kw) -> Grid:
    """The first grid: paths simulated from ``X0`` under the exact policy of the model's
    linear case (:meth:`symdp.models.Model.grid_policy`; the deck's: the LQ policy of nu = 1).

    With ``config.train_points`` the training states are thinned to that many (chapter 8's tiny
    grids), evenly spread over the dates of the first path, or over all paths when there are
    more points than dates: every path starts at the same ``X0``, so a spread over paths would
    repeat it.
    """
    model = as_model(model)
    draws = first_draws(model, config, **kw)
    train, val = _paths(model, model.grid_policy().to(**kw), draws, config)
    if config.train_points is not None:
        last = config.T if config.train_points <= config.T + 1 else train.shape[0] - 1
        keep = torch.linspace(0, last, config.train_points).round().long()
        train = train[keep.to(kw["device"])]
    return Grid(draws, train, val)


def start_level(model: Model | ModelParams, policy: nn.Module, grid: Grid) -> float | None:
    r"""Move a constant network to the constant whose Euler residuals average zero on the grid.

    A network whose output layer has zero weights is a constant c, its output bias. This adds
    the shift s to every output bias that solves :math:`\bar\varepsilon(c + s) = 0`, the mean
    residual over :data:`LEVEL_STATES` evenly spaced training states (and their agents), by
    :data:`LEVEL_STEPS` Newton steps, with :math:`\bar\varepsilon'` by autograd. In the
    deck's model at nu = 1 the mean residual is linear in s and

    .. math::

        c = \frac{\beta\,(1 - (1-\delta)\bar m)}{\gamma(1 - \beta(1-\delta)) + \beta},

    with :math:`\bar m` the states' mean capital. Returns the shift, or None where the network
    is not constant (a warm start, PyTorch's default initialisation) or has no output bias;
    then, or if a step is not finite, the network is left as it was.
    """
    model = as_model(model)
    named = policy.output_parameters() if has_output_layer(policy) else []
    biases = [p for n, p in named if n.endswith("bias")]
    if not biases or any(bool(p.detach().any()) for n, p in named if not n.endswith("bias")):
        return None
    n = grid.train.shape[0]
    states = grid.train[torch.linspace(0, n - 1, min(LEVEL_STATES, n)).round().long()
                        .to(grid.train.device)]
    rows = model.chunk_rows(grid.draws.chunk, grid.draws.quadrature)
    start = [b.detach().clone() for b in biases]
    shift = 0.0
    for _ in range(LEVEL_STEPS):
        total = slope = 0.0
        for Xc in states.split(rows):
            r = model.euler_residual(policy, Xc, grid.draws.quadrature)
            grads = torch.autograd.grad(r.sum(), biases)
            total += float(r.detach().double().sum())
            slope += sum(float(g.double().sum()) for g in grads)
        step = -total / slope if slope else math.nan
        if not math.isfinite(step):  # no level to move to: as it was
            with torch.no_grad():
                for b, b0 in zip(biases, start):
                    b.copy_(b0)
            return None
        with torch.no_grad():
            for b in biases:
                b.add_(step)
        shift += step
        if abs(step) <= 1e-12 * max(1.0, abs(shift)):
            break
    return shift


def _paths(model: Model, policy: nn.Module, draws: Draws,
           config: SolverConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Training, then validation states, simulated under ``policy`` with ``draws.gen`` and
    widened off the path (:meth:`symdp.models.Model.widen`; the deck's model: as simulated)."""
    train = model.simulate(policy, draws.X0, config.train_trajectories, config.T, draws.gen)
    val = model.simulate(policy, draws.X0, config.val_trajectories, config.T, draws.gen)
    shape = draws.X0.shape
    widen = model.widen
    return (widen(train.reshape(-1, *shape), draws.quadrature, draws.gen),
            widen(val.reshape(-1, *shape), draws.quadrature, draws.gen))


def _redrawn(model: Model, policy: nn.Module, grid: Grid,
             config: SolverConfig) -> Grid | None:
    """``grid`` with its paths drawn again under ``policy`` (None if any state is not finite)."""
    train, val = _paths(model, policy, grid.draws, config)
    if not (torch.isfinite(train).all() and torch.isfinite(val).all()):
        return None
    return replace(grid, train=train, val=val)


def training_step(model: Model | ModelParams, policy: nn.Module, draws: Draws,
                  config: SolverConfig) -> Callable[[torch.Tensor], torch.Tensor]:
    """The solver's Adam step, as a function of the minibatch; it returns the loss before the step.
    Over the first ``config.warmup_steps`` calls the learning rate rises linearly to its value.

    The loss is the mean squared Euler residual. With ``config.gradient == "semi"`` tomorrow's
    policy u(X') is evaluated at the current weights but detached, so each step moves u(X) towards
    the right-hand side (time iteration); with ``"full"`` the gradient flows through both.
    """
    model = as_model(model)
    # the same module with the live weights detached: it keeps the policy's other methods
    # (at_shifts, head), which the residuals use
    frozen = detached_twin(policy) if config.gradient == "semi" else None

    # fused: one kernel per parameter for the whole update; at N = 128 Adam's separate
    # element-wise passes (foreach) were a third of a mean-only network's step
    opt = torch.optim.Adam(policy.parameters(), lr=config.lr, fused=True)

    taken = 0

    def step(X: torch.Tensor) -> torch.Tensor:
        nonlocal taken
        if taken < config.warmup_steps:  # lr * (taken + 1) / warmup_steps, times any other change
            for group in opt.param_groups:
                group["lr"] *= (taken + 1) / taken if taken else 1 / config.warmup_steps
        taken += 1
        r = model.euler_residual(policy, X, draws.quadrature, policy_next=frozen)
        loss = r.pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    step.optimizer = opt  # the fit decays its learning rate between epochs
    return step


@dataclass(frozen=True)
class Fit:
    """What :func:`_fit` hands on: the final grid, the history and why the fit stopped."""

    grid: Grid  # after any redraws
    history: list[dict]
    status: str  # "converged", "max_epochs", "max_seconds" or "diverged"
    steps: int
    epochs: float
    val_mse: float  # at the last check; NaN where it skipped validation
    redraws: int
    seconds: float  # from the run's start to the end of the fit


@dataclass
class _Checks:
    """The fit's bookkeeping between checks (mutable): when a check falls due, and its rows.

    Checks come every ``every`` steps and at each multiple of ``per_epoch``, counted in steps
    since the start: a redraw starts a new epoch mid-count, and the running losses carry over.
    """

    per_epoch: int
    every: int
    started: float
    bar: object | None = None
    steps: int = 0
    losses: list[torch.Tensor] = field(default_factory=list)  # since the last check
    history: list[dict] = field(default_factory=list)
    val_mse: float = math.inf
    best_val: float = math.inf  # on this grid
    since_best: int = 0  # validated checks since best_val
    halvings: int = 0

    def count(self, loss: torch.Tensor) -> bool:
        """Count one step and its loss; True when a check falls due."""
        self.steps += 1
        self.losses.append(loss)
        return not (self.steps % self.every and self.steps % self.per_epoch)

    def running_loss(self) -> float:
        """The mean minibatch loss since the last check; the next check counts afresh."""
        loss, self.losses = float(torch.stack(self.losses).mean()), []
        return loss

    def record(self, train_loss: float, val_mse: float, tolerance: float) -> float:
        """Append the check's history row (and update the bar); the seconds since the start."""
        self.val_mse = val_mse
        elapsed = time.perf_counter() - self.started
        self.history.append({"step": self.steps, "epoch": self.steps / self.per_epoch,
                             "train_loss": train_loss, "val_mse": val_mse, "seconds": elapsed})
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(train=f"{train_loss:.2e}", val=f"{val_mse:.2e}",
                                 tol=f"{tolerance:.0e}")
        return elapsed

    def plateaued(self, val_mse: float, config: SolverConfig) -> bool:
        """Whether the learning rate is due to halve after this check: ``config.plateau_checks``
        validated checks in a row without a new best on the grid, at most ``config.lr_halvings``
        times in the fit. Skipped validations (NaN) do not count."""
        if math.isnan(val_mse) or not config.plateau_checks:
            return False
        if val_mse < self.best_val:
            self.best_val, self.since_best = val_mse, 0
            return False
        self.since_best += 1
        if self.since_best < config.plateau_checks or self.halvings >= config.lr_halvings:
            return False
        self.since_best, self.halvings = 0, self.halvings + 1
        return True

    def new_grid(self, val_mse: float) -> None:
        """A redrawn grid: its validation MSE is the best so far on it."""
        self.val_mse = self.best_val = val_mse
        self.since_best = 0


def _fit(model: Model, policy: nn.Module, grid: Grid, config: SolverConfig,
         started: float, progress: bool = False) -> Fit:
    """Adam on minibatches of ``grid.train`` until a check stops it or the epochs run out.

    For nu != 1 on a grid not thinned by ``train_points`` (a redraw would not thin it), each time
    the validation MSE meets the tolerance the grid is redrawn under the fitted policy, up to
    ``config.grid_redraws`` times: the fit has converged if the policy meets the tolerance on the
    new grid too, and otherwise goes on, a new epoch on the new grid. ``started`` is the clock
    the history's seconds and ``config.max_seconds`` count from.
    """
    step = training_step(model, policy, grid.draws, config)
    batch_gen = torch.Generator().manual_seed(config.seed + 1)  # the minibatch permutations
    per_epoch = math.ceil(grid.train.shape[0] / config.batch_size)  # a redraw keeps the size
    checks = _Checks(per_epoch, max(1, per_epoch // config.checks_per_epoch), started,
                     _progress_bar(config, progress))
    # At nu = 1 the first grid is drawn under the exact equilibrium policy: nothing to redraw.
    # A thinned grid (chapter 8) is kept as picked.
    redraws_allowed = (config.grid_redraws if not model.is_linear and config.train_points is None
                       else 0)
    status, redraws = "max_epochs", 0
    finish_from = model.finish_from if config.finish_from is None else config.finish_from
    finish = Finish() if finish_from and has_output_layer(policy) else None
    best = _Best() if finish is not None else None
    finish_gen = torch.Generator().manual_seed(config.seed + 2)  # the finish's subsets
    for epoch in range(config.max_epochs):
        verdict = _epoch(model, policy, step, grid, config, checks, batch_gen,
                         can_redraw=redraws < redraws_allowed)
        if verdict is None and finish is not None and epoch + 1 >= finish_from:
            kept = finish.kept
            verdict = _finish(model, policy, grid, config, checks, finish, finish_gen,
                              can_redraw=redraws < redraws_allowed)
            if finish.kept == kept:  # no step helped: the hidden features are the limit
                finish = None
            elif kept == 0:  # Adam's steps must now be finer than the fit they start from
                for group in step.optimizer.param_groups:
                    group["lr"] *= FINISH_LR
        if best is not None:
            best.offer(policy, checks.val_mse)
        if config.lr_decay != 1.0:
            for group in step.optimizer.param_groups:
                group["lr"] *= config.lr_decay
        if verdict == "redraw":
            new = _redrawn(model, policy, grid, config)
            if new is None:  # the fitted policy's paths are not finite: keep the grid
                verdict = "converged"
            else:
                grid, redraws = new, redraws + 1
                best = _Best() if best is not None else None  # a new grid: validated afresh
                checks.new_grid(grid.draws.mse(model, policy, grid.val))
                checks.history[-1].update(redraw=redraws, val_mse_new_grid=checks.val_mse)
                verdict = "converged" if checks.val_mse <= config.val_tolerance else None
        if verdict is not None:
            status = verdict
            break
    if checks.bar is not None:
        checks.bar.close()
    val_mse = checks.val_mse
    if best is not None and status != "converged" and best.restore(policy, val_mse):
        val_mse = best.val_mse
    return Fit(grid, checks.history, status, checks.steps, checks.steps / per_epoch,
               val_mse, redraws, time.perf_counter() - started)


@dataclass
class _Best:
    """The best-validated weights of a fit that finishes (mutable). Where the hidden features
    cannot represent the solution, Adam's epochs after a finish can throw a fit far back;
    a fit that ends without meeting the tolerance returns the best network it validated."""

    val_mse: float = math.inf
    state: dict | None = None

    def offer(self, policy: nn.Module, val_mse: float) -> None:
        if math.isfinite(val_mse) and val_mse < self.val_mse:
            self.val_mse = val_mse
            self.state = {k: v.detach().clone() for k, v in policy.state_dict().items()}

    def restore(self, policy: nn.Module, val_mse: float) -> bool:
        """Load the best weights into ``policy`` unless the last validated ones are as good."""
        if self.state is None or (math.isfinite(val_mse) and val_mse <= self.val_mse):
            return False
        policy.load_state_dict(self.state)
        return True


def _epoch(model: Model, policy: nn.Module, step: Callable, grid: Grid,
           config: SolverConfig, checks: _Checks, batch_gen: torch.Generator,
           can_redraw: bool) -> str | None:
    """One shuffled pass over ``grid.train``, checking when due.

    Returns the first verdict of :func:`_verdict` that ends the pass (a status or ``"redraw"``),
    or None when the pass runs to its end.
    """
    order = torch.randperm(grid.train.shape[0], generator=batch_gen).to(grid.train.device)
    for idx in order.split(config.batch_size):
        if not checks.count(step(grid.train[idx])):
            continue
        train_loss = checks.running_loss()
        val_mse = _validation_mse(model, policy, grid, train_loss, config.val_tolerance)
        elapsed = checks.record(train_loss, val_mse, config.val_tolerance)
        if checks.plateaued(val_mse, config):
            for group in step.optimizer.param_groups:
                group["lr"] *= 0.5
        verdict = _verdict(train_loss, val_mse, elapsed, config, can_redraw)
        if verdict is not None:
            return verdict
    return None


def _finish(model: Model, policy: nn.Module, grid: Grid, config: SolverConfig, checks: _Checks,
            finish: Finish, generator: torch.Generator, can_redraw: bool) -> str | None:
    """Levenberg-Marquardt steps on the output layer (:func:`symdp.finish.finish_step`), each
    followed by a check like an epoch's (its history row marked ``finish``), while a step at
    least halves its subset's squared residual and lowers the validation MSE, up to
    :data:`FINISH_STEPS`; the last check's verdict.

    In the linear case the steps converge quadratically to the exact policy within a few; they
    go on past the tolerance while they gain, down to :data:`FINISH_BELOW` of it, since each
    costs about an epoch and a fit that stops just inside the tolerance can still be a tenth of
    a percent off the exact policy. Where the hidden
    features allow no exact fit (the nonlinear case), a step fits its subset at the expense of
    other states: the step that raises the validation MSE is undone, and Adam moves the hidden
    layers again.
    """
    verdict, best = None, grid.draws.mse(model, policy, grid.val)
    for _ in range(FINISH_STEPS):
        kept = [p.detach().clone() for _, p in policy.output_parameters()]
        before, after = finish_step(model, policy, grid.train, grid.draws.quadrature, finish,
                                    generator)
        val_mse = grid.draws.mse(model, policy, grid.val)
        if not val_mse < best:
            with torch.no_grad():
                for (_, p), k in zip(policy.output_parameters(), kept):
                    p.copy_(k)
            finish.kept -= after < before  # undone: the step no longer counts as kept
            break
        best = val_mse
        elapsed = checks.record(after, val_mse, config.val_tolerance)
        checks.history[-1]["finish"] = True
        verdict = _verdict(after, val_mse, elapsed, config, can_redraw)
        if (verdict in ("diverged", "max_seconds") or not after <= 0.5 * before
                or val_mse <= FINISH_BELOW * config.val_tolerance):
            break
    return verdict


def _validation_mse(model: Model, policy: nn.Module, grid: Grid, train_loss: float,
                    tolerance: float) -> float:
    """The validation MSE at a check, or NaN where it is skipped.

    The validation pass costs as much as a quarter epoch of training; it is skipped while the
    running training loss (same distribution of points) is above ``VAL_GATE`` times the
    tolerance, as it then cannot be met.
    """
    if math.isfinite(train_loss) and train_loss > VAL_GATE * tolerance:
        return math.nan
    return grid.draws.mse(model, policy, grid.val)


def _verdict(train_loss: float, val_mse: float, elapsed: float, config: SolverConfig,
             can_redraw: bool) -> str | None:
    """What a check decides: a final status, ``"redraw"`` the grid, or None to go on.

    Divergence first (a non-finite training loss, or a validation residual that overflowed);
    then the tolerance, which a skipped (NaN) validation never meets; the time cap last, so a
    fit that meets the tolerance late still counts as converged.
    """
    if math.isinf(val_mse) or not math.isfinite(train_loss):
        return "diverged"
    if val_mse <= config.val_tolerance:
        return "redraw" if can_redraw else "converged"
    if elapsed > config.max_seconds:
        return "max_seconds"
    return None


@dataclass(frozen=True)
class Verification:
    """What :func:`_verify` measures of the fitted policy."""

    train_mse: float  # on the final training states
    val_mse: float  # on the final validation states
    evaluation: Evaluation  # on fresh test paths
    seconds: float  # of the test (:func:`symdp.evaluation.evaluate`) alone


def _verify(model: Model, policy: nn.Module, fit: Fit, config: SolverConfig,
            fresh: FreshDraws | None = None) -> Verification:
    """Residuals of the fitted policy on its final grid, then along fresh test paths.

    The test paths come from their own generator, seeded ``config.seed + 10_000``, so they do
    not depend on how many draws the fit took.
    """
    policy.eval()
    draws = fit.grid.draws
    val_mse = fit.val_mse
    if math.isnan(val_mse):  # the last check skipped validation: measure it for the result
        val_mse = draws.mse(model, policy, fit.grid.val)
    train_mse = draws.mse(model, policy, fit.grid.train)
    t_test = time.perf_counter()
    test_gen = torch.Generator(device=torch.device(config.device)).manual_seed(config.seed + 10_000)
    evaluation = model.evaluate(policy, draws.X0, draws.quadrature, config.test_trajectories,
                                config.T, test_gen, config.stationarity, draws.chunk, fresh)
    return Verification(train_mse, val_mse, evaluation, time.perf_counter() - t_test)


def _pack(model: Model, config: SolverConfig, policy: nn.Module, fit: Fit,
          verification: Verification) -> SolveResult:
    """The :class:`SolveResult` of the steps before."""
    return SolveResult(
        params=model.params, model=model, config=config, policy=policy, history=fit.history,
        fit_seconds=fit.seconds, test_seconds=verification.seconds, epochs=fit.epochs,
        steps=fit.steps, converged=fit.status == "converged", status=fit.status,
        train_mse=verification.train_mse, val_mse=verification.val_mse,
        evaluation=verification.evaluation, X0=fit.grid.draws.X0, W_hat=fit.grid.draws.W_hat,
        train_states=fit.grid.train, val_states=fit.grid.val, redraws=fit.redraws,
    )


def _progress_bar(config: SolverConfig, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=config.max_epochs * config.checks_per_epoch, desc="fit", unit="check",
                leave=False)


def lq_path_policy(params: ModelParams) -> LinearPolicy:
    """The stationary LQ policy of the deck's nu = 1 model as a module (draws its grid)."""
    return as_model(params).grid_policy()
