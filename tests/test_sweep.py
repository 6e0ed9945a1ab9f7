"""The sweep engine: keys, the atomic store, untrusted files, resuming, failures, Dask."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import pytest

from symdp.runs import sweep

CALLS: list[dict] = []  # calls of toy() in this process (serial sweeps)


def toy(x: float, fail: bool = False, nan: bool = False, sleep: float = 0.0,
        interrupt: bool = False) -> dict:
    """A run: x squared, or an error, a NaN, a slow run or a Ctrl-C, on request."""
    CALLS.append({"x": x})
    if interrupt:
        raise KeyboardInterrupt
    if sleep:
        time.sleep(sleep)
    if fail:
        raise RuntimeError(f"diverged at x={x}")
    import torch

    return {"y": float("nan") if nan else x * x, "success": x >= 0,
            "threads": torch.get_num_threads(), "pid": os.getpid()}


def _run(x, experiment="exp", **kw):
    timeout = kw.pop("timeout", None)
    return sweep.make_run(experiment, toy, {"x": x, **kw}, labels={"x": x}, timeout=timeout)


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


# --------------------------------------------------------------------------------------------
# Keys


def test_same_config_same_key_and_every_change_changes_it():
    a, b = _run(1.0), _run(1.0)
    assert a == b and sweep.run_key(a) == sweep.run_key(b)
    key = sweep.run_key(a)
    assert len(key) == 64 and int(key, 16) >= 0
    assert sweep.run_key(_run(1.5)) != key  # a parameter
    assert sweep.run_key(_run(1.0, fail=False)) != key  # an explicit argument
    assert sweep.run_key(_run(1.0, timeout=5.0)) != key  # the time limit
    assert sweep.run_key(_run(1.0, experiment="other")) != key
    assert sweep.run_key(a, code="0.1.0+0000000000000000") != key  # the code version
    assert sweep.run_key(a) == sweep.run_key(json.loads(json.dumps(a)))  # JSON round trip


def test_code_version_names_the_package_version_and_a_source_hash():
    import symdp

    version, _, digest = sweep.code_version().partition("+")
    assert version == symdp.__version__ and len(digest) == 16 and int(digest, 16) >= 0


def test_code_version_covers_every_module_the_tasks_import():
    """The hashed modules are closed under the package's own imports, so no source a sweep task
    runs can change without changing the keys."""
    import ast
    from pathlib import Path

    root = Path(sweep.__file__).resolve().parents[1]  # the symdp folder

    def module_file(package: Path, dotted: str) -> str | None:
        base = package.joinpath(*dotted.split(".")) if dotted else package
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.exists():
                return candidate.relative_to(root).as_posix()
        return None

    assert "runs/experiments.py" in sweep.COMPUTING_MODULES
    for name in sweep.COMPUTING_MODULES:
        here = (root / name).parent
        for node in ast.walk(ast.parse((root / name).read_text())):
            if not (isinstance(node, ast.ImportFrom) and node.level >= 1):
                continue
            package = here.parents[node.level - 2] if node.level > 1 else here
            targets = [node.module] if node.module else [a.name for a in node.names]
            for target in targets:
                found = module_file(package, target) or module_file(package, "")
                assert found in sweep.COMPUTING_MODULES, (name, target, found)


def test_code_version_ignores_presentation_modules():
    for name in ("book/figures.py", "book/chapter.py", "book/build.py", "cli.py",
                 "studies/baselines.py"):
        assert name not in sweep.COMPUTING_MODULES


def test_make_run_normalises_and_validates():
    run = sweep.make_run("exp", "mod:f", {"band": (0.0, 1.0)}, labels={"n": 1}, timeout=3)
    assert run["kwargs"]["band"] == [0.0, 1.0] and run["timeout"] == 3.0
    assert run["func"] == "mod:f"
    assert sweep.make_run("exp", toy)["func"] == f"{__name__}:toy"
    with pytest.raises(ValueError, match="JSON"):
        sweep.make_run("exp", "mod:f", {"x": math.nan})
    with pytest.raises(ValueError, match="JSON"):
        sweep.make_run("exp", "mod:f", {"x": object()})
    with pytest.raises(ValueError, match="experiment"):
        sweep.make_run("../up", "mod:f")
    with pytest.raises(ValueError, match="func"):
        sweep.make_run("exp", "no_colon")
    with pytest.raises(ValueError, match="timeout"):
        sweep.make_run("exp", "mod:f", timeout=0)


# --------------------------------------------------------------------------------------------
# The store


def test_records_are_written_atomically_and_verified(tmp_path):
    report = sweep.run_sweep([_run(2.0)], tmp_path, scheduler="serial")
    record = report.records[0]
    path = tmp_path / "exp" / f"{record['key']}.json"
    assert path.is_file() and not list(path.parent.glob(".tmp-*"))
    assert record["status"] == "ok" and record["result"]["y"] == 4.0
    assert sweep.ResultStore(tmp_path).read(path) == record


def test_a_crash_while_writing_leaves_no_result(tmp_path, monkeypatch):
    store = sweep.ResultStore(tmp_path)
    record = sweep.run_sweep([_run(2.0)], tmp_path, scheduler="serial").records[0]
    record = {**record, "key": sweep.run_key(_run(3.0)), "config": _run(3.0)}

    def crash(src, dst):
        raise OSError("disk vanished")

    monkeypatch.setattr(sweep.os, "replace", crash)
    with pytest.raises(OSError, match="disk vanished"):
        store.write(record)
    monkeypatch.undo()
    assert not (tmp_path / "exp" / f"{record['key']}.json").exists()
    assert not list((tmp_path / "exp").glob(".tmp-*"))  # the temporary file is cleaned up


def test_untrusted_files_are_reported_skipped_and_rerun(tmp_path):
    runs = [_run(x) for x in (1.0, 2.0, 3.0, 4.0)]
    first = sweep.run_sweep(runs, tmp_path, scheduler="serial")
    assert len(CALLS) == 4 and first.problems == []
    paths = [tmp_path / "exp" / f"{r['key']}.json" for r in first.records]
    paths[0].write_text('{"schema": "symdp.runs.sweep.result/1", "key": ')  # truncated JSON
    paths[1].write_text(json.dumps({"schema": "someone.else/3", "answer": 42}))  # foreign
    paths[2].write_text(paths[3].read_text())  # another run's record under this key
    tampered = json.loads(paths[3].read_text())
    tampered["config"]["kwargs"]["x"] = 40.0  # its configuration no longer hashes to its key
    paths[3].write_text(json.dumps(tampered))
    (tmp_path / "exp" / ".tmp-abc.json").write_text("{")  # leftover of an interrupted write

    CALLS.clear()
    report = sweep.run_sweep(runs, tmp_path, scheduler="serial")
    reasons = [p.reason for p in report.problems]
    assert len(reasons) == 4, reasons
    assert "not valid JSON" in reasons[0]
    assert "foreign file" in reasons[1]
    assert "key mismatch" in reasons[2] and "key mismatch" in reasons[3]
    assert sorted(c["x"] for c in CALLS) == [1.0, 2.0, 3.0, 4.0]  # none trusted, all rerun
    assert [r["result"]["y"] for r in report.records] == [1.0, 4.0, 9.0, 16.0]

    df = sweep.load_results("exp", tmp_path)  # the rewritten files load; the leftover is named
    assert sorted(df["x"]) == [1.0, 2.0, 3.0, 4.0]
    assert any(".tmp-abc.json" in p for p in df.attrs["problems"])


def test_a_finished_run_is_never_repeated(tmp_path):
    runs = [_run(x) for x in (1.0, 2.0, 3.0)]
    first = sweep.run_sweep(runs + runs[:1], tmp_path, scheduler="serial")  # a duplicate too
    assert len(CALLS) == 3 and first.executed == 3 and first.cached == 0
    again = sweep.run_sweep(runs, tmp_path, scheduler="serial")
    assert len(CALLS) == 3 and again.executed == 0 and again.cached == 3
    assert [r["key"] for r in again.records] == [r["key"] for r in first.records[:3]]


def test_resume_after_an_interruption_runs_only_the_missing(tmp_path):
    grid = [_run(x) for x in (1.0, 2.0, 3.0, 4.0, 5.0)]
    sweep.run_sweep(grid[:2], tmp_path, scheduler="serial")  # part of the grid
    interrupted = [*grid[2:3], _run(99.0, interrupt=True), *grid[3:]]
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C in the middle of the sweep
        sweep.run_sweep(interrupted, tmp_path, scheduler="serial")
    assert [c["x"] for c in CALLS] == [1.0, 2.0, 3.0, 99.0]
    CALLS.clear()
    report = sweep.run_sweep(grid, tmp_path, scheduler="serial")  # the full grid
    assert sorted(c["x"] for c in CALLS) == [4.0, 5.0]
    assert report.cached == 3 and report.executed == 2
    assert [r["result"]["y"] for r in report.records] == [1.0, 4.0, 9.0, 16.0, 25.0]


def test_lookup_without_running(tmp_path):
    grid = [_run(x) for x in (1.0, 2.0)]
    sweep.run_sweep(grid[:1], tmp_path, scheduler="serial")
    records, problems = sweep.lookup(grid, tmp_path)
    assert records[0]["result"]["y"] == 1.0 and records[1] is None and problems == []


# --------------------------------------------------------------------------------------------
# Failures


def test_failures_are_stored_with_their_reason_and_the_sweep_goes_on(tmp_path):
    grid = [_run(1.0, fail=True), _run(2.0, nan=True), _run(3.0), _run(-4.0),
            _run(5.0, sleep=1.5, timeout=0.2)]
    report = sweep.run_sweep(grid, tmp_path, scheduler="serial")
    raised, nan, ok, unsuccessful, slow = report.records
    assert raised["status"] == "failed" and "RuntimeError: diverged at x=1.0" in raised["reason"]
    assert "diverged at x=1.0" in raised["traceback"]
    assert nan["status"] == "failed" and nan["reason"] == "non-finite result: y"
    assert nan["result"]["y"] is None and nan["result"]["success"] is True  # kept, sanitised
    assert slow["status"] == "failed" and slow["reason"].startswith("timeout")
    assert ok["status"] == "ok" and unsuccessful["status"] == "ok"
    assert report.failed == 3 and report.executed == 5
    assert "3 of them failed" in report.summary()

    df = sweep.records_to_frame(report.records)
    assert list(df["run_status"]) == ["failed", "failed", "ok", "ok", "failed"]
    assert list(df["success"]) == [False, False, True, False, False]  # failures count as such
    assert list(df["x"]) == [1.0, 2.0, 3.0, -4.0, 5.0]

    CALLS.clear()  # failed runs are results too: not repeated
    sweep.run_sweep(grid, tmp_path, scheduler="serial")
    assert CALLS == []


def test_a_run_that_returns_no_dict_fails(tmp_path):
    run = sweep.make_run("exp", "math:floor", {})  # TypeError: floor() takes one argument
    rec = sweep.run_sweep([run], tmp_path, scheduler="serial").records[0]
    assert rec["status"] == "failed" and rec["reason"].startswith("TypeError")
    run = sweep.make_run("exp", "builtins:list", {})  # returns a list
    rec = sweep.run_sweep([run], tmp_path, scheduler="serial").records[0]
    assert rec["status"] == "failed" and "expected a dict" in rec["reason"]


def test_a_record_from_other_code_is_not_trusted():
    config = _run(1.0)
    part = sweep.execute_run(config)
    key = sweep.run_key(config)
    assert sweep._record(config, key, sweep.code_version(), part)["status"] == "ok"
    other = sweep._record(config, key, sweep.code_version(), {**part, "worker_code": "0.0+x"})
    assert other["status"] == "failed" and "not trusted" in other["reason"]


# --------------------------------------------------------------------------------------------
# Dask and imports


def test_the_solver_imports_and_runs_without_dask():
    code = ("import sys; import symdp, symdp.solver, symdp.runs.sweep, symdp.runs.experiments; "
            "symdp.runs.sweep.make_run('e', 'm:f'); symdp.runs.sweep.code_version(); "
            "bad = [m for m in ('dask', 'distributed', 'pandas') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_small_grid_on_a_two_worker_local_cluster(tmp_path):
    grid = [_run(x) for x in (1.0, 2.0, 3.0, 4.0)] + [_run(5.0, fail=True),
                                                       _run(6.0, sleep=60.0, timeout=0.5)]
    t0 = time.perf_counter()
    report = sweep.run_sweep(grid, tmp_path, workers=2, progress=False)
    assert time.perf_counter() - t0 < 50  # the stuck run's worker was restarted, not waited for
    assert report.executed == 6 and report.failed == 2 and report.problems == []
    results = [r["result"] for r in report.records[:4]]
    assert [r["y"] for r in results] == [1.0, 4.0, 9.0, 16.0]
    assert all(r["threads"] == 1 for r in results)  # one torch thread per worker
    assert os.getpid() not in {r["pid"] for r in results}  # ran in the workers' processes
    assert all(r["worker"].startswith("tcp://") for r in report.records)
    assert "RuntimeError" in report.records[4]["reason"]
    assert report.records[5]["reason"].startswith("timeout")
    assert CALLS == []  # nothing ran here
    again = sweep.run_sweep(grid, tmp_path, scheduler="serial")  # all stored: nothing to run
    assert again.executed == 0 and again.cached == 6 and CALLS == []
