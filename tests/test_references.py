"""symdp.book.references: how a chapter's outputs are split, compared and tolerated."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from symdp.book import references as refs
from symdp.book.references import (Output, compare, derive_tolerance, extract,
                                   last_digit_unit, split_numbers)


def _glue(name: str, text: str) -> dict:
    return nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": repr(text),
                              "application/papermill.record/text/markdown": text},
        metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}})


def _table(name: str, rows: list[str]) -> dict:
    body = "\n".join(["| model | val MSE | Time (s) |", "|:--|:--|:--|", *rows])
    md = f"```{{table}} Caption with N = 128.\n:name: {name}\n\n{body}\n```\n"
    return nbformat.v4.new_output("display_data", data={"text/markdown": md, "text/plain": md})


def _notebook(*outputs) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("pass")
    cell.outputs = list(outputs)
    nb.cells.append(cell)
    return nb


def test_numbers_are_split_from_the_text_and_keyed_in_order():
    text, numbers = split_numbers("error 0.954% at N = 66,821 and 1.7e-07, H_1 = -0.0395", "k")
    assert text == "error \u2423% at N = \u2423 and \u2423, H_1 = \u2423"
    assert numbers == [("k", "0.954"), ("k#1", "66,821"), ("k#2", "1.7e-07"), ("k#3", "-0.0395")]


def test_digits_inside_names_stay_text():
    text, numbers = split_numbers("phi(Moments (1,2)) with H_1 and tab-x2", "k")
    assert [t for _, t in numbers] == ["1", "2"] and "H_1" in text and "x2" in text


def test_durations_and_addresses_are_masked():
    text, numbers = split_numbers("fitted in 3.2 s (12 ms a step) at 0x7f3a", "k")
    assert numbers == [] and text.count("<TIME>") == 2 and "<ADDRESS>" in text


@pytest.mark.parametrize("text, unit", [("0.954", 1e-3), ("1.7e-07", 1e-8), ("12", 1.0),
                                        ("66,821", 1.0), ("2.0e-06", 1e-7), ("-0.05", 1e-2)])
def test_the_unit_of_the_last_printed_digit(text, unit):
    assert last_digit_unit(text) == pytest.approx(unit)


@pytest.mark.parametrize("text, digits", [("0.016", 2), ("8.53", 3), ("1.7e-07", 2), ("66,821", 5),
                                          ("-0.0505", 3), ("0", 1), ("24.25", 4)])
def test_significant_digits_of_a_printed_number(text, digits):
    assert refs.significant_digits(text) == digits


def test_a_number_that_never_moved_stays_exact():
    assert derive_tolerance("1.7e-07", ["1.7e-07", "1.7e-07"]) is None


def test_a_tolerance_is_the_margin_times_the_largest_deviation():
    tol = derive_tolerance("1.7e-07", ["1.7e-07", "2.0e-07", "1.6e-07"])
    assert tol == pytest.approx(refs.MARGIN * 3e-8)


def test_a_tolerance_is_at_least_one_unit_of_the_last_digit():
    assert derive_tolerance("0.954", ["0.955"]) == pytest.approx(refs.MARGIN * 1e-3)
    assert derive_tolerance("12", ["12.0"]) == pytest.approx(1.0)  # same value, other text


def test_glued_values_tables_and_figures_are_extracted_by_name():
    fig = nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/image/png": "iVBOR",
                              "application/papermill.record/text/plain": "<Figure>"},
        metadata={"scrapbook": {"name": "fig-a"}})
    out = extract(_notebook(_glue("val", "1.7e-07"), _table("tab-a", ["| relu | 2.0e-07 | 3.1 |"]),
                            fig, nbformat.v4.new_output("stream", name="stdout", text="gap 5e-16\n")))
    assert list(out) == ["glue:val", "table:tab-a", "figure:fig-a", "out0:stdout"]
    assert out["glue:val"].numbers == (("glue:val", "1.7e-07"),)
    table = out["table:tab-a"]
    assert ("table:tab-a[relu|val MSE]", "2.0e-07") in table.numbers
    assert ("table:tab-a[caption]", "128") in table.numbers
    assert "<TIME>" in table.text and "3.1" not in table.text  # the time column is not compared
    assert out["out0:stdout"].numbers == (("out0:stdout", "5e-16"),)


def _outputs(**glued) -> dict[str, Output]:
    return extract(_notebook(*[_glue(k, v) for k, v in glued.items()]))


def test_identical_outputs_compare_equal():
    a = _outputs(x="1.7e-07", n="66,821 coefficients")
    assert compare("ch", a, a, {}) == []


def test_an_exact_number_that_changes_is_reported():
    (d,) = compare("ch", _outputs(n="66,821"), _outputs(n="66,822"), {})
    assert (d.kind, d.key, d.reference, d.new) == ("number", "glue:n", "66,821", "66,822")
    assert "exact" in str(d)


def test_a_tolerated_number_passes_inside_and_fails_outside_its_band():
    tol = {"glue:x": {"reference": 1.7e-7, "tolerance": 9e-8}}
    ref = _outputs(x="1.7e-07")
    assert compare("ch", ref, _outputs(x="2.5e-07"), tol) == []
    (d,) = compare("ch", ref, _outputs(x="2.7e-07"), tol)
    assert d.kind == "number" and d.tolerance == 9e-8


def test_the_tolerance_file_value_is_the_reference_not_the_notebook_text():
    tol = {"glue:x": {"reference": 1.0e-7, "tolerance": 1e-8}}
    assert compare("ch", _outputs(x="1.7e-07"), _outputs(x="1.7e-07"), tol)  # 1.7 vs 1.0 +- 0.1


def test_changed_prose_fails_even_when_the_numbers_agree():
    (d,) = compare("ch", _outputs(w="larger by 2"), _outputs(w="smaller by 2"), {})
    assert d.kind == "text" and "larger" in d.reference and "smaller" in d.new


def test_missing_and_extra_outputs_fail():
    kinds = sorted(d.kind for d in compare("ch", _outputs(a="1"), _outputs(b="1"), {}))
    assert kinds == ["extra", "missing"]


def test_durations_are_not_compared():
    assert compare("ch", _outputs(t="59"), _outputs(t="214"), {}, durations=["glue:t"]) == []
    claim = compare("ch", _outputs(g="grows linearly"), _outputs(g="grows faster"), {},
                    durations=["glue:g"])
    assert claim == []  # a sentence that follows from a timing


def test_refresh_refuses_to_write_without_accept(tmp_path, monkeypatch, capsys):
    """A moved number is reported by name with old and new value; nothing is written."""
    root = tmp_path
    (root / "tests" / "notebooks").mkdir(parents=True)
    nbformat.write(_notebook(_glue("val", "1.7e-07")), root / "tests/notebooks/01_a.ipynb")
    tolerances = {"numbers": {"glue:val": {"reference": 1.7e-7, "tolerance": 3e-8,
                                           "samples": {"s": "1.8e-07"}}}}
    (root / "tests" / "references").mkdir()
    (root / "tests" / "references" / "01_a.json").write_text(json.dumps(tolerances))

    def fake_execute(root_, out, chapters, profile, jobs):
        nbformat.write(_notebook(_glue("val", "4.0e-07")), out / "01_a.ipynb")

    monkeypatch.setattr(refs, "_chapters", lambda root_: ["01_a"])
    monkeypatch.setattr(refs, "execute_into", fake_execute)
    before = (root / "tests/notebooks/01_a.ipynb").read_text()
    assert refs.refresh(root, accept=False) == 1
    out = capsys.readouterr()
    assert "01_a glue:val: 1.7e-07 -> 4.0e-07 (tolerance 3e-08)" in out.out
    assert "ACCEPT=1" in out.err
    assert (root / "tests/notebooks/01_a.ipynb").read_text() == before
    assert refs.refresh(root, accept=True) == 0
    assert "4.0e-07" in (root / "tests/notebooks/01_a.ipynb").read_text()
    entry = refs.load_tolerances(root, "01_a")["glue:val"]
    assert entry["reference"] == 4.0e-7 and entry["tolerance"] == derive_tolerance(
        "4.0e-07", ["1.8e-07"])


def test_refresh_leaves_references_alone_when_nothing_moved(tmp_path, monkeypatch, capsys):
    root = tmp_path
    (root / "tests" / "notebooks").mkdir(parents=True)
    nbformat.write(_notebook(_glue("val", "1.7e-07")), root / "tests/notebooks/01_a.ipynb")
    monkeypatch.setattr(refs, "_chapters", lambda root_: ["01_a"])
    monkeypatch.setattr(refs, "execute_into", lambda r, out, c, p, j: nbformat.write(
        _notebook(_glue("val", "1.7e-07")), out / "01_a.ipynb"))
    assert refs.refresh(root, accept=False) == 0
    assert "current" in capsys.readouterr().out


def test_a_text_the_spread_saw_on_other_kernels_passes_and_an_unseen_one_fails():
    ref = _outputs(w="larger than", row="0.031% (n = 2)")
    seen = {"glue:w": ["about the same as", "larger than"], "glue:row": ["0.031% (n = 2)", "–"]}
    assert compare("ch", ref, _outputs(w="about the same as", row="–"), {}, (), seen) == []
    (d,) = compare("ch", ref, _outputs(w="smaller than", row="–"), {}, (), seen)
    assert (d.kind, d.key) == ("text", "glue:w")
    # Under the reference's text its numbers are still compared exactly.
    (d,) = compare("ch", ref, _outputs(w="larger than", row="0.032% (n = 2)"), {}, (), seen)
    assert d.kind == "number"


def test_carrying_outputs_keeps_the_new_code_and_the_references_numbers():
    reference = _notebook(_glue("err", "0.51%"), _table("tab-x", ["| a | 1.0e-07 | 3.1 |"]))
    executed = _notebook(_glue("err", "0.52%"), _table("tab-x", ["| a | 1.1e-07 | 2.9 |"]))
    executed.cells[0].source = "err = fit()  # the code changed"
    extra = nbformat.v4.new_code_cell("y = 1")
    extra.outputs = [_glue("new", "7")]  # an output the reference does not have keeps its value
    executed.cells.append(extra)
    carried = refs.carry_outputs(executed, reference)
    assert refs.code_cells(carried) == ["err = fit()  # the code changed", "y = 1"]
    out = extract(carried)
    assert out["glue:err"] == extract(reference)["glue:err"]
    assert out["table:tab-x"] == extract(reference)["table:tab-x"]
    assert out["glue:new"].numbers == (("glue:new", "7"),)


def test_code_cells_leave_out_the_injected_parameters():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("profile = 'paper'"),
                nbformat.v4.new_code_cell("profile = 'ci'"), nbformat.v4.new_markdown_cell("x")]
    nb.cells[1].metadata["tags"] = ["injected-parameters"]
    assert refs.code_cells(nb) == ["profile = 'paper'"]
    assert refs.code_cells(nb, skip_injected=False) == ["profile = 'paper'", "profile = 'ci'"]


def test_the_tolerances_of_some_chapters_name_chapters_of_the_table_of_contents():
    root = Path(__file__).resolve().parents[1]
    assert refs._only(root, ["10_decreasing_returns", "01_problem"]) == ["01_problem",
                                                                        "10_decreasing_returns"]
    assert refs._only(root, []) == refs._chapters(root)
    with pytest.raises(SystemExit, match="'99_nothing' is not a chapter of _toc.yml"):
        refs._only(root, ["99_nothing"])


def test_deriving_keeps_other_cpus_samples_and_replaces_this_cpus(tmp_path, monkeypatch):
    """No kernel setting of one CPU rounds as another CPU's own kernels do, so a tolerance file
    holds the samples of every CPU it was derived on; deriving again on one CPU replaces that
    CPU's samples and keeps the others' (or drops them, after a change to the numerics)."""
    root = tmp_path
    (root / "tests" / "notebooks").mkdir(parents=True)
    (root / "tests" / "references").mkdir()
    nbformat.write(_notebook(_glue("val", "1.7e-07"), _glue("w", "larger")),
                   root / "tests/notebooks/01_a.ipynb")
    previous = {"settings": {"AMD EPYC: avx2": {"ATEN_CPU_CAPABILITY": "avx2"}},
                "numbers": {"glue:val": {"samples": {"reference-notebooks": "1.7e-07",
                                                     "AMD EPYC: avx2": "2.0e-07",
                                                     "Intel Xeon: avx512": "3.0e-07"}},
                            "glue:gone": {"samples": {"AMD EPYC: avx2": "1"}}},
                "texts": {"glue:w": ["larger", "smaller"]}}
    (root / "tests/references/01_a.json").write_text(json.dumps(previous))
    here = root / "here"
    here.mkdir()
    nbformat.write(_notebook(_glue("val", "1.8e-07"), _glue("w", "larger")), here / "01_a.ipynb")
    monkeypatch.setattr(refs, "machine", lambda: {"model": "Intel Xeon"})
    monkeypatch.setattr(refs, "_chapters", lambda root_: ["01_a"])
    monkeypatch.setattr(refs, "execute_under", lambda *a, **k: None)
    monkeypatch.setitem(refs.KERNEL_SETTINGS, "here", {})

    refs.spread(root, root, ["here"], reuse=True)
    record = json.loads((root / "tests/references/01_a.json").read_text())
    entry = record["numbers"]["glue:val"]
    assert entry["samples"] == {"reference-notebooks": "1.7e-07", "Intel Xeon: here": "1.8e-07",
                                "AMD EPYC: avx2": "2.0e-07"}  # Intel's old sample replaced
    assert entry["tolerance"] == pytest.approx(refs.MARGIN * 3e-8)
    assert record["cpus"] == ["AMD EPYC", "Intel Xeon"]
    assert set(record["settings"]) == {"reference-notebooks", "AMD EPYC: avx2", "Intel Xeon: here"}
    assert record["texts"] == {"glue:w": ["larger", "smaller"]}  # another CPU's word is kept

    refs.spread(root, root, ["here"], reuse=True, other_machines=False)
    record = json.loads((root / "tests/references/01_a.json").read_text())
    assert record["numbers"]["glue:val"]["samples"] == {"reference-notebooks": "1.7e-07",
                                                        "Intel Xeon: here": "1.8e-07"}
    assert record["cpus"] == ["Intel Xeon"] and record["texts"] == {}
