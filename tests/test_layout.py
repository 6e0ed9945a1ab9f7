"""The package's layout holds: imports point down, and the science needs only torch and numpy.

``symdp/`` is layered: the science (the model, the LQ benchmark, the networks, the solver and the
evaluation) at the bottom, ``symdp/studies/`` (what the chapters compute) and ``symdp/runs/``
(sweeps) above it, and ``symdp/book/`` (the book's kit) and the command line on top. A module may
import from its own layer or below, never above (README, "Layout").
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "symdp"

# Layer of each part of the package; a module may import only from layers <= its own.
LAYERS = {"science": 0, "studies": 1, "runs": 2, "book": 3, "cli": 3}


def _layer(rel: str) -> str:
    """``"runs/sweep.py"`` -> ``"runs"``; ``"cli.py"`` or ``"cli"`` -> ``"cli"``; else science."""
    top = rel.split("/")[0].removesuffix(".py")
    return top if top in LAYERS else "science"


def _imported(rel: str) -> set[str]:
    """The package-relative files (``runs/sweep.py``) or folders (``book``) that ``rel`` imports."""
    path = PACKAGE / rel
    here = path.parent
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here
            for _ in range(node.level - 1):
                base = base.parent
            names = [node.module] if node.module else [a.name for a in node.names]
            for name in names:
                found.add(base.joinpath(*name.split(".")).relative_to(PACKAGE).as_posix())
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
            for name in names:
                if name == "symdp" or name.startswith("symdp."):
                    found.add("/".join(name.split(".")[1:]) or ".")
    return found


MODULES = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("rel", MODULES)
def test_imports_point_down_the_layers(rel):
    mine = LAYERS[_layer(rel)]
    for target in _imported(rel):
        if target in (".", ""):  # the package itself: its public face is the science
            continue
        theirs = LAYERS[_layer(target)]
        assert theirs <= mine, f"{rel} ({_layer(rel)}) imports {target} ({_layer(target)})"


def test_the_science_never_imports_the_books_kit():
    outside = [rel for rel in MODULES if not rel.startswith("book/")]
    for rel in outside:
        assert not any(t == "book" or t.startswith("book/") for t in _imported(rel)), rel


def test_the_science_imports_and_solves_with_torch_and_numpy_alone():
    """The GPU image and a user's own environment may hold nothing but torch and numpy."""
    code = r"""
import importlib.abc, importlib.util, sys
BLOCKED = {"scipy", "matplotlib", "pandas", "dask", "distributed", "IPython", "nbformat",
           "jupytext", "papermill", "yaml", "tqdm"}
class Absent(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    # Found with no origin (as torch's optional probes expect), failing when imported.
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED:
            return importlib.util.spec_from_loader(name, self)
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        raise ImportError(f"{module.__name__} is not installed here")
sys.meta_path.insert(0, Absent())
import symdp, symdp.solver, symdp.evaluation
import symdp.studies.symmetry, symdp.studies.regression, symdp.studies.concentration
import symdp.studies.baselines, symdp.studies.scaling, symdp.studies.distribution
import symdp.studies.implicit_bias
from symdp import ModelParams, SolverConfig, solve
r = solve(ModelParams(N=4), "relu", SolverConfig(max_epochs=1, train_trajectories=2,
          val_trajectories=1, test_trajectories=2, T=7, threads=1))
assert r.steps > 0
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
