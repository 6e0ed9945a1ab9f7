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

A reader's own model needs no registration: :func:`get_model` (hence ``symdp solve --model``,
``symdp lq --model`` and :func:`symdp.runs.tasks.solve_task`) also takes an import path
``"package.module:ClassName"`` of a :class:`Model` subclass. :func:`param`, :func:`validate` and
:func:`check` write its validated parameters as the package's own models do.
"""

from __future__ import annotations

import importlib

from .._checks import check, param, validate
from .base import AgentEvaluation, Model, Quadrature
from .decreasing_returns import DecreasingReturns, DecreasingReturnsParams
from .investment import Investment
from .linear import LinearSolution
from .two_types import TwoTypes, TwoTypesParams
from .vector_state import VectorState, VectorStateParams

__all__ = ["MODELS", "Model", "Quadrature", "AgentEvaluation", "LinearSolution", "Investment",
           "DecreasingReturns", "DecreasingReturnsParams", "TwoTypes", "TwoTypesParams",
           "VectorState", "VectorStateParams", "get_model", "model_class", "as_model",
           "param", "validate", "check"]

#: Every model by its command-line name.
MODELS: dict[str, type[Model]] = {cls.name: cls for cls in
                                  (Investment, DecreasingReturns, TwoTypes, VectorState)}


def model_class(name: str) -> type[Model]:
    """The class of the model ``name``: a key of :data:`MODELS`, or an import path
    ``"package.module:ClassName"`` of a :class:`Model` subclass (a reader's own model, importable
    from ``sys.path``). A ValueError naming ``name`` otherwise."""
    if not isinstance(name, str):
        raise TypeError(f"model must be a name or 'package.module:ClassName', got {name!r}")
    if name in MODELS:
        return MODELS[name]
    if ":" not in name:
        raise ValueError(f"model must be one of {tuple(MODELS)} or an import path "
                         f"'package.module:ClassName', got {name!r}")
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except (ImportError, ValueError, TypeError) as exc:  # not found, empty or relative name
        raise ValueError(f"model {name!r}: cannot import module {module_name!r} ({exc})") from None
    cls = getattr(module, attr, None) if attr.isidentifier() else None
    if cls is None:
        raise ValueError(f"model {name!r}: module {module_name!r} has no class {attr!r}")
    if not (isinstance(cls, type) and issubclass(cls, Model)):  # TypeError to Python; to a
        # reader it is a bad value of --model, so the CLI's usage errors catch it as ValueError
        raise ValueError(  # noqa: TRY004
            f"model {name!r}: {attr} is not a subclass of symdp.models.Model")
    return cls


def get_model(name: str, **params) -> Model:
    """The model ``name`` with its parameters (defaults otherwise): a key of :data:`MODELS`, or an
    import path ``"package.module:ClassName"`` of a :class:`Model` subclass (:func:`model_class`)."""
    cls = model_class(name)
    return cls(cls.Params(**params))


def as_model(model) -> Model:
    """``model`` itself, or the deck's model for its :class:`~symdp.params.ModelParams`."""
    if isinstance(model, Model):
        return model
    from ..params import ModelParams

    if type(model) is ModelParams:  # an extension's parameters extend the deck's: not these
        return Investment(model)
    raise TypeError(f"expected a Model or ModelParams, got {type(model).__name__}")
