"""The book's machinery: Jupytext pairs in sync, regression references current, toc complete, the
rerun command strict about parameters, the build running the declared sweeps first, and the chapter
helpers (symdp.book.chapter) validating their input.

The chapter contract itself (declarations, PARAMS) is tested by tests/test_contract.py; the
chapters' executions are compared with the reference notebooks by tests/test_notebooks.py.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest

from symdp.book import build as bookbuild, chapter as chapters, contract, references, statistics

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
REFS = ROOT / "tests" / "notebooks"
CHAPTERS = bookbuild.present_chapters(ROOT)
REFRESH = "reference stale, run make refresh-references"


def _cells(nb) -> list[tuple[str, str, tuple]]:
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", []))) for c in nb.cells]


def _code(nb, skip_injected: bool = False) -> list[str]:
    return references.code_cells(nb, skip_injected)


def test_there_are_chapters():
    assert CHAPTERS, "no book/NN_slug.md chapters found"


# (a) Jupytext pairs ----------------------------------------------------------------------------

@pytest.mark.parametrize("chapter", CHAPTERS)
def test_pair_in_sync(chapter):
    md, ipynb = BOOK / f"{chapter}.md", BOOK / f"{chapter}.ipynb"
    assert ipynb.exists(), f"{ipynb.relative_to(ROOT)} is missing: run jupytext --sync {md.relative_to(ROOT)}"
    a, b = _cells(jupytext.read(md)), _cells(jupytext.read(ipynb))
    if a != b:
        k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        drifted = max((md, ipynb), key=lambda p: p.stat().st_mtime)
        other = ipynb if drifted == md else md
        pytest.fail(f"{drifted.relative_to(ROOT)} drifted from its pair {other.relative_to(ROOT)} "
                    f"(first difference at cell {k}): run jupytext --sync "
                    f"{drifted.relative_to(ROOT)}")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_paired_notebook_committed_without_outputs(chapter):
    nb = nbformat.read(BOOK / f"{chapter}.ipynb", as_version=4)
    with_outputs = [i for i, c in enumerate(nb.cells)
                    if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not with_outputs, (f"book/{chapter}.ipynb has outputs in cells {with_outputs}: "
                              "commit it without outputs (jupytext --to ipynb)")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_follows_the_conventions(chapter):
    """Jupytext header, a parameters cell with profile, the declaration hidden from readers, then
    setup() with that declaration (whose name tests/test_contract.py checks against the file)."""
    md_text = (BOOK / f"{chapter}.md").read_text()
    assert "formats: ipynb,md:myst" in md_text, f"book/{chapter}.md lacks the jupytext pairing header"
    nb = jupytext.read(BOOK / f"{chapter}.md")
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 3
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell must be tagged parameters"
    names = contract.parameter_names(nb)
    assert names[0] == "profile", "the parameters cell starts with profile = \"paper\""
    values = {t.id: ast.literal_eval(n.value) for n in ast.parse(code[0].source).body
              if isinstance(n, ast.Assign) for t in n.targets}
    assert values["profile"] == "paper"
    assert all(values[n] is None for n in names[1:]), "chapter parameters default to None"
    tags = code[1].metadata.get("tags", [])
    assert contract.TAG in tags, "the second code cell declares CHAPTER (tagged 'chapter')"
    assert "remove-cell" in tags, "readers do not see the declaration: tag it remove-cell too"
    assert "remove-input" in code[2].metadata.get("tags", [])
    call = next(n for n in ast.walk(ast.parse(code[2].source))
                if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "setup")
    assert [ast.unparse(a) for a in call.args] == ["CHAPTER", "profile"], (
        "the third code cell is cfg = setup(CHAPTER, profile, ...)")
    assert sorted(k.arg for k in call.keywords) == sorted(names[1:]), (
        "setup() must receive every parameter of the parameters cell as a keyword")


# (b) regression references ----------------------------------------------------------------------

def test_references_match_chapters():
    refs = sorted(p.stem for p in REFS.glob("*.ipynb"))
    assert refs == CHAPTERS, f"tests/notebooks/ holds {refs}, the book {CHAPTERS}: {REFRESH}"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_reference_is_current(chapter):
    path = REFS / f"{chapter}.ipynb"
    assert path.exists(), f"tests/notebooks/{chapter}.ipynb missing: {REFRESH}"
    ref = nbformat.read(path, as_version=4)
    src = jupytext.read(BOOK / f"{chapter}.md")
    assert _code(ref, skip_injected=True) == _code(src), f"{chapter}: {REFRESH}"
    injected = [c for c in ref.cells if bookbuild.INJECTED_TAG in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'profile = "ci"' in injected[0].source, (
        f"{chapter}: the reference must be executed at the ci profile: {REFRESH}")
    errors = [o for c in ref.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"{chapter}: the reference notebook holds an error output"


# (c) table of contents --------------------------------------------------------------------------

def test_toc_lists_exactly_the_chapters_present():
    listed = bookbuild.toc_chapters(ROOT)
    assert listed == sorted(listed), "_toc.yml lists the chapters out of order"
    assert set(listed) == set(CHAPTERS), (
        f"_toc.yml lists {sorted(set(listed) - set(CHAPTERS))} that do not exist and misses "
        f"{sorted(set(CHAPTERS) - set(listed))}")


def test_toc_back_matter():
    entries = bookbuild.toc_entries(ROOT)
    assert entries[0] == "book/index"
    assert "book/bibliography" in entries and "book/execution_statistics" in entries
    bookbuild.check_toc(ROOT)  # every entry has its source


def test_missing_toc_entry_fails_clearly(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "index.md").write_text("# Index\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/index\nchapters:\n  - file: book/09_missing\n")
    with pytest.raises(bookbuild.BuildError, match="book/09_missing"):
        bookbuild.check_toc(tmp_path)


def test_a_book_of_some_chapters_drops_the_parts_left_empty():
    toc = {"format": "jb-book", "root": "book/index", "parts": [
        {"caption": "Chapters", "chapters": [{"file": "book/01_problem"}]},
        {"caption": "Beyond the deck", "chapters": [{"file": "book/10_decreasing_returns"}]}]}
    kept = bookbuild._filter_toc(toc, {"book/01_problem"})
    assert [p["caption"] for p in kept["parts"]] == ["Beyond the deck"]
    assert kept["parts"][0]["chapters"] == [{"file": "book/10_decreasing_returns"}]


# (d) the rerun command --------------------------------------------------------------------------

def _run(*args):
    return subprocess.run([sys.executable, "-m", "symdp.book.build", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(not CHAPTERS, reason="no chapter")
def test_rerun_rejects_unknown_parameter():
    chapter = CHAPTERS[0]
    proc = _run("chapter", chapter, "--params", "N=8 bogus_parameter=1")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bogus_parameter" in lines[0], proc.stderr
    assert not proc.stdout.strip(), "nothing may run before the parameters are checked"


def test_rerun_rejects_unknown_profile():
    proc = _run("chapter", CHAPTERS[0], "--profile", "bogus_profile")
    assert proc.returncode == 2 and "bogus_profile" in proc.stderr, proc.stderr


def test_rerun_rejects_unknown_chapter_and_bad_values():
    proc = _run("chapter", "99_nothing", "--params", "N=8")
    assert proc.returncode == 2 and "99_nothing" in proc.stderr
    proc = _run("check-params", CHAPTERS[0], "--params", "N=not a literal")
    assert proc.returncode == 2 and "Python literal" in proc.stderr


def test_check_params_names_a_bad_declaration(tmp_path):
    """The build reads the declaration: one that disagrees with the file is a usage error."""
    root = _fake_root(tmp_path)
    path = root / "book" / "05_linear.md"
    path.write_text(path.read_text().replace('    "05_linear",\n', '    "05_lineal",\n', 1))
    proc = subprocess.run([sys.executable, "-m", "symdp.book.build", "--root", str(root),
                           "check-params", "05_linear"], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and "'05_lineal'" in proc.stderr, proc.stderr


def test_cache_key_depends_on_parameters():
    chapter = CHAPTERS[0]
    k1 = bookbuild.cache_key(ROOT, chapter, {"profile": "ci"})
    assert k1 == bookbuild.cache_key(ROOT, chapter, {"profile": "ci"})
    assert k1 != bookbuild.cache_key(ROOT, chapter, {"profile": "paper"})
    assert k1 != bookbuild.cache_key(ROOT, chapter, {"profile": "ci", "N": 8})


# symdp.book.chapter ---------------------------------------------------------------------------------

PROFILES = {"paper": {"N": 128, "seeds": 10}, "ci": {"N": 32, "seeds": 2}}
LINEAR = contract.Chapter("05_linear", PROFILES, sweeps=("table2",))


def test_setup_resolves_profile_values():
    import torch

    cfg = chapters.setup(LINEAR, "ci", N=None, seeds=5)
    assert (cfg.N, cfg.seeds, cfg.profile, cfg.chapter) == (32, 5, "ci", "05_linear")
    assert cfg.overrides == ("seeds",)
    assert torch.get_num_threads() == 1
    assert cfg.command == 'make chapter CHAPTER=05_linear PROFILE=ci PARAMS="N=32 seeds=5"'
    with pytest.raises(AttributeError, match="nu"):
        cfg.nu
    with pytest.raises(Exception):
        cfg.profile = "paper"  # frozen


def test_setup_seeds_everything():
    import random

    import numpy as np
    import torch

    chapters.setup(LINEAR, "ci", N=None, seeds=None)
    a = (np.random.rand(), torch.rand(1).item(), random.random())
    chapters.setup(LINEAR, "ci", N=None, seeds=None)
    assert a == (np.random.rand(), torch.rand(1).item(), random.random())


@pytest.mark.parametrize("profile, params, match", [
    ("fast", {"N": None, "seeds": None}, "'fast'"),
    ("ci", {"N": None, "seeds": None, "nu": None}, "'nu'"),
    ("ci", {"N": None}, "'seeds'"),
])
def test_setup_rejects(profile, params, match):
    with pytest.raises(ValueError, match=match):
        chapters.setup(LINEAR, profile, **params)


def test_setup_takes_the_declaration():
    with pytest.raises(TypeError, match="CHAPTER"):
        chapters.setup("05_linear", "ci", N=None, seeds=None)


def test_setup_rejects_a_parameter_named_like_an_attribute():
    declared = contract.Chapter("05_linear", {"ci": {"N": 32, "values": 1}})
    with pytest.raises(ValueError, match="'values'"):
        chapters.setup(declared, "ci", N=None, values=None)


def test_a_chapter_reads_only_the_sweeps_it_declares(monkeypatch):
    from symdp.runs import experiments

    calls = []
    monkeypatch.setattr(experiments, "results", lambda name, profile, **kw: calls.append(
        (name, profile, kw)) or "frame")
    cfg = chapters.setup(LINEAR, "ci", N=None, seeds=None)
    assert cfg.sweeps == ("table2",)
    assert cfg.results("table2", progress=False) == "frame"
    assert calls == [("table2", "ci", {"progress": False})]
    with pytest.raises(ValueError, match="'table3'.*declared: table2"):
        cfg.results("table3")
    undeclared = chapters.setup(contract.Chapter("05_linear", PROFILES), "ci", N=None, seeds=None)
    with pytest.raises(ValueError, match="'table2'.*declared: none"):
        undeclared.results("table2")
    assert len(calls) == 1, "an undeclared sweep must not run"


def test_glue_rounds():
    chapters.glue("t-a", 0.123456789)
    chapters.glue("t-b", 1234567, ",d")
    chapters.glue("t-c", 0.01234, ".1%")
    chapters.glue("t-d", "relu")
    assert {k: v for k, v in chapters.glued().items() if k.startswith("t-")} == {
        "t-a": "0.1235", "t-b": "1,234,567", "t-c": "1.2%", "t-d": "relu"}
    with pytest.raises(TypeError):
        chapters.glue("t-e", [1, 2])


@pytest.mark.parametrize("value, digits, percent, text", [
    (0.00557, 2, True, "0.56%"), (0.00016, 2, True, "0.016%"), (0.1064, 2, True, "11%"),
    (0.0197, 2, True, "2.0%"), (2.77, 2, False, "2.8"), (1234.5, 2, False, "1234"),
    (0.0, 2, True, "0%")])
def test_significant_prints_that_many_digits(value, digits, percent, text):
    assert chapters.significant(digits, percent=percent)(value) == text
    assert chapters._format(value, chapters.significant(digits, percent=percent)) == text


def test_significant_rejects_zero_digits():
    with pytest.raises(ValueError, match="digits"):
        chapters.significant(0)


def test_a_page_at_its_published_values_has_no_banner():
    cfg = chapters.setup(LINEAR, "paper", N=None, seeds=None)
    assert cfg.departures == {} and cfg.departure_banner() == ""
    assert "dropdown" in cfg._repr_markdown_()


def test_a_page_at_other_values_names_each_departure_at_the_top():
    cfg = chapters.setup(LINEAR, "paper", N=256.0, seeds=10)
    assert cfg.departures == {"N": (256.0, 128)}  # seeds=10 is the published value
    md = cfg._repr_markdown_()
    assert md.startswith(":::{warning}") and "`N = 256.0` (published: `128`)" in md
    assert "seeds = 10" not in md.split(":::")[1]
    assert "at the `ci` profile" in chapters.setup(LINEAR, "ci", N=None,
                                                   seeds=None).departure_banner()


def test_compare_picks_the_word_the_numbers_warrant():
    assert chapters.compare("t-cmp", 2.0, 1.0) == 1 and chapters.glued()["t-cmp"] == "larger than"
    assert chapters.compare("t-cmp", 1.0, 2.0, ("up", "down", "flat")) == -1
    assert chapters.glued()["t-cmp"] == "down"
    assert chapters.compare("t-cmp", 1.0, 1.04, rtol=0.05) == 0
    assert chapters.glued()["t-cmp"] == "about the same as"
    with pytest.raises(ValueError, match="not glued"):
        chapters.compare("t-cmp", 1.0, 2.0, shown=("t-nowhere", "t-cmp"))
    with pytest.raises(ValueError, match="finite"):
        chapters.compare("t-cmp", float("nan"), 1.0)


def test_claim_glues_the_phrase_its_condition_chooses():
    assert chapters.claim("t-cl", 3 > 2, "holds", "fails") is True
    assert chapters.glued()["t-cl"] == "holds"
    assert chapters.claim("t-cl", 0, "holds", "fails") is False
    assert chapters.glued()["t-cl"] == "fails"


def test_deck_note_says_when_the_page_is_not_the_decks_configuration():
    cfg = chapters.setup(LINEAR, "ci", N=None, seeds=None)
    assert chapters.deck_note("t-deck", cfg, "Figure 1", seeds=2) is True
    assert chapters.glued()["t-deck"] == "Deck: Figure 1."
    assert chapters.deck_note("t-deck", cfg, "Figure 1", N=128, seeds=2) is False
    assert chapters.glued()["t-deck"] == ("The deck's Figure 1 is for N = 128, seeds = 2; this "
                                          "page shows N = 32, so it is not the deck's "
                                          "configuration.")
    with pytest.raises(ValueError, match="'nu'"):
        chapters.deck_note("t-deck", cfg, "Figure 1", nu=1.5)


def test_glued_text_survives_myst_nb_parsing():
    from myst_nb.core.variables import format_plain_text

    assert format_plain_text(repr(chapters._Text("0.900")), "s") == "0.900"


def test_show_table_is_a_numbered_myst_table():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"err": [0.012345, float("nan")], "arch": ["relu", "a|b"]},
                      index=pd.Index([2, 4], name="N"))
    md = chapters.table_markdown(df, "tab-x", "A caption.", formats={"err": ".2%"})
    fence = md[:3]
    assert fence in ("```", "~~~")
    assert md.splitlines() == [
        f"{fence}{{table}} A caption.", ":name: tab-x", "",
        "| N | err | arch |", "|:--|:--|:--|", "| 2 | 1.23% | relu |", "| 4 | - | a\\|b |", fence]
    with pytest.raises(ValueError):
        chapters.table_markdown(df, "bad name", "c")


def test_statistics_page_lists_every_chapter():
    stats = [{"chapter": CHAPTERS[0], "profile": "ci", "parameters": {"profile": "ci", "N": 8},
              "resolved": {"params": {"N": "8"}}, "wall_seconds": 1.5,
              "started_utc": "2025-01-01T00:00:00+00:00",
              "versions": {"python": "3.11", "torch": "2"},
              "cpu": {"model": "cpu", "cores": 2, "platform": "linux"}}]
    page = statistics.page(ROOT, stats)
    assert page.startswith("# Execution statistics")
    assert "(`symdp/book/statistics.py`)" in page, "the page names the module that writes it"
    assert f"<{CHAPTERS[0]}>" in page and "`N=8`" in page and "| torch | 2 |" in page


# Citation: CITATION.cff and the BibTeX on the first page ----------------------------------------

def _bibtex_entries(text: str) -> dict[str, dict[str, str]]:
    """``{key: {field: value}}`` of simple BibTeX entries (one level of nested braces)."""
    out = {}
    for m in re.finditer(r"@(\w+)\{([^,\s]+),(.*?)\n\}", text, re.S):
        fields = {k.lower(): " ".join(v.split()) for k, v in
                  re.findall(r"(\w+)\s*=\s*\{((?:[^{}]|\{[^{}]*\})*)\}", m.group(3))}
        out[m.group(2)] = {"type": m.group(1).lower(), **fields}
    return out


def test_first_page_bibtex_is_the_bibliography_entry():
    """book/index.md shows the paper's and the deck's BibTeX exactly as references.bib has them."""
    blocks = re.findall(r"```bibtex\n(.*?)```", (BOOK / "index.md").read_text(), re.S)
    shown = _bibtex_entries("\n".join(blocks))
    bib = _bibtex_entries((BOOK / "references.bib").read_text())
    assert {"kahou2021symmetry", "kahou2025deck"} <= set(shown)
    for key, entry in shown.items():
        assert entry == bib[key], f"{key}: the first page and references.bib differ"


def test_citation_cff():
    import yaml

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "type", "version", "license", "repository-code"):
        assert cff.get(key), f"CITATION.cff lacks {key}"
    assert cff["repository-code"] == yaml.safe_load((ROOT / "_config.yml").read_text())[
        "repository"]["url"], "CITATION.cff repository-code and _config.yml repository.url differ"
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert cff["version"] == meta["version"] and cff["license"] == meta["license"]
    # The preferred citation is the deck's paper, as in references.bib.
    bib = _bibtex_entries((BOOK / "references.bib").read_text())
    paper, deck = bib["kahou2021symmetry"], bib["kahou2025deck"]
    pref = cff["preferred-citation"]
    assert pref["type"] == "report" and pref["title"] == paper["title"]
    assert str(pref["number"]) == paper["number"] and str(pref["year"]) == paper["year"]
    assert pref["institution"]["name"] == paper["institution"]
    families = [a["family-names"] for a in pref["authors"]]
    assert families == ["Ebrahimi Kahou", "Fernández-Villaverde", "Perla", "Sood"]
    (slides,) = [r for r in cff["references"] if r["type"] == "slides"]
    assert slides["title"] == deck["title"] and str(slides["year"]) == deck["year"]
    assert [a["family-names"] for a in slides["authors"]] == families


def test_show_table_caption_may_hold_roles():
    pd = pytest.importorskip("pandas")
    from markdown_it import MarkdownIt

    md = chapters.table_markdown(pd.DataFrame({"a": [1.0]}), "tab-x", "From {eq}`eq-x`.")
    (token,) = [t for t in MarkdownIt("commonmark").parse(md) if t.type == "fence"]
    assert token.info == "{table} From {eq}`eq-x`."


# (d) Sweeps before chapters ----------------------------------------------------------------------

def _fake_root(tmp_path: Path) -> Path:
    import shutil

    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    shutil.copytree(BOOK, tmp_path / "book")
    shutil.copytree(ROOT / "symdp", tmp_path / "symdp")
    return tmp_path


def test_book_runs_the_chapters_sweeps_first_as_one(tmp_path, monkeypatch):
    root, calls = _fake_root(tmp_path), []
    monkeypatch.setattr(bookbuild, "_run_sweeps", lambda names, profile: calls.append(
        ("sweeps", tuple(names), profile)))
    monkeypatch.setattr(bookbuild, "_run_jobs", lambda jobs, n: calls.append(
        ("chapters", tuple(j.chapter for j in jobs))) or [])
    monkeypatch.setattr(bookbuild, "_stage", lambda *a: root)
    monkeypatch.setattr(bookbuild, "_render", lambda *a: root)
    bookbuild.build_book(root, "ci")
    expected = tuple(sorted(n for c in CHAPTERS for n in contract.read(ROOT, c).sweeps))
    assert calls == [("sweeps", expected, "ci"), ("chapters", tuple(CHAPTERS))]
    calls.clear()  # only the sweeps of the chapters that execute
    bookbuild.build_book(root, "ci", only=["01_problem", "05_linear"])
    assert calls == [("sweeps", ("table2",), "ci"), ("chapters", ("01_problem", "05_linear"))]
    calls.clear()  # a single-chapter rerun leaves its sweep to the chapter
    bookbuild.build_book(root, "ci", target=("05_linear", {"seeds": 3}))
    assert [c[0] for c in calls] == ["chapters"]


def test_the_build_reads_the_declared_sweeps_not_the_calls(tmp_path, monkeypatch):
    """A sweep read through a variable (name = "table2"; cfg.results(name)) is still run first."""
    root, calls = _fake_root(tmp_path), []
    path = root / "book" / "05_linear.md"
    text = path.read_text()
    line = 'runs = cfg.results("table2", '
    assert line in text
    path.write_text(text.replace(line, 'name = "table2"\nruns = cfg.results(name, '))
    monkeypatch.setattr(bookbuild, "_run_sweeps", lambda names, profile: calls.append(names))
    monkeypatch.setattr(bookbuild, "_run_jobs", lambda jobs, n: [])
    monkeypatch.setattr(bookbuild, "_stage", lambda *a: root)
    monkeypatch.setattr(bookbuild, "_render", lambda *a: root)
    bookbuild.build_book(root, "ci", only=["05_linear"])
    assert calls == [["table2"]]


def _glue_out(name, text, record=None):
    meta = {"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}}
    if record is not None:
        meta["symdp_claim"] = record
    return nbformat.v4.new_output("display_data", data={
        "application/papermill.record/text/plain": repr(text)}, metadata=meta)


def _notebook(*outputs):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("", outputs=list(outputs)))
    return nb


@pytest.mark.parametrize("a_text, b_text, sign, word, contradicts", [
    ("4.7e-07", "5.0e-07", -1, "smaller than", False),
    ("4.7e-07", "4.7e-07", 1, "larger than", True),  # "0.9 times larger" on the review's page
    ("0.90", "1", 1, "larger than", True),
    ("0.033%", "0.020%", 1, "larger than", False),
    ("1.0", "2.0", 0, "about the same as", True),
    ("1.0", "1.04", 0, "about the same as", False),
    ("1,234", "1,200", 1, "larger than", False),
])
def test_contradictions_read_the_printed_numbers(a_text, b_text, sign, word, contradicts):
    rec = {"kind": "compare", "sign": sign, "rtol": 0.05, "a": 0.0, "b": 0.0,
           "shown": ["t-a", "t-b"]}
    nb = _notebook(_glue_out("t-a", a_text), _glue_out("t-b", b_text),
                   _glue_out("t-word", word, rec))
    assert bool(chapters.contradictions(nb)) is contradicts
    assert chapters.claim_records(nb) == [("t-word", word, rec)]


def test_contradictions_flag_a_shown_glue_without_a_number():
    rec = {"kind": "compare", "sign": 1, "rtol": 0.05, "a": 2.0, "b": 1.0,
           "shown": ["t-a", None]}
    nb = _notebook(_glue_out("t-a", "none"), _glue_out("t-word", "larger than", rec))
    assert "prints no number" in chapters.contradictions(nb)[0]


def test_a_book_of_some_chapters_quiets_only_the_warnings_of_missing_reference_targets(tmp_path):
    """`make book ONLY=08_implicit_bias` renders with -W, and chapter 8 refers to chapter 5's
    labels and equations, which a one-chapter book does not have."""
    import yaml

    config = tmp_path / "_config.yml"
    config.write_text((ROOT / "_config.yml").read_text())
    bookbuild._suppress_cross_references(config)
    staged, original = (yaml.safe_load(p.read_text()) for p in (config, ROOT / "_config.yml"))
    assert staged["sphinx"]["config"].pop("suppress_warnings") == [
        "ref.ref", "ref.numref", "ref.eq", "ref.doc"]
    assert staged == original  # nothing else changes
