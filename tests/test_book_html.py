"""The built HTML book, read as files (no browser): numbered, clickable cross-references; launch
(Binder, Colab), download and repository buttons pointed at the repository of ``_config.yml``; the
generated "Execution statistics" page.

``make test`` builds ``_build/html`` at the ci profile first (and a missing book then fails these
tests); run alone without a built book they skip, saying why. See tests/book_html.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from book_html import (ROOT, chapter_pages, config, main_content, parse, require_html)
from symdp.book import build as bookbuild

BOOK = ROOT / "book"


@pytest.fixture(scope="module")
def html() -> Path:
    return require_html()


@pytest.fixture(scope="module")
def chapters(html) -> dict[str, Path]:
    pages = chapter_pages(html)
    assert pages, "the built book has no chapter page"
    return pages


def _fragment(href: str) -> tuple[str, str]:
    parts = urlsplit(href)
    return unquote(parts.path), unquote(parts.fragment)


# Cross-references --------------------------------------------------------------------------------

_CODE_CELL = re.compile(r"^```\{code-cell\}.*?^```\s*$", re.S | re.M)
_NUMREF = re.compile(r"\{numref\}`(?:[^`<]*<)?([^`<>]+)>?`")
_EQ = re.compile(r"\{eq\}`([^`]+)`")
_NUMBER = re.compile(r"\d+(\.\d+)*")


def _prose(chapter: str) -> str:
    """The chapter's Markdown without its code cells (roles in code are not references)."""
    return _CODE_CELL.sub("", (BOOK / f"{chapter}.md").read_text())


def _internal_links(doc) -> list:
    return [a for a in main_content(doc).iter("a") if "reference" in a.classes
            and "internal" in a.classes]


def test_every_numref_and_eq_is_a_numbered_link(chapters):
    """Each {numref}/{eq} of a chapter's prose renders as a link whose text is a number."""
    problems = []
    for chapter, page in chapters.items():
        prose = _prose(chapter)
        numrefs, eqs = _NUMREF.findall(prose), _EQ.findall(prose)
        links = _internal_links(parse(page))
        by_target: dict[str, list[str]] = {}
        for a in links:
            _, frag = _fragment(a.attrs.get("href", ""))
            by_target.setdefault(frag, []).append(a.text().strip())
        for label in numrefs:
            texts = by_target.get(label, [])
            if not texts:
                problems.append(f"{chapter}: {{numref}}`{label}` is not a link to #{label}")
            elif not all(_NUMBER.search(t) and "?" not in t for t in texts):
                problems.append(f"{chapter}: {{numref}}`{label}` rendered as {texts} (no number)")
        for label in eqs:
            texts = by_target.get(f"equation-{label}", [])
            if not texts:
                problems.append(f"{chapter}: {{eq}}`{label}` is not a link to "
                                f"#equation-{label}")
            elif not all(re.fullmatch(r"\(\d+(\.\d+)*\)", t) for t in texts):
                problems.append(f"{chapter}: {{eq}}`{label}` rendered as {texts}")
        rendered_numrefs = sum(1 for a in links if next(a.iter(cls="std-numref"), None))
        if rendered_numrefs < len(numrefs):
            problems.append(f"{chapter}: {len(numrefs)} {{numref}} roles in the prose, "
                            f"{rendered_numrefs} rendered as links")
        if problems and problems[-1].startswith(chapter) and (
                page.stat().st_mtime < (BOOK / f"{chapter}.md").stat().st_mtime):
            problems.append(f"{chapter}: (book/{chapter}.md is newer than its page: rebuild "
                            "the book before reading the lines above)")
    assert not problems, "\n".join(problems)


def test_no_unresolved_reference_anywhere(html):
    """No "???" (a numref without a number) and no reference left unresolved (not a link)."""
    problems = []
    for page in sorted((html / "book").glob("*.html")):
        body = main_content(parse(page))
        text = body.text()
        if "???" in text:
            i = text.index("???")
            problems.append(f"{page.name}: '???' in ...{text[max(i - 60, 0):i + 20]!r}")
        for span in body.iter("span"):
            if {"xref", "std-numref", "std-ref", "eq"} & span.classes and not any(
                    a.tag == "a" for a in span.ancestors()):
                problems.append(f"{page.name}: unresolved reference {span.text()!r}")
    assert not problems, "\n".join(problems)


def _numbered(chapters) -> dict[str, tuple[str, str, str]]:
    """``{id: (chapter, kind, number)}`` for every captioned figure/table and labelled equation."""
    out = {}
    for chapter, page in chapters.items():
        body = main_content(parse(page))
        for node in body.iter():
            kind = None
            if node.tag == "figure":
                kind = "figure"
            elif node.tag == "table" and next(node.iter("caption"), None) is not None:
                kind = "table"
            elif node.tag == "div" and "math" in node.classes and node.attrs.get(
                    "id", "").startswith("equation-"):
                kind = "equation"
            if kind is None:
                continue
            span = next(node.iter(cls="eqno" if kind == "equation" else "caption-number"), None)
            number = span.text().strip() if span is not None else ""
            out[node.attrs.get("id") or f"{chapter}:{kind}:{len(out)}"] = (chapter, kind, number)
    return out


def test_figures_tables_and_equations_are_numbered(chapters):
    problems = []
    for ident, (chapter, kind, number) in _numbered(chapters).items():
        pattern = {"figure": r"Fig\. \d+\.\d+", "table": r"Table \d+\.\d+",
                   "equation": r"\(\d+\.\d+\)"}[kind]
        if not re.match(pattern, number):
            problems.append(f"{chapter}: {kind} {ident} has no number ({number!r})")
        if ident.startswith(f"{chapter}:"):
            problems.append(f"{chapter}: a {kind} without a label (give it :name:)")
    assert not problems, "\n".join(problems)


def test_every_figure_and_table_is_referenced_in_the_prose(html, chapters):
    """Each numbered figure and table is cited somewhere in the book by a clickable numref."""
    targets = set()
    for page in sorted((html / "book").glob("*.html")):
        for a in _internal_links(parse(page)):
            path, frag = _fragment(a.attrs.get("href", ""))
            if next(a.iter(cls="std-numref"), None) is not None:
                targets.add(frag)
    unreferenced = [f"{chapter}: {kind} {number} (#{ident})"
                    for ident, (chapter, kind, number) in _numbered(chapters).items()
                    if kind in ("figure", "table") and ident not in targets]
    assert not unreferenced, ("figures/tables never cited with {numref} in the prose:\n"
                              + "\n".join(unreferenced))


# Launch, download and repository buttons -----------------------------------------------------------

def _repo() -> tuple[str, str, str, str]:
    repo = config()["repository"]
    url = repo["url"].rstrip("/")
    m = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+)", url)
    assert m, f"repository.url in _config.yml must be a GitHub repository URL, got {url!r}"
    return url, m.group(1), m.group(2), repo.get("branch", "main")


def test_repository_setting_is_documented():
    text = (ROOT / "_config.yml").read_text()
    cfg = config()
    assert cfg["repository"]["url"] and "ONE setting" in text
    buttons = cfg["launch_buttons"]
    assert buttons["binderhub_url"] == "https://mybinder.org"
    assert buttons["colab_url"] == "https://colab.research.google.com"


@pytest.mark.parametrize("kind", ["binder", "colab", "download", "repository"])
def test_chapter_pages_have_launch_and_download_buttons(html, chapters, kind):
    url, owner, name, branch = _repo()
    ui = {"jupyterlab": "lab/tree", "classic": "tree"}[
        config()["launch_buttons"].get("notebook_interface", "classic")]
    problems = []
    for chapter, page in chapters.items():
        hrefs = [a.attrs.get("href", "") for a in parse(page).iter("a")]
        notebook = f"book/{chapter}.ipynb"  # the chapter's paired notebook in the repository
        assert (ROOT / notebook).exists()
        expected = {
            "binder": f"https://mybinder.org/v2/gh/{owner}/{name}/{branch}?urlpath={ui}/{notebook}",
            "colab": f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/"
                     f"{notebook}",
            "download": f"../_sources/book/{chapter}.ipynb",
            "repository": url,
        }[kind]
        if expected not in hrefs:
            problems.append(f"{chapter}: no {kind} button to {expected}")
        if kind == "download":
            source = html / "_sources" / "book" / f"{chapter}.ipynb"
            nb = nbformat.read(source, as_version=4)
            if not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
                problems.append(f"{chapter}: the downloadable notebook has no outputs")
    assert not problems, "\n".join(problems)


def test_pages_without_a_notebook_have_no_launch_buttons(html):
    for name in ("index", "bibliography", "execution_statistics"):
        text = (html / "book" / f"{name}.html").read_text()
        assert "mybinder.org/v2" not in text and "colab.research.google.com/github" not in text


# Execution statistics ----------------------------------------------------------------------------

def test_execution_statistics_page(html, chapters):
    doc = parse(html / "book" / "execution_statistics.html")
    body = main_content(doc)
    tables = list(body.iter("table"))
    assert len(tables) >= 2, "the run table and the software/hardware table"
    rows = {}
    for tr in tables[0].iter("tr"):
        cells = [td.text().strip() for td in tr.iter("td")]
        link = next(tr.iter("a"), None)
        if cells and link is not None:
            rows[Path(urlsplit(link.attrs["href"]).path).stem] = cells
    problems = []
    for chapter in chapters:
        cells = rows.get(chapter)
        if cells is None:
            problems.append(f"{chapter}: no row in the run table")
            continue
        profile, _, seconds, started = cells[1:5]
        if profile not in ("ci", "paper") and not profile:
            problems.append(f"{chapter}: no profile")
        if not re.fullmatch(r"\d+\.\d", seconds):
            problems.append(f"{chapter}: run time {seconds!r}")
        if not re.match(r"\d{4}-\d\d-\d\dT", started):
            problems.append(f"{chapter}: execution time stamp {started!r}")
    text = body.text()
    for chapter in chapters:
        if not re.search(rf"{chapter} \((ci|paper|\w+)\): \S+=", text):
            problems.append(f"{chapter}: resolved parameters not listed")
    components = {}
    for table in tables[1:]:
        for tr in table.iter("tr"):
            cells = [td.text().strip() for td in tr.iter("td")]
            if len(cells) == 2:
                components[cells[0]] = cells[1]
    for key in ("python", "torch", "numpy", "scipy", "symdp", "jupyter-book", "CPU", "Memory",
                "GPU", "Platform"):
        if not components.get(key) or components[key] in ("not installed", "not recorded"):
            problems.append(f"software/hardware table: {key} = {components.get(key)!r}")
    assert not problems, "\n".join(problems)


def test_statistics_cover_the_chapters_built(html, chapters):
    listed = bookbuild.toc_chapters(ROOT)
    assert list(chapters) == [c for c in listed if c in chapters], "chapters out of toc order"
