"""The chapter contract (symdp.book.contract): a chapter's declaration, validated when made and read
from the chapter's own cell, and the PARAMS syntax both ways."""

from __future__ import annotations

from pathlib import Path

import jupytext
import numpy as np
import pytest

from symdp.book import build as bookbuild, contract
from symdp.runs import experiments

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = bookbuild.present_chapters(ROOT)
PROFILES = {"paper": {"N": 128, "seeds": 10}, "ci": {"N": 32, "seeds": 2}}

# What each chapter reads, from its text: the build runs exactly these before the chapters.
SWEEPS = {"03_representation": ("regression",), "05_linear": ("table2",),
          "06_scaling": ("figure3", "figure3_firm"), "07_nonlinear": ("table3",),
          "08_implicit_bias": ("implicit_bias",)}


# The declaration ---------------------------------------------------------------------------------

def test_a_declaration_is_frozen_and_read_only():
    declared = contract.Chapter("05_linear", PROFILES, sweeps=["table2"])
    assert declared.sweeps == ("table2",) and declared.parameters == ("N", "seeds")
    assert declared.profile("ci") == {"N": 32, "seeds": 2}
    with pytest.raises(Exception):
        declared.name = "06_scaling"
    with pytest.raises(TypeError):
        declared.profiles["ci"]["N"] = 8
    PROFILES["ci"]["N"] = 8  # the declaration keeps its own copy
    try:
        assert declared.profile("ci")["N"] == 32
    finally:
        PROFILES["ci"]["N"] = 32


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "linear"}, "'linear'"),
    ({"name": "5_linear"}, "'5_linear'"),
    ({"profiles": {}}, "at least one profile"),
    ({"profiles": {"paper": {"N": 1, "seeds": 2}, "ci": {"N": 1}}}, "'ci'.*'seeds'"),
    ({"profiles": {"paper": {"N": 1}, "ci": {"N": 1, "nu": 1.5}}}, "'ci'.*'nu'"),
    ({"profiles": {"paper": {"2N": 1}}}, "'2N'"),
    ({"sweeps": ("table9",)}, "'table9'"),
    ({"sweeps": ("table2", "table2")}, "'table2' twice"),
    ({"sweeps": "table2"}, "sweeps=\\('table2',\\)"),
])
def test_a_bad_declaration_names_the_value(kwargs, match):
    args = {"name": "05_linear", "profiles": PROFILES, **kwargs}
    with pytest.raises(ValueError, match=match):
        contract.Chapter(**args)


def test_an_unknown_profile_is_named():
    with pytest.raises(ValueError, match="'fast'.*'paper', 'ci'"):
        contract.Chapter("05_linear", PROFILES).profile("fast")


@pytest.mark.parametrize("names, match", [
    (["N", "seeds", "nu"], "sets 'nu'"),
    (["N"], "does not set 'seeds'"),
])
def test_parameters_must_be_the_profiles(names, match):
    with pytest.raises(ValueError, match=match):
        contract.Chapter("05_linear", PROFILES).check_parameters(names, "setup()")


# Reading a chapter's declaration -----------------------------------------------------------------

def test_every_experiment_is_declared_by_exactly_one_chapter():
    found = [name for c in CHAPTERS for name in contract.read(ROOT, c).sweeps]
    assert sorted(found) == sorted(experiments.EXPERIMENTS), found


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_read_returns_the_chapters_declaration(chapter):
    declared = contract.read(ROOT, chapter)
    assert declared.name == chapter
    assert declared.sweeps == SWEEPS.get(chapter, ())
    assert {"paper", "ci"} <= set(declared.profiles), f"{chapter}: profiles {declared.profiles}"
    names = contract.parameter_names(jupytext.read(ROOT / "book" / f"{chapter}.md"))
    assert set(declared.parameters) == set(names) - {"profile"}


def _chapter(root: Path, declaration: str, parameters: str = 'profile = "paper"\nN = None\n',
             name: str = "05_linear", tags: str = "[chapter, remove-cell]") -> Path:
    (root / "book").mkdir(exist_ok=True)
    (root / "book" / f"{name}.md").write_text(
        "---\njupytext:\n  formats: ipynb,md:myst\nkernelspec:\n  display_name: Python 3\n"
        "  language: python\n  name: python3\n---\n\n# T\n\n"
        f"```{{code-cell}} ipython3\n:tags: [parameters]\n\n{parameters}```\n\n"
        f"```{{code-cell}} ipython3\n:tags: {tags}\n\n{declaration}```\n\n"
        "```{code-cell} ipython3\nname = \"table2\"\nruns = cfg.results(name)\n```\n")
    return root


DECLARE = ('from symdp.book.contract import Chapter\n'
           'CHAPTER = Chapter("05_linear", profiles={{"paper": {{"N": 128}}, "ci": {{"N": 32}}}}'
           '{sweeps})\n')


def test_read_executes_the_declaration_not_the_calls(tmp_path):
    root = _chapter(tmp_path, DECLARE.format(sweeps=', sweeps=("table2",)'))
    declared = contract.read(root, "05_linear")
    assert declared.sweeps == ("table2",) and dict(declared.profile("ci")) == {"N": 32}


@pytest.mark.parametrize("declaration, parameters, tags, match", [
    (DECLARE.format(sweeps="").replace('"05_linear"', '"06_scaling"'), None, None,
     "'06_scaling'.*'05_linear'"),
    (DECLARE.format(sweeps=', sweeps=("table9",)'), None, None, "book/05_linear.md.*'table9'"),
    (DECLARE.format(sweeps=""), 'profile = "paper"\nN = None\nseed = None\n', None,
     "parameters cell.*'seed'"),
    (DECLARE.format(sweeps=""), 'profile = "paper"\n', None, "parameters cell.*'N'"),
    (DECLARE.format(sweeps=""), 'N = None\n', None, "profile"),
    (DECLARE.format(sweeps=""), None, "[remove-cell]", "0 code cells tagged 'chapter'"),
    ("CHAPTER = None\n", None, None, "CHAPTER = Chapter"),
    (DECLARE.format(sweeps=", sweeps=SWEEPS"), None, None, "stands on its own.*SWEEPS"),
])
def test_read_rejects_a_declaration_that_disagrees_with_its_file(
        tmp_path, declaration, parameters, tags, match):
    kw = {k: v for k, v in (("parameters", parameters), ("tags", tags)) if v is not None}
    root = _chapter(tmp_path, declaration, **kw)
    with pytest.raises(ValueError, match=match):
        contract.read(root, "05_linear")


def test_read_names_a_missing_chapter(tmp_path):
    with pytest.raises(ValueError, match="'09_missing'"):
        contract.read(tmp_path, "09_missing")


# PARAMS="name=value ...", both ways --------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("", {}),
    ("N=256 nu=1.2", {"N": 256, "nu": 1.2}),
    ("arch='relu' Ns=[64, 128] flag=True", {"arch": "relu", "Ns": [64, 128], "flag": True}),
    ("x=(1,) y=None", {"x": (1,), "y": None}),
])
def test_parse_params(text, expected):
    assert contract.parse_params(text) == expected


@pytest.mark.parametrize("text", ["N", "N=", "N=relu", "2N=1", "N=[1, 2", "N=1 N=2"])
def test_parse_params_rejects(text):
    with pytest.raises(ValueError):
        contract.parse_params(text)


def test_rerun_command_round_trips():
    values = {"N": 256, "nu": 1.2, "arch": "relu", "Ns": [64, 128], "t": (1,)}
    cmd = contract.rerun_command("05_linear", "paper", values)
    assert cmd.startswith("make chapter CHAPTER=05_linear PARAMS=")
    assert contract.parse_params(cmd.split('PARAMS="', 1)[1].rstrip('"')) == values
    assert "PROFILE=ci" in contract.rerun_command("05_linear", "ci", values)
    assert contract.rerun_command("05_linear", "paper", {}) == "make chapter CHAPTER=05_linear"


@pytest.mark.parametrize("value", [
    3, -1.5, 1e-6, "phi relu", True, None, [1.0, 1.05], (1,), (), [], {"a": [1, 2], "b": None},
    [[1, 2], (3,)]])
def test_format_then_parse_gives_the_value_back(value):
    text = contract.format_value(value)
    assert " " not in text.replace("phi relu", ""), "a value has no spaces, for PARAMS"
    assert contract.parse_params(f"x={text} y=1") == {"x": value, "y": 1}


def test_format_value_reads_numpy_scalars_as_python():
    assert contract.format_value(np.float64(0.5)) == "0.5"
    assert contract.format_value([np.int64(3)]) == "[3]"
