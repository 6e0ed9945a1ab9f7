"""The sweep engine: many independent runs on Dask, with a resumable on-disk result store.

Generic: it knows nothing of the functions it runs, of the package that holds them, or of what
makes a completed run a good one. The caller gives it the runs, the store's folder and the
function that says which code version computes them.

A **run** is a JSON-able configuration (:func:`make_run`)::

    {"experiment": "table2",                       # the store's folder
     "func": "mypackage.tasks:fit",                # what to call, "module:function"
     "kwargs": {...},                              # its arguments: model, network, solver, seed
     "labels": {"row": "Deep Sets: L = 2", "seed": 3},  # how the results are grouped
     "timeout": 240.0}                             # hard wall-clock limit in seconds (or None)

Its **key** (:func:`run_key`) is the SHA-256 of the canonical JSON of the configuration together
with the **code version**, a string the caller's version function returns (given to
:func:`run_sweep` as a function or its ``"module:function"`` reference, and evaluated on the
client and on every worker), so changing any parameter, or the code, gives a new key and a new
run; a worker whose code version differs from the client's has its result refused.

The **store** is a directory with one JSON file per finished run,
``<store>/<experiment>/<key>.json``, written atomically (temporary file in the same directory,
fsync, :func:`os.replace`): a crash never leaves a half-written result under a key. A run whose
valid file exists is never repeated; a file that does not parse, has the wrong schema, or whose
key does not match its own configuration is reported (:class:`StoreProblem`) and never trusted,
and its run is executed again.

**Execution** (:func:`run_sweep`) uses Dask: by default a ``distributed.LocalCluster`` of processes
with one thread each (one worker per CPU), or the scheduler at any address (``Client(address)``),
so a cluster started with dask-jobqueue needs nothing else. ``scheduler="serial"`` runs in this
process, without Dask. Each task runs one configuration (``OMP_NUM_THREADS=1`` unless set),
catches exceptions, non-finite results and timeouts, and returns a record with status ``"ok"`` or
``"failed"`` and the reason (whether a completed run reached what it aimed at is the caller's to
judge); the client writes each record as its future completes, so an interrupted sweep resumes
where it stopped. Dask is imported only inside the functions that need it: the functions it runs
never depend on it.

**Loading**: :func:`load_results` gives a pandas DataFrame of an experiment's stored results
(metadata, labels and the flattened result fields, one row per run).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import importlib
import json
import logging
import math
import os
import socket
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

if TYPE_CHECKING:  # pandas is an optional dependency (the ``sweep`` extra)
    import pandas as pd

__all__ = [
    "SCHEMA",
    "StoreProblem",
    "SweepReport",
    "ResultStore",
    "canonical_json",
    "make_run",
    "run_key",
    "execute_run",
    "run_sweep",
    "lookup",
    "load_results",
    "records_to_frame",
]

# The name of the record format. It keeps the name it was first written under, so records stored
# before the engine moved stay records of this format (of another code version), not foreign files.
SCHEMA = "symdp.runs.sweep.result/1"
STATUSES = ("ok", "failed")
CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler given by address
log = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Keys


def _reference(func: str | Callable, what: str) -> str:
    """``func`` as ``"module:function"``, the form a worker can import.

    A module-level function is converted; a lambda or a function defined inside another has no
    such name and is refused here, rather than failing on every worker.
    """
    if callable(func):
        func = f"{func.__module__}:{func.__qualname__}"
    if not isinstance(func, str) or func.count(":") != 1 or "<" in func:
        raise ValueError(f"{what} must be 'module:function' or a module-level function, "
                         f"got {func!r}")
    return func


def _resolve(func: str) -> Callable:
    module, _, name = func.partition(":")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _code_version(version: str | Callable[[], str]) -> str:
    """The code version ``version`` gives (a function, or its ``"module:function"``).

    Always through the reference, as a worker will resolve it, so a version function a worker
    could not import fails here, at once.
    """
    code = _resolve(_reference(version, "version"))()
    if not isinstance(code, str) or not code:
        raise TypeError(f"the code version must be a non-empty string, got {code!r}")
    return code


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace, ASCII, no NaN: the same object always gives the same text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def make_run(
    experiment: str,
    func: str | Callable,
    kwargs: Mapping[str, Any] | None = None,
    labels: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> dict:
    """A run configuration (a plain dict that round-trips through JSON unchanged).

    Parameters
    ----------
    experiment : str
        Name of the experiment: the store's sub-folder. Letters, digits, ``_`` and ``-``.
    func : str or callable
        ``"module:function"``, or a module-level function (converted to that string). It is
        called as ``func(**kwargs)`` on a worker and must return a dict of JSON-able values.
    kwargs : mapping, optional
        Arguments of ``func``; JSON-able (tuples become lists).
    labels : mapping, optional
        Grouping fields copied into the loaded DataFrame (row name, seed, N...). Part of the key.
    timeout : float, optional
        Hard wall-clock limit of the run in seconds (> 0); None for no limit.
    """
    if not isinstance(experiment, str) or not experiment or not all(
            c.isalnum() or c in "_-" for c in experiment):
        raise ValueError(f"experiment must be a non-empty name of letters, digits, '_' or '-', "
                         f"got {experiment!r}")
    func = _reference(func, "func")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0
                                    and math.isfinite(timeout)):
        raise ValueError(f"timeout must be None or a finite number > 0, got {timeout!r}")
    config = {
        "experiment": experiment,
        "func": func,
        "kwargs": dict(kwargs or {}),
        "labels": dict(labels or {}),
        "timeout": None if timeout is None else float(timeout),
    }
    try:
        return json.loads(canonical_json(config))  # normalised: what the store will hold
    except (TypeError, ValueError) as exc:
        raise ValueError(f"run configuration is not JSON-able (or holds NaN/inf): {exc}") from None


def run_key(config: Mapping[str, Any], code: str) -> str:
    """SHA-256 (hex) of the canonical JSON of ``{"config": config, "code": code}``.

    ``code`` is the code version (a string): the same configuration run by other code is
    another run.
    """
    return hashlib.sha256(canonical_json({"config": config, "code": code}).encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# The store


@dataclass(frozen=True)
class StoreProblem:
    """A file in the store that was not trusted, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class ResultStore:
    """One JSON file per finished run: ``<root>/<experiment>/<key>.json``.

    Reading never trusts a file it cannot verify: each problem is appended to :attr:`problems`
    (and logged), and the file is treated as absent.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.problems: list[StoreProblem] = []

    def path(self, experiment: str, key: str) -> Path:
        return self.root / experiment / f"{key}.json"

    def _problem(self, path: Path, reason: str) -> None:
        problem = StoreProblem(str(path), reason)
        self.problems.append(problem)
        log.warning("ignoring stored result %s", problem)

    def read(self, path: Path, code: str | None = None) -> dict | None:
        """The verified record at ``path``, or None (absent or untrusted; see :attr:`problems`).

        ``code`` restricts to records of that code version (a record of another version is
        valid, just not wanted: not a problem).
        """
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._problem(path, f"unreadable: {exc}")
            return None
        try:
            record = json.loads(text)
        except ValueError as exc:
            self._problem(path, f"not valid JSON ({exc})")
            return None
        reason = _invalid(record, path)
        if reason:
            self._problem(path, reason)
            return None
        if code is not None and record["code_version"] != code:
            return None
        return record

    def write(self, record: dict) -> Path:
        """Write ``record`` atomically under its key; returns the path."""
        reason = _invalid(record, None)
        if reason:
            raise ValueError(f"refusing to store an invalid record: {reason}")
        path = self.path(record["config"]["experiment"], record["key"])
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(record, indent=1, sort_keys=True, allow_nan=False).encode()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):  # make the rename itself durable
            dfd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        return path

    def scan(self, experiment: str | None = None, code: str | None = None) -> list[dict]:
        """Every verified record (of one experiment, or all), optionally of one code version.

        Leftover temporary files of an interrupted write and untrusted files are reported in
        :attr:`problems`.
        """
        if experiment is None:
            root = self.root
            folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        else:
            folders = [self.root / experiment]
        records = []
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if path.name.startswith(".tmp-"):
                    self._problem(path, "leftover temporary file of an interrupted write")
                elif path.suffix == ".json":
                    record = self.read(path, code)
                    if record is not None:
                        records.append(record)
                else:
                    self._problem(path, "not a result file (expected <key>.json)")
        return records


def _invalid(record: Any, path: Path | None) -> str | None:
    """Why ``record`` (read from ``path``) cannot be trusted, or None."""
    if not isinstance(record, dict):
        return f"foreign file: a JSON {type(record).__name__}, not a result record"
    if record.get("schema") != SCHEMA:
        return f"foreign file: schema {record.get('schema')!r}, expected {SCHEMA!r}"
    required = {"key": str, "code_version": str, "config": dict, "status": str}
    for name, kind in required.items():
        if not isinstance(record.get(name), kind):
            return f"malformed record: {name!r} missing or not a {kind.__name__}"
    if record["status"] not in STATUSES:
        return f"malformed record: status {record['status']!r} not in {STATUSES}"
    if not (record.get("result") is None or isinstance(record.get("result"), dict)):
        return "malformed record: result is neither null nor an object"
    if record["status"] == "failed" and not isinstance(record.get("reason"), str):
        return "malformed record: a failed run without a reason"
    config = record["config"]
    if not isinstance(config.get("experiment"), str) or not isinstance(config.get("kwargs"), dict):
        return "malformed record: config lacks experiment or kwargs"
    try:
        expected = run_key(config, record["code_version"])
    except (TypeError, ValueError) as exc:
        return f"malformed record: config is not canonical JSON ({exc})"
    if expected != record["key"]:
        return "key mismatch: the record's key is not the hash of its configuration"
    if path is not None:
        if path.stem != record["key"]:
            return f"key mismatch: file name {path.stem[:12]}... holds key {record['key'][:12]}..."
        if path.parent.name != config["experiment"]:
            return (f"foreign file: experiment {config['experiment']!r} stored under "
                    f"{path.parent.name!r}")
    return None


# --------------------------------------------------------------------------------------------
# One run (on a worker)


class _RunTimeout(Exception):
    pass


def _call(func: Callable, kwargs: dict, timeout: float | None) -> Any:
    """``func(**kwargs)``, raising :class:`_RunTimeout` after ``timeout`` seconds.

    With a timeout the call runs in a daemon thread (a function that sets per-thread state, such
    as OpenMP's thread count, sets it there). Python cannot stop a thread: on a Dask cluster the
    client restarts the worker of a timed-out run; in serial mode the thread is left to finish.
    """
    if timeout is None:
        return func(**kwargs)
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = func(**kwargs)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="sweep-run", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise _RunTimeout(f"timeout: the run exceeded its limit of {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _jsonable(value: Any, where: str, bad: list[str]) -> Any:
    """A JSON-ready copy of ``value``; non-finite floats become None and are listed in ``bad``."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy / torch scalars
        value = value.item()
    elif hasattr(value, "tolist"):  # arrays
        value = value.tolist()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        bad.append(where)
        return None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{where}.{k}" if where else str(k), bad)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]", bad) for i, v in enumerate(value)]
    raise TypeError(f"{where or 'result'} is a {type(value).__name__}, not JSON-able")


def execute_run(config: Mapping[str, Any], version: str | Callable[[], str]) -> dict:
    """Run one configuration and return the worker's part of its record. Never raises.

    ``version`` gives the code version this process runs (see :func:`run_sweep`); the client
    compares it with its own. ``OMP_NUM_THREADS`` is set to 1 unless already set: the
    parallelism of a sweep is its workers.

    The returned dict has ``status`` ("ok" or "failed"), ``reason`` (None when ok), ``result``
    (the function's dict with non-finite numbers replaced by None; kept for failed runs when
    available), ``seconds`` (wall time), ``started``/``finished`` (UTC, ISO 8601), ``host``,
    ``worker``, ``worker_code`` (the code version the worker runs) and ``traceback`` (the end
    of it, for runs that raised).
    """
    started, t0 = _now(), time.perf_counter()
    status, reason, result, tb, worker_code = "ok", None, None, None, None
    try:
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        worker_code = _code_version(version)
        func = _resolve(config["func"])
        out = _call(func, dict(config.get("kwargs") or {}), config.get("timeout"))
        if not isinstance(out, Mapping):
            raise TypeError(f"{config['func']} returned a {type(out).__name__}, expected a dict")
        bad: list[str] = []
        result = _jsonable(out, "", bad)
        if bad:
            status, reason = "failed", "non-finite result: " + ", ".join(bad)
    except _RunTimeout as exc:
        status, reason = "failed", str(exc)
    except Exception as exc:  # any error of the run is its result, not the sweep's
        status, reason = "failed", f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc()[-3000:]
    return {
        "status": status,
        "reason": reason,
        "result": result,
        "seconds": time.perf_counter() - t0,
        "started": started,
        "finished": _now(),
        "host": socket.gethostname(),
        "worker": _worker_address(),
        "worker_code": worker_code,
        "traceback": tb,
    }


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _worker_address() -> str | None:
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # not inside a Dask worker
        return None


def _record(config: dict, key: str, code: str, part: dict) -> dict:
    record = {"schema": SCHEMA, "key": key, "code_version": code, "config": config, **part}
    if part.get("worker_code") not in (None, code) and record["status"] == "ok":
        # A worker running other code would file its result under the wrong key.
        record["status"] = "failed"
        record["reason"] = (f"worker runs code {part['worker_code']}, the client "
                            f"{code}: result not trusted")
    return record


def _failed_part(reason: str, seconds: float = 0.0) -> dict:
    now = _now()
    return {"status": "failed", "reason": reason, "result": None, "seconds": seconds,
            "started": now, "finished": now, "host": None, "worker": None, "worker_code": None,
            "traceback": None}


# --------------------------------------------------------------------------------------------
# Sweeps (on the client)


@dataclass(frozen=True)
class SweepReport:
    """What :func:`run_sweep` did.

    ``records`` holds one record per run of the grid, in grid order (None for a run that did not
    finish, e.g. after an interruption).
    """

    store: Path
    total: int
    cached: int  # runs found finished in the store
    executed: int  # runs executed now
    failed: int  # of the executed runs, how many failed
    seconds: float
    records: list[dict | None] = field(default_factory=list)
    problems: list[StoreProblem] = field(default_factory=list)

    def describe(self) -> str:
        """One line: counts, failures, wall time and the store."""
        done = sum(r is not None for r in self.records)
        failed_all = sum(r is not None and r["status"] == "failed" for r in self.records)
        text = (f"{done}/{self.total} runs stored ({self.cached} already there, "
                f"{self.executed} executed now in {self.seconds:.1f} s), {failed_all} of them "
                f"failed")
        if self.problems:
            text += f"; {len(self.problems)} untrusted files skipped"
        return text + f"; store {self.store}"


def lookup(runs: Iterable[Mapping], store: str | os.PathLike | ResultStore,
           version: str | Callable[[], str]) -> tuple[list[dict | None], list[StoreProblem]]:
    """The stored record of each run at the code version ``version`` gives (None where missing
    or untrusted), and the problems met."""
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    code = _code_version(version)
    before = len(store.problems)
    out = []
    for config in runs:
        out.append(store.read(store.path(config["experiment"], run_key(config, code)), code))
    return out, store.problems[before:]


def run_sweep(
    runs: Iterable[Mapping],
    store: str | os.PathLike | ResultStore,
    scheduler: Any = None,
    workers: int | None = None,
    progress: bool | None = None,
    desc: str = "sweep",
    *,
    version: str | Callable[[], str],
) -> SweepReport:
    """Execute every run of ``runs`` not yet in the store; return a :class:`SweepReport`.

    Parameters
    ----------
    runs : iterable of dict
        Run configurations (:func:`make_run`). Duplicates run once.
    store : path or ResultStore
        Where the records are.
    scheduler : None, str or distributed.Client
        None: a new ``LocalCluster`` of ``workers`` processes with one thread each (closed at the
        end). A string: the address of a running Dask scheduler (``"tcp://host:8786"``), or
        ``"serial"`` to run here, one at a time, without Dask. A ``Client``: used as is.
    workers : int, optional
        Workers of the local cluster; default the number of usable CPUs.
    progress : bool, optional
        Progress bar (done, running, failed, time left) on stderr; default: only on a terminal.
    desc : str
        Label of the progress bar.
    version : callable or str
        A function of no arguments returning the code version (a string), or its
        ``"module:function"`` reference. Part of every key; called here and on every worker (a
        function is shipped by reference, so it must be importable there), and a worker whose
        version differs has its results refused: it would file them under the wrong key.

    Records are written as their runs finish: interrupting the sweep (Ctrl-C) loses only the
    runs in flight, and the next call executes just the missing ones.
    """
    t0 = time.perf_counter()
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    version = _reference(version, "version")  # what the workers resolve
    code = _code_version(version)
    configs = [json.loads(canonical_json(dict(c))) for c in runs]
    keys = [run_key(c, code) for c in configs]
    before = len(store.problems)
    found = {k: store.read(store.path(c["experiment"], k), code) for c, k in zip(configs, keys)}
    todo = {k: c for c, k in zip(configs, keys) if found[k] is None}
    cached = sum(r is not None for r in found.values())
    if progress is None:
        progress = sys.stderr.isatty()
    failed = 0

    def finish(key: str, part: dict) -> None:
        nonlocal failed
        record = _record(todo[key], key, code, part)
        store.write(record)
        found[key] = record
        failed += record["status"] == "failed"
        if record["status"] == "failed":
            log.info("run %s failed: %s", key[:12], record["reason"])

    if todo:
        bar = _bar(len(todo), progress, desc)
        try:
            if isinstance(scheduler, str) and scheduler == "serial":
                for key, config in todo.items():
                    _bar_state(bar, running=1, failed=failed)
                    finish(key, execute_run(config, version))
                    _bar_state(bar, running=0, failed=failed, step=1)
            else:
                with _client(scheduler, workers) as client:
                    _run_on_dask(client, todo, version, finish, bar, lambda: failed)
        finally:
            if bar is not None:
                bar.close()
    records = [found[k] for k in keys]
    return SweepReport(store=store.root, total=len(configs), cached=cached,
                       executed=len(todo) - sum(found[k] is None for k in todo),
                       failed=failed, seconds=time.perf_counter() - t0, records=records,
                       problems=store.problems[before:])


def _run_on_dask(client, todo: dict, version: str, finish: Callable, bar,
                 n_failed: Callable) -> None:
    from distributed import as_completed

    slots = max(1, sum(client.nthreads().values()))
    futures = {client.submit(execute_run, config, version, key=f"sweep-run-{key}", pure=False): key
               for key, config in todo.items()}
    remaining = len(futures)
    _bar_state(bar, running=min(slots, remaining), failed=0)
    try:
        for future in as_completed(futures):
            key = futures.pop(future)
            try:
                part = future.result()
            except Exception as exc:  # the task itself died (e.g. its worker was killed)
                part = _failed_part(f"task error: {type(exc).__name__}: {exc}")
            finish(key, part)
            if part["reason"] and part["reason"].startswith("timeout") and part["worker"]:
                # The run's thread is still computing: restart its worker process to stop it.
                with contextlib.suppress(Exception):
                    client.restart_workers([part["worker"]], raise_for_error=False)
            remaining -= 1
            _bar_state(bar, running=min(slots, remaining), failed=n_failed(), step=1)
    finally:
        if futures:  # interrupted: drop what is left (finished records are already stored)
            client.cancel(list(futures))


# Dask's nanny starts its workers with MALLOC_TRIM_THRESHOLD_=65536, so that they hand freed
# memory back to the OS. Setting a trim threshold at all also fixes glibc's mmap threshold at
# 128 KiB (mallopt(3)): every larger tensor is then mapped and page-faulted afresh, each time it
# is allocated. Twelve of the book's paper-profile runs, one after another in one process, took
# 38.4-40.6 s with it and 28.9-30.0 s without (three rounds each, 2026-12-05). None drops it
# from the workers' environment.
_NO_MALLOC_TRIM = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


@contextlib.contextmanager
def _environ_kept():
    """``os.environ`` as it was, after the block. Dask's nanny writes its workers' environment
    into its own process's before starting each of them and leaves it there, for every process
    started later from this one (the book's chapter kernels, after its sweeps) to inherit."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _client(scheduler: Any, workers: int | None):
    import dask
    from distributed import Client, LocalCluster

    if scheduler is None:
        n = workers or _cpu_count()
        # Dashboard (when bokeh is installed) on a free port: a fixed one may be taken.
        with _environ_kept(), dask.config.set(_NO_MALLOC_TRIM):
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                              dashboard_address="127.0.0.1:0",
                              silence_logs=logging.ERROR) as cluster:
                with Client(cluster) as client:
                    yield client
    elif isinstance(scheduler, str):
        with Client(scheduler, timeout=CONNECT_TIMEOUT) as client:
            yield client
    else:  # a Client the caller owns
        yield scheduler


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _bar(total: int, enabled: bool, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", dynamic_ncols=True)


def _bar_state(bar, running: int, failed: int, step: int = 0) -> None:
    if bar is None:
        return
    bar.set_postfix(running=running, failed=failed, refresh=False)
    if step:
        bar.update(step)
    else:
        bar.refresh()


# --------------------------------------------------------------------------------------------
# Loading


def records_to_frame(records: Iterable[Mapping | None]) -> "pd.DataFrame":
    """One row per record: metadata, then labels, then the result's fields.

    Metadata columns: ``key``, ``experiment``, ``run_status`` ("ok"/"failed"), ``run_reason``,
    ``run_seconds``, ``finished``, ``code_version``, and ``ok`` (``run_status == "ok"``: the run
    completed; whether it reached what it aimed at is the caller's to judge). A result field
    whose name is already taken is prefixed ``result_``. Missing runs (None) are skipped.
    """
    import pandas as pd

    rows = []
    for r in records:
        if r is None:
            continue
        ok = r["status"] == "ok"
        row: dict[str, Any] = {
            "key": r["key"], "experiment": r["config"]["experiment"], "run_status": r["status"],
            "run_reason": r.get("reason"), "run_seconds": r.get("seconds"),
            "finished": r.get("finished"), "code_version": r["code_version"], "ok": ok,
        }
        for k, v in (r["config"].get("labels") or {}).items():
            row.setdefault(k, v)
        for k, v in (r.get("result") or {}).items():
            row[k if k not in row else f"result_{k}"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def load_results(
    experiment: str,
    store: str | os.PathLike | ResultStore,
    version: str | Callable[[], str] | None = None,
) -> "pd.DataFrame":
    """All stored results of ``experiment`` as a DataFrame (see :func:`records_to_frame`).

    With ``version`` (as in :func:`run_sweep`) only the records of the code version it gives;
    None: the records of every version. Untrusted files are skipped and listed in
    ``df.attrs["problems"]``.
    """
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    before = len(store.problems)
    records = store.scan(experiment, None if version is None else _code_version(version))
    df = records_to_frame(records)
    df.attrs["problems"] = [str(p) for p in store.problems[before:]]
    return df
