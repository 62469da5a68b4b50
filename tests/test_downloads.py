"""The chapters' downloads: the executed notebook of each edition, in its
language, in Markdown that a plain Jupyter renders, whose first cell
installs reglab from the site — executed in a fresh environment without
reglab, with the built site served on localhost."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.fresh_venv import ROOT

pytestmark = pytest.mark.slow

EDITIONS = ("en", "zh")
SITE = "https://reglab-course.github.io/reglab"  # _config.yml
# the pages that are notebooks: those with code cells
PAGES = sorted(p.stem for p in (ROOT / "book").glob("*.md")
               if "```{code-cell}" in p.read_text(encoding="utf-8"))
MYST = re.compile(r"\{(ref|eq|numref|doc|term|cite:p|cite:t|cite|math|"
                  r"literalinclude|code-cell|glue|download)\}"
                  r"|^\([\w-]+\)=$|^:::|^```\{", re.M)
HAN = re.compile(r"[\u4e00-\u9fff]")


def notebook(site: Path, edition: str, page: str):
    return nbformat.read(site / edition / "_sources" / "book"
                         / f"{page}.ipynb", as_version=4)


def markdown(nb) -> str:
    """The Markdown cells, fenced code blocks removed."""
    text = "\n\n".join(c.source for c in nb.cells
                       if c.cell_type == "markdown")
    return re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "", text, flags=re.M | re.S)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_every_notebook_page_has_a_download(built_book, downloads_run):
    for edition in EDITIONS:
        got = sorted(p.stem for p in
                     (built_book / edition / "_sources" / "book")
                     .glob("*.ipynb"))
        assert got == PAGES, edition


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("page", PAGES)
def test_download_is_the_executed_page(built_book, edition, page):
    """Outputs, equation numbers and code: compared with the HTML page of
    the same edition."""
    nb = notebook(built_book, edition, page)
    nbformat.validate(nb)
    html = (built_book / edition / "book" / f"{page}.html").read_text(
        encoding="utf-8")
    cells = code_cells(nb)[1:]  # after the install cell
    # every code cell of the page, each executed once, in order
    assert len(cells) == html.count('<div class="cell docutils container')
    counts = [c.execution_count for c in cells]
    assert None not in counts and counts == sorted(counts)
    # the figures of the page are in the notebook
    images = sum("image/png" in o.get("data", {})
                 for c in cells for o in c.outputs)
    md = markdown(nb)
    in_text = len(re.findall(r"!\[[^\]]*\]\(", md))
    assert images + in_text == len(re.findall(
        r'<img [^>]*src="\.\./_images/', html)), images
    # numbered equations keep their numbers
    assert len(re.findall(r"\\tag\{\d+\}", md)) == html.count(
        'class="eqno"')


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("page", PAGES)
def test_download_markdown_is_plain(built_book, edition, page):
    nb = notebook(built_book, edition, page)
    md = markdown(nb)
    leftover = MYST.findall(md)
    assert not leftover, f"MyST left in {edition}/{page}: {leftover[:5]}"
    # links lead to the published site (or elsewhere on the web)
    for url in re.findall(r"\]\(([^)\s]+)\)", md):
        assert url.startswith(("https://", "http://")), url
        if url.startswith(SITE):
            assert url.startswith(f"{SITE}/{edition}/"), url
    # every literalinclude of the source is a code block with its code
    source = (ROOT / "book" / f"{page}.md").read_text(encoding="utf-8")
    text = "\n\n".join(c.source for c in nb.cells
                       if c.cell_type == "markdown")
    fenced = "\n".join(m[1] for m in re.findall(
        r"^(`{3,})python\n(.*?)^\1$", text, flags=re.M | re.S))
    for block in re.findall(r"^```\{literalinclude\}.*?^```$", source,
                            flags=re.M | re.S):
        obj = re.search(r"^:pyobject: [\w.]*?(\w+)$", block, flags=re.M)
        start = re.search(r'^:start-at: "?(.+?)"?$', block, flags=re.M)
        if start:
            assert start[1] in fenced, (page, start[0])
        elif obj:
            assert re.search(rf"^\s*(def|class) {obj[1]}\b", fenced,
                             flags=re.M), (page, obj[0])
    # the edition's language
    han = len(HAN.findall(md))
    letters = len(re.findall(r"[A-Za-z]", md))
    if edition == "zh":
        assert han > 0.3 * letters, (han, letters)
    else:
        assert han < 0.01 * letters, (han, letters)


@pytest.mark.parametrize("page", PAGES)
def test_editions_share_code_and_outputs(built_book, page):
    """Code exists once: the editions' code cells (after the install
    cell) and outputs are the same."""
    en, zh = (code_cells(notebook(built_book, e, page)) for e in EDITIONS)
    assert [(c.source, c.outputs) for c in en[1:]] == \
        [(c.source, c.outputs) for c in zh[1:]]


def test_install_cell_points_at_the_served_wheel(built_book):
    wheels = sorted((built_book / "wheels").glob("reglab-*.whl"))
    assert len(wheels) == 1
    for edition in EDITIONS:
        for page in PAGES:
            first = notebook(built_book, edition, page).cells[0]
            assert first.cell_type == "code"
            assert f'"{SITE}"' in first.source
            assert f"/wheels/{wheels[0].name}" in first.source
            assert bool(HAN.search(first.source)) == (edition == "zh")


@pytest.mark.parametrize("edition", EDITIONS)
def test_launch_buttons_open_the_editions_notebook(built_book, edition):
    html = (built_book / edition / "book" / "dropout.html").read_text(
        encoding="utf-8")
    target = f"{edition}/_sources/book/dropout.ipynb"
    colab = re.findall(r'href="(https://colab[^"]+)"', html)
    binder = re.findall(r'href="(https://mybinder[^"]+)"', html)
    assert colab and all(u.endswith(target) for u in colab), colab
    assert binder and all(target.replace("/", "%252F") in u
                          for u in binder), binder


@pytest.fixture(scope="session")
def downloads_run(built_book, tmp_path_factory):
    """Executing the downloads (tests/run_downloads.py) takes minutes on
    one core: it starts in the background with the first test of this
    file and runs beside the other tests of the built book; the test that
    checks it is ordered last (marker ``last``)."""
    work = tmp_path_factory.mktemp("downloads")
    log = open(work / "log.txt", "w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "run_downloads.py"),
         str(built_book), str(work)], stdout=log, stderr=subprocess.STDOUT)
    yield proc, work
    if proc.poll() is None:
        proc.kill()
    log.close()


@pytest.mark.last
def test_downloads_run_in_a_fresh_environment(downloads_run):
    """A venv with torch and the rest of a reader's environment but no
    reglab executes the downloaded chapters: the first one installs
    reglab from the served site's wheel. Each chapter runs once, the
    English and the Chinese notebook of alternate chapters (their code is
    identical, test_editions_share_code_and_outputs). The package tests
    of the installed wheel are in test_package.py."""
    proc, work = downloads_run
    proc.wait(timeout=3600)
    result = json.loads((work / "result.json").read_text())
    assert "error" not in result, result
    assert result["returncode"] == 0, result["stdout"] + result["stderr"]
    report = result["report"]
    # reglab came from the site, into the fresh venv
    assert report.pop("reglab").startswith(result["venv"])
    assert sorted(report) == sorted(result["paths"])
    assert len(report) == len(PAGES)
