"""Checking permutation invariance of a policy numerically.

A policy :math:`u:\\mathbb R^N\\to\\mathbb R` of a permutation-invariant dynamic programming problem
satisfies :math:`u(\\pi X) = u(X)` for every permutation matrix :math:`\\pi\\in\\mathcal S_N`.
Equivalently, u depends on X only through its empirical distribution
:math:`\\hat\\mu_X = \\frac1N\\sum_i\\delta_{X_i}` (the sorted vector is one representation of it).
The functions here measure how far a fitted policy is from that:

* :func:`permutation_check` evaluates :math:`u(\\pi_k X_s) - u(X_s)` for random permutations
  :math:`\\pi_k` and states :math:`X_s`;
* :func:`replicate` builds :math:`X\\otimes\\mathbf 1_k`, a state of :math:`kN` firms with the
  same empirical distribution as X, on which a deep set (defined for every N) must return
  :math:`u(X)`;
* :func:`distribution_check` compares :math:`u(X)`, :math:`u(\\mathrm{sort}(X))` and
  :math:`u(X\\otimes\\mathbf 1_k)`.

Policies map ``X`` of shape ``(..., N)`` to shape ``(...)`` (as in :mod:`symdp.networks`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

__all__ = [
    "random_permutations",
    "PermutationCheck",
    "permutation_check",
    "replicate",
    "DistributionCheck",
    "distribution_check",
]

Policy = Callable[[torch.Tensor], torch.Tensor]


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def random_permutations(n_perms: int, N: int, generator: torch.Generator) -> torch.Tensor:
    """``n_perms`` independent uniform permutations of ``range(N)``, shape ``(n_perms, N)``.

    Row k is the index vector of :math:`\\pi_k`: ``X[..., perms[k]]`` is :math:`\\pi_k X`.
    """
    n_perms, N = _positive_int("n_perms", n_perms), _positive_int("N", N)
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
    k = _positive_int("k", k)
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
    k = _positive_int("k", k)
    u = policy(X).double()
    sorted_gap = float((policy(X.sort(-1).values).double() - u).abs().max())
    try:
        replicated_gap = float((policy(replicate(X, k)).double() - u).abs().max())
    except (ValueError, RuntimeError):
        replicated_gap = float("nan")
    return DistributionCheck(sorted_gap, replicated_gap, k)
