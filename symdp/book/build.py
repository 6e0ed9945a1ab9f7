"""Build the book: execute the Jupytext chapters with papermill, then render them with Jupyter Book.

Run from the repository root (the Makefile does)::

    python -m symdp.book.build book [--profile paper|ci] [--only 01_problem,05_linear] [--jobs 2]
    python -m symdp.book.build chapter 05_linear [--profile paper] [--params "N=256 nu=1.2"]
    python -m symdp.book.build check-params 05_linear --params "N=256"

``book`` executes every chapter of ``_toc.yml`` (``book/NN_slug.md``, converted with jupytext)
with papermill at the chosen profile into ``_build/executed/NN_slug.ipynb``; an execution is
reused while its cache key (chapter source, parameters, symdp sources) is unchanged. Each
execution writes a JSON sidecar (profile, parameters, wall time, versions, CPU). Then a source tree
is staged in ``_build/src`` (configuration, bibliography, the executed notebooks, not the ``.md``
twins, and a generated "Execution statistics" page) and ``jupyter-book build -W`` renders it into
``_build/html``; Jupyter Book never executes anything itself.

Before executing, ``book`` runs the sweeps that the chapters to execute declare (``sweeps=`` of
the ``CHAPTER`` in each chapter's cell tagged ``chapter``, read with
:func:`symdp.book.contract.read`; a chapter can read no other, see
:meth:`symdp.book.chapter.ChapterConfig.results`) as one sweep on one cluster
(:func:`symdp.runs.experiments.run_all`), so every run has a core to itself; the chapters,
executed two at a time, then read the result store. (Left to the chapters, two sweeps would share
the two cores, each run would take twice as long, and wall-clock caps would fail some of them.)

``chapter`` reruns one chapter with new parameter values (Python literals, the ``PARAMS`` syntax
of :mod:`symdp.book.contract`) and rebuilds the book with the other chapters' latest executions
(executing those that have none). A parameter the chapter's ``parameters`` cell does not define,
or a profile its ``CHAPTER`` does not declare, is an error (exit status 2, one line naming it).

The "Execution statistics" page is written by :mod:`symdp.book.statistics` from the JSON sidecars.

The regression references (``tests/notebooks/``) are made and checked by
:mod:`symdp.book.references`, which executes chapters with :func:`execute_into`.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from .._sources import package_files, source_hash
from . import contract, statistics

__all__ = [
    "BuildError",
    "UsageError",
    "toc_entries",
    "toc_chapters",
    "check_toc",
    "chapter_notebook",
    "validate_params",
    "cache_key",
    "execute_chapter",
    "build_book",
    "main",
]

# Not part of a chapter execution: editing them must not re-execute the book.
BUILD_TOOLS = frozenset({"book/build.py", "book/references.py", "book/statistics.py"})
KERNEL_NAME = "symdp-book"  # a kernelspec pointing at this interpreter, installed in sys.prefix
GENERATED = {"book/execution_statistics"}  # toc entries written by the build, not in the repo
CHAPTER_RE = re.compile(r"^book/(\d\d_[a-z0-9_]+)$")
INJECTED_TAG = "injected-parameters"

# Jupyter Book's LaTeX class (jupyterBook.cls) loads bbm.sty for \mathbbm, used only by macros this
# book never calls; Debian ships bbm.sty solely in the 1.4 GB texlive-fonts-extra. This stand-in
# (blackboard bold from amssymb) is copied next to the .tex file, so `make pdf` needs only the
# small TeX packages the Makefile installs.
BBM_STY = r"""\NeedsTeXFormat{LaTeX2e}
\ProvidesPackage{bbm}[2025/01/01 symdp stand-in: mathbbm as amssymb's mathbb]
\RequirePackage{amssymb}
\providecommand{\mathbbm}[1]{\mathbb{#1}}
"""


class UsageError(Exception):
    """Bad input from the command line (exit status 2)."""


class BuildError(Exception):
    """The build cannot go on (exit status 1)."""


# --------------------------------------------------------------------------------------------
# The table of contents and the chapters


def toc_entries(root: Path) -> list[str]:
    """Every ``file:`` of ``_toc.yml`` in reading order, the root first (e.g. ``book/index``)."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    out = [toc["root"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                out.append(node["file"])
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key, []) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [re.sub(r"\.(md|ipynb)$", "", e) for e in out]


def toc_chapters(root: Path) -> list[str]:
    """The chapter stems listed in the toc, in order (``["01_problem", ...]``)."""
    return [m.group(1) for e in toc_entries(root) if (m := CHAPTER_RE.match(e))]


def present_chapters(root: Path) -> list[str]:
    """The chapter stems that have a ``book/NN_slug.md``, sorted."""
    return sorted(p.stem for p in (root / "book").glob("[0-9][0-9]_*.md"))


def check_toc(root: Path, only: list[str] | None = None) -> None:
    """Fail, naming the entry, if a toc entry (restricted to ``only`` chapters) has no source."""
    for entry in toc_entries(root):
        if entry in GENERATED:
            continue
        m = CHAPTER_RE.match(entry)
        if m and only is not None and m.group(1) not in only:
            continue
        if m:
            for ext in (".md", ".ipynb"):
                if not (root / f"{entry}{ext}").exists():
                    raise BuildError(
                        f"_toc.yml lists {entry} but {entry}{ext} does not exist "
                        "(every chapter is a paired book/NN_slug.md + book/NN_slug.ipynb)"
                    )
        elif not any((root / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")):
            raise BuildError(f"_toc.yml lists {entry} but {entry}.md does not exist")
    if only is not None:
        listed = set(toc_chapters(root))
        for name in only:
            if name not in listed:
                raise UsageError(f"chapter {name!r} is not in _toc.yml (chapters: "
                                 f"{', '.join(sorted(listed))})")


def chapter_notebook(root: Path, chapter: str):
    """The chapter's notebook as jupytext reads it from ``book/<chapter>.md``."""
    import jupytext

    path = root / "book" / f"{chapter}.md"
    if not path.exists():
        raise UsageError(f"no chapter {chapter!r}: {path.relative_to(root)} does not exist")
    return jupytext.read(path)


def _declaration(root: Path, chapter: str, error: type[Exception] = BuildError) -> contract.Chapter:
    """The chapter's ``CHAPTER`` (:func:`symdp.book.contract.read`), its errors as ``error``."""
    try:
        return contract.read(root, chapter)
    except ValueError as exc:
        raise error(str(exc)) from None


def _parse_params(text: str | None) -> dict[str, Any]:
    """:func:`symdp.book.contract.parse_params`, its errors raised as :class:`UsageError`."""
    try:
        return contract.parse_params(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def validate_params(root: Path, chapter: str, values: dict[str, Any],
                    profile: str | None = None) -> list[str]:
    """Raise UsageError naming the first parameter (or the profile) the chapter does not have.

    Returns the names ``PARAMS`` may set: ``profile`` and the chapter's parameters.
    """
    declared = _declaration(root, chapter, UsageError)
    names = ["profile", *declared.parameters]
    for name in values:
        if name not in names:
            raise UsageError(
                f"chapter {chapter} has no parameter {name!r} (its parameters: {', '.join(names)})"
            )
    profile = values.get("profile", profile)
    if profile is not None:
        try:
            declared.profile(profile)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return names


# --------------------------------------------------------------------------------------------
# Execution


def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()


def symdp_hash() -> str:
    """Hash of the package sources a chapter can depend on (the build and test tools excluded)."""
    return source_hash(f for f in package_files() if f not in BUILD_TOOLS)


def cache_key(root: Path, chapter: str, parameters: dict[str, Any]) -> str:
    """Chapter source + papermill's parameters + symdp sources."""
    src = (root / "book" / f"{chapter}.md").read_bytes()
    return _sha(src, json.dumps(parameters, sort_keys=True, default=repr).encode(),
                symdp_hash().encode())


def ensure_kernel() -> str:
    """Install (once) a kernelspec that runs this interpreter, so chapters run in this venv."""
    spec_dir = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "--log-level=ERROR", "-f",
                 "{connection_file}"],
        "display_name": "Python 3 (symdp)",
        "language": "python",
    }
    path = spec_dir / "kernel.json"
    if not path.exists() or json.loads(path.read_text()) != spec:
        spec_dir.mkdir(parents=True, exist_ok=True)
        # written whole, then renamed: a build in another process may be reading it
        tmp = path.with_name(f"kernel.json.{os.getpid()}")
        tmp.write_text(json.dumps(spec, indent=1))
        os.replace(tmp, path)
    return KERNEL_NAME


def clean_notebook(nb, chapter_nb) -> None:
    """Drop papermill's and jupytext's volatile metadata; restore the chapter's kernelspec."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = chapter_nb.metadata.get(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)


def _setup_output(nb) -> dict | None:
    """The resolved parameters that symdp.book.chapter.setup() recorded in its output's metadata."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("symdp_setup")
            if meta:
                return dict(meta)
    return None


def _first_error(nb) -> str:
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
    return "unknown error"


@dataclass(frozen=True)
class Job:
    """One chapter execution; ``parameters`` are papermill's (``profile`` and any overrides)."""

    root: str
    chapter: str
    parameters: dict
    output: str  # notebook written here
    sidecar: str | None  # JSON statistics written here (None: no sidecar)
    key: str | None


def execute_chapter(job: Job) -> dict:
    """Convert ``book/<chapter>.md`` with jupytext, execute it with papermill, clean, record."""
    import jupytext
    import nbformat
    import papermill as pm

    root = Path(job.root)
    chapter_nb = chapter_notebook(root, job.chapter)
    out = Path(job.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    source = out.with_suffix(".source.ipynb")
    jupytext.write(chapter_nb, source, fmt="ipynb")
    kernel = ensure_kernel()
    started = _dt.datetime.now(_dt.timezone.utc)
    t0 = time.perf_counter()
    error = None
    try:
        pm.execute_notebook(
            str(source), str(out), parameters=job.parameters, kernel_name=kernel,
            cwd=str(root / "book"), progress_bar=False, log_output=False,
        )
    except pm.PapermillExecutionError:
        error = _first_error(nbformat.read(out, as_version=4))
    finally:
        source.unlink(missing_ok=True)
    wall = time.perf_counter() - t0
    nb = nbformat.read(out, as_version=4)
    clean_notebook(nb, chapter_nb)
    nbformat.write(nb, out)
    stats = {
        "chapter": job.chapter,
        "profile": job.parameters.get("profile"),
        "parameters": job.parameters,
        "resolved": _setup_output(nb),
        "wall_seconds": round(wall, 2),
        "started_utc": started.isoformat(timespec="seconds"),
        "versions": statistics.versions(),
        "cpu": statistics.machine(),
        "torch_threads": 1,
        "cache_key": job.key,
        "error": error,
    }
    if job.sidecar:
        Path(job.sidecar).write_text(json.dumps(stats, indent=1, default=repr))
    return stats


def _sweeps(root: Path, chapters: list[str]) -> list[str]:
    """Every sweep the ``chapters`` declare, once, sorted."""
    return sorted({name for c in chapters for name in _declaration(root, c).sweeps})


def _run_sweeps(names: list[str], profile: str) -> None:
    from ..runs import experiments

    print(f"running the sweeps {', '.join(names)} at profile {profile!r} (stored runs are "
          "reused)", flush=True)
    t0 = time.perf_counter()
    report = experiments.run_all(profile, names)
    print(f"  sweeps: done in {time.perf_counter() - t0:.1f} s: {report.describe()}", flush=True)


def _run_jobs(jobs: list[Job], n_workers: int) -> list[dict]:
    for job in jobs:
        print(f"executing {job.chapter} with {_fmt_parameters(job.parameters)}", flush=True)
    if n_workers <= 1 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(execute_chapter(job))
            _report(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=get_context("spawn")) as pool:
        results = []
        for stats in pool.map(execute_chapter, jobs):
            _report(stats)
            results.append(stats)
        return results


def _report(stats: dict) -> None:
    status = f"FAILED ({stats['error']})" if stats["error"] else "done"
    print(f"  {stats['chapter']}: {status} in {stats['wall_seconds']:.1f} s", flush=True)


def _fmt_parameters(parameters: dict) -> str:
    return " ".join(f"{k}={v!r}" for k, v in parameters.items())


def _raise_failures(results: list[dict], where: str) -> None:
    failed = [r for r in results if r["error"]]
    if failed:
        lines = [f"{r['chapter']} failed at {r['error']} (see {where}/{r['chapter']}.ipynb)"
                 for r in failed]
        raise BuildError("; ".join(lines))


# --------------------------------------------------------------------------------------------
# Staging and rendering


# Sphinx's warning types of a reference whose target is missing: a label, a numbered figure or
# table, an equation, a page.
_CROSS_REFERENCE_WARNINGS = ("ref.ref", "ref.numref", "ref.eq", "ref.doc")


def _suppress_cross_references(config: Path) -> None:
    """A book of some chapters: their references to the others have no target, so Sphinx's
    warnings about missing targets stay quiet (the whole book, built with -W, still checks
    every reference)."""
    import yaml

    data = yaml.safe_load(config.read_text())
    sphinx_config = data.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["suppress_warnings"] = [*sphinx_config.get("suppress_warnings", []),
                                          *_CROSS_REFERENCE_WARNINGS]
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _stage(root: Path, executed: Path, chapters: list[str], only: list[str] | None) -> Path:
    import nbformat
    import yaml

    src = root / "_build" / "src"
    if src.exists():
        shutil.rmtree(src)
    (src / "book").mkdir(parents=True)
    shutil.copy2(root / "_config.yml", src / "_config.yml")
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    if only is not None:
        toc = _filter_toc(toc, {f"book/{c}" for c in toc_chapters(root) if c not in only})
        _suppress_cross_references(src / "_config.yml")
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    chapter_re = re.compile(r"^\d\d_[a-z0-9_]+\.(md|ipynb)$")
    for path in (root / "book").iterdir():
        if path.name.startswith(".") or path.name == "_build" or chapter_re.match(path.name):
            continue  # the chapters come from their executions, never from the .md twins
        if path.is_dir():
            shutil.copytree(path, src / "book" / path.name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(path, src / "book" / path.name)
    for chapter in chapters:
        nb = nbformat.read(executed / f"{chapter}.ipynb", as_version=4)
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            # Readers see the resolved parameter table (setup's output), not the raw cells.
            if ("parameters" in tags or INJECTED_TAG in tags) and "remove-cell" not in tags:
                cell.metadata["tags"] = [*tags, "remove-cell"]
        nbformat.write(nb, src / "book" / f"{chapter}.ipynb")
    stats = []
    for chapter in chapters:
        sidecar = executed / f"{chapter}.json"
        stats.append(json.loads(sidecar.read_text()) if sidecar.exists() else {"chapter": chapter})
    (src / "book" / "execution_statistics.md").write_text(statistics.page(root, stats))
    (src / "_latex").mkdir()
    (src / "_latex" / "bbm.sty").write_text(BBM_STY)  # see latex_additional_files, _config.yml
    return src


def _filter_toc(node: Any, drop: set[str]) -> Any:
    """``node`` without the entries whose file is in ``drop``, and without the parts left with
    no chapter (Jupyter Book rejects an empty part)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in ("parts", "chapters", "sections") and isinstance(v, list):
                kept = [_filter_toc(c, drop) for c in v
                        if not (isinstance(c, dict) and c.get("file") in drop)]
                if k == "parts":
                    kept = [part for part in kept if part.get("chapters")]
                out[k] = kept
            else:
                out[k] = v
        return out
    return node


def _render(root: Path, src: Path, builder: str) -> Path:
    # A fresh Sphinx environment every time: the staged tree is rewritten on each build anyway,
    # and stale pages or labels of an earlier build must not survive into this one.
    out = root / "_build" / ("html" if builder == "html" else "latex")
    for stale in (root / "_build" / ".doctrees", out):
        if stale.exists():
            shutil.rmtree(stale)
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb if jb.exists() else "jupyter-book"), "build", str(src), "--path-output",
           str(root), "--builder", builder, "-W", "-n", "--keep-going", "-q"]
    print("rendering:", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=root)
    if proc.returncode != 0:
        raise BuildError(f"jupyter-book build failed (exit {proc.returncode}); see the "
                         "warnings above (warnings are errors)")
    if builder == "pdflatex":
        pdfs = sorted(out.glob("*.pdf"))
        if not pdfs:
            raise BuildError(f"the LaTeX build wrote no PDF in {out.relative_to(root)}/")
        print(f"PDF written to {pdfs[0].relative_to(root)}", flush=True)
        return pdfs[0]
    print(f"book written to {out.relative_to(root)}/", flush=True)
    return out


# --------------------------------------------------------------------------------------------
# Commands


def _chapters_for(root: Path, only: list[str] | None) -> list[str]:
    check_toc(root, only)
    chapters = toc_chapters(root)
    return [c for c in chapters if only is None or c in only]


def build_book(root: Path, profile: str = contract.PUBLISHED, only: list[str] | None = None,
               jobs: int = 2, builder: str = "html", target: tuple[str, dict] | None = None,
               force: bool = False) -> Path:
    """Execute what needs executing, stage, render. See the module docstring.

    ``target=(chapter, overrides)``: rerun that chapter with ``overrides`` (the ``chapter``
    command); the other chapters then reuse any execution they have, whatever its parameters.
    """
    chapters = _chapters_for(root, only)
    executed = root / "_build" / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    todo = []
    for chapter in chapters:
        parameters = {"profile": profile}
        reuse_any = False
        if target is not None:
            if chapter == target[0]:
                parameters.update(target[1])
            else:
                reuse_any = True
        key = cache_key(root, chapter, parameters)
        nb_path, sidecar = executed / f"{chapter}.ipynb", executed / f"{chapter}.json"
        if nb_path.exists() and sidecar.exists() and not (force and target is None):
            record = json.loads(sidecar.read_text())
            if record.get("error") is None and (reuse_any or record.get("cache_key") == key):
                if reuse_any and record.get("cache_key") != cache_key(
                        root, chapter, record.get("parameters", {})):
                    print(f"note: {chapter} is shown from an execution of an older source or "
                          "package; `make book` re-executes it", flush=True)
                print(f"cached {chapter} ({_fmt_parameters(record.get('parameters', {}))})",
                      flush=True)
                continue
        todo.append(Job(str(root), chapter, parameters, str(nb_path), str(sidecar), key))
    sweeps = _sweeps(root, [job.chapter for job in todo])
    if sweeps and target is None:
        _run_sweeps(sweeps, profile)
    results = _run_jobs(todo, jobs)
    _raise_failures(results, "_build/executed")
    src = _stage(root, executed, chapters, only)
    return _render(root, src, builder)


def execute_into(root: Path, out_dir: Path, chapters: list[str], profile: str = "ci",
                 jobs: int = 2, overrides: dict[str, dict[str, Any]] | None = None) -> None:
    """Execute ``chapters`` at ``profile`` into ``out_dir/NN_slug.ipynb``, their sweeps first.

    What ``make refresh-references``, the tolerance measurement and the rerun test execute (no
    cache, no rendering); ``overrides[chapter]`` sets parameters as ``PARAMS`` would. Raises
    :class:`BuildError` naming any chapter that failed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    overrides = overrides or {}
    for chapter, values in overrides.items():
        validate_params(root, chapter, dict(values), profile)
    sweeps = _sweeps(root, chapters)
    if sweeps:
        _run_sweeps(sweeps, profile)
    todo = [Job(str(root), c, {"profile": profile, **overrides.get(c, {})},
                str(out_dir / f"{c}.ipynb"), None, None)
            for c in chapters]
    _raise_failures(_run_jobs(todo, jobs), str(out_dir))


def _split(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [t for t in re.split(r"[,\s]+", text.strip()) if t]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m symdp.book.build", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=".", help="repository root (default: .)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_book = sub.add_parser("book", help="execute (cached) and render every chapter")
    p_book.add_argument("--profile", default=contract.PUBLISHED)
    p_book.add_argument("--only", help="build a book of these chapters only (comma-separated)")
    p_book.add_argument("--jobs", type=int, default=2, help="chapters executed at once")
    p_book.add_argument("--builder", default="html", help="jupyter-book builder (html, pdflatex)")
    p_book.add_argument("--force", action="store_true", help="re-execute even if cached")
    p_ch = sub.add_parser("chapter", help="rerun one chapter with new parameters, rebuild")
    p_ch.add_argument("chapter")
    p_ch.add_argument("--profile", default=contract.PUBLISHED)
    p_ch.add_argument("--params", default="", help='e.g. "N=256 nu=1.2" (Python literals)')
    p_ch.add_argument("--jobs", type=int, default=2)
    p_ch.add_argument("--builder", default="html")
    p_chk = sub.add_parser("check-params", help="validate PARAMS for a chapter, run nothing")
    p_chk.add_argument("chapter")
    p_chk.add_argument("--params", default="")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    try:
        if not (root / "_toc.yml").exists():
            raise UsageError(f"{root} has no _toc.yml: run from the repository root")
        if args.command == "book":
            build_book(root, args.profile, _split(args.only), args.jobs, args.builder,
                       force=args.force)
        elif args.command == "chapter":
            chapter = args.chapter.removeprefix("book/").removesuffix(".md")
            values = _parse_params(args.params)
            validate_params(root, chapter, values, args.profile)
            if chapter not in toc_chapters(root):
                raise UsageError(f"chapter {chapter!r} is not listed in _toc.yml")
            build_book(root, args.profile, None, args.jobs, args.builder,
                       target=(chapter, values))
        elif args.command == "check-params":
            values = _parse_params(args.params)
            names = validate_params(root, args.chapter, values)
            print(f"ok: {args.chapter} parameters {', '.join(names)}")
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
