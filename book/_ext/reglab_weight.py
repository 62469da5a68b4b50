"""A lighter page for the reglab book (both editions).

1. Font Awesome without its script. The pydata theme loads
   ``scripts/fontawesome.js`` (1.4 MB, every free icon as an SVG) on every
   page, although its stylesheet already draws the same icons with the
   Font Awesome web font. The script is dropped; the icons are drawn by
   the font, subset to the icons the built pages and scripts use (and
   the glyphs the themes' stylesheets name), and the stylesheet keeps the
   rules of those icons only. The icons stay hidden from screen readers
   (``aria-hidden``), as the script's SVGs were.
2. MathJax is served from the site itself (copied from the
   ``django-static-mathjax`` package), never from a CDN, so maths renders
   offline; the HTML build of both editions shares one copy beside them,
   ``<site>/mathjax`` (``mathjax_path`` is resolved relative to an
   edition's ``_static``, the same at every page depth). The single-page
   build that is printed to PDF keeps its own copy in ``_static``, since
   it is served on its own.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

# relative to <edition>/_static: <site>/mathjax
SHARED_MATHJAX = "../../mathjax/tex-chtml.js"
MATHJAX_SKIP = ("*.map", "node-main.js", "sre", "mml-*", "tex-mml-*",
                "tex-svg*", "svg")
FA_SCRIPT = re.compile(
    r'[ \t]*<script defer src="[^"]*_static/scripts/fontawesome\.js'
    r'[^"]*"></script>\n?')
FA_CLASS = re.compile(r"\bfa-([a-z0-9]+(?:-[a-z0-9]+)*)")
# a rule of the Font Awesome stylesheet: .fa-name:before{content:"\f0c9"}
ICON_RULE = re.compile(
    r'((?:\.fa-[a-z0-9-]+:{1,2}before,?)+)\{content:"\\([0-9a-f]{4})"\}')
GLYPH = re.compile(r'"\\([ef][0-9a-f]{3})"')
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")  # glyphs written as such
SOLID = "vendor/fontawesome/webfonts/fa-solid-900"


def _mathjax_dir() -> Path:
    spec = importlib.util.find_spec("mathjax")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            "MathJax is missing: install the 'django-static-mathjax' "
            "package (it is pinned in requirements.txt).")
    return Path(spec.origin).parent / "static" / "mathjax" / "es5"


def _shares_mathjax(builder) -> bool:
    return builder.name == "html"


def _builder_inited(app) -> None:
    if _shares_mathjax(app.builder):
        app.config.mathjax_path = SHARED_MATHJAX
        # before the pages are written: their links carry its checksum
        copy_mathjax(Path(app.outdir).parent / "mathjax")


def copy_mathjax(dst: Path) -> None:
    """The combined TeX → CommonHTML component, plus what it loads on
    demand (extensions, fonts)."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(_mathjax_dir(), dst,
                    ignore=shutil.ignore_patterns(*MATHJAX_SKIP))


def _pages(out: Path):
    return [p for p in out.rglob("*.html") if "_static" not in p.parts]


def _hide_icon(match: re.Match) -> str:
    tag = match.group(0)
    return tag if "aria-hidden" in tag else tag[:-1] + ' aria-hidden="true">'


def used_icons(texts) -> set[str]:
    """Names of the Font Awesome classes (``fa-bars`` → ``bars``)."""
    return {m for text in texts for m in FA_CLASS.findall(text)}


def slim_stylesheet(css: str, used: set[str]) -> tuple[str, set[int]]:
    """The stylesheet without the rules of icons no page uses, and the
    code points of the glyphs it still draws."""
    def keep(match: re.Match) -> str:
        names = re.findall(r"\.fa-([a-z0-9-]+):", match.group(1))
        return match.group(0) if used & set(names) else ""

    slim = ICON_RULE.sub(keep, css)
    return slim, glyphs(slim)


def glyphs(css: str) -> set[int]:
    """The icon-font code points a stylesheet names."""
    return ({int(c, 16) for c in GLYPH.findall(css)}
            | {ord(c) for c in PRIVATE_USE.findall(css)})


def subset_font(src: Path, dst: Path, codepoints: set[int]) -> None:
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"  # zlib; WOFF2 would need brotli
    options.layout_features = ["*"]
    font = subset.load_font(str(src), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    subset.save_font(font, str(dst), options)


def lighten_icons(out: Path) -> None:
    static = out / "_static"
    css_path = static / "styles" / "pydata-sphinx-theme.css"
    if not css_path.exists():
        return  # another theme
    import pydata_sphinx_theme

    ttf = (Path(pydata_sphinx_theme.__file__).parent / "theme" /
           "pydata_sphinx_theme" / "static" / f"{SOLID}.ttf")
    pages = _pages(out)
    texts = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        new = FA_SCRIPT.sub("", text)
        new = re.sub(r'<(?:i|span) class="[^"]*\bfa-[^"]*"[^>]*>',
                     _hide_icon, new)
        if new != text:
            page.write_text(new, encoding="utf-8")
        texts.append(new)
    scripts = [p for p in static.rglob("*.js")
               if p.name != "fontawesome.js" and "mathjax" not in p.parts]
    texts += [p.read_text(encoding="utf-8", errors="replace")
              for p in scripts]
    css, codepoints = slim_stylesheet(css_path.read_text(encoding="utf-8"),
                                  used_icons(texts))
    for sheet in static.rglob("*.css"):  # the themes' own icons
        if sheet != css_path:
            codepoints |= glyphs(
                sheet.read_text(encoding="utf-8", errors="replace"))
    subset_font(ttf, static / f"{SOLID}-subset.woff", codepoints)
    css = css.replace(
        f'url(../{SOLID}.woff2) format("woff2"),'
        f'url(../{SOLID}.ttf) format("truetype")',
        f'url(../{SOLID}-subset.woff) format("woff")')
    if f"{SOLID}-subset.woff" not in css:
        raise RuntimeError(f"{css_path}: the Font Awesome solid font is "
                           "no longer where reglab_weight expects it")
    css_path.write_text(css, encoding="utf-8")
    for name in (f"{SOLID}.woff2", f"{SOLID}.ttf", "scripts/fontawesome.js",
                 "scripts/fontawesome.js.map"):
        (static / name).unlink(missing_ok=True)


def _finish(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    lighten_icons(out)
    if _shares_mathjax(app.builder):
        shutil.rmtree(out / "_static" / "mathjax", ignore_errors=True)
    else:
        copy_mathjax(out / "_static" / "mathjax")


def setup(app):
    app.connect("builder-inited", _builder_inited)
    app.connect("build-finished", _finish)
    return {"version": "0.1", "parallel_read_safe": True,
            "parallel_write_safe": True}
