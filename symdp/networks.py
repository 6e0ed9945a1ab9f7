"""Policy networks: the deep-sets family and a non-symmetric baseline.

A deep set approximates a permutation-invariant policy (Wagstaff et al., 2019):

.. math::

    u(x, X) = \\rho\\left(x, \\frac1N\\sum_{i=1}^N \\phi(X_i)\\right),
    \\qquad \\phi:\\mathbb R\\to\\mathbb R^L,\\ \\rho:\\mathbb R^{L(+1)}\\to\\mathbb R.

Three choices of phi, as in the deck: the identity (L = 1, Krusell-Smith's mean), the first k
moments, and a ReLU network. The own state x is optional; the baseline model's policy does not
depend on it. With the defaults (width 128, 4 hidden layers in rho, hidden layers without bias)
the three baselines have exactly the deck's 49,409 / 49,793 / 66,821 coefficients.

Every module of the deck's model maps ``X`` of shape ``(..., N)`` to ``u`` of shape ``(...)``.
:class:`AgentDeepSet` is the family for models whose policy differs across agents
(:mod:`symdp.models`): it maps the agents' features ``(..., N, f)`` to each agent's action
``(..., N)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import copy
import math

import torch
from torch import nn

from ._checks import integer

__all__ = [
    "detached_twin",
    "MLP",
    "IdentityPhi",
    "MomentsPhi",
    "ReLUPhi",
    "TABULATE_FROM",
    "DeepSetPolicy",
    "MLPPolicy",
    "LinearPolicy",
    "AgentDeepSet",
    "ArchitectureConfig",
    "make_policy",
    "count_parameters",
    "PHI_KINDS",
]

PHI_KINDS = ("identity", "moments", "relu")


class MLP(nn.Sequential):
    """``depth`` hidden layers of ``width`` units, each followed by ReLU, then a linear output.

    ``hidden_bias`` applies to the hidden layers, ``last_bias`` to the output layer.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        width: int = 128,
        depth: int = 4,
        hidden_bias: bool = False,
        last_bias: bool = True,
    ) -> None:
        if depth < 0 or width < 1:
            raise ValueError(f"depth must be >= 0 and width >= 1, got {depth}, {width}")
        layers: list[nn.Module] = []
        d_in = n_in
        for _ in range(depth):
            layers += [nn.Linear(d_in, width, bias=hidden_bias), nn.ReLU()]
            d_in = width
        layers.append(nn.Linear(d_in, n_out, bias=last_bias))
        super().__init__(*layers)
        self.hidden_bias = hidden_bias
        self.depth = depth

    @property
    def last(self) -> nn.Linear:
        return self[-1]

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """What the output layer weighs: every layer but the last, ``(..., width)``."""
        for i in range(len(self) - 1):
            x = self[i](x)
        return x


class IdentityPhi(nn.Module):
    """:math:`\\phi(x) = x`, L = 1: the policy sees only the cross-sectional mean."""

    L = 1

    def forward(self, X: torch.Tensor) -> torch.Tensor:  # (..., N) -> (..., N, 1)
        return X.unsqueeze(-1)

    def mean_at_shifts(self, base: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
        """The mean embedding of ``base + s`` for each shift s in the last axis of ``shifts``,
        ``(..., K, 1)``: the mean of base, shifted."""
        return (base.mean(-1, keepdim=True) + shifts).unsqueeze(-1)

    def mean(self, X: torch.Tensor) -> torch.Tensor:
        """:math:`\\frac1N\\sum_i\\phi(X_i)`, shape ``(..., L)``."""
        return X.mean(-1, keepdim=True)


class MomentsPhi(nn.Module):
    """:math:`\\phi(x) = (x, x^2, \\dots, x^k)`: the first k raw moments, L = k."""

    def __init__(self, k: int = 4) -> None:
        super().__init__()
        if k < 1:
            raise ValueError(f"k (number of moments) must be >= 1, got {k}")
        self.L = k
        self.register_buffer("powers", torch.arange(1, k + 1, dtype=torch.float32), persistent=False)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return X.unsqueeze(-1).pow(self.powers.to(X.dtype))

    def mean(self, X: torch.Tensor) -> torch.Tensor:
        # Horner-like running product: avoids materialising (..., N, k) for large N.
        out, p = [], X
        for j in range(self.L):
            if j:
                p = p * X
            out.append(p.mean(-1))
        return torch.stack(out, -1)


#: Firm evaluations per block when phi with hidden biases is evaluated layer by layer without
#: gradient (beyond a table's limit): 1,024 rows of width 128 are half a megabyte a layer, so
#: both layers' buffers stay in a core's cache (measured 2026-12-05, one thread, width 128,
#: 16 states: 512 to 2,048 a block within 5% of each other at N = 1,000 and 10,000, 12% at
#: N = 128; the blocks of 4,096 before, a fresh tensor per layer, 15-25% slower).
_PHI_CHUNK = 1024
#: A phi with hidden biases is tabulated (:func:`_tabulate`) when it has at most this many
#: affine pieces; a phi of depth d and width w has at most (w + 1)^d (depth 2, width 128:
#: 16,641), the deck's far fewer (chapter 6 counts them).
_MAX_PIECES = 1 << 16
#: Firms (and pieces) per block of rows when a table of pieces is looked up piece by piece
#: (bounded memory at large N).
_LOOKUP_CHUNK = 1 << 20
#: Below this many firms in a call, a table lookup gathers each firm's coefficients (fewest
#: operations, a training step at small N); from it on, it sums firms piece by piece.
_GATHER_BELOW = 1 << 16
#: Knots a cell of :func:`_piece_of`'s grid may hold before it falls back to a binary search.
_KNOTS_PER_CELL = 8
#: Inputs a call needs before tabulating phi beats evaluating it at every input, with a
#: gradient (:class:`ReLUPhi`'s ``tabulate_from``): measured 2026-12-05, one thread, forward
#: and backward of a mean over inputs: at 1,024 inputs the table took 1.0 ms (width 64) and
#: 1.8 ms (width 128) against 0.5 and 1.1 ms evaluated; at 2,048 both about equal; at 4,096
#: the table was 1.7x and 2.3x faster.
TABULATE_FROM = 2048


def _tabulate(net: MLP) -> tuple[torch.Tensor, torch.Tensor] | None:
    """A ReLU network of one input as the piecewise-affine function it is: ``knots`` (P - 1,
    sorted) and ``coef`` (P, 2 n_out), float64, such that on the piece between knots j - 1 and j
    the network is ``coef[j, :n_out] * x + coef[j, n_out:]``; None beyond :data:`_MAX_PIECES`.

    Layer by layer: on each piece every pre-activation is affine in x, so each unit's ReLU
    kinks at most once inside it; those kinks split the pieces, and on each new piece the ReLU
    keeps or zeroes the unit's slope and intercept; the next layer maps them linearly.
    ``coef`` is differentiable in the weights, with the pieces held fixed: inside a piece that
    is the network's own gradient, since no firm changes piece under a small change of weights.
    """
    f64 = dict(dtype=torch.float64)
    *hidden, out = [m for m in net if isinstance(m, nn.Linear)]
    knots = torch.empty(0, device=out.weight.device, **f64)
    slope = torch.ones(1, 1, device=knots.device, **f64)  # the input itself, on one piece
    intercept = torch.zeros(1, 1, device=knots.device, **f64)
    for layer in [*hidden, out]:
        W = layer.weight.to(**f64)
        slope, intercept = slope @ W.T, intercept @ W.T
        if layer.bias is not None:
            intercept = intercept + layer.bias.to(**f64)
        if layer is out:
            return knots, torch.cat([slope, intercept], -1)
        with torch.no_grad():  # where the pieces are: constants of the table
            s, c = slope.detach(), intercept.detach()
            ends = torch.cat([knots.new_full((1,), -math.inf), knots,
                              knots.new_full((1,), math.inf)])
            kinks = -c / s  # (P, width): where each unit's pre-activation is zero
            inside = (kinks > ends[:-1, None]) & (kinks < ends[1:, None])
            parents = knots
            knots = torch.cat([knots, kinks[inside]]).sort().values.unique_consecutive()
            if knots.numel() >= _MAX_PIECES:
                return None
            # a point inside each new piece: its parent piece, and the units active there
            lo = torch.cat([knots[:1] - 1.0, knots])
            hi = torch.cat([knots, knots[-1:] + 1.0])
            mid = 0.5 * (lo + hi) if knots.numel() else knots.new_zeros(1)
            parent = torch.searchsorted(parents, mid)
            active = (s[parent] * mid[:, None] + c[parent] > 0).to(s.dtype)
        slope, intercept = slope[parent] * active, intercept[parent] * active
    raise AssertionError("unreachable: the loop returns at the output layer")


def _lookup_mean(X: torch.Tensor, knots: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    """The tabulated function (:func:`_tabulate`) at each firm of ``X`` (..., N), averaged,
    (..., n_out): differentiable in ``X`` and ``coef``.

    A few firms at a time (fewer than :data:`_GATHER_BELOW`), each gathers its piece's slope
    and intercept. Beyond that the firms are summed piece by piece (:func:`_piecewise_mean`),
    each found through a grid of cells (:func:`_piece_of`), in blocks of rows.
    """
    N = X.shape[-1]
    if X.numel() < _GATHER_BELOW:
        piece = torch.searchsorted(knots, X.detach().contiguous())
        n_out = coef.shape[-1] // 2
        at = coef.index_select(0, piece.reshape(-1)).view(*X.shape, 2 * n_out)
        return (at[..., :n_out] * X.unsqueeze(-1) + at[..., n_out:]).mean(-2)
    rows = X.reshape(-1, N)
    per_block = max(1, min(_LOOKUP_CHUNK // N, _LOOKUP_CHUNK // coef.shape[0]))
    means = [_piecewise_mean(block, _piece_of(block.detach(), knots), coef)
             for block in rows.split(per_block)]
    return torch.cat(means).reshape(*X.shape[:-1], -1)


def _piecewise_mean(X: torch.Tensor, piece: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    """The mean over firms of the affine map of each firm's piece, (R, n_out), from each row's
    count of firms and sum of their states on each piece: with P pieces, one (R, P) matrix
    product instead of a gather of 2 n_out coefficients per firm."""
    R, N = X.shape
    P, n_out = coef.shape[0], coef.shape[1] // 2
    flat = (piece + torch.arange(R, device=X.device).unsqueeze(-1) * P).reshape(-1)
    count = torch.bincount(flat, minlength=R * P).view(R, P).to(X.dtype)
    total = X.new_zeros(R * P).index_add(0, flat, X.reshape(-1)).view(R, P)
    return (total @ coef[:, :n_out] + count @ coef[:, n_out:]) / N


def _piece_of(X: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
    """``torch.searchsorted(knots, X)``, the number of knots below each x, found through a
    uniform grid of cells over the range of X: a cell's first piece, then a step for each of
    the cell's knots below x.

    Exact: the cell, ``floor((v - lo) * scale)`` clamped, is computed the same way for knots
    and states and is monotone in v, so every knot of an earlier cell is below x and every knot
    of a later one above it; knots outside the range of X are below or above all of it. A binary
    search where X is not finite or some cell holds more than :data:`_KNOTS_PER_CELL` knots
    (knots crowded into a small part of the states' range).
    """
    lo, hi = torch.aminmax(X)
    if not (bool(torch.isfinite(lo)) and bool(torch.isfinite(hi)) and bool(hi > lo)):
        return torch.searchsorted(knots, X.contiguous())
    below = int(torch.searchsorted(knots, lo))  # knots below every x
    inner = knots[below:int(torch.searchsorted(knots, hi, right=True))]
    cells = 4 * inner.numel() + 16
    scale = cells / (hi - lo)

    def cell(v: torch.Tensor) -> torch.Tensor:
        return ((v - lo) * scale).floor_().clamp_(0, cells - 1).long()

    in_cell = torch.bincount(cell(inner), minlength=cells)
    steps = int(in_cell.max())
    if steps > _KNOTS_PER_CELL:
        return torch.searchsorted(knots, X.contiguous())
    first = below + torch.cumsum(in_cell, 0) - in_cell  # each cell's first knot
    piece = first.index_select(0, cell(X).reshape(-1)).view(X.shape)
    padded = torch.cat([knots, knots.new_full((1,), math.inf)])
    for _ in range(steps):  # take, index_select: a fraction of indexing's cost
        piece += torch.take(padded, piece) < X
    return piece


class _TableCache:
    """The last table of pieces a :class:`ReLUPhi` built, and the weights it was built from.

    A table depends on the weights' values alone, so a consumer that needs no gradient in them
    reuses it while they are unchanged: the solver's time-iteration twin (its weights are the
    live ones, detached) takes the table today's policy built in the same step, and a
    validation or test pass builds one per change of weights instead of one per call. Copies of
    the module share the cache (``__deepcopy__``): a hit needs equal weights whatever module
    asks. Keyed by values, not version counters: a fused optimizer step updates weights without
    bumping them.
    """

    def __init__(self) -> None:
        self.weights: list[torch.Tensor] | None = None  # None: nothing cached
        self.table: tuple[torch.Tensor, torch.Tensor] | None = None

    def __deepcopy__(self, memo) -> "_TableCache":
        return self

    def holds(self, weights: list[torch.Tensor]) -> bool:
        """Whether the cached table was built from ``weights``' values."""
        if self.weights is None or len(weights) != len(self.weights):
            return False
        return all(w.shape == kept.shape and w.dtype == kept.dtype and w.device == kept.device
                   and torch.equal(w.detach(), kept) for w, kept in zip(weights, self.weights))

    def put(self, weights: list[torch.Tensor],
            table: tuple[torch.Tensor, torch.Tensor] | None) -> None:
        """Keep ``table`` (None: too many pieces) as built from ``weights``."""
        self.weights = [w.detach().clone() for w in weights]
        self.table = None if table is None else (table[0].detach(), table[1].detach())


class ReLUPhi(nn.Module):
    """:math:`\\phi` a ReLU network :math:`\\mathbb R \\to \\mathbb R^L`.

    With hidden layers without bias (the default, as in the paper's code) the hidden part h is
    positively homogeneous, :math:`h(\\lambda x) = \\lambda h(x)` for :math:`\\lambda \\ge 0`, so
    :math:`h(x) = x^+ h(1) + x^- h(-1)` and

    .. math::

        \\frac1N\\sum_i \\phi(X_i) = \\overline{X^+}\\,(\\phi(1) - b) + \\overline{X^-}\\,(\\phi(-1) - b) + b,

    with b the output bias. :meth:`mean` uses this exact identity, so aggregating N firms costs
    O(N) instead of O(N x width^2).

    With hidden biases phi is still piecewise affine in its one input, with finitely many
    pieces P. :meth:`mean` tabulates them (:func:`_tabulate`, O(P width^2), differentiable in
    the weights; once per change of weights where no gradient in them is needed,
    :class:`_TableCache`) and looks the firms up, O(N + P) per state instead of O(N width^2)
    (:func:`_lookup_mean`); under ``torch.func`` transforms, where a table would be too
    large, and in calls of fewer than ``tabulate_from`` inputs, it evaluates phi at every X_i.

    ``tabulate_from`` trades a fixed cost for one per input: tabulating with a gradient costs
    the same few dozen small operations a call whatever its size, evaluating phi at every input
    costs per input, and the two cross near :data:`TABULATE_FROM` inputs (where it says how
    that was measured). The default 0 always tabulates, so that a fit
    runs the same code at every N: the small-N fits the tests run exercise the table the large-N
    fits rely on. Callers whose every training call is small (the regression of chapter 3: ten
    points) pass :data:`TABULATE_FROM`.
    """

    def __init__(self, L: int = 4, width: int = 128, depth: int = 2, hidden_bias: bool = False,
                 tabulate_from: int = 0):
        super().__init__()
        self.L = L
        self.tabulate_from = integer("tabulate_from", tabulate_from, 0)
        self.net = MLP(1, L, width=width, depth=depth, hidden_bias=hidden_bias, last_bias=True)
        self._tables = _TableCache()

    @property
    def homogeneous(self) -> bool:
        return not self.net.hidden_bias

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.net(X.unsqueeze(-1))

    def mean(self, X: torch.Tensor) -> torch.Tensor:
        if not self.homogeneous:
            table = self._table(X) if X.numel() >= self.tabulate_from else None
            if table is not None:
                return _lookup_mean(X, *table)
            # the blocks write into buffers (out=), which torch.func's transforms do not allow
            if torch.is_grad_enabled() or torch._C._are_functorch_transforms_active():
                return self.forward(X).mean(-2)
            return self._mean_in_chunks(X)
        pos = X.clamp(min=0).mean(-1, keepdim=True)
        neg = (-X).clamp(min=0).mean(-1, keepdim=True)
        return self._from_parts(pos, neg)

    def mean_at_shifts(self, base: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor | None:
        """The mean embedding of ``base + s`` for each shift s in the last axis of ``shifts``,
        ``(..., K, L)``, without forming the ``(..., K, N)`` states; None where that needs them.

        With a homogeneous phi the embedding depends on the means of the positive and negative
        parts. Where every ``base_i + s`` has one sign (``min(base) + s >= 0`` or
        ``max(base) + s <= 0``) those are the mean of ``base + s`` and zero, so the cost is one
        pass over base whatever K. Otherwise, for a phi with hidden biases (whose :meth:`mean`
        tabulates it where it can), and under ``torch.func`` transforms, None: the caller
        evaluates the states themselves.
        """
        # under torch.func's transforms (symdp.finish) a branch on data is not allowed
        if not self.homogeneous or torch._C._are_functorch_transforms_active():
            return None
        # amin and amax, not aminmax: along a dimension that runs 5-8x slower on the CPU
        # (torch 2.13; at N = 1,000,000 a third of a validation pass)
        lo, hi = base.detach().amin(-1, keepdim=True), base.detach().amax(-1, keepdim=True)
        if not bool(((lo + shifts >= 0) | (hi + shifts <= 0)).all()):
            return None
        m = base.mean(-1, keepdim=True) + shifts  # (..., K)
        return self._from_parts(m.clamp(min=0).unsqueeze(-1), (-m).clamp(min=0).unsqueeze(-1))

    def pieces(self) -> int | None:
        """How many affine pieces phi has (:func:`_tabulate`); None beyond the table's limit."""
        with torch.no_grad():
            table = _tabulate(self.net)
        return None if table is None else table[0].numel() + 1

    def _table(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """phi's pieces in the dtype of ``X`` (:func:`_tabulate`), or None under ``torch.func``
        transforms (whose batching cannot follow a table's data-dependent size) and where the
        pieces are too many. Built afresh where the result needs a gradient in the weights;
        otherwise the cached table of the same weights where there is one (:class:`_TableCache`).
        """
        if torch._C._are_functorch_transforms_active():
            return None
        weights = [t for m in self.net if isinstance(m, nn.Linear)
                   for t in (m.weight, m.bias) if t is not None]
        needs_grad = torch.is_grad_enabled() and any(w.requires_grad for w in weights)
        if needs_grad or not self._tables.holds(weights):
            table = _tabulate(self.net)
            self._tables.put(weights, table)
        else:
            table = self._tables.table
        return None if table is None else (table[0].to(X.dtype), table[1].to(X.dtype))

    def _from_parts(self, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        """The mean embedding from the means of the positive and negative parts, ``(..., 1)``
        each (the identity in the class docstring)."""
        pm = torch.tensor([[1.0], [-1.0]], dtype=pos.dtype, device=pos.device)
        b = self.net.last.bias
        h = self.net(pm) - b  # (2, L): hidden part at +1 and -1
        return pos * h[0] + neg * h[1] + b

    @torch.no_grad()
    def _mean_in_chunks(self, X: torch.Tensor) -> torch.Tensor:
        """phi at every firm, averaged, in blocks of at most ``_PHI_CHUNK`` firms (no gradient):
        whole states per block where N fits in one, else each state's firms a block at a time.

        Formed whole, a batch of states holds states x N x width numbers per layer, far out of
        cache: each layer's ReLU then costs more than its matmul, and every fresh tensor is
        page-faulted in. In blocks, two buffers allocated once hold each layer in turn, in
        cache (:func:`_hidden_into`); the output layer, being affine, is applied once to the
        mean of the last hidden layer.
        """
        N = X.shape[-1]
        rows = X.reshape(-1, N)
        hidden = [m for m in self.net if isinstance(m, nn.Linear)][:-1]  # each then a ReLU
        width = self.net.last.in_features
        buffers = rows.new_empty(2, min(_PHI_CHUNK, N * rows.shape[0]), width)
        sums = rows.new_zeros(rows.shape[0], width)
        per_block = max(1, _PHI_CHUNK // N)
        for r0 in range(0, rows.shape[0], per_block):
            block = rows[r0:r0 + per_block]
            for c0 in range(0, N, _PHI_CHUNK):
                part = block[:, c0:c0 + _PHI_CHUNK]  # whole states, or one state's part
                h = _hidden_into(hidden, buffers, part.reshape(-1))
                sums[r0:r0 + part.shape[0]] += h.view(*part.shape, width).sum(-2)
        return self.net.last(sums / N).reshape(*X.shape[:-1], self.L)


def _hidden_into(hidden: list[nn.Linear], buffers: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The last of the ``hidden`` layers (each followed by a ReLU, the first of one input) at
    each of the inputs ``x`` (n,), written layer by layer into the two ``buffers``
    (2, >= n, width) in turn; returns a view of one of them (``x`` itself, as a column, where
    there are no hidden layers)."""
    if not hidden:  # depth 0: the output layer weighs the input itself
        return x.unsqueeze(-1)
    first, *rest = hidden
    h = buffers[0, :x.numel()]
    # the first layer has one input: an outer product, not a matmul of inner size one
    if first.bias is None:
        torch.mul(x.unsqueeze(-1), first.weight.view(1, -1), out=h)
    else:
        torch.addcmul(first.bias, x.unsqueeze(-1), first.weight.view(1, -1), out=h)
    h.clamp_min_(0)
    for i, layer in enumerate(rest, start=1):
        out = buffers[i % 2, :x.numel()]
        if layer.bias is None:
            torch.mm(h, layer.weight.T, out=out)
        else:
            torch.addmm(layer.bias, h, layer.weight.T, out=out)
        h = out.clamp_min_(0)
    return h


def _named_parameters(module: nn.Module,
                      layers: list[nn.Linear | None]) -> list[tuple[str, nn.Parameter]]:
    """The weights and biases of ``layers`` (None: absent), with their names in ``module``."""
    named = {id(p): n for n, p in module.named_parameters()}
    return [(named[id(p)], p) for layer in layers if layer is not None
            for p in (layer.weight, layer.bias) if p is not None]


def _make_phi(kind: str, L: int | None, moments: int, width: int, depth: int, hidden_bias: bool):
    if kind == "identity":
        return IdentityPhi()
    if kind == "moments":
        return MomentsPhi(moments)
    if kind == "relu":
        return ReLUPhi(L if L is not None else 4, width=width, depth=depth, hidden_bias=hidden_bias)
    raise ValueError(f"phi must be one of {PHI_KINDS}, got {kind!r}")


class DeepSetPolicy(nn.Module):
    """:math:`u(x, X) = \\rho(x, \\frac1N\\sum_i\\phi(X_i))` (x only with ``own_state=True``).

    With ``own_state`` the firm whose decision is returned is firm 0 (w.l.o.g., as in the deck),
    ``x = X[..., 0]``, and :meth:`investment` gives every firm its own ``u(X_i, X)``.
    ``zero_last`` starts rho's output layer at zero, so training starts from a constant u
    (u = 0, which the solver then moves to the level of the Euler equation,
    :func:`symdp.solver.start_level`): this is what makes the solver select the stationary root
    (see the solver's docs).
    """

    def __init__(
        self,
        phi: nn.Module,
        width: int = 128,
        depth: int = 4,
        own_state: bool = False,
        hidden_bias: bool = False,
        zero_last: bool = True,
    ) -> None:
        super().__init__()
        self.phi = phi
        self.own_state = own_state
        self.rho = MLP(phi.L + int(own_state), 1, width=width, depth=depth, hidden_bias=hidden_bias)
        if zero_last:
            nn.init.zeros_(self.rho.last.weight)
            if self.rho.last.bias is not None:
                nn.init.zeros_(self.rho.last.bias)

    def output_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """The parameters the output is linear in, by name: rho's output layer
        (:mod:`symdp.finish` solves for them)."""
        return _named_parameters(self, [self.rho.last])

    def output_features(self, X: torch.Tensor) -> torch.Tensor:
        """What rho's output layer weighs at ``X``, ``(..., width)``: the output is
        ``rho.last`` of it, so its derivative in :meth:`output_parameters` is these features and
        a one (:mod:`symdp.finish`)."""
        z = self.embed(X)
        if self.own_state:
            z = torch.cat([X[..., :1], z], -1)
        return self.rho.hidden(z)

    def embed(self, X: torch.Tensor) -> torch.Tensor:
        """The permutation-invariant summary :math:`\\frac1N\\sum_i\\phi(X_i)`, shape (..., L)."""
        return self.phi.mean(X)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        z = self.embed(X)
        if self.own_state:
            z = torch.cat([X[..., :1], z], -1)
        return self.rho(z).squeeze(-1)

    def at_shifts(self, base: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
        """:math:`u(\\mathrm{base} + s\\mathbf 1)` for each shift s in the last axis of
        ``shifts``, shape ``(..., K)``: tomorrow's policy at the K aggregate-shock nodes
        (:func:`symdp.economics.euler_residual`). Where phi's mean embedding of a shifted state
        follows from base alone, the ``(..., K, N)`` states are never formed."""
        z = None
        if not self.own_state and hasattr(self.phi, "mean_at_shifts"):
            z = self.phi.mean_at_shifts(base, shifts)
        if z is None:
            return self(base.unsqueeze(-2) + shifts.unsqueeze(-1))
        return self.rho(z).squeeze(-1)

    def investment(self, X: torch.Tensor) -> torch.Tensor:
        """Each firm's investment, shape (..., N)."""
        z = self.embed(X)
        if not self.own_state:
            return self.rho(z).expand(*X.shape)
        zz = z.unsqueeze(-2).expand(*X.shape, z.shape[-1])
        return self.rho(torch.cat([X.unsqueeze(-1), zz], -1)).squeeze(-1)


class MLPPolicy(nn.Module):
    """Non-symmetric baseline: an MLP on the raw vector X (not permutation invariant)."""

    def __init__(self, N: int, width: int = 128, depth: int = 4, hidden_bias: bool = False,
                 zero_last: bool = True) -> None:
        super().__init__()
        self.N = N
        self.own_state = False
        self.net = MLP(N, 1, width=width, depth=depth, hidden_bias=hidden_bias)
        if zero_last:
            nn.init.zeros_(self.net.last.weight)
            nn.init.zeros_(self.net.last.bias)

    def output_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """The parameters the output is linear in, by name: the output layer
        (:mod:`symdp.finish` solves for them)."""
        return _named_parameters(self, [self.net.last])

    def output_features(self, X: torch.Tensor) -> torch.Tensor:
        """What the output layer weighs at ``X``, ``(..., width)`` (as
        :meth:`DeepSetPolicy.output_features`)."""
        return self.net.hidden(X)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if X.shape[-1] != self.N:
            raise ValueError(f"MLPPolicy was built for N={self.N}, got X with N={X.shape[-1]}")
        return self.net(X).squeeze(-1)


class LinearPolicy(nn.Module):
    """:math:`u(X) = H_0 + H_1\\bar X` as a module (e.g. the LQ roots, to test the evaluation)."""

    own_state = False

    def __init__(self, H0: float, H1: float, trainable: bool = False) -> None:
        super().__init__()
        # float64 storage: the coefficients are exact benchmarks; cast at use
        self.H0 = nn.Parameter(torch.tensor(float(H0), dtype=torch.float64), requires_grad=trainable)
        self.H1 = nn.Parameter(torch.tensor(float(H1), dtype=torch.float64), requires_grad=trainable)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.H0.to(X.dtype) + self.H1.to(X.dtype) * X.mean(-1)

    def at_shifts(self, base: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
        """u at ``base`` shifted by each of ``shifts``' last axis, ``(..., K)``."""
        return self.H0.to(base.dtype) + self.H1.to(base.dtype) * (base.mean(-1, keepdim=True)
                                                                  + shifts)


class _FeatureMoments(nn.Module):
    """:math:`\\phi(f) = (f, f^2, \\dots, f^k)` of every feature, L = k x features."""

    def __init__(self, features: int, k: int) -> None:
        super().__init__()
        self.L = features * k
        self.register_buffer("powers", torch.arange(1, k + 1, dtype=torch.float32), persistent=False)

    def forward(self, F: torch.Tensor) -> torch.Tensor:
        return F.unsqueeze(-1).pow(self.powers.to(F.dtype)).flatten(-2)


class _FeatureIdentity(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.L = features

    def forward(self, F: torch.Tensor) -> torch.Tensor:
        return F


class AgentDeepSet(nn.Module):
    """:math:`u_i = \\rho\\left(f_i, \\frac1N\\sum_j \\phi(f_j)\\right)`: each agent's action
    from its own features and the mean embedding of everyone's.

    The features ``f`` are what a model shows the network of one agent (its state, its type):
    :meth:`symdp.models.Model.features`. The policy is invariant to permutations of the agents
    and equivariant in its output. The methods split the network where the residual needs it:
    :meth:`phi` per agent, :meth:`embed` over the industry, :meth:`head` for one agent given an
    embedding (the own-shock quadrature of :mod:`symdp.models.base` moves one agent's
    features under a fixed embedding).

    ``phi`` is ``"identity"`` (the features' means), ``"moments"`` (the first k powers of each
    feature) or ``"relu"`` (a ReLU network). As in the deck's baselines the hidden layers have
    no biases unless asked (``phi_hidden_bias``, ``rho_hidden_bias``): rho is then positively
    homogeneous in its inputs plus its output bias, and a bias-free phi(ReLU) of one feature is
    :math:`x^+ h(1) + x^- h(-1) + b`, which :meth:`phi` evaluates in O(1) per agent, as
    :class:`ReLUPhi` does. ``zero_last`` starts rho's output at zero (a constant u), as
    :class:`DeepSetPolicy` does.

    ``rho_linear`` adds a linear map of rho's inputs to its output (zero at the start with
    ``zero_last``). A bias-free ReLU rho represents a linear response only through pairs of
    units and fits it slowly; E2's and E3's exact policies are linear in the features and their
    means (``benchmarks/models.py`` measures both baselines).

    With ``types > 1`` the last ``types`` features are the agent's type as one-hot indicators
    (:meth:`symdp.models.Model.features`) and rho has one output per type, of which each agent
    takes its own: a bias-free rho then gives each type its own constant, which a gate
    learned from the indicators would need large weights to make.
    """

    def __init__(self, features: int, phi: str = "relu", L: int = 4, moments: int = 2,
                 phi_width: int = 128, phi_depth: int = 2, rho_width: int = 128,
                 rho_depth: int = 4, phi_hidden_bias: bool = False,
                 rho_hidden_bias: bool = False, zero_last: bool = True, types: int = 1,
                 rho_linear: bool = False) -> None:
        super().__init__()
        if phi == "identity":
            self.phi_net = _FeatureIdentity(features)
        elif phi == "moments":
            self.phi_net = _FeatureMoments(features, moments)
        elif phi == "relu":
            self.phi_net = MLP(features, L, width=phi_width, depth=phi_depth,
                               hidden_bias=phi_hidden_bias)
            self.phi_net.L = L
        else:
            raise ValueError(f"phi must be one of {PHI_KINDS}, got {phi!r}")
        self.features = features
        self._homogeneous = phi == "relu" and features == 1 and not phi_hidden_bias
        self.types = types
        self.rho = MLP(features + self.phi_net.L, types, width=rho_width, depth=rho_depth,
                       hidden_bias=rho_hidden_bias)
        # a linear map of rho's inputs beside its MLP: exact policies linear in them
        self.rho_skip = (nn.Linear(features + self.phi_net.L, types, bias=False) if rho_linear
                         else None)
        if zero_last:
            nn.init.zeros_(self.rho.last.weight)
            nn.init.zeros_(self.rho.last.bias)
            if self.rho_skip is not None:
                nn.init.zeros_(self.rho_skip.weight)

    def output_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """The parameters the output is linear in, by name: rho's output layer and the linear
        map beside it (:mod:`symdp.finish` solves for them)."""
        return _named_parameters(self, [self.rho.last, self.rho_skip])

    def phi(self, F: torch.Tensor) -> torch.Tensor:
        """Each agent's embedding, ``(..., f) -> (..., L)``."""
        if not self._homogeneous:
            return self.phi_net(F)
        pm = torch.tensor([[1.0], [-1.0]], dtype=F.dtype, device=F.device)
        b = self.phi_net.last.bias
        h = self.phi_net(pm) - b  # (2, L): the hidden part at +1 and -1
        return F.clamp(min=0) * h[0] + (-F).clamp(min=0) * h[1] + b

    def embed(self, F: torch.Tensor) -> torch.Tensor:
        """The industry's embedding :math:`\\frac1N\\sum_j\\phi(f_j)`, ``(..., N, f) -> (..., L)``."""
        return self.phi(F).mean(-2)

    def head(self, f: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """One agent's action from its features ``(..., f)`` and an embedding ``(..., L)``
        (broadcast against each other)."""
        shape = torch.broadcast_shapes(f.shape[:-1], e.shape[:-1])
        f = f.expand(*shape, f.shape[-1])
        z = torch.cat([f, e.expand(*shape, e.shape[-1])], -1)
        out = self.rho(z) if self.rho_skip is None else self.rho(z) + self.rho_skip(z)
        if self.types == 1:
            return out.squeeze(-1)
        return (out * f[..., -self.types:]).sum(-1)  # the own type's output

    def forward(self, F: torch.Tensor) -> torch.Tensor:
        """Every agent's action, ``(..., N, f) -> (..., N)``."""
        return self.head(F, self.embed(F).unsqueeze(-2))


@dataclass(frozen=True)
class ArchitectureConfig:
    """What :func:`make_policy` builds. Defaults are the deck's baselines.

    ``phi`` is ``identity``, ``moments``, ``relu`` or ``none`` (the non-symmetric MLP on X).
    """

    phi: str = "relu"  # identity | moments | relu | none
    L: int | None = None  # latent dimension of phi(ReLU) (default 4)
    moments: int = 4  # k for phi(Moments)
    phi_width: int = 128  # hidden width of phi(ReLU)
    phi_depth: int = 2  # hidden layers of phi(ReLU)
    phi_hidden_bias: bool = False
    rho_width: int = 128  # hidden width of rho
    rho_depth: int = 4  # hidden layers of rho
    rho_hidden_bias: bool = False
    rho_linear: bool = False  # agent models (symdp.models): a linear map beside rho's MLP
    own_state: bool = False  # rho also sees the firm's own x
    zero_last: bool = True  # rho's output layer starts at zero

    def __post_init__(self) -> None:
        if self.phi not in PHI_KINDS + ("none",):
            raise ValueError(f"phi must be one of {PHI_KINDS + ('none',)}, got {self.phi!r}")
        for name in ("moments", "phi_width", "rho_width"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("phi_depth", "rho_depth"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.L is not None and self.L < 1:
            raise ValueError(f"L must be >= 1, got {self.L}")


def make_policy(arch: ArchitectureConfig | str = "relu", N: int | None = None, **kw) -> nn.Module:
    """Build a policy network from an :class:`ArchitectureConfig` (or a phi name plus overrides).

    ``N`` is needed only for the non-symmetric ``phi="none"`` network.
    """
    if isinstance(arch, str):
        arch = ArchitectureConfig(phi=arch, **kw)
    elif kw:
        raise TypeError("pass overrides either in the ArchitectureConfig or as keywords, not both")
    if arch.rho_linear:
        raise ValueError("rho_linear applies to the agent models of symdp.models only")
    if arch.phi == "none":
        if N is None:
            raise ValueError("N is required for the non-symmetric MLP policy (phi='none')")
        return MLPPolicy(N, arch.rho_width, arch.rho_depth, arch.rho_hidden_bias, arch.zero_last)
    phi = _make_phi(arch.phi, arch.L, arch.moments, arch.phi_width, arch.phi_depth,
                    arch.phi_hidden_bias)
    return DeepSetPolicy(phi, arch.rho_width, arch.rho_depth, arch.own_state,
                         arch.rho_hidden_bias, arch.zero_last)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable coefficients."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def detached_twin(policy: nn.Module) -> nn.Module:
    """A copy of ``policy`` whose weights are the live ones, detached: it sees every update of
    them (the same storage) but passes no gradient to them, only through its inputs. The
    solver's time-iteration step evaluates tomorrow's actions with it (``gradient="semi"``);
    :mod:`symdp.finish` sets its output layer per call."""
    twin = copy.deepcopy(policy)
    for name, live in policy.named_parameters():
        *path, leaf = name.split(".")
        owner = twin.get_submodule(".".join(path))
        del owner._parameters[leaf]
        setattr(owner, leaf, live.detach())
    return twin
