"""Validation shared by the package's configurations and functions: errors name the argument."""

from __future__ import annotations

import numbers


def integer(name: str, value, low: int = 1) -> int:
    """``value`` as an int >= ``low`` (numpy integers welcome, bools not), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def check(ok: bool, name: str, allowed: str, value) -> None:
    """ValueError ``"<name> must be <allowed>, got <value>"`` unless ``ok``."""
    if not ok:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def param(default, allowed: str, ok, help: str = ""):
    """A parameter of a model's frozen dataclass: its default, its allowed range in words and as
    a test, and what it is. :func:`validate` applies the test; ``symdp models`` prints the
    words, so the range is written once."""
    from dataclasses import field

    return field(default=default, metadata={"allowed": allowed, "ok": ok, "help": help})


def validate(obj) -> None:
    """Check a parameters dataclass: every field a finite real number or a pair of them
    (a list becomes a tuple), ``N`` an integer >= 1 (an integral float is stored as an int),
    then each field's own range (:func:`param`), in the order of the fields."""
    from dataclasses import fields
    import math

    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, list):
            value = tuple(value)
            object.__setattr__(obj, f.name, value)
        if isinstance(f.default, tuple):
            check(isinstance(value, tuple) and len(value) == len(f.default), f.name,
                  f"a tuple of {len(f.default)} numbers", value)
        for v in value if isinstance(value, tuple) else (value,):
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise ValueError(f"{f.name} must be a real number, got {value!r}")
            if not math.isfinite(v):
                raise ValueError(f"{f.name} must be finite, got {value!r}")
    N = getattr(obj, "N", None)
    if isinstance(N, float):
        check(N.is_integer(), "N", "an integer >= 1", N)
        object.__setattr__(obj, "N", int(N))
    for f in fields(obj):
        if "ok" in f.metadata:
            value = getattr(obj, f.name)
            check(f.metadata["ok"](value), f.name, f.metadata["allowed"], value)
