"""The book: both editions build strictly from the sources, every message
is translated, pages link to each other across languages, maths and
figures are served locally, and Chinese search indexes Chinese words."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402

pytestmark = pytest.mark.slow
BUILD = ROOT / "_build"
HTML = BUILD / "html"

def toc_pages() -> list[str]:
    """Every page of ``_toc.yml``: the root, then the chapters in order."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"]
                            for c in part["chapters"]]


PAGES = toc_pages()


def test_every_page_is_in_the_toc():
    """No chapter is left out of the book (or listed without a file)."""
    sources = sorted(f"book/{p.stem}" for p in (ROOT / "book").glob("*.md"))
    assert sorted(PAGES) == sources


@pytest.fixture(scope="module")
def built(built_book):
    return built_book


def _read(path):
    return path.read_text(encoding="utf-8")


def test_every_message_translated_and_not_fuzzy(built):
    pots = sorted((BUILD / "gettext").rglob("*.pot"))
    assert pots, "the gettext builder produced no templates"
    for pot in pots:
        rel = pot.relative_to(BUILD / "gettext").with_suffix(".po")
        po = polib.pofile(str(build_book.LOCALES / "zh_CN" / "LC_MESSAGES"
                              / rel))
        translated = {e.msgid for e in po.translated_entries()}
        fuzzy = [e.msgid for e in po.fuzzy_entries()]
        missing = [e.msgid for e in polib.pofile(str(pot))
                   if e.msgid not in translated]
        assert not fuzzy, f"{rel}: fuzzy messages {fuzzy[:3]}"
        assert not missing, f"{rel}: untranslated messages {missing[:3]}"
    # the part captions of _toc.yml live in sphinx.po
    assert build_book.toc_captions()
    assert build_book.untranslated_captions("zh_CN") == []


CATALOGS = sorted((build_book.LOCALES / "zh_CN").rglob("*.po"))


def test_catalogs_pass_msgfmt_check():
    """Every catalog compiles under ``msgfmt --check`` (format strings,
    header, plural forms): Babel's stray ``python-format`` flags on prose
    with percent signs once made twelve messages fatal errors."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt not installed (apt-get install gettext; "
                    ".ci/run does)")
    assert CATALOGS, "no .po catalogs found"
    errors = []
    for po in CATALOGS:
        proc = subprocess.run([msgfmt, "--check", "-o", "/dev/null",
                               str(po)], capture_output=True, text=True)
        if proc.returncode != 0:
            errors += [line for line in proc.stderr.splitlines()
                       if "warning:" not in line] or [f"{po}: rc "
                                                      f"{proc.returncode}"]
    assert not errors, "msgfmt --check failed:\n" + "\n".join(errors)


def test_update_po_strips_python_format_flags(tmp_path):
    """``--update-po`` removes the flag that makes msgfmt fail, and leaves
    the rest of the catalog as it was."""
    src = tmp_path / "zh_CN" / "LC_MESSAGES" / "book" / "x.po"
    src.parent.mkdir(parents=True)
    src.write_text(
        'msgid ""\nmsgstr ""\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, python-brace-format, python-format\n'
        'msgid "About 40% of {eq}`eq-a` is a rather long line that would be '
        'wrapped at 78 characters"\n'
        'msgstr "{eq}`eq-a`的约 40%"\n\n'
        '#, python-format\nmsgid "50 % of"\nmsgstr "50 %"\n',
        encoding="utf-8")
    assert build_book.strip_format_flags(tmp_path) == [src]
    po = polib.pofile(str(src))
    assert [e.flags for e in po] == [["python-brace-format"], []]
    assert "wrapped at 78 characters\"\n" in src.read_text(encoding="utf-8")
    assert build_book.strip_format_flags(tmp_path) == []


def test_update_po_keeps_the_hand_written_template_entries(tmp_path):
    """Merging removes the messages no .pot lists any more, except the
    part captions and theme labels written by hand into sphinx.po."""
    pot_dir = tmp_path / "pot"
    pot_dir.mkdir()
    pot = polib.POFile()
    pot.append(polib.POEntry(msgid="Search", msgstr=""))
    pot.save(str(pot_dir / "sphinx.pot"))
    page = polib.POFile()
    page.append(polib.POEntry(msgid="New paragraph", msgstr=""))
    page.save(str(pot_dir / "page.pot"))
    po_dir = tmp_path / "locales" / "zh_CN" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    templates = polib.POFile()
    for msgid, msgstr in (("Search", "搜索"), ("Foundations", "基础"),
                          ("Link to this heading", "链接到此标题")):
        templates.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    templates.save(str(po_dir / "sphinx.po"))
    old = polib.POFile()
    old.append(polib.POEntry(msgid="Old paragraph", msgstr="旧段落"))
    old.save(str(po_dir / "page.po"))
    build_book.merge_catalogs(pot_dir, locales=tmp_path / "locales")
    kept = {e.msgid: e.msgstr for e in polib.pofile(str(po_dir / "sphinx.po"))}
    assert kept == {"Search": "搜索", "Foundations": "基础",
                    "Link to this heading": "链接到此标题"}
    # (sphinx-intl may offer the old translation as a fuzzy guess)
    merged = [e.msgid for e in polib.pofile(str(po_dir / "page.po"))]
    assert merged == ["New paragraph"]


def test_gate_reports_untranslated_and_fuzzy(tmp_path):
    """The build's own check catches a fuzzy and an empty translation."""
    pot_dir = tmp_path / "pot"
    pot_dir.mkdir()
    pot = polib.POFile()
    for msg in ("Hello", "World", "Done"):
        pot.append(polib.POEntry(msgid=msg, msgstr=""))
    pot.save(str(pot_dir / "page.pot"))
    po_dir = tmp_path / "locales" / "zh_CN" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    po = polib.POFile()
    po.append(polib.POEntry(msgid="Hello", msgstr="你好"))
    po.append(polib.POEntry(msgid="World", msgstr="世界", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="Done", msgstr=""))
    po.save(str(po_dir / "page.po"))
    problems = build_book.untranslated(pot_dir, "zh_CN",
                                       locales=tmp_path / "locales")
    assert len(problems) == 2
    assert "'World'" in problems[0] and "'Done'" in problems[1]


# Appendix B (book/notation.md) must list every letter that a formula of
# the book uses. A letter counts wherever it stands in a formula: alone, in
# bold, with a hat or bar, or as a subscript or index; a calligraphic or
# blackboard letter (\mathcal D, \mathbb E) is a symbol of its own.
# Exempt, because they are not symbols: what is not maths (code cells,
# {literalinclude} and other code blocks, inline code); the names of LaTeX
# commands (\frac, \lVert); and the words inside \text{}, \textrm{},
# \mathrm{} and \operatorname{} (units, labels such as "train", and
# operator names such as Var, softmax, MSE). The check is by letter, not by
# meaning: it keeps the table complete, and the table's prose says which
# meaning holds in which chapter.
GREEK = set("""alpha beta gamma delta epsilon varepsilon zeta eta theta
    vartheta iota kappa lambda mu nu xi pi varpi rho varrho sigma varsigma
    tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi
    Sigma Upsilon Phi Psi Omega ell""".split())
CODE_FENCE = re.compile(r"^(`{3,})([^\n]*)\n(.*?)^\1[ \t]*$", re.S | re.M)
MATH = re.compile(r"\$\$(.+?)\$\$|(?<!\\)\$(.+?)(?<!\\)\$", re.S)


def formulas_of(text: str) -> list[str]:
    """The formulas of a MyST page: inline and display maths and {math}
    blocks, leaving out code."""
    found = []

    def fence(m):
        info, body = m.group(2).strip(), m.group(3)
        if info.startswith("{math}"):
            found.append("\n".join(line for line in body.splitlines()
                                   if not line.startswith(":")))
            return ""
        if info.startswith("{") and not info.startswith(
                ("{code-cell}", "{code", "{literalinclude}")):
            return body  # an admonition, figure, ...: prose inside
        return ""

    prose = CODE_FENCE.sub(fence, text.split("\n---\n", 1)[-1]
                           if text.startswith("---\n") else text)
    prose = re.sub(r"`[^`\n]+`", " ", prose)
    found += [a or b for a, b in MATH.findall(prose)]
    return found


def letters_of(tex: str) -> set[str]:
    """The symbols of a formula: Latin letters, Greek commands, and
    calligraphic and blackboard letters (``\\mathcal D`` is not ``D``)."""
    tex = re.sub(r"\\(?:text\w*|mathrm|operatorname|label|tag|begin|end)"
                 r"\s*\{[^{}]*\}", " ", tex)
    styled = re.compile(r"\\(mathcal|mathbb)\s*"
                        r"(?:\{\s*([A-Za-z])\s*\}|([A-Za-z]))")
    found = {f"\\{m[1]} {m[2] or m[3]}" for m in styled.finditer(tex)}
    tex = styled.sub(" ", tex)
    found |= {f"\\{name}" for name in re.findall(r"\\([A-Za-z]+)", tex)
              if name in GREEK}
    return found | set(re.findall(r"[A-Za-z]", re.sub(r"\\[A-Za-z]+", " ",
                                                      tex)))


def symbols_of(text: str) -> set[str]:
    """The symbols of every formula of ``text`` (see letters_of)."""
    return set().union(*map(letters_of, formulas_of(text)))


def symbol_table() -> tuple[str, str, set[str]]:
    """Appendix B: its text, the section of its symbol table, and the
    symbols that head the table's rows (the first column)."""
    notation = _read(ROOT / "book" / "notation.md")
    section = notation.split("\n## Symbols\n", 1)[1].split("\n## ", 1)[0]
    heads = set().union(*map(symbols_of, re.findall(
        r"^\| *(.+?) *\|", section, re.M)))
    return notation, section, heads


def test_notation_lists_every_symbol():
    """Appendix B's symbol table lists every letter used in a formula
    anywhere in the book (exemptions: see above)."""
    listed = symbol_table()[2]
    assert {"p", "\\eta", "\\lambda", "B", "N"} <= listed, \
        "no symbol table found under '## Symbols' in book/notation.md"
    missing = {}
    for page in sorted((ROOT / "book").glob("*.md")):
        for tex in formulas_of(_read(page)):
            for letter in letters_of(tex) - listed:
                missing.setdefault(letter, set()).add(page.stem)
    assert not missing, (
        "book/notation.md's symbol table does not list these letters, used "
        "in formulas of the chapters named: " + "; ".join(
            f"{k} ({', '.join(sorted(v))})"
            for k, v in sorted(missing.items())))


def test_notation_lists_no_unused_symbol():
    """Every symbol that heads a row of Appendix B's table is used in a
    formula somewhere (a chapter, or Appendix B's own text): renaming a
    letter must not leave its row behind."""
    notation, section, heads = symbol_table()
    used = symbols_of(notation.replace(section, "")).union(*(
        symbols_of(_read(page)) for page in (ROOT / "book").glob("*.md")
        if page.stem != "notation"))
    assert "\\mathcal D" in heads and "p" in heads
    assert heads <= used, (
        "book/notation.md's table has rows for symbols no formula uses: "
        + ", ".join(sorted(heads - used)))


def test_notation_check_sees_every_kind_of_formula():
    """The check above finds letters in inline, display and {math} maths,
    in bold, as subscripts and in admonitions, and none in code or in
    \\text{}."""
    page = ("---\nkernelspec: {}\n---\n"
            "Inline $\\mathbf a_k$, code `$b$`.\n\n$$\nc + \\gamma\n$$\n\n"
            "```{math}\n:label: x\n\\hat d\n```\n\n"
            "```{code-cell} ipython3\nprint('$e$')\n```\n\n"
            "```{admonition} Note\n$\\mathcal F_{\\text{ghost}}$\n```\n")
    found = symbols_of(page)
    assert found == {"a", "k", "c", "\\gamma", "d", "\\mathcal F"}


@pytest.mark.parametrize("page", PAGES)
def test_switcher_links_to_same_page_in_other_language(built, page):
    for here, there, lang in (("en", "zh", "zh-CN"), ("zh", "en", "en")):
        html = _read(built / here / f"{page}.html")
        depth = page.count("/") + 1
        target = "../" * depth + f"{there}/{page}.html"
        assert f'href="{target}"' in html, f"{here}/{page}: no switcher"
        assert f'hreflang="{lang}"' in html
        resolved = (built / here / page).parent / target
        assert resolved.resolve().is_file()


def test_chinese_edition_is_chinese(built):
    html = _read(built / "zh" / "book" / "weight-decay.html")
    assert '<html lang="zh-CN"' in html
    assert "权重衰减" in html and "过拟合" in html
    # code and maths exist once, untranslated
    assert "l2_penalty" in html and r"\lambda" in html


# The themes' English labels (tooltips, aria-labels, alt texts) that the
# Chinese edition must not show, and the Traditional-Chinese wording the
# book theme's catalog once gave the PDF entry.
ENGLISH_LABELS = (
    "Link to this heading", "Link to this equation", "Link to this image",
    "Color mode", "Light",
    "Dark", "System Settings", "Toggle primary sidebar",
    "Toggle secondary sidebar", "Main", "Page", "Launch interactive content",
    "Launch on Binder", "Launch on Colab", "Binder logo", "Colab logo",
    "Print to PDF", "Download this page", "Search", "Download source file",
    "Download notebook file")


@pytest.mark.parametrize("page", PAGES)
def test_chinese_theme_labels(built, page):
    html = _read(built / "zh" / f"{page}.html")
    labels = re.findall(r'(?:title|aria-label|data-bs-title|alt|'
                        r'placeholder)="([^"]*)"', html)
    english = sorted({x for x in labels if x in ENGLISH_LABELS})
    assert not english, f"zh/{page}: English labels {english}"
    assert "列印" not in html


def test_chinese_search_indexes_chinese_words(built):
    index = _read(built / "zh" / "searchindex.js")
    terms = json.loads(re.search(r'"terms":\s*(\{.*?\})', index).group(1))
    assert "权重" in terms or "权重衰减" in terms, "no Chinese terms indexed"
    # glossary terms are whole words (jieba alone splits 正则化 into 正则 化)
    for term in ("正则化", "批量归一化", "过拟合", "交叉验证"):
        assert term in terms, f"{term} is not a search term"


def test_search_dictionary_holds_the_glossary_terms():
    terms = build_book.glossary_terms()
    expected = {"正则化", "批量归一化", "早停", "权重衰减", "梯度裁剪"}
    assert expected <= set(terms)
    assert all(" " not in t and not t.isascii() for t in terms)


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_assets_are_local(built, edition):
    """MathJax is served by the site, from one copy beside the editions
    (a reader who switches language loads it once), and no page loads a
    script or a stylesheet from another host."""
    mathjax = built / "mathjax" / "tex-chtml.js"
    assert mathjax.is_file()
    assert (mathjax.parent / "output" / "chtml" / "fonts" / "woff-v2"
            ).is_dir()
    assert not (built / edition / "_static" / "mathjax").exists()
    pages = [p for p in (built / edition).rglob("*.html")
             if "_static" not in p.parts]
    with_maths = 0
    for page in pages:
        html = _read(page)
        external = re.findall(
            r'<(?:script[^>]+src|link[^>]+href)="((?:https?:)?//[^"]+)"',
            html)
        assert not external, f"{page.relative_to(built)} loads {external}"
        if 'class="math' in html:
            with_maths += 1
            src = re.findall(r'<script[^>]+src="([^"?]*tex-chtml\.js)',
                             html)
            assert src, f"{page.relative_to(built)}: maths but no MathJax"
            assert (page.parent / src[0]).resolve() == mathjax.resolve(), (
                f"{page.relative_to(built)} loads MathJax from {src[0]}")
    assert with_maths > 10


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_icons_without_the_font_awesome_script(built, edition):
    """The 1.4 MB Font Awesome script is gone; every icon a page or a
    script names is drawn by the subset icon font, and is hidden from
    screen readers."""
    from fontTools.ttLib import TTFont

    static = built / edition / "_static"
    assert not (static / "scripts" / "fontawesome.js").exists()
    css = _read(static / "styles" / "pydata-sphinx-theme.css")
    font = static / "vendor" / "fontawesome" / "webfonts" / (
        "fa-solid-900-subset.woff")
    assert f"url(../vendor/fontawesome/webfonts/{font.name})" in css
    assert font.stat().st_size < 20_000
    cmap = TTFont(str(font)).getBestCmap()
    rules = {}  # icon name -> code point
    for names, code in re.findall(
            r'((?:\.fa-[a-z0-9-]+:{1,2}before,?)+)\{content:"\\([0-9a-f]{4})"',
            css):
        rules.update(dict.fromkeys(re.findall(r"fa-([a-z0-9-]+):", names),
                                   code))
    used = set()
    for page in (built / edition).rglob("*.html"):
        html = _read(page)
        assert "fontawesome.js" not in html, page
        for tag in re.findall(r'<(?:i|span) class="[^"]*\bfa-[^>]*>', html):
            assert 'aria-hidden="true"' in tag, f"{page.name}: {tag}"
        for names in re.findall(r'class="([^"]*\bfa(?:s|-solid)\b[^"]*)"',
                                html):
            used |= set(re.findall(r"\bfa-([a-z0-9-]+)", names))
    used -= {"lg", "solid"}
    assert {"bars", "magnifying-glass", "download"} <= used
    for name in sorted(used):
        assert name in rules, f"no rule for fa-{name}"
        assert int(rules[name], 16) in cmap, f"fa-{name} not in the font"
    for glyph in ("\uf05a", "\uf071"):  # admonitions: note, warning
        assert glyph in css and ord(glyph) in cmap


# Pages without experiments (hence without figures).
TEXT_ONLY = ("book/preface", "book/references", "book/glossary",
             "book/notation", "book/instructors")
CHAPTERS = [p for p in PAGES if p not in TEXT_ONLY]


@pytest.mark.parametrize("edition", ["en", "zh"])
@pytest.mark.parametrize("page", CHAPTERS)
def test_figures_exist(built, edition, page):
    """Every chapter has at least one figure, and every image it shows is
    a file of the site."""
    html = _read(built / edition / f"{page}.html")
    images = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert images, f"{edition}/{page}: no figure"
    for src in images:
        path = (built / edition / page).parent / src
        assert path.resolve().is_file(), src


def _has_han(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


@pytest.mark.parametrize("edition", ["en", "zh"])
@pytest.mark.parametrize("page", CHAPTERS)
def test_figures_have_captions_and_alt_text(built, edition, page):
    """Every image has an alt text in the edition's language that is not
    a file path, and every plot of a code cell is a figure whose caption
    the chapter wrote; the plot's alt text is that caption, without TeX."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read(built / edition / f"{page}.html"),
                         "html.parser")
    for img in soup.find_all("img"):
        alt = (img.get("alt") or "").strip()
        assert alt, f"{edition}/{page}: {img.get('src')} has no alt text"
        assert not re.fullmatch(r"\S*[/\\]\S*|\S+\.(png|svg|jpe?g|gif)",
                                alt), (
            f"{edition}/{page}: alt text {alt!r} is a file path")
        assert _has_han(alt) == (edition == "zh"), (
            f"{edition}/{page}: alt text {alt!r} is not in the edition's "
            "language")
    plots = soup.select("div.cell_output img")
    assert plots, f"{edition}/{page}: no plot"
    for img in plots:
        figure = img.find_parent("figure")
        assert figure is not None, f"{edition}/{page}: {img['src']} " \
            "is not a figure"
        caption = figure.find("figcaption")
        text = caption.get_text(" ", strip=True) if caption else ""
        assert len(text) > 40, f"{edition}/{page}: {img['src']} has no " \
            "caption"
        alt = img["alt"]
        assert not re.search(r"[$\\{}]", alt), f"TeX in alt text {alt!r}"
        # the alt text is the caption (maths as plain text)
        words = re.findall(r"[a-z]{4,}|[\u4e00-\u9fff]{2}", alt.lower())
        assert words and all(w in text.lower() for w in words[:8]), (
            f"{edition}/{page}: alt {alt!r} is not the caption {text!r}")


def test_language_chooser(built):
    html = _read(built / "index.html")
    assert 'href="en/book/preface.html"' in html
    assert 'href="zh/book/preface.html"' in html
    assert not (built / "jupyter_execute").exists()


def pdf_text(pdf: Path, first: int | None = None,
             last: int | None = None) -> str:
    """The text layer of ``pdf`` (poppler's ``pdftotext``)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils "
                    "(.ci/run installs it)")
    cmd = [tool, "-enc", "UTF-8"]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    return subprocess.run(cmd + [str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                          text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def formulas(site: Path) -> list[str]:
    """The TeX source of every formula of the edition's chapters (what
    MathJax typesets), whitespace collapsed."""
    import html as html_lib

    found = []
    for page in sorted((site / "book").glob("*.html")):
        text = _read(page)
        for tex in re.findall(r'class="math notranslate nohighlight">\s*'
                              r'(?:\\\[|\\\()(.*?)(?:\\\]|\\\))\s*<',
                              text, re.S):
            found.append(" ".join(html_lib.unescape(tex).split()))
    return found


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_pdf_of_each_edition(built, edition):
    """A PDF per edition: a book's worth of pages, a table of contents
    that lists every chapter, maths typeset (no TeX left in the text
    layer), numbered equations, figures, and the edition's language."""
    pdf = built / "pdf" / f"reglab-{edition}.pdf"
    assert pdf.is_file(), f"{pdf} was not built"
    pages = pdf_pages(pdf)
    assert pages >= 150, f"{pdf.name}: only {pages} pages"
    text = pdf_text(pdf)
    flat = " ".join(text.split())
    # long formulas only: code cells quote short ones (axis labels)
    tex = {f for f in formulas(built / edition) if "\\" in f and len(f) > 30}
    assert len(tex) > 100, "the chapters' formulas were not found"
    raw = [f for f in tex if f in flat]  # MathJax left it as TeX
    assert not raw, f"{pdf.name}: formulas left as TeX: {raw[:3]}"
    contents = pdf_text(pdf, 1, 3)  # the theme's print header
    for page in CHAPTERS:
        title = re.search(r"<title>(.*?) &#8212;",
                          _read(built / edition / f"{page}.html"))
        heading = title.group(1).strip()
        assert heading[:12] in contents.replace("\n", " "), (
            f"{pdf.name}: {heading!r} not in the table of contents")
    numbers = re.findall(r"^\((\d+)\)$", text, re.M)  # MathJax's tags
    assert len(numbers) >= 50 and "12" in numbers, "equations unnumbered"
    images = subprocess.run(["pdfimages", "-list", str(pdf)],
                            capture_output=True, text=True).stdout
    assert len(images.splitlines()) - 2 >= 40, "figures are missing"
    # Code, maths and names stay Latin in both editions; the English one
    # quotes a few Chinese terms (glossary, the source posts in Appendix A).
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    if edition == "zh":
        assert han > 0.2 * latin, "the Chinese PDF's text is not Chinese"
    else:
        assert han < 0.01 * latin, "the English PDF's text is Chinese"


@pytest.mark.parametrize("edition", ["en", "zh"])
def test_download_menu_links_the_pdf(built, edition):
    html = _read(built / edition / "book" / "dropout.html")
    assert f'href="../../pdf/reglab-{edition}.pdf"' in html
    assert "window.print()" not in html


def test_failing_cell_fails_the_build(tmp_path):
    """A notebook error must stop the build (not just print a traceback):
    the same myst-nb settings on a one-page book with a failing cell."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["allow_errors"] is False
    assert config["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert config["sphinx"]["config"]["nb_execution_show_tb"] is True
    assert config["execute"]["execute_notebooks"] == "cache"
    (tmp_path / "conf.py").write_text(
        "extensions = ['myst_nb']\n"
        "nb_execution_mode = 'cache'\n"
        "nb_execution_cache_path = '_build/.jupyter_cache'\n"
        "nb_execution_raise_on_error = True\n"
        "nb_execution_show_tb = True\n"
        "exclude_patterns = ['_build']\n")
    (tmp_path / "index.md").write_text(
        "---\njupytext:\n  text_representation:\n    extension: .md\n"
        "    format_name: myst\nkernelspec:\n  name: python3\n"
        "  display_name: Python 3\n---\n"
        "# Title\n\n```{code-cell} ipython3\nraise ValueError('boom')\n```\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
         str(tmp_path), str(tmp_path / "_build")],
        capture_output=True, text=True)
    assert proc.returncode != 0
    assert "boom" in proc.stderr + proc.stdout
    shutil.rmtree(tmp_path / "_build", ignore_errors=True)


@pytest.mark.parametrize("tex, text", [
    (r"\lambda = \sigma^2", "λ = σ²"),
    (r"2/(h_{\max} + h_{\min})", "2/(hₘₐₓ + hₘᵢₙ)"),
    (r"1/\sqrt m", "1/√m"),
    (r"1 - e^{-x}", "1 - e⁻ˣ"),
    (r"\hat x_0", "x₀"),
    (r"|w| \le \eta\lambda", "|w| ≤ ηλ"),
    (r"\tfrac12", "1/2"),
    (r"-\log p_y", "-log p_y"),  # no subscript y in Unicode
])
def test_alt_text_writes_maths_as_unicode(tex, text):
    """Screen readers get the caption's maths as text, not as TeX."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from reglab_figures import tex_to_text

    assert tex_to_text(tex) == text


def test_figure_caption_needs_a_plot_before_it(tmp_path):
    """A caption becomes its plot's figure caption and alt text, and a
    caption after a cell without exactly one image fails a strict build
    (a one-page book with the book's caption extension)."""
    (tmp_path / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_nb', 'reglab_figures']\n"
        "myst_enable_extensions = ['colon_fence', 'dollarmath']\n"
        "nb_execution_mode = 'force'\n"
        "exclude_patterns = ['_build']\n")
    header = ("---\njupytext:\n  text_representation:\n    extension: .md"
              "\n    format_name: myst\nkernelspec:\n  name: python3\n"
              "  display_name: Python 3\n---\n# Title\n\n")
    plot = ("```{code-cell} ipython3\nimport matplotlib.pyplot as plt\n\n"
            "plt.plot([0, 1], [1, 0]);\n```\n\n")
    caption = ":::{figure-caption}\nA falling line, $\\lambda = 1$.\n:::\n"

    def build(body: str) -> subprocess.CompletedProcess:
        (tmp_path / "index.md").write_text(header + body)
        out = tmp_path / "_build"
        shutil.rmtree(out, ignore_errors=True)
        return subprocess.run(
            [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q",
             str(tmp_path), str(out)], capture_output=True, text=True)

    proc = build(plot + caption)
    assert proc.returncode == 0, proc.stderr[-2000:]
    html = _read(tmp_path / "_build" / "index.html")
    assert re.search(r'<figure[^>]*>\s*<img alt="A falling line, λ = 1\."',
                     html), html[-3000:]
    assert "<figcaption>" in html
    proc = build("```{code-cell} ipython3\nprint('no plot')\n```\n\n"
                 + caption)
    assert proc.returncode != 0
    assert "exactly one image" in proc.stderr + proc.stdout
