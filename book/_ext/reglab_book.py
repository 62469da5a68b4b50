"""Sphinx extension for the reglab book (both editions).

1. Display maths stays out of the translation catalogs: formulas exist once,
   in the English source.
2. A language switcher in every page header links to the same page in the
   other edition (``_build/html/en/...`` ↔ ``_build/html/zh/...``), plus
   ``<link rel="alternate" hreflang=...>`` for search engines.
3. MathJax is served from the site itself, never from a CDN, so maths
   renders offline (``reglab_weight`` copies it, once for both editions).
4. Each edition gets an ``index.html`` that redirects to the root page.
5. The part captions of ``_toc.yml`` are translated from the project's
   ``sphinx.po`` catalog (gettext does not extract them from the pages).
6. The download menu's ".pdf" entry links to the PDF of the whole edition
   (``pdf/reglab-<edition>.pdf`` beside the editions, printed by
   ``tools/build_book.py``) instead of opening the browser's print dialog.
7. Search ranks the chapter that teaches a term above the reference pages
   that list it, and splits Chinese queries typed without spaces into the
   index's words (``search_scorer.js``).
8. Downloads, Binder and Colab: every notebook page's ``.ipynb`` is the
   executed notebook in the edition's language, with plain Markdown and a
   first cell that installs ``reglab`` (``reglab_notebooks.py``).
9. The themes' labels are Chinese in the Chinese edition: those the themes
   translate with gettext come from the project's ``sphinx.po``, the others
   are replaced in the built pages (``THEME_LABELS``).
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.locale import _ as translate
from sphinx.transforms import SphinxTransform

# edition folder and label (in the *other* language's reader's eyes) per
# Sphinx language code
EDITIONS = {"en": ("en", "English"), "zh_CN": ("zh", "中文")}


class KeepMathUntranslated(SphinxTransform):
    """Mark display-maths blocks as not translatable (runs before Sphinx's
    Locale transform at priority 20, and before the gettext extraction)."""

    default_priority = 10

    def apply(self, **kwargs) -> None:
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False


def _translate_captions(app, doctree) -> None:
    if (app.config.language or "en") == "en":
        return
    for node in doctree.findall(addnodes.toctree):
        if node.get("caption"):
            node["caption"] = str(translate(node["caption"]))


def _edition(language: str | None) -> str:
    return EDITIONS.get(language or "en", ("en", ""))[0]


def _configure(app, config) -> None:
    options = dict(config.html_theme_options or {})
    end = list(options.get("article_header_end") or
               ["article-header-buttons.html"])
    if "lang-switcher.html" not in end:
        end.insert(0, "lang-switcher.html")
    options["article_header_end"] = end
    # no search field in the page header: the sidebar has one (one search
    # button per screen, see reglab.css)
    options.setdefault("navbar_persistent", [])
    config.html_theme_options = options
    here = Path(__file__).resolve().parent.parent
    config.templates_path = list(config.templates_path or []) + [
        str(here / "_templates")]
    config.html_static_path = list(config.html_static_path or []) + [
        str(here / "_static")]
    config.mathjax_path = "mathjax/tex-chtml.js"
    # chapters before reference pages; Chinese queries without spaces
    config.html_search_scorer = str(Path(__file__).with_name(
        "search_scorer.js"))
    # The theme logs an error unless a colour mode is set.
    config.html_context = {"default_mode": "auto",
                           **(config.html_context or {})}
    config.html_favicon = str(here / "_static" / "favicon.svg")


def _is_thebe(asset) -> bool:
    """Thebe ("live code") would load its kernel bridge from a CDN, and
    sphinx-thebe adds its inline configuration twice (a script error);
    the book uses Binder and Colab launch buttons instead."""
    text = " ".join(str(x) for x in (
        getattr(asset, "filename", None) or asset,
        getattr(asset, "attributes", {}).get("body", "")))
    return "thebe" in text.lower()


def _page_context(app, pagename, templatename, context, doctree) -> None:
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [a for a in context[key] if not _is_thebe(a)]
    this = _edition(app.config.language)
    depth = pagename.count("/")
    up = "../" * (depth + 1)
    links = []
    for code, (folder, label) in EDITIONS.items():
        if folder == this:
            continue
        url = f"{up}{folder}/{pagename}.html"
        links.append({"url": url, "label": label,
                      "hreflang": code.replace("_", "-")})
    context["reglab_languages"] = links
    alternates = "".join(
        f'<link rel="alternate" hreflang="{x["hreflang"]}" '
        f'href="{x["url"]}" />\n' for x in links)
    context["metatags"] = context.get("metatags", "") + alternates


def _buttons(context):
    """Every header button of a page, groups' members included."""
    todo = list(context.get("header_buttons", []))
    while todo:
        button = todo.pop()
        todo += button.get("buttons", [])
        yield button


PDF_TOOLTIP = {"en": "Download the book as PDF", "zh": "下载全书 PDF"}


def _pdf_link(app, pagename, templatename, context, doctree) -> None:
    edition = _edition(app.config.language)
    url = "../" * (pagename.count("/") + 1) + f"pdf/reglab-{edition}.pdf"
    for button in _buttons(context):
        if button.get("label") == "download-pdf-button":
            button.update(type="link", url=url, text=".pdf",
                          tooltip=PDF_TOOLTIP[edition])
            button.pop("javascript", None)




# Labels the themes write without gettext (or with a catalog that lacks
# them), per edition: replaced in the built pages' attributes.
THEME_LABELS = {
    "zh_CN": {
        "Toggle primary sidebar": "切换主侧边栏",
        "Toggle secondary sidebar": "切换次侧边栏",
        "Main": "主导航",
        "Page": "本页",
        "Launch interactive content": "启动交互式内容",
        "Launch on Binder": "在 Binder 上启动",
        "Launch on Colab": "在 Colab 上启动",
        "Binder logo": "Binder 标志",
        "Colab logo": "Colab 标志",
    },
}


def _fix_pages(app, out: Path) -> None:
    """Edit the built pages: the themes' hard-coded labels in the
    edition's language, and the bibliography's ARIA roles (a
    ``role="list"`` whose entries were ``doc-biblioentry``, which axe-core
    reports as a list without list items)."""
    import re

    labels = THEME_LABELS.get(app.config.language or "en", {})
    pattern = re.compile(
        r'((?:title|aria-label|data-bs-title|alt)=")('
        + "|".join(re.escape(k) for k in labels) + r')"') if labels else None
    for page in out.rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        new = text.replace('role="doc-biblioentry"', 'role="listitem"')
        if pattern is not None:
            new = pattern.sub(
                lambda m: f'{m.group(1)}{labels[m.group(2)]}"', new)
        if new != text:
            page.write_text(new, encoding="utf-8")


def _finish(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    _fix_pages(app, out)
    # The themes copy two Jinja macro files into _static as if they were
    # pages; they are templates, not part of the site.
    for macros in (out / "_static").glob("*macros.html"):
        macros.unlink()
    root = app.config.root_doc
    if root != "index":
        (out / "index.html").write_text(
            '<!DOCTYPE html>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="refresh" content="0; url={root}.html">\n'
            f'<a href="{root}.html">{root}</a>\n', encoding="utf-8")


def setup(app):
    app.setup_extension("reglab_notebooks")
    app.setup_extension("reglab_weight")  # Font Awesome subset, MathJax
    app.add_transform(KeepMathUntranslated)
    app.connect("config-inited", _configure)
    app.connect("doctree-read", _translate_captions)
    app.connect("html-page-context", _page_context)
    app.connect("html-page-context", _pdf_link, priority=600)
    app.connect("build-finished", _finish)
    app.add_css_file("reglab.css")
    return {"version": "0.1", "parallel_read_safe": True,
            "parallel_write_safe": True}
