"""Checking permutation invariance of a policy numerically.

A policy :math:`u:\\mathbb R^N\\to\\mathbb R` of a permutation-invariant dynamic programming problem
satisfies :math:`u(\\pi X) = u(X)` for every permutation matrix :math:`\\pi\\in\\mathcal S_N`.
Equivalently, u depends on X only through its empirical distribution
:math:`\\hat\\mu_X`, the average of the point masses at the :math:`X_i` (the sorted vector is one
representation of it).
The functions here measure how far a fitted policy is from that:

* :func:`permutation_check` evaluates :math:`u(\\pi_k X_s) - u(X_s)` for random permutations
  :math:`\\pi_k` and states :math:`X_s`;
* :func:`replicate` builds :math:`X\\otimes\\mathbf 1_k`, a state of :math:`kN` firms with the
  same empirical distribution as X, on which a deep set (defined for every N) must return
  :math:`u(X)`;
* :func:`distribution_check` compares :math:`u(X)`, :math:`u(\\mathrm{sort}(X))` and
  :math:`u(X\\otimes\\mathbf 1_k)`;
* :func:`rank_persistence`, :func:`deviation_half_life` and :func:`stationary_dispersion`
  measure how long firms keep their initial ranks along simulated paths, and
  :func:`nearest_grid_distance` how far states lie from a training grid: together they test
  whether permuted states lie off the grid a network was trained on.

Policies map ``X`` of shape ``(..., N)`` to shape ``(...)`` (as in :mod:`symdp.networks`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .._checks import integer
from ..economics import Policy

__all__ = [
    "random_permutations",
    "PermutationCheck",
    "permutation_check",
    "replicate",
    "DistributionCheck",
    "distribution_check",
    "deviation_half_life",
    "stationary_dispersion",
    "rank_persistence",
    "nearest_grid_distance",
]




def random_permutations(n_perms: int, N: int, generator: torch.Generator) -> torch.Tensor:
    """``n_perms`` independent uniform permutations of ``range(N)``, shape ``(n_perms, N)``.

    Row k is the index vector of :math:`\\pi_k`: ``X[..., perms[k]]`` is :math:`\\pi_k X`.
    """
    n_perms, N = integer("n_perms", n_perms), integer("N", N)
    return torch.stack([torch.randperm(N, generator=generator) for _ in range(n_perms)])


@dataclass(frozen=True)
class PermutationCheck:
    """Values of a policy at states and at permutations of them.

    Attributes
    ----------
    u : ndarray (states,)
        :math:`u(X_s)`.
    u_perm : ndarray (n_perms, states)
        :math:`u(\\pi_k X_s)`.
    """

    u: np.ndarray
    u_perm: np.ndarray

    @property
    def gaps(self) -> np.ndarray:
        """:math:`u(\\pi_k X_s) - u(X_s)`, shape (n_perms, states)."""
        return self.u_perm - self.u[None, :]

    @property
    def max_abs_gap(self) -> float:
        """:math:`\\max_{k,s}|u(\\pi_k X_s) - u(X_s)|`."""
        return float(np.max(np.abs(self.gaps)))

    @property
    def mean_abs_gap(self) -> float:
        return float(np.mean(np.abs(self.gaps)))

    @property
    def spread(self) -> np.ndarray:
        """Per state, :math:`\\max_k u(\\pi_k X_s) - \\min_k u(\\pi_k X_s)` (identity included)."""
        both = np.vstack([self.u[None, :], self.u_perm])
        return both.max(0) - both.min(0)

    @property
    def band(self) -> tuple[np.ndarray, np.ndarray]:
        """Per state, the lowest and highest :math:`u(\\pi X_s)` over the permutations and identity."""
        both = np.vstack([self.u[None, :], self.u_perm])
        return both.min(0), both.max(0)


@torch.no_grad()
def permutation_check(policy: Policy, X: torch.Tensor, perms: torch.Tensor) -> PermutationCheck:
    """Evaluate ``policy`` at every state and at every permutation of it.

    Parameters
    ----------
    policy : callable
        Maps ``(..., N)`` to ``(...)``.
    X : torch.Tensor, shape (states, N)
        The states :math:`X_s` (for example points on simulated equilibrium paths).
    perms : torch.Tensor of int, shape (n_perms, N)
        Index vectors, e.g. from :func:`random_permutations`.

    Returns
    -------
    PermutationCheck
        In float64 numpy; an exactly invariant policy has ``max_abs_gap`` at rounding level.
    """
    if X.ndim != 2:
        raise ValueError(f"X must have shape (states, N), got {tuple(X.shape)}")
    if perms.ndim != 2 or perms.shape[1] != X.shape[1]:
        raise ValueError(f"perms must have shape (n_perms, N={X.shape[1]}), got {tuple(perms.shape)}")
    u = policy(X).double().cpu().numpy()
    u_perm = np.stack([policy(X[:, p]).double().cpu().numpy() for p in perms])
    return PermutationCheck(u, u_perm)


def replicate(X: torch.Tensor, k: int) -> torch.Tensor:
    """:math:`X\\otimes\\mathbf 1_k`: every firm copied k times, shape ``(..., k N)``.

    The empirical distribution of the result is that of X, so a policy that depends on X only
    through its empirical distribution (a deep set) gives the same value at both.
    """
    k = integer("k", k)
    return X.repeat_interleave(k, dim=-1)


@dataclass(frozen=True)
class DistributionCheck:
    """Largest differences from :math:`u(X)` at states with the same empirical distribution.

    Attributes
    ----------
    sorted_gap : float
        :math:`\\max_s |u(\\mathrm{sort}(X_s)) - u(X_s)|` (sorting is a permutation).
    replicated_gap : float
        :math:`\\max_s |u(X_s\\otimes\\mathbf 1_k) - u(X_s)|` (NaN if the policy cannot take kN firms).
    k : int
        Replication factor.
    """

    sorted_gap: float
    replicated_gap: float
    k: int


@torch.no_grad()
def distribution_check(policy: Policy, X: torch.Tensor, k: int = 2) -> DistributionCheck:
    """Compare u at X with u at the sorted X and at X replicated k times (see the module docs).

    A policy built for a fixed N (the non-symmetric MLP) raises on kN firms; the replicated gap is
    then NaN.
    """
    k = integer("k", k)
    u = policy(X).double()
    sorted_gap = float((policy(X.sort(-1).values).double() - u).abs().max())
    try:
        replicated_gap = float((policy(replicate(X, k)).double() - u).abs().max())
    except (ValueError, RuntimeError):
        replicated_gap = float("nan")
    return DistributionCheck(sorted_gap, replicated_gap, k)


def deviation_half_life(delta: float) -> float:
    """Periods in which a firm's deviation from the cross-sectional mean halves (no shocks).

    Every firm invests the same :math:`u(X)`, so :math:`X_i - \\bar X` is multiplied by
    :math:`1 - \\delta` each period, plus the shock: the half-life is
    :math:`\\ln 2 / (-\\ln(1 - \\delta))`.
    """
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta!r}")
    return float(np.log(2.0) / -np.log1p(-delta))


def stationary_dispersion(delta: float, sigma: float) -> float:
    """Stationary cross-sectional sd of capital: :math:`\\sigma / \\sqrt{1 - (1-\\delta)^2}`.

    The fixed point of :math:`s^2 = (1-\\delta)^2 s^2 + \\sigma^2`, the law of the
    cross-sectional variance of deviations that all decay by :math:`1 - \\delta` and receive
    independent shocks of sd :math:`\\sigma` (up to the :math:`O(1/N)` of the sample mean).
    """
    if not 0.0 < delta < 1.0 or not sigma >= 0.0:
        raise ValueError(f"need 0 < delta < 1 and sigma >= 0, got {delta!r}, {sigma!r}")
    return float(sigma / np.sqrt(1.0 - (1.0 - delta) ** 2))


def _ranks(a: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(a, axis=-1), axis=-1).astype(float)


def rank_persistence(paths) -> np.ndarray:
    """Spearman rank correlation between the firms' capital at date 0 and at each date t.

    Parameters
    ----------
    paths : array or tensor, shape (trajectories, T + 1, N)
        Simulated states (e.g. :func:`symdp.economics.simulate`).

    Returns
    -------
    ndarray (T + 1,)
        The correlation across firms of :math:`\\mathrm{rank}(X_{0,i})` and
        :math:`\\mathrm{rank}(X_{t,i})`, averaged over trajectories; 1 at t = 0. Ties (none in
        continuous data) are broken by order.
    """
    X = np.asarray(paths.cpu() if isinstance(paths, torch.Tensor) else paths, dtype=float)
    if X.ndim != 3 or X.shape[-1] < 2:
        raise ValueError(f"paths must have shape (trajectories, T + 1, N >= 2), got {X.shape}")
    r = _ranks(X)
    r = r - r.mean(-1, keepdims=True)
    r0 = r[:, :1, :]
    corr = (r * r0).sum(-1) / np.sqrt((r * r).sum(-1) * (r0 * r0).sum(-1))
    return corr.mean(0)


def nearest_grid_distance(states, grid) -> np.ndarray:
    """Root-mean-square-per-firm distance from each state to its nearest grid point.

    :math:`\\min_g \\|X_s - G_g\\| / \\sqrt N`, so the number is in units of capital per firm.

    Parameters
    ----------
    states : array or tensor, shape (states, N)
    grid : array or tensor, shape (points, N)

    Returns
    -------
    ndarray (states,)
    """
    S = torch.as_tensor(np.asarray(states.cpu() if isinstance(states, torch.Tensor) else states),
                        dtype=torch.float64)
    G = torch.as_tensor(np.asarray(grid.cpu() if isinstance(grid, torch.Tensor) else grid),
                        dtype=torch.float64)
    if S.ndim != 2 or G.ndim != 2 or S.shape[1] != G.shape[1]:
        raise ValueError(f"states and grid must be (., N) with one N, got {tuple(S.shape)} and "
                         f"{tuple(G.shape)}")
    return (torch.cdist(S, G).min(1).values / np.sqrt(S.shape[1])).numpy()
