"""The built book in a real browser: headless Chromium opens every page through a local HTTP server.

Checks, on every page: the math is typeset by MathJax (no TeX source left in the visible text, no
MathJax error), every image loads with a non-zero size, every internal link and cross-reference
points at an existing file and anchor, the page requests nothing but the local server, and no
JavaScript error is raised. On every chapter: the parameter table and the exact rerun command come
before the chapter's first section. Screenshots of every page go to ``_build/screenshots/``
(``NN_slug.png`` is the first screen, ``NN_slug-full.png`` the whole page).

``make test`` builds the HTML at the ci profile first; there a missing book or a missing Chromium
fails (as with ``CI=true``). Run alone without a built book, the tests skip and say why.
Playwright (``playwright.sync_api``) drives the distribution's Chromium (``apt-get install
chromium``; ``make test`` installs it), so it needs no browser download (no ``playwright install``).
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Request, Response, Route
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from book_html import (HTML, SCREENSHOTS, all_pages, chapter_pages, is_redirect, parse,
                       require_html, skip_or_fail)

WIDTH, HEIGHT = 1280, 900

# Upstream and harmless, so tolerated by name; any other JavaScript error, uncaught or logged with
# console.error, fails the test.
# - Sphinx 7.4 writes an inline script that an extension registers after the builder starts twice
#   (HTML builder: `_JavaScript(None, body=...)` from app.add_js_file, then `_JavaScript('',
#   body=...)` again in prepare_writing), and the second copy of sphinx-thebe's
#   `const THEBE_JS_URL = ...` throws. Thebe (live code) is off in this book.
# - pydata-sphinx-theme 0.17 logs "Got invalid theme mode: ." on a browser's first visit: no mode
#   is stored yet and the theme's default_mode is empty, so it falls back to "auto" as intended.
KNOWN_JS_ERRORS = [re.compile(r"Identifier 'THEBE_JS_URL' has already been declared"),
                   re.compile(r"Got invalid theme mode: \. Resetting to auto\.")]

# Runs in the page after its load event: waits for MathJax's first typesetting pass, the images
# and the fonts (60 s at most, so that a stuck page fails the checks instead of hanging the run),
# then reports what the checks need.
PROBE = r"""
async () => {
  const settled = (async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await MathJax.startup.promise;
    }
    await Promise.all([...document.images].map(img => img.complete ? null :
        new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); })));
    await document.fonts.ready;
  })();
  await Promise.race([settled, new Promise(done => setTimeout(done, 60000))]);
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, noscript';
  const visible = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !n.data.trim()) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    visible.push(n.data);
  }
  const math = [...document.querySelectorAll('span.math, div.math')];
  const article = document.querySelector('article.bd-article') || document.body;
  const firstSection = article.querySelector('section section > h2, h2');
  const params = [...article.querySelectorAll('table')].find(t =>
      /^\s*parameter\s*$/i.test((t.querySelector('th') || {}).textContent || ''));
  const rerun = [...article.querySelectorAll('pre')].find(p => /make chapter CHAPTER=/.test(p.textContent));
  const before = (a, b) => !!a && (!b || !!(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING));
  return {
    url: location.href,
    title: document.title,
    text: visible.join(' '),
    math: math.length,
    mathTypeset: math.filter(m => m.querySelector('mjx-container')).length,
    mathUntypeset: math.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 120)),
    mathjax: !!(window.MathJax && MathJax.version),
    images: [...document.images].map(img => ({src: img.currentSrc || img.src, complete: img.complete,
      width: img.naturalWidth, height: img.naturalHeight,
      figure: !!img.closest('figure, .cell_output, .output')})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id)
         .concat([...document.querySelectorAll('a[name]')].map(a => a.name)),
    paramsTable: params ? [...params.querySelectorAll('tbody tr')].map(tr =>
        [...tr.querySelectorAll('td')].map(td => td.textContent.trim())) : null,
    rerun: rerun ? rerun.textContent.trim() : null,
    paramsBeforeSection: before(params, firstSection),
    rerunBeforeSection: before(rerun, firstSection),
    height: document.documentElement.scrollHeight,
  };
}
"""


@dataclass
class PageReport:
    path: str  # relative to _build/html
    probe: dict = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Crawl:
    base: str  # the local server's root URL
    pages: list[PageReport]

    def page(self, path: str) -> PageReport | None:
        return next((r for r in self.pages if r.path == path), None)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports what matters
        pass


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def crawl() -> Crawl:
    """Serve _build/html on 127.0.0.1 (a free port), open every page in Chromium, report."""
    html = require_html()
    executable = _chromium()
    if executable is None:
        skip_or_fail("no Chromium on PATH: apt-get install chromium (make test does)")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    # "localhost", not the IP: the resolver rule below maps every other host name, 127.0.0.1
    # included, to nothing.
    base = f"http://localhost:{server.server_address[1]}/"
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    reports = []
    try:
        with sync_playwright() as playwright:
            # Two locks on the network: no host but localhost resolves, IP addresses included
            # (this also stops connections that Playwright cannot route, such as preconnects),
            # and _local_only aborts every request that is not for the local server.
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True,
                args=["--no-sandbox", "--disable-gpu",
                      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost"])
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            context.set_default_timeout(60_000)
            context.route("**/*", functools.partial(_local_only, base))
            for path in all_pages(html):
                reports.append(_visit(context, base, path.relative_to(html).as_posix()))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    return Crawl(base, reports)


def _local_only(base: str, route: Route) -> None:
    """Let requests for the local server through; abort the rest (the test reports them)."""
    if route.request.url.startswith(base):
        route.continue_()
    else:
        route.abort("blockedbyclient")


def _visit(context: BrowserContext, base: str, rel: str) -> PageReport:
    """Open one page in a fresh tab, so each report holds only that page's requests and errors."""
    report = PageReport(rel)
    page = context.new_page()
    page.on("request", lambda request: report.requests.append(request.url))
    page.on("requestfailed", functools.partial(_request_failed, report))
    page.on("response", functools.partial(_response, report))
    page.on("pageerror", lambda exc: report.errors.append(f"uncaught: {exc.name}: {exc.message}"))
    page.on("console", functools.partial(_console, report))
    try:
        page.goto(base + rel, wait_until="load")
        report.probe = page.evaluate(PROBE)
        stem = rel.removesuffix(".html").replace("/", "_").removeprefix("book_")
        page.screenshot(path=SCREENSHOTS / f"{stem}.png")
        if re.fullmatch(r"book/\d\d_[^/]+\.html", rel):  # a chapter: the whole page too
            page.screenshot(path=SCREENSHOTS / f"{stem}-full.png", full_page=True)
    except PlaywrightError as exc:
        pytest.fail(f"{rel}: the browser could not load the page: {exc}")
    finally:
        page.close()
    return report


def _request_failed(report: PageReport, request: Request) -> None:
    if request.failure != "net::ERR_ABORTED":  # cancelled by the page itself, not a failure
        report.failures.append(f"{request.resource_type} request failed: {request.failure} "
                               f"({request.url})")


def _response(report: PageReport, response: Response) -> None:
    if response.status >= 400:
        report.failures.append(f"HTTP {response.status} for {response.url}")


def _console(report: PageReport, message: ConsoleMessage) -> None:
    if message.type == "error":
        report.errors.append(f"console: {message.text} {message.location.get('url', '')}")


def test_every_page_was_opened(crawl):
    opened = {r.path for r in crawl.pages}
    assert "book/index.html" in opened
    for chapter in chapter_pages():
        assert f"book/{chapter}.html" in opened
    assert "book/execution_statistics.html" in opened and "book/bibliography.html" in opened


# Raw TeX that MathJax should have replaced; code (pre/code) is not visible text here.
RAW_TEX = [re.compile(p) for p in (r"\$\$", r"\\\[", r"\\\(", r"\\begin\{", r"\\frac\b",
                                    r"\\mathbb\b", r"(?<![\w$])\$[^$\s][^$]{0,200}?\$(?![\w$])")]


def test_math_is_typeset(crawl):
    problems = []
    for r in crawl.pages:
        p = r.probe
        if p["math"] and not p["mathjax"]:
            problems.append(f"{r.path}: {p['math']} math elements but MathJax did not load")
        if p["mathUntypeset"]:
            problems.append(f"{r.path}: {len(p['mathUntypeset'])} math elements not typeset, "
                            f"e.g. {p['mathUntypeset'][0]!r}")
        if p["mathErrors"]:
            problems.append(f"{r.path}: MathJax errors {p['mathErrors'][:3]}")
        for pattern in RAW_TEX:
            if m := pattern.search(p["text"]):
                start = max(m.start() - 60, 0)
                problems.append(f"{r.path}: raw TeX in the visible text: "
                                f"...{p['text'][start:m.end() + 60]!r}...")
                break
    assert not problems, "\n".join(problems)
    chapters = [r for r in crawl.pages if re.match(r"book/\d\d_", r.path)]
    assert all(r.probe["mathTypeset"] > 0 for r in chapters), "a chapter without any math?"


def test_every_image_loads(crawl):
    problems = []
    for r in crawl.pages:
        for img in r.probe["images"]:
            if not (img["complete"] and img["width"] > 0 and img["height"] > 0):
                problems.append(f"{r.path}: image {img['src']} did not load "
                                f"({img['width']}x{img['height']})")
    assert not problems, "\n".join(problems)


def test_every_figure_has_a_loaded_image(crawl):
    """Each numbered figure of the static HTML shows up as a loaded image in the browser."""
    problems = []
    for r in crawl.pages:
        doc = parse(HTML / r.path)
        figures = [f for f in doc.iter("figure") if next(f.iter(cls="caption-number"), None)]
        loaded = [i for i in r.probe["images"] if i["figure"] and i["width"] > 0]
        if len(loaded) < len(figures):
            problems.append(f"{r.path}: {len(figures)} numbered figures but {len(loaded)} "
                            "loaded figure images")
    assert not problems, "\n".join(problems)


def _ids_of(path: Path) -> set[str]:
    doc = parse(path)
    out = set()
    for node in doc.iter():
        if "id" in node.attrs:
            out.add(node.attrs["id"])
        if node.tag == "a" and "name" in node.attrs:
            out.add(node.attrs["name"])
    return out


def test_internal_links_and_cross_references_resolve(crawl):
    base = crawl.base
    ids = {r.path: set(r.probe["ids"]) for r in crawl.pages}
    problems, checked = [], 0
    for r in crawl.pages:
        for href in sorted(set(r.probe["links"])):
            if not href.startswith(base):
                continue  # external links (Binder, Colab, DOIs) are links, not requests
            parts = urlsplit(href)
            rel = unquote(parts.path[len(urlsplit(base).path):]) or "index.html"
            if rel.endswith("/"):
                rel += "index.html"
            target = HTML / rel
            checked += 1
            if not target.is_file():
                problems.append(f"{r.path}: link to {rel} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                anchor = unquote(parts.fragment)
                known = ids.get(rel)
                if known is None:
                    known = ids[rel] = _ids_of(target)
                if anchor not in known:
                    problems.append(f"{r.path}: link to {rel}#{anchor} (no such anchor)")
    redirect = is_redirect(HTML / "index.html")  # the root page only redirects to the book
    if redirect and not (HTML / redirect).is_file():
        problems.append(f"index.html redirects to missing {redirect}")
    assert checked > 0
    assert not problems, "\n".join(problems)


def test_pages_request_only_the_local_server(crawl):
    base = crawl.base
    problems = []
    for r in crawl.pages:
        assert r.requests, f"{r.path}: no request recorded"
        for url in r.requests:
            if url.startswith(base) or url.split(":", 1)[0] in ("data", "blob", "about"):
                continue
            problems.append(f"{r.path} requested {url}")
        for failure in r.failures:
            if "/favicon.ico" in failure:  # asked for by the browser itself, not by the page
                continue
            problems.append(f"{r.path}: {failure}")
    assert not problems, "\n".join(problems)


def test_no_javascript_errors(crawl):
    problems = []
    for r in crawl.pages:
        for error in r.errors:
            if "favicon.ico" in error or any(k.search(error) for k in KNOWN_JS_ERRORS):
                continue
            problems.append(f"{r.path}: {error}")
    assert not problems, "\n".join(problems)


def test_chapters_show_parameters_and_rerun_command_first(crawl):
    problems = []
    for chapter in chapter_pages():
        r = crawl.page(f"book/{chapter}.html")
        p = r.probe
        if not p["paramsTable"]:
            problems.append(f"{chapter}: no parameter table")
            continue
        rows = {row[0].strip("`"): row[1].split()[0].strip("`") for row in p["paramsTable"]
                if len(row) >= 2}
        if not p["rerun"] or not re.match(rf"make chapter CHAPTER={chapter}(\s|$)", p["rerun"]):
            problems.append(f"{chapter}: no rerun command `make chapter CHAPTER={chapter} ...` "
                            f"(found {p['rerun']!r})")
            continue
        if not (p["paramsBeforeSection"] and p["rerunBeforeSection"]):
            problems.append(f"{chapter}: the parameters and rerun command are not at the top")
        profile = rows.get("profile")
        if profile != "paper" and f"PROFILE={profile}" not in p["rerun"]:
            problems.append(f"{chapter}: the command does not rerun profile {profile}")
        m = re.search(r'PARAMS="(.*)"', p["rerun"])
        given = dict(kv.split("=", 1) for kv in m.group(1).split()) if m else {}
        shown = {k: v for k, v in rows.items() if k != "profile"}
        if given != shown:
            problems.append(f"{chapter}: the command's PARAMS {given} differ from the table "
                            f"{shown}")
    assert not problems, "\n".join(problems)


def test_screenshots_saved(crawl):
    linear = SCREENSHOTS / "05_linear.png"
    shots = sorted(SCREENSHOTS.glob("*.png"))
    assert len(shots) >= len(crawl.pages), "a page has no screenshot"
    for shot in shots:
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, f"{shot.name} is empty"
    if "05_linear" in chapter_pages():
        assert linear.exists() and (SCREENSHOTS / "05_linear-full.png").exists()
