"""The chapters' downloads: the executed notebook of each edition, in its
language, in Markdown that a plain Jupyter renders, whose first cell
installs reglab from the site — executed in a fresh environment without
reglab, with the built site served on localhost."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from pathlib import Path

import nbformat
import pytest

from tests.fresh_venv import READER, ROOT, clean_env, make_venv, run

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


def test_every_notebook_page_has_a_download(built_book):
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


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(built_book):
    handler = functools.partial(_Quiet, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


RUNNER = """\
import json, sys, time
import nbformat
from nbclient import NotebookClient

report = {}
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": "."}}).execute()
    report[path] = round(time.perf_counter() - start, 1)
    print(path, report[path], "s", flush=True)
import reglab
report["reglab"] = reglab.__file__
json.dump(report, open("report.json", "w"))
"""


def test_downloads_run_in_a_fresh_environment(built_book, served,
                                              tmp_path):
    """A venv with torch and the rest of a reader's environment but no
    reglab executes the downloaded chapters: the first one installs
    reglab from the served site's wheel. Each chapter runs once, the
    English and the Chinese notebook of alternate chapters (their code is
    identical, test_editions_share_code_and_outputs). The package tests
    of the installed wheel are in test_package.py."""
    python = make_venv(tmp_path / "venv", READER)
    work = tmp_path / "work"
    work.mkdir()
    paths = []
    for k, page in enumerate(PAGES):
        edition = EDITIONS[k % 2]
        dst = work / f"{edition}-{page}.ipynb"
        shutil.copy(built_book / edition / "_sources" / "book"
                    / f"{page}.ipynb", dst)
        paths.append(dst.name)
    (work / "runner.py").write_text(RUNNER)
    env = dict(clean_env(), REGLAB_SITE_URL=served,
               JUPYTER_DATA_DIR=str(tmp_path / "jupyter"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter" / "runtime"),
               PATH=f"{tmp_path / 'venv' / 'bin'}:{clean_env()['PATH']}")
    proc = run(python, "runner.py", *paths, cwd=work, env=env,
               timeout=3000)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    report = json.loads((work / "report.json").read_text())
    # reglab came from the site, into the fresh venv
    assert report.pop("reglab").startswith(str(tmp_path / "venv"))
    assert sorted(report) == sorted(paths)

