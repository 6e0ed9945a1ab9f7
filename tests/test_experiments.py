"""The registry: well-formed grids for both profiles, the deck's architectures, the code version
of the store's keys, what a run's success means, and results through the store.

The tasks are tested in test_tasks.py, the layouts in test_layouts.py, the engine in
test_sweep.py, the command line in test_cli.py."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from symdp import deck
from symdp.runs import experiments as ex
from symdp.runs import sweep
from symdp.networks import ArchitectureConfig, count_parameters, make_policy
from symdp.solver import SolverConfig
from symdp.params import ModelParams

PACKAGE = Path(ex.__file__).resolve().parents[1]  # the symdp folder


@pytest.mark.parametrize("profile", ex.PROFILES)
@pytest.mark.parametrize("name", list(ex.EXPERIMENTS))
def test_grids_are_well_formed(name, profile):
    exp = ex.EXPERIMENTS[name]
    runs = exp.runs(profile)
    assert runs and exp.description and exp.estimate_minutes[profile] > 0
    keys = [sweep.run_key(r, ex.code_version()) for r in runs]
    assert len(set(keys)) == len(keys)  # no two runs share a key
    for run in runs:
        assert run == sweep.make_run(**{k: run[k] for k in
                                        ("experiment", "func", "kwargs", "labels", "timeout")})
        assert run["experiment"] == name and run["labels"]["profile"] == profile
        assert run["timeout"] is not None and run["timeout"] > 0
        kw = run["kwargs"]
        if run["func"] == "symdp.runs.tasks:solve_task":
            ModelParams(**kw["model"])
            ArchitectureConfig(**kw["arch"])
            config = SolverConfig.from_dict(kw["solver"])
            # the run spells out every field
            assert json.loads(json.dumps(config.to_dict())) == kw["solver"]
            # a cap that bounds the build (Table 3's slowest converging seeds need up to 137)
            assert config.threads == 1 and config.max_epochs <= 160
            if profile == "ci":  # deterministic: no wall-clock cap
                assert math.isinf(config.max_seconds)
            else:  # the solver stops itself before the hard limit
                assert math.isfinite(config.max_seconds) and run["timeout"] > config.max_seconds
        else:
            assert run["func"] == "symdp.runs.tasks:regression_task"
    with pytest.raises(ValueError, match="profile"):
        exp.runs("huge")


def test_paper_profiles_have_the_decks_sizes():
    for name, rows in (("table2", ex.TABLE2_ROWS), ("table3", ex.TABLE3_ROWS)):
        per_row = Counter((r["labels"]["group"], r["labels"]["row"])
                          for r in ex.EXPERIMENTS[name].runs("paper"))
        assert list(per_row) == [(g, r) for g, r, _ in rows]  # the deck's rows, in its order
        assert min(per_row.values()) >= 20
        assert all(r["kwargs"]["model"]["N"] == 128 for r in ex.EXPERIMENTS[name].runs("paper"))
        ci = Counter((r["labels"]["group"], r["labels"]["row"])
                     for r in ex.EXPERIMENTS[name].runs("ci"))
        assert set(ci.values()) == {2}
    nus = {r["kwargs"]["model"]["nu"] for r in ex.EXPERIMENTS["table3"].runs("paper")}
    assert nus == {1.5}
    fig3 = Counter(r["labels"]["N"] for r in ex.EXPERIMENTS["figure3"].runs("paper"))
    assert fig3 == {N: 21 for N in (128, 256, 512, 1024, 2048, 4096, 10_000)}
    assert Counter(r["labels"]["N"] for r in ex.EXPERIMENTS["figure3"].runs("ci")) == {16: 2, 64: 2}
    firm = ex.EXPERIMENTS["figure3_firm"].runs("paper")
    assert Counter(r["labels"]["N"] for r in firm) == {N: 7 for N in fig3}
    assert all(r["kwargs"]["arch"]["phi_hidden_bias"] for r in firm)
    assert not any(r["kwargs"]["arch"]["phi_hidden_bias"]
                   for r in ex.EXPERIMENTS["figure3"].runs("paper"))
    cells = {(r["labels"]["phi"], r["labels"]["zero_last"], r["labels"]["gradient"])
             for r in ex.EXPERIMENTS["implicit_bias"].runs("paper")}
    assert len(cells) == 12
    reg = {(r["labels"]["N"], r["labels"]["L"]) for r in ex.EXPERIMENTS["regression"].runs("paper")}
    assert reg == {(N, L) for N in (2, 4, 8, 16, 32, 64, 128) for L in (1, 2, 3, 4, 5, 20, None)}
    total = sum(e.estimate_minutes["paper"] for e in ex.EXPERIMENTS.values())
    # The paper build's sweeps took 12.4 minutes on two cores (Intel, 9f338b6), of a whole
    # build of 17.7 (issue 13 asks for 20): this bounds the estimate near where it stands, so a
    # sweep that grows further fails here.
    assert total < 14


def test_table_architectures_have_the_decks_coefficient_counts():
    # The deck's counts, to its rounding (0.1K); Table 2's "L = 2" (201.1K) fits none of the
    # family's variants (see the module).
    exact = {("table2", g, r): v[1] for (g, r), v in deck.DECK_TABLE2.items() if r != "L = 2"}
    exact.update({("table3", g, r): v[1] for (g, r), v in deck.DECK_TABLE3.items()})
    for name, rows in (("table2", ex.TABLE2_ROWS), ("table3", ex.TABLE3_ROWS)):
        for group, row, arch in rows:
            n = count_parameters(make_policy(ArchitectureConfig(**arch), N=128))
            if (name, group, row) in exact:
                assert round(n / 1000, 1) == exact[(name, group, row)], (name, row, n)
            else:
                published = (deck.DECK_TABLE2 if name == "table2"
                             else deck.DECK_TABLE3)[(group, row)][1]
                assert abs(n / 1000 - published) / published < 0.1, (name, row, n)
    # Without phi's hidden biases the baseline is the mean-only phi(ReLU) of the deck's text.
    mean_only = dict(ex.TABLE3_ROWS[4][2], phi_hidden_bias=False)
    assert count_parameters(make_policy(ArchitectureConfig(**mean_only))) == 66_821


def test_table3_relu_rows_have_biases_in_phi_and_the_decks_exact_counts():
    # The deck's 67.1K / 68.1K / 70.2K / 1.4K / 34.3K / 4.5K are, to the digit, phi with hidden
    # biases and a bias-free rho (review M2).
    counts = [count_parameters(make_policy(ArchitectureConfig(**arch)))
              for g, _, arch in ex.TABLE3_ROWS if g == "phi(ReLU)"]
    assert counts == [67_077, 68_105, 70_161, 1_413, 34_309, 4_485]


def test_results_run_through_the_store_and_take_the_decks_layout(figure3_ci):
    tmp_path, df = figure3_ci
    assert len(df) == 4 and df.attrs["missing"] == 0 and df.attrs["experiment"] == "figure3"
    assert set(df["code_version"]) == {ex.code_version()}
    table = ex.layout("figure3", df)
    assert list(table.index) == [16, 64] and set(table["Trials"]) == {2}
    again = ex.results("figure3", "ci", store=tmp_path, run_missing=False)
    assert list(again["key"]) == list(df["key"])
    empty = ex.results("table2", "ci", store=tmp_path, run_missing=False)
    assert len(empty) == 0 and empty.attrs["missing"] == 18


def test_unknown_experiment():
    with pytest.raises(ValueError, match="unknown experiment"):
        ex.results("table9", "ci")


def test_the_deck_has_two_tables_in_our_layout():
    assert list(ex.deck_layout("table2").columns) == list(deck.TABLE2_COLUMNS)
    assert list(ex.deck_layout("table3").columns) == list(deck.TABLE3_COLUMNS)
    with pytest.raises(ValueError, match="'table2' and 'table3', not 'figure3'"):
        ex.deck_layout("figure3")


# --------------------------------------------------------------------------------------------
# What a run's success means


def _record(status, result, key="k"):
    return {"key": key, "config": {"experiment": "e", "labels": {}}, "status": status,
            "code_version": "v", "result": result}


def test_a_run_succeeds_when_it_completed_and_its_result_says_so():
    records = [
        _record("failed", None),  # raised or timed out
        _record("failed", {"success": True, "y": None}),  # a non-finite number: failed anyway
        _record("ok", {"success": True}),
        _record("ok", {"success": False}),
        _record("ok", {"rel_error": 0.01}),  # no success of its own (a regression cell)
        _record("ok", {"success": None}),
        None,  # not run: no row
    ]
    df = ex.frame(records)
    assert list(df["success"]) == [False, False, True, False, True, False]
    assert list(df["ok"]) == [False, False, True, True, True, True]
    assert len(ex.frame([])) == 0


# --------------------------------------------------------------------------------------------
# The code version of the store's keys


def test_code_version_names_the_package_version_and_a_source_hash():
    import symdp

    version, _, digest = ex.code_version().partition("+")
    assert version == symdp.__version__ and len(digest) == 16 and int(digest, 16) >= 0


def _module_file(package: Path, dotted: str) -> str | None:
    base = package.joinpath(*dotted.split(".")) if dotted else package
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate.relative_to(PACKAGE).as_posix()
    return None


def test_code_version_covers_every_module_the_tasks_import():
    """The hashed modules are closed under the package's own imports, so no source a sweep task
    runs can change without changing the keys."""
    assert {"runs/tasks.py", "runs/sweep.py"} <= ex.COMPUTING_MODULES
    for name in ex.COMPUTING_MODULES:
        here = (PACKAGE / name).parent
        for node in ast.walk(ast.parse((PACKAGE / name).read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level >= 1):
                continue
            package = here.parents[node.level - 2] if node.level > 1 else here
            targets = [node.module] if node.module else [a.name for a in node.names]
            for target in targets:
                found = _module_file(package, target) or _module_file(package, "")
                assert found in ex.COMPUTING_MODULES, (name, target, found)


@pytest.mark.parametrize("profile", ex.PROFILES)
def test_every_run_calls_a_hashed_module(profile):
    """What the grids run (the tasks) is hashed, so the closure above starts from it; the
    version function's module need not be (it is the client's to call)."""
    for exp in ex.EXPERIMENTS.values():
        for module in {r["func"].partition(":")[0] for r in exp.runs(profile)}:
            assert module.startswith("symdp.")
            name = _module_file(PACKAGE, module.removeprefix("symdp."))
            assert name in ex.COMPUTING_MODULES, (exp.name, module)


def test_code_version_ignores_presentation_modules():
    """Editing a layout, the registry's descriptions, the deck's published values, a chapter
    helper, a plot or the command line keeps every stored run."""
    for name in ("book/figures.py", "book/chapter.py", "book/build.py", "cli.py",
                 "studies/baselines.py", "runs/experiments.py", "runs/layouts.py", "deck.py"):
        assert (PACKAGE / name).is_file() and name not in ex.COMPUTING_MODULES


def test_the_default_store_is_symdp_store_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMDP_STORE", str(tmp_path / "here"))
    assert ex.default_store() == tmp_path / "here"
    monkeypatch.delenv("SYMDP_STORE")
    assert ex.default_store().parts[-2:] == ("results", "store")


def test_the_registry_and_tasks_import_and_run_without_dask():
    code = ("import sys; import symdp, symdp.solver, symdp.runs.sweep, symdp.runs.experiments, "
            "symdp.runs.tasks, symdp.runs.layouts; "
            "symdp.runs.sweep.make_run('e', 'm:f'); symdp.runs.experiments.code_version(); "
            "bad = [m for m in ('dask', 'distributed', 'pandas') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
