"""The built HTML book (``_build/html``) for the tests that read it: where it is, which pages it
has, and a small standard-library HTML reader.

``make test`` installs Chromium if missing, builds the book at the ``ci`` profile before pytest
runs and sets ``SYMDP_REQUIRE_BOOK=1``; CI sets ``CI=true``. In either case a missing book (or a
missing Chromium, for the browser tests in tests/test_browser.py) fails the tests. Run on their own
(``pytest tests``) they skip, saying why, when there is no built book.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from symdp.book import build as bookbuild

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
BUILD_HINT = "build it with `make book PROFILE=ci` (or run `make test`, which does)"


def required() -> bool:
    """True under ``make test`` or CI: a missing book or browser is a failure, not a skip."""
    return (os.environ.get("CI", "").lower() in ("1", "true", "yes")
            or os.environ.get("SYMDP_REQUIRE_BOOK", "") == "1")


def skip_or_fail(reason: str) -> None:
    if required():
        pytest.fail(f"{reason} (required under make test / CI=true)", pytrace=False)
    pytest.skip(reason)


def require_html() -> Path:
    """``_build/html``, or skip/fail (see :func:`required`) when the book has not been built.

    Under ``make test``/CI the book must also be complete: every chapter of ``_toc.yml``.
    """
    if not (HTML / "book" / "index.html").exists():
        skip_or_fail(f"no built HTML book in {HTML.relative_to(ROOT)}/: {BUILD_HINT}")
    if required():
        missing = [c for c in bookbuild.toc_chapters(ROOT)
                   if not (HTML / "book" / f"{c}.html").exists()]
        if missing:
            pytest.fail(f"the built book lacks chapters {missing}: it is a partial build "
                        "(ONLY=...); `make test` builds the whole book", pytrace=False)
    return HTML


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def chapter_pages(html: Path = HTML) -> dict[str, Path]:
    """``{"01_problem": _build/html/book/01_problem.html, ...}`` for the chapters built."""
    return {p.stem: p for p in sorted((html / "book").glob("[0-9][0-9]_*.html"))}


def all_pages(html: Path = HTML) -> list[Path]:
    """Every HTML page of the book, except the generated redirect at the root."""
    pages = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.parts[0] in ("_static", "_sources", "_images"):
            continue
        if is_redirect(path):
            continue
        pages.append(path)
    return pages


_REFRESH_RE = re.compile(r'<meta http-equiv="Refresh" content="0; url=([^"]+)"', re.I)


def is_redirect(path: Path) -> str | None:
    """The target of a ``<meta http-equiv=refresh>`` redirect page, or None."""
    text = path.read_text(errors="replace")
    if len(text) > 2000:
        return None
    m = _REFRESH_RE.search(text)
    return m.group(1) if m else None


# ------------------------------------------------------------------------------------------------
# A small HTML reader: enough structure for links, ids, captions and equation numbers.

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: "Node | None" = None
    children: list["Node | str"] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self, tag: str | None = None, cls: str | None = None):
        """Every descendant element (depth first), filtered by tag and/or class."""
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and (cls is None or cls in c.classes):
                    yield c
                yield from c.iter(tag, cls)

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag):
        # Close up to the matching open element (tolerates the odd unclosed <p>).
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(path: Path) -> Node:
    builder = _Builder()
    builder.feed(path.read_text(errors="replace"))
    builder.close()
    return builder.root


def main_content(doc: Node) -> Node:
    """The article body of a Sphinx page (``<article class="bd-article">``), else the document."""
    return next(doc.iter("article", "bd-article"), doc)
