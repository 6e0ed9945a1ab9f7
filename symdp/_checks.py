"""Validation shared by the package's configurations and functions: errors name the argument."""

from __future__ import annotations

import numbers


def integer(name: str, value, low: int = 1) -> int:
    """``value`` as an int >= ``low`` (numpy integers welcome, bools not), else ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)
