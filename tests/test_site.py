"""The site in a real browser: Debian's Chromium, driven by Playwright,
against the built book served on localhost.

Both editions: every page loads without console errors or failed
requests, its maths is typeset by MathJax, its images load; the language
switcher lands on the same page; search finds English and Chinese words;
a chapter's notebook download executes. Screenshots of one chapter, in
each edition, at desktop and phone width, go to ``_build/screenshots``
(``make screenshots`` copies them to ``docs/screenshots`` for the README).

Without Chromium or Playwright the module is skipped with one line; CI
installs both (``.ci/run``).
"""

from __future__ import annotations

import functools
import http.server
import shutil
import socketserver
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None or sync_playwright is None,
        reason="browser tests skipped: Chromium or Playwright is not "
               "installed (apt-get install chromium; pip install -r "
               "requirements.txt)"),
]

# The flags the PDF printer uses for a headless, offline Chromium.
sys.path.insert(0, str(ROOT / "tools"))
from print_pdf import ARGS  # noqa: E402

EDITIONS = ("en", "zh")
SCREENSHOT_PAGE = "book/weight-decay"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def toc_pages() -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"]
                            for c in part["chapters"]]


PAGES = toc_pages()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output readable
        pass


@pytest.fixture(scope="module")
def site(built_book):
    """The built site on http://127.0.0.1:<port>/."""
    handler = functools.partial(_Quiet, directory=str(built_book))
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Visit:
    """A page opened in a fresh tab, with everything that went wrong."""

    def __init__(self, browser, url: str, viewport=(1280, 900)):
        self.page = browser.new_page(
            viewport={"width": viewport[0], "height": viewport[1]})
        self.problems: list[str] = []
        self.page.on("pageerror", lambda e: self.problems.append(
            f"script error: {e}"))
        self.page.on("console", lambda m: self.problems.append(
            f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("requestfailed", lambda r: self.problems.append(
            f"request failed: {r.url}"))
        self.page.on("response", lambda r: self.problems.append(
            f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        self.page.goto(url, wait_until="load")

    def close(self):
        self.page.close()


@pytest.fixture
def visit(browser):
    opened = []

    def open_(url, **kwargs):
        opened.append(Visit(browser, url, **kwargs))
        return opened[-1]

    yield open_
    for v in opened:
        v.close()


# Text outside code blocks that MathJax should have replaced.
RAW_MATHS = """() => {
  const main = document.querySelector("main") || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll(
      "pre, code, script, style, mjx-container, .cell_output")
      .forEach(e => e.remove());
  const text = copy.textContent;
  const found = [];
  for (const mark of ["\\\\(", "\\\\)", "\\\\[", "$$"]) {
    if (text.includes(mark)) found.push(mark);
  }
  if (/(^|[^\\\\\\w])\\$[^$\\s][^$]*\\$/.test(text)) found.push("$...$");
  return found;
}"""

BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(img => !img.complete || img.naturalWidth === 0)
  .map(img => img.getAttribute("src"))"""


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("page", PAGES)
def test_page_renders(site, visit, edition, page):
    v = visit(f"{site}/{edition}/{page}.html")
    maths = v.page.locator(".math").count()
    if maths:
        v.page.wait_for_function(
            "n => document.querySelectorAll('mjx-container').length >= n",
            arg=maths, timeout=30_000)
        assert not v.page.locator("mjx-merror").count(), "a formula failed"
    assert v.page.evaluate(RAW_MATHS) == [], "raw TeX left on the page"
    v.page.wait_for_load_state("networkidle")
    assert v.page.evaluate(BROKEN_IMAGES) == []
    assert v.problems == []


@pytest.mark.parametrize("page", ["book/preface", "book/weight-decay"])
def test_switcher_lands_on_the_same_page(site, visit, page):
    v = visit(f"{site}/en/{page}.html")
    v.page.locator(".reglab-lang-switcher a[hreflang='zh-CN']").click()
    v.page.wait_for_url(f"{site}/zh/{page}.html")
    assert v.page.locator("html").get_attribute("lang") == "zh-CN"
    v.page.locator(".reglab-lang-switcher a[hreflang='en']").click()
    v.page.wait_for_url(f"{site}/en/{page}.html")
    assert v.problems == []


@pytest.mark.parametrize("edition, word, expected", [
    ("en", "dropout", "book/dropout.html"),
    ("zh", "正则化", "book/weight-decay.html"),
])
def test_search_finds_the_right_pages(site, visit, edition, word, expected):
    v = visit(f"{site}/{edition}/search.html?q={word}")
    # Sphinx adds the results one by one, then writes the summary.
    v.page.wait_for_function(
        "() => (document.querySelector('#search-results .search-summary')"
        " || {}).textContent", timeout=60_000)
    results = v.page.locator("#search-results ul.search li a")
    hrefs = [results.nth(i).get_attribute("href")
             for i in range(results.count())]
    assert any(expected in href for href in hrefs), hrefs
    assert v.problems == []


# Each chapter's main terms, as a reader types them: the chapter that
# teaches the term must be the first result (not an appendix that lists
# it). Chinese phrases are typed without spaces.
FIRST_RESULT = {
    "en": [
        ("weight decay", "weight-decay"),
        ("running mean", "batch-norm"),
        ("patience", "early-stopping"),
        ("learning rate warm-up", "learning-rate"),
        ("cosine annealing", "learning-rate"),
        ("label smoothing", "losses"),
        ("cross-entropy", "losses"),
        ("Nesterov momentum", "optimisation"),
        ("inverted dropout", "dropout"),
        ("gradient clipping", "trainability"),
        ("vanishing gradients", "trainability"),
        ("nested cross-validation", "model-selection"),
        ("mixup", "augmentation-ensembles"),
        ("bagging", "augmentation-ensembles"),
        ("bias-variance decomposition", "generalisation"),
    ],
    "zh": [
        ("权重衰减", "weight-decay"),
        ("批量归一化的滑动平均", "batch-norm"),
        ("早停的耐心", "early-stopping"),
        ("学习率预热", "learning-rate"),
        ("余弦退火", "learning-rate"),
        ("标签平滑", "losses"),
        ("交叉熵", "losses"),
        ("Nesterov动量", "optimisation"),
        ("倒置Dropout", "dropout"),
        ("梯度裁剪", "trainability"),
        ("梯度消失", "trainability"),
        ("嵌套交叉验证", "model-selection"),
        ("数据增强", "augmentation-ensembles"),
        ("自助样本", "augmentation-ensembles"),
        ("偏差方差分解", "generalisation"),
    ],
}
# Words of the theme's buttons that must not leak into result snippets.
BUTTON_LABELS = ("Copy to clipboard", "Link to this heading", "Toggle",
                 "Search Ctrl", "Color mode", "Download this page")


def search(v) -> tuple[list[str], list[str]]:
    """The result links and snippets of a search page, once complete."""
    v.page.wait_for_function(
        "() => (document.querySelector('#search-results .search-summary')"
        " || {}).textContent", timeout=60_000)
    items = v.page.locator("#search-results ul.search li")
    hrefs = [items.nth(i).locator("a").first.get_attribute("href")
             for i in range(items.count())]
    snippets = [items.nth(i).inner_text() for i in range(items.count())]
    return hrefs, snippets


@pytest.mark.parametrize("edition, query, chapter", [
    (edition, query, chapter) for edition, rows in FIRST_RESULT.items()
    for query, chapter in rows])
def test_search_ranks_the_teaching_chapter_first(site, visit, edition,
                                                 query, chapter):
    v = visit(f"{site}/{edition}/search.html?q={query}")
    hrefs, snippets = search(v)
    assert hrefs, f"{edition}: {query!r} finds nothing"
    assert f"book/{chapter}.html" in hrefs[0], (query, hrefs[:4])
    for text in snippets[:5]:
        for label in BUTTON_LABELS:
            assert label not in text, (query, label, text[:200])
    assert v.problems == []


def axe_script() -> Path:
    """axe-core, as shipped in the axe-playwright-python wheel (pinned in
    requirements.txt; nothing is downloaded)."""
    import axe_playwright_python

    return Path(axe_playwright_python.__file__).with_name("axe.min.js")


# Every rule, the experimental ones too (label-content-name-mismatch is).
AXE_RUN = """async () => {
  const extra = Object.fromEntries(axe.getRules(['experimental'])
      .map(r => [r.ruleId, {enabled: true}]));
  const result = await axe.run(document,
      {resultTypes: ['violations'], rules: extra});
  return result.violations
      .filter(v => v.impact === 'serious' || v.impact === 'critical')
      .map(v => `${v.id} (${v.impact}): ${v.nodes[0].html.slice(0, 120)}`);
}"""


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("page", PAGES)
def test_no_serious_accessibility_violations(site, visit, edition, page):
    v = visit(f"{site}/{edition}/{page}.html")
    v.page.add_script_tag(path=str(axe_script()))
    assert v.page.evaluate(AXE_RUN) == []


class _Compressing(_Quiet):
    """Sends text (HTML, CSS, scripts) gzip-compressed to a browser that
    accepts it, as GitHub Pages and other static hosts do; fonts and
    images go as they are."""

    TEXT = ("text/", "application/javascript", "application/json",
            "image/svg+xml")

    def send_head(self):
        import gzip
        import io

        path = Path(self.translate_path(self.path))
        kind = self.guess_type(str(path))
        if (path.is_file() and kind.startswith(self.TEXT)
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(path.read_bytes(), 6)
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        return super().send_head()


def _serve(root: Path, handler):
    server = socketserver.ThreadingTCPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def page_weight(browser, url: str) -> dict[str, int]:
    """Bytes of every response body of one page load with an empty cache,
    until MathJax has typeset and its fonts have arrived: ``{url: bytes}``
    (as sent, i.e. compressed where the server compresses)."""
    context = browser.new_context()  # an empty cache
    page = context.new_page()
    sizes: dict[str, int] = {}
    page.on("requestfinished", lambda r: sizes.__setitem__(
        r.url, r.sizes()["responseBodySize"]))
    page.goto(url, wait_until="load")
    page.evaluate("() => MathJax.startup.promise")
    page.wait_for_load_state("networkidle")
    context.close()
    return sizes


MiB = 2**20
# Pages with a CHAPTER's plots; the preface and the back matter are text.
CHAPTERS = [p for p in PAGES if p not in (
    "book/preface", "book/references", "book/glossary", "book/notation",
    "book/instructors")]


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_page_weight(built_book, browser, edition, page):
    """A chapter, with everything it loads (theme, MathJax and its fonts,
    plots), transfers under 1.5 MiB from a host that compresses text as
    GitHub Pages does (1.4 to 1.8 MiB before the Font Awesome script was
    dropped), and under 3.5 MiB even uncompressed (3.9 to 4.4 MiB
    before). The numbers are printed (``pytest -s``)."""
    weights = {}
    for name, handler in (("compressed", _Compressing), ("raw", _Quiet)):
        server, base = _serve(built_book, handler)
        try:
            sizes = page_weight(browser, f"{base}/{edition}/{page}.html")
        finally:
            server.shutdown()
            server.server_close()
        assert any("mathjax/output/chtml/fonts" in u for u in sizes), (
            "MathJax loaded no font: the page was measured too early")
        weights[name] = sum(sizes.values())
        heaviest = sorted(sizes.items(), key=lambda x: -x[1])[:3]
        print(f"{edition}/{page} {name}: {weights[name]} bytes "
              f"({weights[name] / MiB:.2f} MiB) in {len(sizes)} requests; "
              "heaviest: " + ", ".join(
                  f"{u.split('/')[-1].split('?')[0]} {b}"
                  for u, b in heaviest))
    assert weights["compressed"] < 1.5 * MiB, weights
    assert weights["raw"] < 3.5 * MiB, weights


@pytest.mark.parametrize("size", SIZES)
def test_one_search_button_and_visible_focus(site, visit, size):
    v = visit(f"{site}/en/book/dropout.html", viewport=SIZES[size])
    buttons = v.page.locator(".search-button__button")
    shown = [i for i in range(buttons.count()) if buttons.nth(i).is_visible()]
    assert len(shown) == 1, f"{size}: {len(shown)} search buttons"
    switcher = v.page.locator(".reglab-lang-switcher a").first
    switcher.focus()
    v.page.keyboard.press("Shift+Tab")  # focus by keyboard, then back
    v.page.keyboard.press("Tab")
    outline = switcher.evaluate(
        "e => [document.activeElement === e,"
        " getComputedStyle(e).outlineStyle,"
        " parseFloat(getComputedStyle(e).outlineWidth)]")
    assert outline[0] and outline[1] != "none" and outline[2] >= 2, outline


@pytest.mark.parametrize("edition", EDITIONS)
def test_download_menu_offers_the_executed_notebook(site, visit, edition):
    """The chapter's download menu serves the executed notebook of the
    page's edition (its contents and execution in a fresh environment:
    tests/test_downloads.py)."""
    import nbformat

    v = visit(f"{site}/{edition}/book/generalisation.html")
    link = v.page.locator("a[href$='.ipynb']:not([href^='http'])").first
    href = link.get_attribute("href")
    response = v.page.request.get(v.page.url.rsplit("/", 1)[0] + "/" + href)
    assert response.ok, href
    nb = nbformat.reads(response.body().decode("utf-8"), 4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "reglab" in code[0].source  # the install cell
    assert all(c.execution_count for c in code[1:]), href
    assert any(c.outputs for c in code[1:]), href
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert ("过拟合" in text) == (edition == "zh"), href


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("edition", EDITIONS)
def test_screenshots(site, visit, edition, size):
    out = ROOT / "_build" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    v = visit(f"{site}/{edition}/{SCREENSHOT_PAGE}.html",
              viewport=SIZES[size])
    v.page.wait_for_function(
        "() => document.querySelectorAll('mjx-container').length > 0",
        timeout=30_000)
    path = out / f"{edition}-{size}.png"
    v.page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
