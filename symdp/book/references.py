"""The book's regression references: a chapter's executed outputs against the committed ones.

``tests/notebooks/NN_slug.ipynb`` is each chapter executed at the ``ci`` profile. An execution of
the current sources is compared with it output by output (:func:`compare`):

* every output is split into its **text** and its **numbers** (:func:`split_numbers`). The text
  (prose pasted by ``glue``, table captions, headers and row labels, parameter tables, printed
  lines) must match exactly, and so must the count and order of the numbers;
* every number is compared **exactly** as printed (closed forms, coefficient counts, parameters,
  table shapes) unless ``tests/references/NN_slug.json`` lists it: those are the numbers that come
  out of training or simulation, and each must lie within its **tolerance** of the reference value
  stored next to it;
* figures are compared by name (each glued figure must exist), not by pixels; durations are
  not compared (machines differ twofold in speed): numbers printed with a unit of time
  ("3.2 s"), table columns headed by a time, and the numbers a chapter's tolerance file lists
  under ``durations`` (a ratio of two timings, or a sentence that follows from one), each with
  its reason; nor are memory addresses.

A tolerance is derived, never chosen (:func:`derive_tolerance`): the chapters are executed under
several CPU kernel settings (``spread`` below: torch's ``ATEN_CPU_CAPABILITY``, MKL's
``MKL_CBWR``, oneDNN's ``ONEDNN_MAX_CPU_ISA``) on each kind of CPU the project has run on (an
AVX2 machine cannot run AVX-512 kernels, and MKL picks its code by vendor, so one CPU's
settings do not stand in for another's own), and the reference notebooks count as one more
sample. A number whose printed text differs between any two samples
gets ``MARGIN`` times its largest deviation from the reference (at least one unit of its last
printed digit); one that never moved stays exact. The samples are stored next to the tolerance,
so a tolerance can be recomputed and questioned.

Command line (the Makefile calls these)::

    python -m symdp.book.references check _build/executed     # compare executions with the references
    python -m symdp.book.references execute OUT               # execute every chapter at ci into OUT
    python -m symdp.book.references refresh [--accept]        # re-execute at ci; write only if accepted
    python -m symdp.book.references spread [--settings ...]   # execute under every kernel setting,
                                                         # derive and write the tolerances,
                                                         # keeping other CPUs' samples unless
                                                         # --this-machine-only
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from .build import INJECTED_TAG
from .statistics import machine

__all__ = [
    "MARGIN",
    "KERNEL_SETTINGS",
    "Output",
    "Difference",
    "split_numbers",
    "extract",
    "compare",
    "derive_tolerance",
    "last_digit_unit",
    "significant_digits",
    "load_tolerances",
    "check",
    "main",
]

# A tolerance is MARGIN times the largest deviation seen across the samples. Of seven samples
# (six kernel settings and the references) the largest deviation is typically 1.7 standard
# deviations of the machine-to-machine spread; three times that keeps an unseen machine's value
# inside the band, and stays inside what a wrong model, residual or solver changes (checked with
# six such mutations when the tolerances were first derived; each failed `make test`).
MARGIN = 3.0

# Kernel settings the chapters are executed under to measure the machine-to-machine spread.
# Each changes the order or width of floating-point reductions, as another CPU would: torch's own
# kernels (ATEN_CPU_CAPABILITY), MKL's BLAS (MKL_CBWR) and oneDNN's (ONEDNN_MAX_CPU_ISA).
KERNEL_SETTINGS: dict[str, dict[str, str]] = {
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "default": {"ATEN_CPU_CAPABILITY": "default"},
    "avx2-mkl-avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2",
                      "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "default-mkl-compatible": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE",
                               "ONEDNN_MAX_CPU_ISA": "SSE41"},
    "avx512-mkl-avx2": {"ATEN_CPU_CAPABILITY": "avx512", "MKL_CBWR": "AVX2"},
}

_NUMBER = re.compile(r"(?<![\w.])[-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")
# Not compared: how long something took (machines differ twofold) and object addresses.
_VOLATILE = [
    (re.compile(r"\d+(?:\.\d+)?\s?(?:ms|s|sec|seconds|min|minutes)\b"), "<TIME>"),
    (re.compile(r"0x[0-9a-fA-F]+"), "<ADDRESS>"),
]
_TIME_COLUMN = re.compile(r"\btime\b", re.I)
_TABLE_NAME = re.compile(r"^:name:\s*(\S+)", re.M)
PLACEHOLDER = "\u2423"  # stands for a number in an output's text


@dataclass(frozen=True)
class Output:
    """One output of an executed chapter, as compared.

    ``text`` has every number replaced by :data:`PLACEHOLDER`; ``numbers`` are
    ``(key, printed text)`` pairs in order. Keys name what a number is: ``glue:lin-val-mse``,
    ``table:tab-lin-baselines[phi(ReLU)|Val MSE]``, ``setup#2``.
    """

    key: str
    text: str
    numbers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Difference:
    """What differs between the reference and an execution, for one output or number."""

    chapter: str
    key: str
    kind: str  # "text", "number", "missing", "extra"
    reference: str
    new: str
    tolerance: float | None = None

    def __str__(self) -> str:
        if self.kind == "number":
            band = "exact" if self.tolerance is None else f"tolerance {self.tolerance:.3g}"
            return f"{self.chapter} {self.key}: {self.reference} -> {self.new} ({band})"
        if self.kind == "text":
            at = next((i for i, (a, b) in enumerate(zip(self.reference, self.new)) if a != b),
                      min(len(self.reference), len(self.new)))
            start = max(at - 80, 0)  # show where the texts part, not their common start
            return (f"{self.chapter} {self.key}: text changed at character {at} (numbers shown "
                    f"as {PLACEHOLDER})\n"
                    f"    reference: ...{_short(self.reference[start:])}\n"
                    f"    now:       ...{_short(self.new[start:])}")
        return f"{self.chapter} {self.key}: {self.kind} output"


def _short(text: str, n: int = 300) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= n else text[:n] + "..."


def value_of(text: str) -> float:
    """The float a printed number stands for (``"66,821"``, ``"\u22121.5e-07"``)."""
    return float(text.replace(",", "").replace("\u2212", "-"))


def significant_digits(text: str) -> int:
    """How many significant digits a printed number shows: ``"0.016"`` 2, ``"8.53"`` 3."""
    mantissa = text.replace(",", "").lower().partition("e")[0].lstrip("-\u2212")
    return len(mantissa.replace(".", "").lstrip("0")) or 1


def last_digit_unit(text: str) -> float:
    """One unit of the last printed digit: ``"0.954"`` -> 0.001, ``"1.7e-07"`` -> 1e-08."""
    mantissa, _, exponent = text.replace(",", "").lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def split_numbers(text: str, key: str) -> tuple[str, list[tuple[str, str]]]:
    """``text`` with durations masked and numbers replaced, and the numbers keyed ``key#k``."""
    for pattern, mask in _VOLATILE:
        text = pattern.sub(mask, text)
    numbers: list[tuple[str, str]] = []

    def take(match: re.Match) -> str:
        k = len(numbers)
        numbers.append((key if k == 0 else f"{key}#{k}", match.group(0)))
        return PLACEHOLDER

    return _NUMBER.sub(take, text), numbers


def _split_table(markdown: str, key: str) -> tuple[str, list[tuple[str, str]]]:
    """A ``show_table`` directive: numbers keyed by ``[row label|column header]``."""
    lines = markdown.split("\n")
    rows = [i for i, line in enumerate(lines) if line.startswith("| ")]
    header = [c.strip() for c in lines[rows[0]].strip("| ").split(" | ")] if rows else []
    out_lines, numbers = [], []
    for i, line in enumerate(lines):
        if i not in rows or i == rows[0]:
            text, found = split_numbers(line, f"{key}[caption]")
            out_lines.append(text)
            numbers += found
            continue
        cells = line.strip("| ").split(" | ")
        label = cells[0].strip()
        texts = []
        for j, cell in enumerate(cells):
            column = header[j] if j < len(header) else str(j)
            if j and _TIME_COLUMN.search(column):
                texts.append("<TIME>")
                continue
            text, found = split_numbers(cell, f"{key}[{label}|{column}]")
            texts.append(text)
            numbers += found
        out_lines.append("| " + " | ".join(texts) + " |")
    return "\n".join(out_lines), numbers


def _glue_text(data: dict) -> str:
    plain = data.get("application/papermill.record/text/plain", "")
    try:
        value = ast.literal_eval(plain)
    except (ValueError, SyntaxError):
        return plain
    return value if isinstance(value, str) else plain


def _walk(nb):
    """Each compared output of an executed chapter: ``(cell, index, key, text, numbers)``, in order.

    The key names the output for the comparison: a glued name, ``setup``, a table's label, or
    the running count of the plain outputs.
    """
    plain = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for i, out in enumerate(cell.get("outputs", [])):
            meta = out.get("metadata", {}) or {}
            data = out.get("data", {}) or {}
            glue = (meta.get("scrapbook") or {}).get("name")
            if glue is not None:
                if any(m.startswith("application/papermill.record/image/") for m in data):
                    key, text, numbers = f"figure:{glue}", "<figure>", []
                else:
                    key = f"glue:{glue}"
                    text, numbers = split_numbers(_glue_text(data), key)
            elif "symdp_setup" in meta:
                key = "setup"
                text, numbers = split_numbers(data.get("text/markdown", ""), key)
            elif out.get("output_type") == "error":
                key = f"error{plain}"
                plain += 1
                text, numbers = f"{out.get('ename')}: {out.get('evalue')}", []
            else:
                markdown = data.get("text/markdown")
                name = _TABLE_NAME.search(markdown) if markdown else None
                if name and "{table}" in markdown:
                    key = f"table:{name.group(1)}"
                    text, numbers = _split_table(markdown, key)
                else:
                    body = out.get("text") if out.get("output_type") == "stream" else (
                        markdown if markdown is not None else data.get("text/plain", ""))
                    if isinstance(body, list):
                        body = "".join(body)
                    label = out.get("name") or out.get("output_type")
                    key = f"out{plain}:{label}"
                    plain += 1
                    text, numbers = split_numbers(body or "", key)
            yield cell, i, key, text, numbers


def extract(nb) -> dict[str, Output]:
    """Every compared output of an executed chapter notebook, keyed and in order."""
    return {key: Output(key, text, tuple(numbers)) for _, _, key, text, numbers in _walk(nb)}


def code_cells(nb, skip_injected: bool = True) -> list[str]:
    """The sources of ``nb``'s code cells (papermill's injected parameters left out): what a
    reference notebook must share with its chapter to be current."""
    return [c.source.strip() for c in nb.cells if c.cell_type == "code"
            and not (skip_injected and INJECTED_TAG in c.metadata.get("tags", []))]


def carry_outputs(executed, reference):
    """``executed`` (a notebook) with each output replaced by the reference's output of the same
    key: the new code with the reference's numbers.

    What a reference becomes when a chapter's code changed but nothing it prints moved beyond its
    tolerance: the numbers stay those the tolerances were derived around, instead of drifting to
    this machine's rounding. An output the reference lacks keeps its new value.
    """
    theirs = {key: cell.outputs[i] for cell, i, key, _, _ in _walk(reference)}
    for cell, i, key, _, _ in list(_walk(executed)):
        if key in theirs:
            cell.outputs[i] = theirs[key]
    return executed


def compare(chapter: str, reference: dict[str, Output], new: dict[str, Output],
            tolerances: dict[str, dict], durations: Iterable[str] = (),
            variants: Mapping[str, Iterable[str]] | None = None) -> list[Difference]:
    """Every difference beyond tolerance between two :func:`extract` results.

    ``tolerances`` maps a number's key to ``{"reference": value, "tolerance": tol, ...}``;
    such a number passes when ``|new - reference| <= tolerance``. Numbers and whole outputs
    keyed in ``durations`` are not compared. ``variants`` maps an output's key to the texts the
    kernel spread observed for it (a computed word, or a table row, that one CPU prints one way
    and another the other): any of them passes, and its numbers are compared only when it is the
    reference's text. Every other number, and all other text, must be as printed in the reference.
    """
    durations = set(durations)
    variants = {k: set(v) for k, v in (variants or {}).items()}
    diffs = []
    for key, ref in reference.items():
        now = new.get(key)
        if key in durations:  # a whole output that reports a duration (or a claim about one)
            continue
        if now is None:
            diffs.append(Difference(chapter, key, "missing", ref.text, ""))
            continue
        if now.text != ref.text and now.text in variants.get(key, ()):
            continue  # another text the spread saw on other kernels
        if ref.text != now.text or len(ref.numbers) != len(now.numbers):
            diffs.append(Difference(chapter, key, "text", ref.text, now.text))
            continue
        for (nkey, rtext), (_, ntext) in zip(ref.numbers, now.numbers):
            tol = tolerances.get(nkey)
            if nkey in durations:
                continue
            if tol is None:
                if rtext != ntext:
                    diffs.append(Difference(chapter, nkey, "number", rtext, ntext))
            elif not abs(value_of(ntext) - tol["reference"]) <= tol["tolerance"]:
                diffs.append(Difference(chapter, nkey, "number", f"{tol['reference']:.6g}",
                                        ntext, tol["tolerance"]))
    for key in new:
        if key not in reference:
            diffs.append(Difference(chapter, key, "extra", "", new[key].text))
    return diffs


def derive_tolerance(reference: str, samples: Iterable[str]) -> float | None:
    """``MARGIN`` x the largest deviation of ``samples`` from ``reference`` (printed texts).

    None when no sample's text differs from the reference's (the number stays exact). Never
    less than one unit of the reference's last printed digit, so a sample that rounds the
    other way passes.
    """
    ref = value_of(reference)
    samples = list(samples)
    if all(s == reference for s in samples):
        return None
    deviation = max(abs(value_of(s) - ref) for s in samples)
    return float(f"{max(MARGIN * deviation, last_digit_unit(reference)):.2g}")


# --------------------------------------------------------------------------------------------
# Files and commands

def _root() -> Path:
    return Path(__file__).resolve().parents[2]


def reference_dir(root: Path) -> Path:
    return root / "tests" / "notebooks"


def tolerance_file(root: Path, chapter: str) -> Path:
    return root / "tests" / "references" / f"{chapter}.json"


def _record(root: Path, chapter: str) -> dict:
    path = tolerance_file(root, chapter)
    return json.loads(path.read_text()) if path.exists() else {}


def load_tolerances(root: Path, chapter: str) -> dict[str, dict]:
    """The chapter's tolerated numbers: ``{key: {"reference", "tolerance", "samples", ...}}``."""
    return _record(root, chapter).get("numbers", {})


def load_durations(root: Path, chapter: str) -> dict[str, str]:
    """The chapter's numbers that are durations, not compared: ``{key: why}``."""
    return _record(root, chapter).get("durations", {})


def load_variants(root: Path, chapter: str) -> dict[str, list[str]]:
    """The chapter's outputs whose text varied across kernels: ``{key: [texts seen]}``."""
    return _record(root, chapter).get("texts", {})


def _read(path: Path) -> dict[str, Output]:
    import nbformat

    return extract(nbformat.read(path, as_version=4))


def check(root: Path, executed: Path, chapters: list[str]) -> list[Difference]:
    """Compare ``executed/NN_slug.ipynb`` with the references, for ``chapters``."""
    diffs = []
    for chapter in chapters:
        diffs += compare(chapter, _read(reference_dir(root) / f"{chapter}.ipynb"),
                         _read(executed / f"{chapter}.ipynb"), load_tolerances(root, chapter),
                         load_durations(root, chapter), load_variants(root, chapter))
    return diffs


def _chapters(root: Path) -> list[str]:
    from .build import toc_chapters

    return toc_chapters(root)


def _only(root: Path, only: list[str] | None) -> list[str]:
    """The table of contents' chapters, or those of ``only`` (each must be one of them)."""
    chapters = _chapters(root)
    if not only:
        return chapters
    unknown = [c for c in only if c not in chapters]
    if unknown:
        raise SystemExit(f"error: {unknown[0]!r} is not a chapter of _toc.yml")
    return [c for c in chapters if c in only]


def execute_into(root: Path, out: Path, chapters: list[str], profile: str, jobs: int) -> None:
    from .build import execute_into as _execute

    _execute(root, out, chapters, profile, jobs)


def refresh(root: Path, accept: bool, jobs: int = 2, executed: Path | None = None) -> int:
    """Execute every chapter at ci; report what moved; write the references only if accepted.

    ``executed``: take the executions from this folder (the ci build's ``_build/executed``)
    instead of executing again. Exit status: 0 when nothing moved beyond its tolerance (the
    references are left as they are: rewriting them with in-tolerance noise would let them
    drift) or when the moves were accepted; 1 when something moved and ``accept`` is false.
    """
    chapters = _chapters(root)
    with tempfile.TemporaryDirectory(prefix="symdp-refresh-") as tmp:
        if executed is None:
            executed = Path(tmp)
            execute_into(root, executed, chapters, "ci", jobs)
        missing = [c for c in chapters if not (reference_dir(root) / f"{c}.ipynb").exists()]
        present = [c for c in chapters if c not in missing]
        diffs = check(root, executed, present)
        for chapter in missing:
            print(f"{chapter}: no reference yet")
        for d in diffs:
            print(d)
        if not diffs and not missing:
            stale = _code_changed(root, executed, chapters)
            if not stale:
                print("the references are current: nothing moved beyond its tolerance")
                return 0
            print(f"nothing moved beyond its tolerance; the code of {', '.join(stale)} changed")
            if not accept:
                print("Nothing written. Rerun with `make refresh-references ACCEPT=1` to give the "
                      "references the new code, with their own numbers.", file=sys.stderr)
                return 1
            for chapter in stale:
                _write_recoded(root, executed, chapter)
            print(f"references of {', '.join(stale)} written to tests/notebooks/ with the new code "
                  "and their own outputs; tolerances unchanged")
            return 0
        if not accept:
            print(f"\n{len(diffs)} difference(s) beyond tolerance, {len(missing)} new chapter(s). "
                  "Nothing written. If every change above is intended, rerun with "
                  "`make refresh-references ACCEPT=1`.", file=sys.stderr)
            return 1
        reference_dir(root).mkdir(parents=True, exist_ok=True)
        for chapter in chapters:
            shutil.copy2(executed / f"{chapter}.ipynb", reference_dir(root) / f"{chapter}.ipynb")
            _rebase_tolerances(root, chapter)
        print(f"references written to tests/notebooks/ ({len(chapters)} chapters); tolerances "
              "recomputed around the new values from their stored samples")
    return 0


def _code_changed(root: Path, executed: Path, chapters: list[str]) -> list[str]:
    """The chapters whose executed code differs from their reference's."""
    import nbformat

    return [c for c in chapters
            if code_cells(nbformat.read(executed / f"{c}.ipynb", as_version=4))
            != code_cells(nbformat.read(reference_dir(root) / f"{c}.ipynb", as_version=4))]


def _write_recoded(root: Path, executed: Path, chapter: str) -> None:
    import nbformat

    path = reference_dir(root) / f"{chapter}.ipynb"
    new = carry_outputs(nbformat.read(executed / f"{chapter}.ipynb", as_version=4),
                        nbformat.read(path, as_version=4))
    nbformat.write(new, path)


def _rebase_tolerances(root: Path, chapter: str) -> None:
    """After a refresh, recentre each tolerance on the new reference value (same samples)."""
    path = tolerance_file(root, chapter)
    if not path.exists():
        return
    outputs = _read(reference_dir(root) / f"{chapter}.ipynb")
    printed = {k: t for o in outputs.values() for k, t in o.numbers}
    record = json.loads(path.read_text())
    kept = {}
    for key, entry in record["numbers"].items():
        if key not in printed:
            continue  # the number is gone from the chapter
        entry = _entry(printed[key], entry["samples"])
        if entry is not None:
            kept[key] = entry
    record["numbers"] = kept
    path.write_text(json.dumps(record, indent=1) + "\n")


def _entry(reference: str, samples: dict[str, str]) -> dict | None:
    tol = derive_tolerance(reference, samples.values())
    if tol is None:
        return None
    values = [value_of(s) for s in samples.values()] + [value_of(reference)]
    return {"reference": value_of(reference), "tolerance": tol,
            "relative": float(f"{tol / abs(value_of(reference)):.2g}")
            if value_of(reference) else None,
            "range": [min(values), max(values)], "samples": samples}


def execute_under(root: Path, setting: str, out: Path, jobs: int = 2,
                  only: list[str] | None = None) -> None:
    """Execute every chapter at ci under one of :data:`KERNEL_SETTINGS`, in a fresh process.

    The variables must be set before torch loads, so the build runs in a child process; its
    sweeps get a store of their own, so no stored run of another setting is reused.
    """
    env = {**os.environ, **KERNEL_SETTINGS[setting], "SYMDP_STORE": str(out / "store")}
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "symdp.book.references", "--root", str(root), "execute",
                    str(out), "--jobs", str(jobs), *(["--only", ",".join(only)] if only else [])],
                   env=env, check=True)


def _torch_version() -> str:
    from importlib import metadata

    return metadata.version("torch")


def spread(root: Path, out: Path, settings: list[str], reuse: bool, jobs: int = 2,
           only: list[str] | None = None, other_machines: bool = True) -> None:
    """Execute under each setting, then derive and write every chapter's tolerances (``only``:
    these chapters' alone; the other tolerance files are left as they are).

    The committed references count as one more sample (``reference-notebooks``): they were
    made on whichever machine last refreshed them. A sample is named by the CPU it ran on and
    its setting (``"AMD EPYC: avx2"``); the samples another CPU left in the tolerance files are
    kept (``other_machines``), since no kernel setting of one CPU rounds as another CPU's own
    kernels do (an AVX2 machine cannot run AVX-512 ones; MKL picks its code by vendor). After a
    change to the numerics those samples describe the old code: then run with
    ``other_machines=False`` on one kind of CPU, and as usual on each other kind.
    """
    chapters = _only(root, only)
    here = machine()["model"]
    sample_dirs = {"reference-notebooks": reference_dir(root)}
    settings_run = {"reference-notebooks": "the reference notebooks as committed when these "
                                           "tolerances were derived"}
    for setting in settings:
        target = out / setting
        if not (reuse and all((target / f"{c}.ipynb").exists() for c in chapters)):
            print(f"executing the chapters under {setting}: {KERNEL_SETTINGS[setting]}",
                  flush=True)
            execute_under(root, setting, target, jobs, only)
        sample_dirs[_sample_name(here, setting)] = target
        settings_run[_sample_name(here, setting)] = KERNEL_SETTINGS[setting]
    for chapter in chapters:
        previous = _record(root, chapter) if other_machines else {}
        record = _derive_record(root, chapter, sample_dirs, settings_run, here, previous)
        path = tolerance_file(root, chapter)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n")
        print(f"{chapter}: {len(record['numbers'])} numbers vary; "
              f"written {path.relative_to(root)}")


def _sample_name(cpu: str, setting: str) -> str:
    return f"{cpu}: {setting}"


def _machine_of(sample: str) -> str | None:
    """The CPU a sample ran on (None for the reference notebooks)."""
    return sample.rpartition(": ")[0] or None


def _derive_record(root: Path, chapter: str, sample_dirs: Mapping[str, Path],
                   settings_run: Mapping[str, object], here: str, previous: dict) -> dict:
    """One chapter's tolerance file: its reference's numbers sampled in ``sample_dirs``, plus
    the samples of other CPUs in ``previous`` (its tolerance file as it was)."""
    durations = load_durations(root, chapter)
    reference = {k: o for k, o in _read(reference_dir(root) / f"{chapter}.ipynb").items()
                 if k not in durations}  # whole outputs that are durations: not sampled
    printed = {k: t for o in reference.values() for k, t in o.numbers}
    samples: dict[str, dict[str, str]] = {k: {} for k in printed}

    def elsewhere(name: str) -> bool:  # a sample another CPU left
        return _machine_of(name) not in (None, here)

    for key, entry in previous.get("numbers", {}).items():
        if key in samples:
            samples[key].update({n: t for n, t in entry["samples"].items() if elsewhere(n)})
    texts = {k: set(v) for k, v in previous.get("texts", {}).items() if k in reference}
    for name, folder in sample_dirs.items():
        sample = _read(folder / f"{chapter}.ipynb")
        for key, ref in reference.items():
            now = sample.get(key)
            if now is None or now.text != ref.text or len(now.numbers) != len(ref.numbers):
                # A computed word or a table row that flips across kernels: the regression
                # accepts every text seen here, and compares numbers only under the reference's.
                print(f"note: {chapter} {key}: text differs under {name}; accepted as a "
                      "variant, its numbers are not sampled there")
                if now is not None:
                    texts.setdefault(key, {ref.text}).add(now.text)
                continue
            for nkey, text in now.numbers:
                samples[nkey][name] = text
    numbers = {}
    for key, text in printed.items():
        entry = None if key in durations else _entry(text, samples[key])
        if entry is not None:
            numbers[key] = entry
    machines = {_machine_of(n) for kept in samples.values() for n in kept} - {None}
    settings = {n: v for n, v in previous.get("settings", {}).items() if elsewhere(n)}
    return {
        "about": "Numbers of this chapter's ci execution that vary across CPUs and their "
                 "kernels, each with its tolerance: MARGIN x its largest deviation from the "
                 "reference across the samples, at least one unit of its last printed digit. "
                 "Written by `make tolerances` (symdp/book/references.py), which keeps the "
                 "samples other CPUs left; every other number is compared exactly.",
        "margin": MARGIN,
        "settings": {**settings, **settings_run},
        "cpus": sorted(machines | {here}),
        "torch": _torch_version(),
        "durations": durations,
        "numbers": numbers,
        "texts": {k: sorted(v) for k, v in texts.items()},
    }


def _names(text: str) -> list[str]:
    return [c for c in text.split(",") if c]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m symdp.book.references", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(_root()))
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="compare executed notebooks with the references")
    p_check.add_argument("executed", help="folder of executed NN_slug.ipynb (ci profile)")
    p_ex = sub.add_parser("execute", help="execute every chapter at ci into a folder")
    p_ex.add_argument("out")
    p_ex.add_argument("--jobs", type=int, default=2)
    p_ex.add_argument("--only", default="", help="comma-separated chapters (default: all)")
    p_ref = sub.add_parser("refresh", help="re-execute at ci; write only with --accept")
    p_ref.add_argument("--accept", action="store_true")
    p_ref.add_argument("--jobs", type=int, default=2)
    p_ref.add_argument("--executed", help="use these ci executions instead of executing")
    p_sp = sub.add_parser("spread", help="execute under kernel settings; derive tolerances")
    p_sp.add_argument("--out", default="_build/spread")
    p_sp.add_argument("--settings", default=",".join(KERNEL_SETTINGS))
    p_sp.add_argument("--reuse", action="store_true", help="keep executions already in --out")
    p_sp.add_argument("--jobs", type=int, default=2)
    p_sp.add_argument("--only", default="", help="comma-separated chapters (default: all)")
    p_sp.add_argument("--this-machine-only", action="store_true",
                      help="drop the samples other CPUs left (after a change to the numerics)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if args.command == "check":
        diffs = check(root, Path(args.executed), _chapters(root))
        for d in diffs:
            print(d)
        print(f"{len(diffs)} difference(s) beyond tolerance" if diffs else
              "every chapter matches its reference")
        return 1 if diffs else 0
    if args.command == "execute":
        import torch

        print(f"executing the chapters at ci into {args.out} (torch CPU kernels: "
              f"{torch.backends.cpu.get_cpu_capability()}, MKL_CBWR="
              f"{os.environ.get('MKL_CBWR', 'unset')})", flush=True)
        execute_into(root, Path(args.out).resolve(), _only(root, _names(args.only)), "ci",
                     args.jobs)
        return 0
    if args.command == "refresh":
        return refresh(root, args.accept, args.jobs,
                       Path(args.executed).resolve() if args.executed else None)
    settings = [s for s in args.settings.split(",") if s]
    unknown = [s for s in settings if s not in KERNEL_SETTINGS]
    if unknown:
        print(f"error: unknown setting {unknown[0]!r} (known: {', '.join(KERNEL_SETTINGS)})",
              file=sys.stderr)
        return 2
    spread(root, (root / args.out).resolve(), settings, args.reuse, args.jobs,
           _names(args.only), other_machines=not args.this_machine_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
