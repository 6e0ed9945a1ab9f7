"""Models symdp solves: the deck's and the three extensions its conclusion leaves open.

A model is a subclass of :class:`~symdp.models.base.Model` (chapter "Writing your own model"
builds one from a blank file). Each is one file:

:mod:`~symdp.models.investment`
    ``investment``: the deck's N-firm industry (the default everywhere).
:mod:`~symdp.models.decreasing_returns`
    ``decreasing-returns`` (E1): a cost of size, so the policy depends on the own capital.
:mod:`~symdp.models.two_types`
    ``two-types`` (E2): two productivity types, invariance within each type only.
:mod:`~symdp.models.vector_state`
    ``vector-state`` (E3): capital and a demand premium, permuted together.

:mod:`~symdp.models.linear` holds the exact solutions of the extensions' linear cases.
"""

from __future__ import annotations

from .base import AgentEvaluation, Model, Quadrature
from .decreasing_returns import DecreasingReturns, DecreasingReturnsParams
from .investment import Investment
from .linear import LinearSolution
from .two_types import TwoTypes, TwoTypesParams
from .vector_state import VectorState, VectorStateParams

__all__ = ["MODELS", "Model", "Quadrature", "AgentEvaluation", "LinearSolution", "Investment",
           "DecreasingReturns", "DecreasingReturnsParams", "TwoTypes", "TwoTypesParams",
           "VectorState", "VectorStateParams", "get_model", "as_model"]

#: Every model by its command-line name.
MODELS: dict[str, type[Model]] = {cls.name: cls for cls in
                                  (Investment, DecreasingReturns, TwoTypes, VectorState)}


def get_model(name: str, **params) -> Model:
    """The model ``name`` (a key of :data:`MODELS`) with its parameters (defaults otherwise)."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {tuple(MODELS)}, got {name!r}")
    cls = MODELS[name]
    return cls(cls.Params(**params))


def as_model(model) -> Model:
    """``model`` itself, or the deck's model for its :class:`~symdp.params.ModelParams`."""
    if isinstance(model, Model):
        return model
    from ..params import ModelParams

    if type(model) is ModelParams:  # an extension's parameters extend the deck's: not these
        return Investment(model)
    raise TypeError(f"expected a Model or ModelParams, got {type(model).__name__}")
