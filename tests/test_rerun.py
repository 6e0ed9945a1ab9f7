"""A chapter rerun with other parameters stays true (issue 10, item 5).

Every chapter is executed once more at the ci profile with a second set of parameters
(:data:`RERUN`), as a reader would with ``make chapter CHAPTER=... PARAMS="..."``, into
``_build/executed-rerun`` (or ``$SYMDP_RERUN_EXECUTED`` when a run has already made it). On that
execution, and on the ci execution the notebook regression reads (``_build/executed``):

* the page opens with the banner that names every parameter that differs from the published
  profile, with its published value;
* no computed word (:func:`symdp.book.chapter.compare`) contradicts the numbers printed next to it
  (:func:`symdp.book.chapter.contradictions`);
* every deck note says the page is not the deck's configuration when a setting it names departs;

and in every chapter's source, no caption or sentence names a deck figure or table as its own
configuration in typed text ("Deck: Figure 4."): that is :func:`symdp.book.chapter.deck_note`'s job.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from symdp.book import build as bookbuild, chapter as chapters, contract

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = bookbuild.present_chapters(ROOT)

# A second parameter set per chapter, on top of the ci profile: other sizes, seeds and curvature,
# as cheap as ci. Chapter 7's is the reader's rerun of the review (N, nu and seed all changed).
RERUN: dict[str, dict] = {
    "01_problem": {"N": 24, "T": 30, "trajectories": 3},
    "02_permutation_invariance": {"N": 24, "trajectories": 2, "T": 23, "permutations": 50,
                                  "epochs": 20, "mlp_epochs": 10, "replicate": 3},
    "03_representation": {"N": 24, "trajectories": 3, "T": 23},
    "04_concentration": {"Ns": [32, 256], "draws": 150, "mc_draws": 800, "train_N": 24,
                         "seeds": 2, "bias_N": 24},
    "05_linear": {"N": 64, "seed": 1, "test_trajectories": 16, "paths_shown": 2},
    "06_scaling": {"N_check": 128, "batch": 2},
    "07_nonlinear": {"N": 16, "nu": 1.2, "nus": [1.0, 1.2], "seed": 3},
    "08_implicit_bias": {"N": 24, "steps": 1500, "seeds": 2},
    "09_own_model": {"N": 64, "seed": 1, "test_trajectories": 8},
    "10_decreasing_returns": {"N": 64, "seeds": [1], "test_trajectories": 16,
                              "adam_max_epochs": 30, "nu": 1.2, "nl_max_epochs": 3},
    "11_two_types": {"N": 64, "seeds": [1], "max_epochs": 10, "adam_epochs": 8, "nl_epochs": 2,
                     "fresh_states": 4},
    "12_vector_state": {"N": 64, "seeds": [1], "max_epochs": 8, "adam_max_epochs": 3,
                        "test_trajectories": 16,
                        "own_seed": 1, "nl_max_epochs": 3, "fresh_states": 8,
                        "fresh_draws": 64},
}


def test_every_chapter_has_a_second_parameter_set():
    assert sorted(RERUN) == sorted(CHAPTERS)
    for chapter, params in RERUN.items():
        bookbuild.validate_params(ROOT, chapter, params, "ci")


@pytest.fixture(scope="module")
def rerun_dir() -> Path:
    given = os.environ.get("SYMDP_RERUN_EXECUTED")
    if given:
        return Path(given)
    out = ROOT / "_build" / "executed-rerun"
    bookbuild.execute_into(ROOT, out, CHAPTERS, "ci", jobs=2, overrides=RERUN)
    return out


def _executed(directory: Path, chapter: str):
    path = directory / f"{chapter}.ipynb"
    assert path.exists(), f"{path} is missing: execute the chapters first"
    return nbformat.read(path, as_version=4)


def _setup_markdown(nb) -> str:
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if "symdp_setup" in (out.get("metadata") or {}):
                return out["data"]["text/markdown"]
    raise AssertionError("no setup() output: the chapter does not call symdp.book.chapter.setup")


def _deck_problems(nb) -> list[str]:
    problems = []
    for name, text, rec in chapters.claim_records(nb):
        if rec.get("kind") == "deck" and rec["deck"] != (not rec["differ"]):
            problems.append(f"{name}: inconsistent record {rec}")
        if rec.get("kind") == "deck" and not rec["deck"] and "not the deck's" not in text:
            problems.append(f"{name}: departs from the deck but says {text!r}")
    return problems


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_rerun_page_names_its_departures_at_the_top(rerun_dir, chapter):
    md = _setup_markdown(_executed(rerun_dir, chapter))
    assert md.startswith(":::{warning}"), f"{chapter}: the rerun page opens without the banner"
    banner = md.split(":::")[1]
    for name, value in RERUN[chapter].items():
        shown = f"`{name} = {contract.format_value(value)}` (published: "
        assert shown in banner, f"{chapter}: the banner does not name {name} = {value!r}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_computed_word_contradicts_its_numbers_on_a_rerun(rerun_dir, chapter):
    nb = _executed(rerun_dir, chapter)
    problems = chapters.contradictions(nb) + _deck_problems(nb)
    assert not problems, f"{chapter}:\n" + "\n".join(problems)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_computed_word_contradicts_its_numbers_at_ci(chapter):
    directory = Path(os.environ.get("SYMDP_EXECUTED", ROOT / "_build" / "executed"))
    nb = _executed(directory, chapter)
    problems = chapters.contradictions(nb) + _deck_problems(nb)
    assert not problems, f"{chapter}:\n" + "\n".join(problems)


_TYPED_DECK = re.compile(r"Deck: (Figure|Table) \d")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_deck_configuration_is_typed_by_hand(chapter):
    source = (ROOT / "book" / f"{chapter}.md").read_text()
    typed = [line.strip() for line in source.splitlines() if _TYPED_DECK.search(line)]
    assert not typed, (f"{chapter} names a deck figure or table as its own configuration in "
                       f"typed text (use symdp.book.chapter.deck_note): {typed}")
