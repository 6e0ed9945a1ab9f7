"""Helpers for the book's chapters: parameter profiles, seeding, glue, numbered tables and figures.

Every chapter of the book (``book/NN_slug.md``) starts with three code cells::

    # cell tagged "parameters" (papermill injects overrides after it)
    profile = "paper"
    N = None
    seeds = None

    # cell tagged "chapter" and "remove-cell": the chapter's declaration (symdp.book.contract),
    # which the build reads too
    from symdp.book.contract import Chapter
    CHAPTER = Chapter("05_linear",
                      profiles={"paper": {"N": 128, "seeds": 10}, "ci": {"N": 32, "seeds": 2}},
                      sweeps=("table2",))

    # cell tagged "remove-input" (readers see only its output)
    from symdp.book.chapter import setup
    cfg = setup(CHAPTER, profile, N=N, seeds=seeds)

:func:`setup` checks the parameters against the declared profiles, resolves ``None`` to the
profile's value, makes the run reproducible (one torch thread, fixed seeds, one plotting style)
and shows the resolved values with the command that reruns the chapter with other values. The
chapter reads a sweep's results with ``cfg.results("table2", ...)``
(:meth:`ChapterConfig.results`), which refuses a sweep the declaration does not name: the build
runs exactly the declared sweeps before the chapters.
Numbers quoted in the prose are glued with :func:`glue` and pasted with ``{glue:text}`` roles,
so they always come from the executed cells.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from .contract import PUBLISHED, Chapter, format_value, rerun_command

__all__ = [
    "ChapterConfig",
    "setup",
    "glue",
    "glued",
    "show_table",
    "table_markdown",
    "show_figure",
    "significant",
    "compare",
    "claim",
    "deck_note",
    "contradictions",
    "claim_records",
    "glued_texts",
    "SEED",
    "STYLE",
]

SEED = 0  # every chapter starts from the same seeds: numpy, torch and random

# One look for every figure of the book (applied by setup()).
STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": None,  # filled in below (needs matplotlib's cycler)
    "svg.hashsalt": "symdp",  # deterministic SVG ids
}
_COLORS = ["#1f4e79", "#c0504d", "#4f9a59", "#8064a2", "#d98c1f", "#4bacc6", "#7f7f7f"]


@dataclass(frozen=True)
class ChapterConfig:
    """The resolved settings of one chapter run; parameters read as attributes (``cfg.N``).

    Attributes
    ----------
    chapter : str
        The chapter's file stem, e.g. ``"05_linear"``.
    profile : str
        The profile whose values filled the parameters left at None.
    values : Mapping[str, Any]
        Every parameter's resolved value (read-only).
    overrides : tuple[str, ...]
        Names of the parameters given explicitly (not taken from the profile).
    published : Mapping[str, Any]
        The values of the published profile (:data:`~symdp.book.contract.PUBLISHED`), which the
        prose, the captions and the deck's configuration are compared against.
    sweeps : tuple[str, ...]
        The sweeps the chapter declares (:attr:`symdp.book.contract.Chapter.sweeps`), the only
        ones :meth:`results` reads.
    """

    chapter: str
    profile: str
    values: Mapping[str, Any]
    overrides: tuple[str, ...] = field(default=())
    published: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    sweeps: tuple[str, ...] = field(default=())

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: chapter parameters read as attributes.
        values = object.__getattribute__(self, "values")
        if name in values:
            return values[name]
        raise AttributeError(
            f"chapter {self.chapter!r} has no parameter {name!r} (its parameters: "
            f"{', '.join(values) or 'none'})"
        )

    def as_dict(self) -> dict:
        """``{"chapter", "profile", **values}`` as a plain dict."""
        return {"chapter": self.chapter, "profile": self.profile, **dict(self.values)}

    def results(self, name: str, **kw: Any):
        """The results of the sweep ``name`` at this profile
        (:func:`symdp.runs.experiments.results`, ``**kw`` passed on).

        Raises
        ------
        ValueError
            ``name`` is not among the chapter's declared sweeps. The build runs the declared
            sweeps before the chapters, as one sweep on every core; an undeclared one would run
            inside the chapter, sharing the cores with the other chapters executing.
        """
        if name not in self.sweeps:
            raise ValueError(
                f"chapter {self.chapter} reads the sweep {name!r} without declaring it: add it "
                f"to sweeps= of its CHAPTER (declared: {', '.join(self.sweeps) or 'none'})")
        from ..runs import experiments

        return experiments.results(name, self.profile, **kw)

    @property
    def command(self) -> str:
        """The shell command that reruns this chapter with these values."""
        return rerun_command(self.chapter, self.profile, self.values)

    @property
    def departures(self) -> dict[str, tuple[Any, Any]]:
        """``{name: (value, published value)}`` for the parameters that differ from the published
        profile; empty when the page shows what the published book shows."""
        return {name: (value, self.published[name]) for name, value in self.values.items()
                if name in self.published and not _same(value, self.published[name])}

    def departure_banner(self) -> str:
        """The warning a page executed with other than its published values opens with ('' if none)."""
        departures = self.departures
        if not departures:
            return ""
        listed = "; ".join(f"`{name} = {format_value(value)}` (published: `{format_value(pub)}`)"
                           for name, (value, pub) in departures.items())
        how = (f"at the `{self.profile}` profile" if self.profile != PUBLISHED
               else "with parameters set by hand")
        return (
            ":::{warning}\n"
            f"This page was executed {how}, not with the values of the published book: {listed}. "
            "Its numbers, figures and tables, and the sentences that follow from them, are for "
            "these values; where the text names a figure or table of the deck, it says whether "
            "this page still shows the deck's configuration.\n:::\n\n"
        )

    def _repr_markdown_(self) -> str:
        rows = ["| parameter | value |", "|:--|:--|", f"| profile | `{self.profile}` |"]
        for name, value in self.values.items():
            note = " (published: `" + format_value(self.published[name]) + "`)" if (
                name in self.departures) else ""
            rows.append(f"| `{name}` | `{format_value(value)}`{note} |")
        # A collapsed admonition: readers meet the chapter's first sentence, not a settings table.
        return (
            self.departure_banner()
            + "::::{admonition} Parameters of this page, and how to rerun it\n:class: dropdown\n\n"
            + "\n".join(rows)
            + "\n\nRerun this chapter with other values (from the repository root):\n\n"
            + f"```bash\n{self.command}\n```\n::::\n"
        )

    def __repr__(self) -> str:
        lines = [f"chapter {self.chapter}, profile {self.profile}"]
        for name, value in self.values.items():
            note = (f" (published: {format_value(self.published[name])})"
                    if name in self.departures else "")
            lines.append(f"  {name} = {format_value(value)}{note}")
        lines.append(f"rerun: {self.command}")
        return "\n".join(lines)


def _same(a: Any, b: Any) -> bool:
    """Parameter values equal as the reader sees them (1 and 1.0 alike, lists and tuples alike)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:  # pragma: no cover - exotic values compare by their literal
        return format_value(a) == format_value(b)


def setup(chapter: Chapter, profile: str, **values: Any) -> ChapterConfig:
    """Validate and resolve a chapter's parameters, make the run reproducible, show the settings.

    Parameters
    ----------
    chapter : symdp.book.contract.Chapter
        The chapter's declaration (``CHAPTER``, from its cell tagged ``chapter``): its name, used
        in the rerun command, its profiles and its sweeps.
    profile : str
        Name of one of the declared profiles (``"paper"`` or ``"ci"`` in this book).
    **values
        The chapter's parameters as set in its parameters cell; ``None`` means "take the
        profile's value", anything else overrides it. Every parameter the profiles set, and
        nothing else.

    Returns
    -------
    ChapterConfig
        Frozen; ``cfg.N``, ``cfg.profile``, ``cfg.as_dict()``, ``cfg.results("table2")``.

    Raises
    ------
    TypeError
        ``chapter`` is not a :class:`~symdp.book.contract.Chapter`.
    ValueError
        Unknown profile, a parameter missing from (or unknown to) the profiles, or one named
        like an attribute of :class:`ChapterConfig` (``cfg.values`` would not read it); the
        message names it.

    Side effects: ``torch.set_num_threads(1)``; numpy, torch and ``random`` seeded with
    :data:`SEED`; matplotlib's style set to :data:`STYLE`; the parameter table and the rerun
    command displayed (when running under IPython).
    """
    if not isinstance(chapter, Chapter):
        raise TypeError("setup() takes the chapter's declaration, CHAPTER = Chapter(...) from "
                        f"symdp.book.contract, got {chapter!r}")
    table = chapter.profile(profile)
    chapter.check_parameters(values, "setup()")
    shadowed = [name for name in values if hasattr(ChapterConfig, name)
                or name in ChapterConfig.__dataclass_fields__]
    if shadowed:
        raise ValueError(f"parameter {shadowed[0]!r} of chapter {chapter.name} is named like an "
                         "attribute of its configuration: rename it")
    resolved = {name: (table[name] if value is None else value) for name, value in values.items()}
    overrides = tuple(name for name, value in values.items() if value is not None)
    published = chapter.profiles.get(PUBLISHED, table)
    cfg = ChapterConfig(chapter.name, profile, MappingProxyType(resolved), overrides,
                        MappingProxyType(dict(published)), chapter.sweeps)

    _make_reproducible()
    # The metadata lets the build record the resolved values (Execution statistics page).
    record = {"chapter": chapter.name, "profile": profile,
              "params": {k: format_value(v) for k, v in resolved.items()}}
    _display(cfg, metadata={"symdp_setup": record})
    return cfg


def _make_reproducible() -> None:
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    random.seed(SEED)
    _set_style()


def _set_style() -> None:
    import matplotlib as mpl
    from cycler import cycler

    style = dict(STYLE)
    style["axes.prop_cycle"] = cycler(color=_COLORS)
    mpl.rcParams.update(style)


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the book's dependencies
        return False
    return get_ipython() is not None


def _display(obj: Any, metadata: dict | None = None) -> None:
    if _in_ipython():
        from IPython.display import display

        display(obj, metadata=metadata)


# --------------------------------------------------------------------------------------------
# Glue: values computed in cells, pasted into prose, figures and tables.

_GLUED: dict[str, str] = {}


class _Text:
    """A glued value whose pasted form is exactly ``text`` (already rounded).

    myst-nb reads a glued text/plain with ``ast.literal_eval``, which would turn ``"0.900"`` into
    ``0.9``; a quoted string literal survives as typed.
    """

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return repr(self.text)

    def _repr_markdown_(self) -> str:
        return self.text


class significant:
    """A format with ``digits`` significant digits, as a percentage with ``percent=True``.

    For numbers that come out of training or simulation, whose digits beyond the first two move
    from one CPU to the next (``tests/references/`` has the measured spreads): a fixed number of
    decimals would print 0.557% and 0.016% alike with three decimals, three significant digits
    in one and two in the other. Pass it wherever a format spec goes (``glue(..., fmt=)``,
    ``show_table(formats=...)``).
    """

    def __init__(self, digits: int = 2, percent: bool = False):
        if not (isinstance(digits, int) and digits >= 1):
            raise ValueError(f"digits must be an integer >= 1, got {digits!r}")
        self.digits, self.percent = digits, percent

    def __call__(self, value: float) -> str:
        x = float(value) * (100.0 if self.percent else 1.0)
        if x == 0 or not math.isfinite(x):
            text = format(x, "g")
        else:
            decimals = max(self.digits - 1 - math.floor(math.log10(abs(x))), 0)
            text = format(round(x, decimals), f".{decimals}f")
        return text + ("%" if self.percent else "")


def _format(value: Any, fmt: str | Callable[[Any], str] | None) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if callable(fmt):
        return fmt(value)
    if fmt is not None:
        return format(value, fmt)
    if isinstance(value, bool) or isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        return format(value, ".4g")  # rounded: stable across reruns and readable in prose
    raise TypeError(
        f"glue() without fmt takes a number or a string, got {type(value).__name__}; "
        "use show_figure() for figures and show_table() for tables"
    )


def glue(name: str, value: Any, fmt: str | Callable[[Any], str] | None = None) -> None:
    """Store a number or string for the prose: ``{glue:text}`name``` pastes it.

    Parameters
    ----------
    name : str
        Unique within the chapter (also used as the key by ``{glue:text}``).
    value : number or str
        Floats without ``fmt`` are rounded to 4 significant digits.
    fmt : str or callable, optional
        A format spec (``".3f"``, ``".2%"``, ``",d"``, ``".1e"``) or a formatter such as
        :class:`significant`, applied before storing.

    The rounded text, not the raw float, is what is stored, so the notebook's outputs are
    stable for the notebook regression and the prose shows exactly the printed value.
    """
    _glue_text(name, _format(value, fmt))


def _glue_text(name: str, text: str, claim: dict | None = None) -> None:
    """Glue ``text`` under ``name``; a ``claim`` record rides along in the output's metadata."""
    _GLUED[name] = text
    if _in_ipython():
        from IPython.core.formatters import format_display_data
        from IPython.display import display
        from myst_nb.ext.glue import GLUE_PREFIX

        # What myst_nb.glue(name, value, display=False) writes, plus the record the rerun test
        # reads (tests/test_rerun.py): a claim's word and the glued numbers it rests on.
        bundle, metadata = format_display_data(_Text(text))
        metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
        if claim is not None:
            metadata["symdp_claim"] = claim
        display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def compare(
    name: str,
    a: float,
    b: float,
    words: tuple[str, str, str] = ("larger than", "smaller than", "about the same as"),
    *,
    rtol: float = 0.05,
    shown: tuple[str | None, str | None] | None = None,
) -> int:
    """Glue under ``name`` the word that ``a`` against ``b`` warrants, and return its sign.

    ``words[0]`` if :math:`a > b`, ``words[1]`` if :math:`a < b`, ``words[2]`` if
    |a - b| <= rtol * max(|a|, |b|). A sentence such as "the test MSE is
    {glue:text}`x`, {glue:text}`word` the validation MSE" then holds at any parameters.

    Parameters
    ----------
    shown : (str or None, str or None), optional
        The glue names under which the page prints ``a`` and ``b`` (None for a number the prose
        states, such as 1 in "x times the validation MSE"). :func:`contradictions`, run by
        ``tests/test_rerun.py`` on every executed chapter, checks the word against those printed
        numbers, so it cannot contradict what the reader sees next to it. They must be glued
        before the compare.

    Returns
    -------
    int
        1, -1 or 0 for the three words, so the prose that follows can branch on it.
    """
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"compare({name!r}): a and b must be finite, got {a!r} and {b!r}")
    if not rtol >= 0:
        raise ValueError(f"rtol must be >= 0, got {rtol!r}")
    sign = 0 if abs(a - b) <= rtol * max(abs(a), abs(b)) else (1 if a > b else -1)
    record = {"kind": "compare", "sign": sign, "rtol": rtol, "a": a, "b": b}
    if shown is not None:
        missing = [g for g in shown if g is not None and g not in _GLUED]
        if missing:
            raise ValueError(f"compare({name!r}): shown names {missing[0]!r}, which is not glued yet")
        record["shown"] = list(shown)
    _glue_text(name, words[{1: 0, -1: 1, 0: 2}[sign]], record)
    return sign


def claim(name: str, holds: bool, if_true: str, if_false: str) -> bool:
    """Glue ``if_true`` or ``if_false`` under ``name``, chosen by ``holds``; return ``holds``.

    For a qualitative sentence that follows from a computed condition ("all fits are
    stationary", "the redraw lowers the test error"): the page says what its numbers show.
    """
    holds = bool(holds)
    _glue_text(name, if_true if holds else if_false, {"kind": "claim", "holds": holds})
    return holds


def deck_note(name: str, cfg: ChapterConfig, item: str, *, shows: Mapping[str, Any] | None = None,
              **deck: Any) -> bool:
    """Glue "Deck: <item>." when the page runs the deck's configuration of ``item``, else say how
    it differs; return whether it is the deck's.

    ``deck`` gives the deck's values of the settings the item depends on, e.g.
    ``deck_note("fig4-deck", cfg, "Figure 4", N=128, nu=1.5)``. They are compared with the
    chapter's parameters, or with ``shows`` for an item whose settings are not chapter parameters
    (a sweep's table: ``shows={"N": spec_N, "nu": spec_nu}``).
    """
    shown = cfg.values if shows is None else shows
    unknown = [k for k in deck if k not in shown]
    if unknown:
        where = f"a parameter of {cfg.chapter}" if shows is None else "in shows"
        raise ValueError(f"deck_note({name!r}): {unknown[0]!r} is not {where}")
    differ = {k: v for k, v in deck.items() if not _same(shown[k], v)}
    if not differ:
        text = f"Deck: {item}."
    else:
        theirs = ", ".join(f"{_MATH.get(k, k)} = {format_value(v)}" for k, v in deck.items())
        ours = ", ".join(f"{_MATH.get(k, k)} = {format_value(shown[k])}" for k in differ)
        text = (f"The deck's {item} is for {theirs}; this page shows {ours}, so it is not the "
                f"deck's configuration.")
    _glue_text(name, text, {"kind": "deck", "item": item, "deck": not differ,
                            "differ": sorted(differ)})
    return not differ


# How deck_note names a chapter parameter in prose.
_MATH = {"N": "N", "nu": "ν", "beta": "β", "gamma": "γ", "delta": "δ", "sigma": "σ", "eta": "η"}


def glued() -> dict[str, str]:
    """Everything glued so far in this kernel: ``{name: text}``."""
    return dict(_GLUED)


def show_figure(fig, name: str) -> None:
    """Glue a matplotlib Figure under ``name`` (and close it) for a ``{glue:figure}`` directive.

    In the chapter's Markdown::

        ```{glue:figure} fig-linear-paths
        :name: fig-linear-paths

        Caption. Deck: Figure 1.
        ```

    and cite it in prose as ``{numref}`fig-linear-paths```.
    """
    import matplotlib.pyplot as plt

    if _in_ipython():
        from myst_nb import glue as _myst_glue

        _myst_glue(name, fig, display=False)
    plt.close(fig)


class _MarkdownTable:
    def __init__(self, markdown: str, plain: str):
        self.markdown = markdown
        self.plain = plain

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:
        return self.plain


def _cell(value: Any, float_format: str | Callable[[Any], str]) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if value != value:  # NaN: a missing entry
            return "-"
        return float_format(value) if callable(float_format) else format(value, float_format)
    return str(value).replace("|", "\\|")


def table_markdown(
    df,
    name: str,
    caption: str,
    float_format: str | Callable[[Any], str] = ".3g",
    formats: Mapping[str, str | Callable[[Any], str]] | None = None,
    index: bool = True,
) -> str:
    """The MyST ``{table}`` directive for a DataFrame (see :func:`show_table`)."""
    if not re.match(r"^[A-Za-z][A-Za-z0-9_-]*$", name):
        raise ValueError(f"table name must be a label like 'tab-linear', got {name!r}")
    formats = dict(formats or {})
    columns = [str(c) for c in df.columns]
    header = ([str(df.index.name or "")] if index else []) + columns
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([":--"] * len(header)) + "|"]
    for idx, row in df.iterrows():
        cells = [_cell(idx, float_format)] if index else []
        for col, value in zip(df.columns, row):
            cells.append(_cell(value, formats.get(str(col), float_format)))
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    # A backtick fence's info string may not contain backticks (CommonMark), so a caption with a
    # role ({eq}`...`, {numref}`...`) would leave the directive unparsed; tildes allow them.
    fence = "~~~" if "`" in caption else "```"
    return f"{fence}{{table}} {caption}\n:name: {name}\n\n{table}\n{fence}\n"


def show_table(df, name: str, caption: str, **formatting: Any) -> None:
    """Display a pandas DataFrame as a numbered, captioned table labelled ``name``.

    The output is a MyST ``{table}`` directive (the book renders Markdown outputs as MyST), so
    the table gets a number and ``{numref}`name``` refers to it. Tag the cell ``remove-input``.
    Numbers are formatted here, by :func:`table_markdown`'s ``formatting`` keywords
    (``formats`` per column, e.g. ``{"error": ".2%"}`` or
    ``{"error": significant(2, percent=True)}``, else ``float_format``; ``index``; NaN shows
    as "-"), which also keeps the stored output stable for the notebook regression.
    """
    markdown = table_markdown(df, name, caption, **formatting)
    _display(_MarkdownTable(markdown, markdown))


# --------------------------------------------------------------------------------------------
# Checking an executed chapter: does any computed word contradict the numbers printed with it?

_NUMBER = re.compile(r"[-+−]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+−]?\d+)?%?")


def _printed(text: str) -> tuple[float, float] | None:
    """The first number in a glued text and half a unit of its last printed digit."""
    m = _NUMBER.search(text)
    if not m:
        return None
    token = m.group(0).replace("−", "-").replace(",", "")
    scale = 0.01 if token.endswith("%") else 1.0
    token = token.rstrip("%")
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    half = 0.5 * 10.0 ** (-decimals) * 10.0 ** (int(exponent) if exponent else 0)
    return float(token) * scale, half * scale


def claim_records(nb) -> list[tuple[str, str, dict]]:
    """``(name, glued text, record)`` of every :func:`compare`, :func:`claim` and
    :func:`deck_note` in an executed chapter notebook."""
    import ast

    records = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            meta = out.get("metadata", {}) or {}
            if "symdp_claim" in meta:
                plain = (out.get("data", {}) or {}).get("application/papermill.record/text/plain", "")
                records.append((meta["scrapbook"]["name"], ast.literal_eval(plain),
                                dict(meta["symdp_claim"])))
    return records


def glued_texts(nb) -> dict[str, str]:
    """``{name: text}`` of every glued text in an executed chapter notebook."""
    import ast

    texts = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            name = ((out.get("metadata", {}) or {}).get("scrapbook") or {}).get("name")
            plain = (out.get("data", {}) or {}).get("application/papermill.record/text/plain")
            if name is not None and plain is not None:
                try:
                    value = ast.literal_eval(plain)
                except (ValueError, SyntaxError):
                    value = plain
                texts[name] = value if isinstance(value, str) else plain
    return texts


def contradictions(nb) -> list[str]:
    """Every :func:`compare` word that the numbers printed next to it contradict.

    A word is checked against the glued texts named in its ``shown``, as a reader would: "larger"
    needs the printed a above the printed b, "smaller" below (printed equal numbers contradict
    both), "about the same" the two within ``rtol`` once each is widened by half a unit of its
    last printed digit. Also flags a compare whose printed numbers
    cannot be read, and a deck note that calls a page the deck's configuration while departing.
    """
    texts = glued_texts(nb)
    problems = []
    for name, text, rec in claim_records(nb):
        if rec.get("kind") != "compare" or "shown" not in rec:
            continue
        printed = []
        for glue_name, raw in zip(rec["shown"], (rec["a"], rec["b"])):
            if glue_name is None:
                printed.append((raw, 0.0))
                continue
            value = _printed(texts.get(glue_name, ""))
            if value is None:
                problems.append(f"{name}: shown glue {glue_name!r} prints no number "
                                f"({texts.get(glue_name)!r})")
                break
            printed.append(value)
        else:
            (a, ha), (b, hb) = printed
            holds = {1: a > b, -1: a < b,
                     0: abs(a - b) - ha - hb <= rec["rtol"] * max(abs(a), abs(b))}[rec["sign"]]
            if not holds:
                problems.append(f"{name}: says {text!r} but prints {texts.get(rec['shown'][0])!r} "
                                f"against {texts.get(rec['shown'][1])!r}")
    return problems
