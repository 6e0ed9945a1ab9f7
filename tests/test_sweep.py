"""The sweep engine: keys, the code version it is given, the atomic store, untrusted files,
resuming, failures, Dask; and that it stays generic (nothing of symdp in it)."""

from __future__ import annotations

import ast
import json
import math
import os
import sys
import time
from pathlib import Path

import pytest

from symdp.runs import sweep

CALLS: list[dict] = []  # calls of toy() in this process (serial sweeps)
CODE = "toy+1"  # the code version toy_version gives


def toy_version() -> str:
    """The code version of the toy runs (the engine calls it here and on every worker)."""
    return CODE


def other_version() -> str:
    return "toy+2"


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
            "threads": torch.get_num_threads(), "pid": os.getpid(),
            "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_")}


def _run(x, experiment="exp", **kw):
    timeout = kw.pop("timeout", None)
    return sweep.make_run(experiment, toy, {"x": x, **kw}, labels={"x": x}, timeout=timeout)


def _sweep(runs, store, **kw):
    return sweep.run_sweep(runs, store, version=toy_version, **kw)


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


# --------------------------------------------------------------------------------------------
# Keys


def test_same_config_same_key_and_every_change_changes_it():
    a, b = _run(1.0), _run(1.0)
    assert a == b and sweep.run_key(a, CODE) == sweep.run_key(b, CODE)
    key = sweep.run_key(a, CODE)
    assert len(key) == 64 and int(key, 16) >= 0
    assert sweep.run_key(_run(1.5), CODE) != key  # a parameter
    assert sweep.run_key(_run(1.0, fail=False), CODE) != key  # an explicit argument
    assert sweep.run_key(_run(1.0, timeout=5.0), CODE) != key  # the time limit
    assert sweep.run_key(_run(1.0, experiment="other"), CODE) != key
    assert sweep.run_key(a, "0.1.0+0000000000000000") != key  # the code version
    assert sweep.run_key(a, CODE) == sweep.run_key(json.loads(json.dumps(a)), CODE)  # round trip


def test_the_engine_keys_runs_with_the_code_version_it_is_given(tmp_path):
    grid = [_run(x) for x in (1.0, 2.0)]
    first = _sweep(grid, tmp_path, scheduler="serial")
    assert {r["code_version"] for r in first.records} == {CODE}
    assert {r["worker_code"] for r in first.records} == {CODE}  # the run's side says the same
    assert [r["key"] for r in first.records] == [sweep.run_key(c, CODE) for c in grid]
    # As a "module:function" reference, the same version: nothing to run.
    again = sweep.run_sweep(grid, tmp_path, scheduler="serial", version=f"{__name__}:toy_version")
    assert again.cached == 2 and len(CALLS) == 2
    # Other code: other keys, every run again, next to the first ones.
    other = sweep.run_sweep(grid, tmp_path, scheduler="serial", version=other_version)
    assert other.cached == 0 and other.executed == 2 and len(CALLS) == 4
    assert {r["code_version"] for r in other.records} == {"toy+2"}
    records, _ = sweep.lookup(grid, tmp_path, toy_version)
    assert [r["key"] for r in records] == [r["key"] for r in first.records]
    assert len(sweep.load_results("exp", tmp_path, toy_version)) == 2
    assert len(sweep.load_results("exp", tmp_path)) == 4  # every version


def test_a_version_a_worker_could_not_import_is_refused_at_once(tmp_path):
    for version in (lambda: CODE, "no_colon", f"{__name__}:no_such_function"):
        with pytest.raises((ValueError, AttributeError)):
            sweep.run_sweep([_run(1.0)], tmp_path, scheduler="serial", version=version)
    with pytest.raises(TypeError, match="code version"):
        sweep.run_sweep([_run(1.0)], tmp_path, scheduler="serial", version="builtins:list")
    assert CALLS == [] and not (tmp_path / "exp").exists()


def test_the_engine_is_generic():
    """Nothing of symdp in the engine: no package import, no version of its own, no torch, no
    idea of what makes a run a success (the registry's, symdp.runs.experiments)."""
    source = Path(sweep.__file__).read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"relative import of {node.module!r}"
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
    third_party = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert third_party <= {"dask", "distributed", "pandas", "tqdm"}, third_party
    for word in ("__version__", "success", "set_num_threads", "COMPUTING_MODULES"):
        assert word not in source, word


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
    with pytest.raises(ValueError, match="module-level"):  # a worker could not import it
        sweep.make_run("exp", lambda: {})


# --------------------------------------------------------------------------------------------
# The store


def test_records_are_written_atomically_and_verified(tmp_path):
    report = _sweep([_run(2.0)], tmp_path, scheduler="serial")
    record = report.records[0]
    path = tmp_path / "exp" / f"{record['key']}.json"
    assert path.is_file() and not list(path.parent.glob(".tmp-*"))
    assert record["status"] == "ok" and record["result"]["y"] == 4.0
    assert sweep.ResultStore(tmp_path).read(path) == record


def test_a_crash_while_writing_leaves_no_result(tmp_path, monkeypatch):
    store = sweep.ResultStore(tmp_path)
    record = _sweep([_run(2.0)], tmp_path, scheduler="serial").records[0]
    record = {**record, "key": sweep.run_key(_run(3.0), CODE), "config": _run(3.0)}

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
    first = _sweep(runs, tmp_path, scheduler="serial")
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
    report = _sweep(runs, tmp_path, scheduler="serial")
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
    first = _sweep(runs + runs[:1], tmp_path, scheduler="serial")  # a duplicate too
    assert len(CALLS) == 3 and first.executed == 3 and first.cached == 0
    again = _sweep(runs, tmp_path, scheduler="serial")
    assert len(CALLS) == 3 and again.executed == 0 and again.cached == 3
    assert [r["key"] for r in again.records] == [r["key"] for r in first.records[:3]]


def test_resume_after_an_interruption_runs_only_the_missing(tmp_path):
    grid = [_run(x) for x in (1.0, 2.0, 3.0, 4.0, 5.0)]
    _sweep(grid[:2], tmp_path, scheduler="serial")  # part of the grid
    interrupted = [*grid[2:3], _run(99.0, interrupt=True), *grid[3:]]
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C in the middle of the sweep
        _sweep(interrupted, tmp_path, scheduler="serial")
    assert [c["x"] for c in CALLS] == [1.0, 2.0, 3.0, 99.0]
    CALLS.clear()
    report = _sweep(grid, tmp_path, scheduler="serial")  # the full grid
    assert sorted(c["x"] for c in CALLS) == [4.0, 5.0]
    assert report.cached == 3 and report.executed == 2
    assert [r["result"]["y"] for r in report.records] == [1.0, 4.0, 9.0, 16.0, 25.0]


def test_lookup_without_running(tmp_path):
    grid = [_run(x) for x in (1.0, 2.0)]
    _sweep(grid[:1], tmp_path, scheduler="serial")
    records, problems = sweep.lookup(grid, tmp_path, toy_version)
    assert records[0]["result"]["y"] == 1.0 and records[1] is None and problems == []


# --------------------------------------------------------------------------------------------
# Failures


def test_failures_are_stored_with_their_reason_and_the_sweep_goes_on(tmp_path):
    grid = [_run(1.0, fail=True), _run(2.0, nan=True), _run(3.0), _run(-4.0),
            _run(5.0, sleep=1.5, timeout=0.2)]
    report = _sweep(grid, tmp_path, scheduler="serial")
    raised, nan, ok, unsuccessful, slow = report.records
    assert raised["status"] == "failed" and "RuntimeError: diverged at x=1.0" in raised["reason"]
    assert "diverged at x=1.0" in raised["traceback"]
    assert nan["status"] == "failed" and nan["reason"] == "non-finite result: y"
    assert nan["result"]["y"] is None and nan["result"]["success"] is True  # kept, sanitised
    assert slow["status"] == "failed" and slow["reason"].startswith("timeout")
    assert ok["status"] == "ok" and unsuccessful["status"] == "ok"
    assert report.failed == 3 and report.executed == 5
    assert "3 of them failed" in report.describe()

    df = sweep.records_to_frame(report.records)
    assert list(df["run_status"]) == ["failed", "failed", "ok", "ok", "failed"]
    assert list(df["ok"]) == [False, False, True, True, False]
    # The result's own field as it came (what counts as a success is the caller's: a failed run
    # counts as a failure in symdp.runs.experiments.frame, tested there).
    assert list(df["success"].fillna("none")) == ["none", True, True, False, "none"]
    assert list(df["x"]) == [1.0, 2.0, 3.0, -4.0, 5.0]

    CALLS.clear()  # failed runs are results too: not repeated
    _sweep(grid, tmp_path, scheduler="serial")
    assert CALLS == []


def test_a_run_that_returns_no_dict_fails(tmp_path):
    run = sweep.make_run("exp", "math:floor", {})  # TypeError: floor() takes one argument
    rec = _sweep([run], tmp_path, scheduler="serial").records[0]
    assert rec["status"] == "failed" and rec["reason"].startswith("TypeError")
    run = sweep.make_run("exp", "builtins:list", {})  # returns a list
    rec = _sweep([run], tmp_path, scheduler="serial").records[0]
    assert rec["status"] == "failed" and "expected a dict" in rec["reason"]


def test_a_record_from_other_code_is_not_trusted():
    config = _run(1.0)
    part = sweep.execute_run(config, toy_version)
    key = sweep.run_key(config, CODE)
    assert part["worker_code"] == CODE
    assert sweep._record(config, key, CODE, part)["status"] == "ok"
    other = sweep._record(config, key, CODE, sweep.execute_run(config, other_version))
    assert other["status"] == "failed" and "not trusted" in other["reason"]


# --------------------------------------------------------------------------------------------
# Dask


def test_a_small_grid_on_a_two_worker_local_cluster(tmp_path):
    grid = [_run(x) for x in (1.0, 2.0, 3.0, 4.0)] + [_run(5.0, fail=True),
                                                       _run(6.0, sleep=60.0, timeout=0.5)]
    environ = dict(os.environ)
    t0 = time.perf_counter()
    report = _sweep(grid, tmp_path, workers=2, progress=False)
    assert time.perf_counter() - t0 < 50  # the stuck run's worker was restarted, not waited for
    assert dict(os.environ) == environ  # nothing of the workers' environment left behind here
    assert report.executed == 6 and report.failed == 2 and report.problems == []
    results = [r["result"] for r in report.records[:4]]
    assert [r["y"] for r in results] == [1.0, 4.0, 9.0, 16.0]
    assert all(r["threads"] == 1 for r in results)  # one thread per worker (OMP_NUM_THREADS)
    assert all(r["malloc_trim"] is None for r in results)  # glibc's own mmap threshold
    assert os.getpid() not in {r["pid"] for r in results}  # ran in the workers' processes
    assert all(r["worker"].startswith("tcp://") for r in report.records)
    assert {r["worker_code"] for r in report.records[:5]} == {CODE}  # called on the workers
    assert "RuntimeError" in report.records[4]["reason"]
    assert report.records[5]["reason"].startswith("timeout")
    assert CALLS == []  # nothing ran here
    again = _sweep(grid, tmp_path, scheduler="serial")  # all stored: nothing to run
    assert again.executed == 0 and again.cached == 6 and CALLS == []
