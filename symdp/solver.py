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
2. **Choose** the family: a deep set (:mod:`symdp.networks`).
3. **Fit** with Adam on minibatches. By default (``gradient="semi"``) each step holds u(X') fixed
   and moves u(X) towards the right-hand side of the Euler equation: a damped step of time
   iteration, not a descent on the squared residual (``gradient="full"`` is that descent). The
   expectation uses one standardised draw of the N idiosyncratic shocks and Gauss-Hermite
   quadrature over the aggregate shock. Stop as soon as the validation MSE meets
   ``val_tolerance``.
4. **Verify**: simulate fresh test trajectories under the fitted policy and check residuals,
   policy errors (nu = 1) and stationarity (:mod:`symdp.evaluation`).

Why the fit selects the stationary root (nu = 1 has two exact linear solutions, H1 ~ -0.05 and
H1 ~ +0.22): rho's output layer starts at zero (u = 0), and the time-iteration step's derivative
at a root is :math:`\\beta(1-\\delta+H_1)^2`: below one at the stationary root, above one at the
explosive one. Chapter 8 measures how often each start and step finds which root; full-gradient
fits from PyTorch's default initialisation can fit the explosive root with equally small
residuals, and :func:`symdp.evaluation.evaluate` rejects those.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from .economics import gauss_hermite, idiosyncratic_draw, initial_state, euler_residual, simulate
from .evaluation import Evaluation, FreshDraws, StationarityCheck, evaluate, residual_mse
from .lq import lq_solution
from .networks import ArchitectureConfig, LinearPolicy, count_parameters, make_policy
from .params import ModelParams

__all__ = ["SolverConfig", "SolveResult", "solve"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}
VAL_GATE = 10.0  # validate only once the running training MSE is within this factor of tolerance


@dataclass(frozen=True)
class SolverConfig:
    """Settings of one training run. Defaults follow the paper's code."""

    train_trajectories: int = 16  # simulated paths forming the training grid
    val_trajectories: int = 8  # paths for the stopping rule
    test_trajectories: int = 256  # fresh paths, simulated under the fitted policy
    T: int = 63  # periods per path (T + 1 = 64 points)
    train_points: int | None = None  # keep only this many grid points, evenly spaced (None: all)
    batch_size: int = 16  # points per Adam step
    lr: float = 1e-3  # Adam learning rate
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
    stationarity: StationarityCheck = field(default_factory=StationarityCheck)

    def __post_init__(self) -> None:
        for name in ("train_trajectories", "val_trajectories", "test_trajectories", "T",
                     "batch_size", "max_epochs", "quadrature_nodes", "checks_per_epoch"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if self.train_points is not None and not (
            isinstance(self.train_points, int)
            and 1 <= self.train_points <= self.train_trajectories * (self.T + 1)
        ):
            raise ValueError(f"train_points must be None or an integer in [1, "
                             f"{self.train_trajectories * (self.T + 1)}], got {self.train_points!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if not self.val_tolerance > 0:
            raise ValueError(f"val_tolerance must be > 0, got {self.val_tolerance!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {self.dtype!r}")
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ValueError(f"device must be 'cpu' or 'cuda[:k]', got {self.device!r}")
        if self.gradient not in ("semi", "full"):
            raise ValueError(f"gradient must be 'semi' or 'full', got {self.gradient!r}")
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

    params: ModelParams
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
        }


def _finite_or_inf(x: float) -> float:
    return x if math.isfinite(x) else math.inf


def solve(
    params: ModelParams = ModelParams(),
    arch: ArchitectureConfig | str | nn.Module = "relu",
    config: SolverConfig = SolverConfig(),
    progress: bool = False,
    fresh: FreshDraws | None = None,
) -> SolveResult:
    """Fit a policy to the Euler equation of ``params`` and evaluate it.

    Parameters
    ----------
    params : ModelParams
        The economy.
    arch : ArchitectureConfig, str or torch.nn.Module
        What to fit: an architecture (``"identity"``, ``"moments"``, ``"relu"``, ``"none"`` or a
        config), built with weights seeded by ``config.seed``; or a ready module, trained as given
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
    """
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    device = torch.device(config.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch.cuda.is_available() is False")
    dtype = DTYPES[config.dtype]
    kw = {"device": device, "dtype": dtype}
    # Elements per chunk when evaluating many points: bounded memory on a laptop, big kernels on GPU
    chunk = 1 << 22 if device.type == "cpu" else 1 << 26

    t_start = time.perf_counter()
    torch.manual_seed(config.seed)  # network initialisation uses the global generator
    policy = arch if isinstance(arch, nn.Module) else make_policy(arch, N=params.N)
    policy = policy.to(**kw)
    gen = torch.Generator(device=device).manual_seed(config.seed)
    batch_gen = torch.Generator().manual_seed(config.seed + 1)

    z, w = gauss_hermite(config.quadrature_nodes)
    nodes, weights = torch.tensor(z, **kw), torch.tensor(w, **kw)
    X0 = initial_state(params, gen, **kw)
    W_hat = idiosyncratic_draw(params.N, gen, config.standardize_draw, **kw)
    grid_policy = lq_path_policy(params).to(**kw)
    train = simulate(params, grid_policy, X0, config.train_trajectories, config.T, gen)
    val = simulate(params, grid_policy, X0, config.val_trajectories, config.T, gen)
    train, val = train.reshape(-1, params.N), val.reshape(-1, params.N)
    if config.train_points is not None:  # a deliberately tiny grid (the implicit-bias study)
        # Spread over dates of the first path: every path starts at the same X0.
        span = min(train.shape[0], config.T + 1) - 1
        keep = torch.linspace(0, span, config.train_points).round().long()
        if config.train_points > config.T + 1:
            keep = torch.linspace(0, train.shape[0] - 1, config.train_points).round().long()
        train = train[keep.to(device)]

    # foreach: one fused kernel per parameter group instead of a loop (CPU default is off)
    opt = torch.optim.Adam(policy.parameters(), lr=config.lr, foreach=True)
    n_train = train.shape[0]
    steps_per_epoch = math.ceil(n_train / config.batch_size)
    check_every = max(1, steps_per_epoch // config.checks_per_epoch)
    history: list[dict] = []
    status, steps, val_mse, running = "max_epochs", 0, math.inf, []
    bar = _progress_bar(config, progress)

    frozen = None
    if config.gradient == "semi":
        from torch.func import functional_call

        def frozen(Xn):
            p = {k: v.detach() for k, v in policy.named_parameters()}
            return functional_call(policy, p, (Xn,))

    def loss_on(Xb: torch.Tensor) -> torch.Tensor:
        r = euler_residual(params, policy, Xb, W_hat, nodes, weights, policy_next=frozen)
        return r.pow(2).mean()

    # At nu = 1 the first grid is drawn under the exact equilibrium policy: nothing to redraw.
    redraws_left = config.grid_redraws if (params.nu != 1.0 and config.train_points is None) else 0
    redraws = 0
    done = False
    for epoch in range(config.max_epochs):
        regridded = False
        order = torch.randperm(n_train, generator=batch_gen).to(device)
        for idx in order.split(config.batch_size):
            loss = loss_on(train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
            running.append(loss.detach())
            if steps % check_every and steps % steps_per_epoch:
                continue
            train_loss = float(torch.stack(running).mean())
            running = []
            # The validation pass costs as much as a quarter epoch of training; skip it while the
            # running training loss (same distribution of points) is far above the tolerance.
            if math.isfinite(train_loss) and train_loss > VAL_GATE * config.val_tolerance:
                val_mse = math.nan
            else:
                val_mse = _finite_or_inf(
                    residual_mse(params, policy, val, W_hat, nodes, weights, chunk))
            elapsed = time.perf_counter() - t_start
            history.append({"step": steps, "epoch": steps / steps_per_epoch,
                            "train_loss": train_loss, "val_mse": val_mse, "seconds": elapsed})
            if bar is not None:
                bar.update(1)
                bar.set_postfix(train=f"{train_loss:.2e}", val=f"{val_mse:.2e}",
                                tol=f"{config.val_tolerance:.0e}")
            if math.isinf(val_mse) or not math.isfinite(train_loss):
                status, done = "diverged", True
            elif val_mse <= config.val_tolerance and redraws_left:
                redraws_left -= 1
                grids = _redraw(params, policy, X0, config, gen)
                if grids is None:  # the fitted policy's paths are not finite: keep the grid
                    status, done = "converged", True
                else:
                    train, val = grids
                    redraws += 1
                    val_mse = _finite_or_inf(
                        residual_mse(params, policy, val, W_hat, nodes, weights, chunk))
                    history[-1]["redraw"] = redraws
                    history[-1]["val_mse_new_grid"] = val_mse
                    if val_mse <= config.val_tolerance:
                        status, done = "converged", True
                    regridded = True  # a new epoch starts on the new grid
            elif val_mse <= config.val_tolerance:
                status, done = "converged", True
            elif elapsed > config.max_seconds:
                status, done = "max_seconds", True
            if done or regridded:
                break
        if done:
            break
    if bar is not None:
        bar.close()
    fit_seconds = time.perf_counter() - t_start

    policy.eval()
    if math.isnan(val_mse):  # the last check skipped validation: measure it for the result
        val_mse = _finite_or_inf(residual_mse(params, policy, val, W_hat, nodes, weights, chunk))
    train_mse = _finite_or_inf(residual_mse(params, policy, train, W_hat, nodes, weights, chunk))
    t_test = time.perf_counter()
    test_gen = torch.Generator(device=device).manual_seed(config.seed + 10_000)
    evaluation = evaluate(params, policy, X0, W_hat, nodes, weights, config.test_trajectories,
                          config.T, test_gen, config.stationarity, chunk, fresh)
    test_seconds = time.perf_counter() - t_test
    return SolveResult(
        params=params, config=config, policy=policy, history=history, fit_seconds=fit_seconds,
        test_seconds=test_seconds, epochs=steps / steps_per_epoch, steps=steps,
        converged=status == "converged", status=status, train_mse=train_mse, val_mse=val_mse,
        evaluation=evaluation, X0=X0, W_hat=W_hat, train_states=train, val_states=val,
        redraws=redraws,
    )


@torch.no_grad()
def _redraw(params: ModelParams, policy: nn.Module, X0: torch.Tensor, config: SolverConfig,
            gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Training and validation states simulated under ``policy`` (None if any is not finite)."""
    train = simulate(params, policy, X0, config.train_trajectories, config.T, gen)
    val = simulate(params, policy, X0, config.val_trajectories, config.T, gen)
    if not (torch.isfinite(train).all() and torch.isfinite(val).all()):
        return None
    return train.reshape(-1, params.N), val.reshape(-1, params.N)


def _progress_bar(config: SolverConfig, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=config.max_epochs * config.checks_per_epoch, desc="fit", unit="check",
                leave=False)


def lq_path_policy(params: ModelParams) -> LinearPolicy:
    """The stationary LQ policy of the nu = 1 model as a module (used to draw the grid)."""
    lq = lq_solution(params.replace(nu=1.0))
    return LinearPolicy(lq.H0, lq.H1)
