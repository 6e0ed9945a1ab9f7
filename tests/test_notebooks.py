"""The notebook regression: each chapter's ci execution against its reference (symdp.book.references).

``make test`` first builds the book at the ci profile, which executes every chapter into
``_build/executed/``; these tests compare those executions with ``tests/notebooks/``: text and
exact numbers as printed, trained and simulated numbers within the tolerances of
``tests/references/``. ``make test`` then executes the chapters again under other CPU kernels
(``SYMDP_EXECUTED=_build/executed-portable``) and runs these tests on that execution too.
Without an execution (``pytest tests`` alone) they skip; under ``make test`` or CI they fail.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from book_html import skip_or_fail
from symdp.book import build as bookbuild, references

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = bookbuild.present_chapters(ROOT)
EXECUTED = Path(os.environ.get("SYMDP_EXECUTED", ROOT / "_build" / "executed"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_output_matches_its_reference(chapter):
    path = EXECUTED / f"{chapter}.ipynb"
    if not path.exists():
        skip_or_fail(f"no execution of {chapter} in {EXECUTED} (make book PROFILE=ci makes one)")
    sidecar = path.with_suffix(".json")
    if sidecar.exists():  # the build's executions record what they were executed from
        record = json.loads(sidecar.read_text())
        assert record.get("profile") == "ci", f"{path} was executed at {record.get('profile')}"
        assert record.get("cache_key") == bookbuild.cache_key(ROOT, chapter, {"profile": "ci"}), (
            f"{path} is older than the chapter or the package: make book PROFILE=ci")
    diffs = references.check(ROOT, EXECUTED, [chapter])
    assert not diffs, (f"{len(diffs)} difference(s) beyond tolerance; if intended, "
                       "`make refresh-references ACCEPT=1`:\n" + "\n".join(map(str, diffs)))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_tolerance_belongs_to_a_printed_number(chapter):
    outputs = references.extract(
        nbformat.read(references.reference_dir(ROOT) / f"{chapter}.ipynb", as_version=4))
    printed = {key: text for o in outputs.values() for key, text in o.numbers}
    owner = {key: o.key for o in outputs.values() for key, _ in o.numbers}
    durations = references.load_durations(ROOT, chapter)
    for key, entry in references.load_tolerances(ROOT, chapter).items():
        assert key in printed, f"{chapter}: tolerance for {key}, which the chapter never prints"
        assert owner[key] not in durations, f"{chapter}: {key} is in a duration, never compared"
        assert references.value_of(printed[key]) == entry["reference"], (
            f"{chapter} {key}: the reference notebook prints {printed[key]}, the tolerance file "
            f"says {entry['reference']}")
        assert entry["tolerance"] == references.derive_tolerance(
            printed[key], entry["samples"].values()), f"{chapter} {key}: tolerance not derived"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_uncompared_number_is_a_printed_duration(chapter):
    outputs = references.extract(
        nbformat.read(references.reference_dir(ROOT) / f"{chapter}.ipynb", as_version=4))
    printed = set(outputs) | {key for o in outputs.values() for key, _ in o.numbers}
    for key, why in references.load_durations(ROOT, chapter).items():
        assert key in printed, f"{chapter}: {key} is listed as a duration but never printed"
        assert why.strip(), f"{chapter}: say why {key} is a duration"


# A number whose digits move across CPUs by more than this many units of its last printed digit
# prints two or more digits that another machine would print differently.
UNSUPPORTED_UNITS = 10


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_trained_number_prints_more_digits_than_its_spread_supports(chapter):
    """Two significant digits are the fewest an error or an MSE is printed with (the deck's own
    precision); from the third on, a digit must hold across the CPUs sampled (item 5 of the
    portable-regression issue). Integers are counts: their spread is an outcome, not a digit."""
    outputs = references.extract(
        nbformat.read(references.reference_dir(ROOT) / f"{chapter}.ipynb", as_version=4))
    printed = {key: text for o in outputs.values() for key, text in o.numbers}
    problems = []
    for key, entry in references.load_tolerances(ROOT, chapter).items():
        text = printed[key]
        if references.significant_digits(text) < 3 or not any(c in text for c in ".eE"):
            continue
        unit = references.last_digit_unit(text)
        moved = max(abs(references.value_of(s) - entry["reference"])
                    for s in entry["samples"].values())
        if moved > UNSUPPORTED_UNITS * unit:
            problems.append(f"{key} printed as {text} moves by {moved:.3g} across CPUs "
                            f"({moved / unit:.0f} units of its last digit)")
    assert not problems, f"{chapter}: print fewer digits:\n" + "\n".join(problems)
