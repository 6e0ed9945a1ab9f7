"""The chapter contract: what a chapter declares about itself, written once, read by the chapter
and by the build alike.

A chapter (``book/NN_slug.md``) declares its parameter profiles and the sweeps it reads in a code
cell of its own, tagged ``chapter`` and ``remove-cell``, right after its ``parameters`` cell::

    from symdp.book.contract import Chapter
    CHAPTER = Chapter("05_linear",
                      profiles={"paper": {"N": 128, "seed": 0}, "ci": {"N": 32, "seed": 0}},
                      sweeps=("table2",))

The kernel executes that cell like any other, and the chapter hands ``CHAPTER`` to
:func:`symdp.book.chapter.setup`, whose configuration reads only the sweeps declared here
(:meth:`symdp.book.chapter.ChapterConfig.results`). The build reads the same cell with
:func:`read`, which executes it on its own: the build knows a chapter's profiles and sweeps
before executing it (to check ``PARAMS`` and to run every sweep first, as one) from the very
object the chapter runs with, not from a guess at its text.

The ``PARAMS="N=256 nu=1.2"`` syntax of ``make chapter`` is here both ways: :func:`rerun_command`
writes it (the command each page shows) and :func:`parse_params` reads it (the build), with
:func:`format_value` for one value.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

__all__ = [
    "Chapter",
    "read",
    "parameter_names",
    "format_value",
    "parse_params",
    "rerun_command",
    "PUBLISHED",
    "TAG",
]

PUBLISHED = "paper"  # the profile the published book is executed at (and `make chapter`'s default)
TAG = "chapter"  # the tag of the cell that declares CHAPTER
NAME_RE = re.compile(r"^\d\d_[a-z0-9_]+$")  # a chapter's file stem, "NN_slug"
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Chapter:
    """A chapter's declaration: its name, its parameter profiles and the sweeps it reads.

    Validated when made, so a bad declaration fails in the chapter's first cells and in the build
    alike, with a message that names the offending value.

    Attributes
    ----------
    name : str
        The chapter's file stem, ``"NN_slug"`` (``book/NN_slug.md``).
    profiles : Mapping[str, Mapping[str, Any]]
        ``{profile: {parameter: value}}`` (read-only). Every profile sets the same parameters: a
        parameter the ``ci`` profile forgot would otherwise only fail when someone runs at ``ci``.
    sweeps : tuple[str, ...]
        Names of :data:`symdp.runs.experiments.EXPERIMENTS` whose results the chapter reads. The
        build runs them before the chapters, as one sweep, and the chapter can read no other.

    Raises
    ------
    ValueError
        A name not of the form ``NN_slug``; no profile; a profile that sets other parameters than
        the first one does, or a parameter name that is not an identifier; a sweep that is not an
        experiment, or one named twice.
    """

    name: str
    profiles: Mapping[str, Mapping[str, Any]]
    sweeps: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME_RE.match(self.name):
            raise ValueError("a chapter's name is its file stem 'NN_slug' (e.g. '05_linear'), "
                             f"got {self.name!r}")
        if not isinstance(self.profiles, Mapping) or not self.profiles:
            raise ValueError(f"chapter {self.name} must declare at least one profile, "
                             f"got profiles={self.profiles!r}")
        tables = {}
        for profile, table in self.profiles.items():
            if not isinstance(table, Mapping):
                raise ValueError(f"profile {profile!r} of chapter {self.name} must map parameter "
                                 f"names to values, got {table!r}")
            tables[profile] = MappingProxyType(dict(table))
        first, names = next(iter(tables)), list(next(iter(tables.values())))
        for name in names:
            if not isinstance(name, str) or not _IDENTIFIER_RE.match(name):
                raise ValueError(f"parameter name {name!r} of chapter {self.name} is not a "
                                 "Python identifier")
        for profile, table in tables.items():
            missing = [n for n in names if n not in table]
            extra = [n for n in table if n not in names]
            if missing or extra:
                what = (f"has no value for {missing[0]!r}" if missing else f"sets {extra[0]!r}")
                raise ValueError(f"profile {profile!r} of chapter {self.name} {what}, unlike "
                                 f"profile {first!r}: every profile sets the same parameters "
                                 f"({', '.join(names) or 'none'})")
        object.__setattr__(self, "profiles", MappingProxyType(tables))
        if isinstance(self.sweeps, str):  # sweeps="table2": six one-letter names
            raise ValueError(f"sweeps of chapter {self.name} is a tuple of names, got the string "
                             f"{self.sweeps!r} (write sweeps=({self.sweeps!r},))")
        sweeps = tuple(self.sweeps)
        from ..runs.experiments import EXPERIMENTS

        for sweep in sweeps:
            if sweep not in EXPERIMENTS:
                raise ValueError(f"chapter {self.name} declares the sweep {sweep!r}, which is not "
                                 f"an experiment (experiments: {', '.join(EXPERIMENTS)})")
            if sweeps.count(sweep) > 1:
                raise ValueError(f"chapter {self.name} declares the sweep {sweep!r} twice")
        object.__setattr__(self, "sweeps", sweeps)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The parameter names every profile sets, in the order of the first profile."""
        return tuple(next(iter(self.profiles.values())))

    def profile(self, name: str) -> Mapping[str, Any]:
        """The values of profile ``name``; a ValueError naming it if the chapter has none."""
        if name not in self.profiles:
            raise ValueError(f"chapter {self.name} has no profile {name!r} (its profiles: "
                             f"{', '.join(map(repr, self.profiles))})")
        return self.profiles[name]

    def check_parameters(self, names: Iterable[str], where: str) -> None:
        """Raise a ValueError unless ``names`` are exactly the profiles' parameters.

        ``where`` says who gave ``names`` ("setup()", "the parameters cell"); the message names
        the first parameter too many or missing.
        """
        names = list(names)
        extra = [n for n in names if n not in self.parameters]
        if extra:
            raise ValueError(
                f"{where} of chapter {self.name} sets {extra[0]!r}, which no profile of its "
                f"CHAPTER sets (its parameters: {', '.join(self.parameters) or 'none'})")
        missing = [n for n in self.parameters if n not in names]
        if missing:
            raise ValueError(
                f"{where} of chapter {self.name} does not set {missing[0]!r}, which every profile "
                "of its CHAPTER sets (every parameter is in the parameters cell, in the profiles "
                "and in setup())")


# --------------------------------------------------------------------------------------------
# Reading a chapter's declaration from its source


def parameter_names(nb) -> list[str]:
    """Names assigned in the notebook's cell tagged ``parameters`` (in order), ``profile`` first.

    The names papermill can set, so the names ``PARAMS`` may give.
    """
    cell = _tagged_cell(nb, "parameters", "the chapter")
    names: list[str] = []
    for node in ast.parse(cell.source).body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Name) and t.id not in names:
                names.append(t.id)
    return names


def _tagged_cell(nb, tag: str, where: str):
    cells = [c for c in nb.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{where} has {len(cells)} code cells tagged {tag!r}, not one")
    return cells[0]


def read(root: Path | str, chapter: str) -> Chapter:
    """The ``CHAPTER`` that ``book/<chapter>.md`` declares, checked against the file.

    Executes the chapter's cell tagged ``chapter`` in a fresh namespace, as the kernel would, and
    checks that the declaration's name is the file's and that its profiles set exactly the
    parameters of the ``parameters`` cell (besides ``profile``).

    Raises
    ------
    ValueError
        No such chapter; no cell tagged ``chapter``, or one that does not define a
        :class:`Chapter` as ``CHAPTER``; a declaration that disagrees with the file; or any
        error of the declaration itself (see :class:`Chapter`). The message names the file.
    """
    import jupytext

    rel = f"book/{chapter}.md"
    path = Path(root) / rel
    if not path.exists():
        raise ValueError(f"no chapter {chapter!r}: {rel} does not exist")
    nb = jupytext.read(path)
    cell = _tagged_cell(nb, TAG, rel)
    namespace: dict[str, Any] = {}
    try:
        exec(compile(cell.source, f"{rel} (cell tagged {TAG!r})", "exec"), namespace)
    except NameError as exc:
        raise ValueError(f"{rel}: the cell tagged {TAG!r} stands on its own (it is read without "
                         f"the rest of the chapter), but {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{rel}: {exc}") from None
    declared = namespace.get("CHAPTER")
    if not isinstance(declared, Chapter):
        raise ValueError(f"{rel}: the cell tagged {TAG!r} must set CHAPTER = Chapter(...), "
                         f"got {declared!r}")
    if declared.name != chapter:
        raise ValueError(f"{rel} declares Chapter({declared.name!r}, ...): its name must be "
                         f"the file's, {chapter!r}")
    names = parameter_names(nb)
    if "profile" not in names:
        raise ValueError(f"{rel}: the parameters cell must set profile = {PUBLISHED!r}")
    try:
        declared.check_parameters([n for n in names if n != "profile"], "the parameters cell")
    except ValueError as exc:
        raise ValueError(f"{rel}: {exc}") from None
    return declared


# --------------------------------------------------------------------------------------------
# PARAMS="name=value ...": written by the pages' rerun command, read by the build


def format_value(value: Any) -> str:
    """A Python literal for ``value`` without spaces, so it survives ``PARAMS="a=1 b=[1,2]"``."""
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (list, tuple)):
        inner = ",".join(format_value(v) for v in value)
        if isinstance(value, tuple):
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return f"[{inner}]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{format_value(k)}:{format_value(v)}"
                              for k, v in value.items()) + "}"
    return repr(value)


def rerun_command(chapter: str, profile: str, values: Mapping[str, Any]) -> str:
    """``make chapter CHAPTER=... [PROFILE=...] PARAMS="name=value ..."``; :func:`parse_params`
    reads its ``PARAMS`` back into ``values``."""
    parts = ["make chapter", f"CHAPTER={chapter}"]
    if profile != PUBLISHED:
        parts.append(f"PROFILE={profile}")
    if values:
        assigned = " ".join(f"{k}={format_value(v)}" for k, v in values.items())
        parts.append(f'PARAMS="{assigned}"')
    return " ".join(parts)


_ASSIGN_RE = re.compile(r"\s+(?=[A-Za-z_][A-Za-z0-9_]*\s*=)")


def parse_params(text: str | None) -> dict[str, Any]:
    """``"N=256 nu=1.2 arch='relu' Ns=[64, 128]"`` -> dict; values are Python literals.

    Raises
    ------
    ValueError
        A piece that is not ``name=value``, or a value that is not a Python literal; the message
        names it.
    """
    out: dict[str, Any] = {}
    text = (text or "").strip()
    if not text:
        return out
    for piece in _ASSIGN_RE.split(text):
        name, sep, value = piece.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _IDENTIFIER_RE.match(name):
            raise ValueError(f"cannot read {piece!r} in PARAMS: write name=value pairs, "
                             'e.g. PARAMS="N=256 nu=1.2"')
        if name in out:
            raise ValueError(f"{name} given twice in PARAMS")
        try:
            out[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise ValueError(
                f"value of {name} is not a Python literal: {value!r} (quote strings: "
                f"{name}='{value}')"
            ) from None
    return out
