"""Downloadable notebooks that run anywhere, in each edition's language.

Every page that is a notebook (a chapter, Appendix A) gets a Jupyter
notebook at ``<edition>/_sources/<page>.ipynb`` — the download menu's
".ipynb" entry, and what the Binder and Colab buttons open:

- its Markdown cells are the page's text *after* translation and
  cross-referencing, written as plain Markdown that any Jupyter renders:
  references and citations are links to the published site, equation
  references are numbers, numbered equations carry ``\\tag{n}``, and the
  code that ``literalinclude`` shows is a fenced code block;
- its code cells are the page's cells with their outputs, taken from the
  execution cache that the build filled (nothing runs again);
- its first cell installs ``reglab`` where it is missing, from the wheel
  served with the site (``reglab_install = "site"``) or from a package
  index (``"index"``); ``tools/build_book.py`` builds that wheel into
  ``wheels/`` beside the editions.

Settings (``_config.yml``, ``sphinx.config``): ``reglab_site_url`` (where
the site is published) and ``reglab_install``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import urljoin

from docutils import nodes
from sphinx import addnodes
from sphinx.locale import admonitionlabels
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
INSTALL_CHOICES = ("site", "index")


def reglab_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def wheel_name(version: str | None = None) -> str:
    """The file name of the wheel that ``python -m build`` makes."""
    return f"reglab-{version or reglab_version()}-py3-none-any.whl"


INSTALL_COMMENT = {
    "en": """\
# Outside the course repository (on Colab, say) this cell installs the
# course package `reglab`; where it is installed already, it does nothing.
# REGLAB_SITE_URL may name a mirror of the book's site.""",
    "zh": """\
# 在课程仓库之外（例如在 Colab 上）运行时，本单元安装课程包 `reglab`；
# 已经安装时什么也不做。环境变量 REGLAB_SITE_URL 可以指向本书网站的镜像。""",
}

INSTALL_SITE = """\
{comment}
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("reglab") is None:
    site = os.environ.get("REGLAB_SITE_URL",
                          "{site}")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           f"{{site.rstrip('/')}}/wheels/{wheel}"])
"""

INSTALL_INDEX = """\
{comment}
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("reglab") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           "reglab=={version}"])
"""


def install_source(edition: str, site: str, how: str) -> str:
    if how not in INSTALL_CHOICES:
        raise ValueError(f"reglab_install is {how!r}; allowed: "
                         f"{', '.join(map(repr, INSTALL_CHOICES))}")
    template = INSTALL_SITE if how == "site" else INSTALL_INDEX
    version = reglab_version()
    return template.format(comment=INSTALL_COMMENT[edition],
                           site=site.rstrip("/"), wheel=wheel_name(version),
                           version=version)


# ---------------------------------------------------------------- Markdown

_ESCAPE = re.compile(r"([\\`*_\[\]<>$|])")


def escape(text: str) -> str:
    """Text that Markdown (and Jupyter's maths) shows as it is."""
    return _ESCAPE.sub(r"\\\1", text)


def _code_span(text: str) -> str:
    ticks = "`"
    while ticks in text:
        ticks += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _fence(code: str, language: str = "") -> str:
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}{language}\n{code.rstrip()}\n{fence}"


def _indent(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    return "\n".join([first + lines[0]] + [
        (rest + line) if line else rest.rstrip() for line in lines[1:]])


# inline nodes written as their content
INLINE_CONTAINERS = (nodes.inline, nodes.title, nodes.term, nodes.caption,
                     nodes.abbreviation, nodes.title_reference, nodes.line,
                     nodes.paragraph, addnodes.literal_strong,
                     addnodes.literal_emphasis)


class Markdown:
    """Writes a resolved doctree as Markdown cells and code cells.

    ``cells`` receives ``("markdown", text)`` and ``("code", index)``
    items in page order; ``index`` is the cell's index in the notebook.
    """

    def __init__(self, url: str, docname: str, warn) -> None:
        self.url = url            # the page's address on the site
        self.docname = docname
        self.warn = warn
        self.cells: list[tuple[str, object]] = []
        self.blocks: list[str] = []   # Markdown blocks of the open cell
        self.captions: list[str] = []

    # -- driver
    def page(self, doctree: nodes.document) -> list[tuple[str, object]]:
        for child in doctree.children:
            self.block(child, level=0)
        self.flush()
        return self.cells

    def flush(self) -> None:
        text = "\n\n".join(b for b in self.blocks if b.strip())
        if text.strip():
            self.cells.append(("markdown", text))
        self.blocks = []

    # -- block level
    def block(self, node: nodes.Node, level: int) -> None:
        out = self.render_block(node, level)
        if out is not None and out.strip():
            self.blocks.append(out)

    def blocks_of(self, node: nodes.Element, level: int) -> str:
        """The children of ``node`` as Markdown blocks (not cells)."""
        parts = []
        for child in node.children:
            out = self.render_block(child, level)
            if out is not None and out.strip():
                parts.append(out)
        return "\n\n".join(parts)

    def render_block(self, node: nodes.Node, level: int) -> str | None:
        if isinstance(node, nodes.container) and node.get("nb_element") \
                == "cell_code":
            self.flush()
            self.cells.append(("code", node["cell_index"]))
            # a figure caption written for a cell's output follows it
            for caption in node.findall(nodes.caption):
                self.blocks.append("*" + self.inline(caption) + "*")
            return None
        if isinstance(node, (nodes.target, nodes.comment,
                             addnodes.toctree, nodes.substitution_definition,
                             addnodes.index, nodes.pending)) \
                or node.__class__.__name__ == "meta":
            return None
        if isinstance(node, nodes.section):
            # a heading per section, then its content in the same cell
            for child in node.children:
                if isinstance(child, nodes.title):
                    self.blocks.append("#" * min(level + 1, 6) + " "
                                       + self.inline(child))
                else:
                    self.block(child, level + 1)
            return None
        if isinstance(node, nodes.paragraph):
            return self.inline(node)
        if isinstance(node, nodes.math_block):
            return self.math_block(node)
        if isinstance(node, nodes.literal_block):
            return _fence(node.astext(), node.get("language", "")
                          if node.get("language") not in (None, "default",
                                                          "none") else "")
        if isinstance(node, (nodes.bullet_list, nodes.enumerated_list)):
            items = []
            for k, item in enumerate(node.children, start=1):
                mark = "- " if isinstance(node, nodes.bullet_list) \
                    else f"{k}. "
                items.append(_indent(self.blocks_of(item, level), mark,
                                     " " * len(mark)))
            loose = any(len(item.children) > 1 for item in node.children)
            return ("\n\n" if loose else "\n").join(items)
        if isinstance(node, nodes.definition_list):
            items = []
            for item in node.children:
                term = " ".join(self.inline(t) for t in item.children
                                if isinstance(t, nodes.term))
                body = "\n\n".join(self.blocks_of(d, level)
                                   for d in item.children
                                   if isinstance(d, nodes.definition))
                items.append(_indent(f"**{term}**\n\n{body}", "- ", "  "))
            return "\n\n".join(items)
        if isinstance(node, nodes.table):
            return self.table(node)
        if isinstance(node, nodes.Admonition):
            return self.admonition(node, level)
        if isinstance(node, nodes.block_quote):
            return _indent(self.blocks_of(node, level), "> ", "> ")
        if isinstance(node, (nodes.figure, nodes.image)):
            return self.figure(node)
        if isinstance(node, nodes.rubric):
            return f"**{self.inline(node)}**"
        if isinstance(node, nodes.transition):
            return "---"
        if isinstance(node, nodes.raw):
            return node.astext() if "html" in node.get("format", "") \
                else None
        if isinstance(node, nodes.line_block):
            return "  \n".join(self.inline(line) for line in node.children)
        if isinstance(node, (nodes.container, nodes.compound, nodes.topic,
                             nodes.sidebar)):
            if node.next_node(addnodes.toctree) is not None:
                return None
            return self.blocks_of(node, level)
        if isinstance(node, nodes.Inline) or isinstance(node, nodes.Text):
            return self.inline_node(node)
        self.warn(f"notebook export: no Markdown for <{node.tagname}>")
        return escape(node.astext())

    def math_block(self, node: nodes.math_block) -> str:
        latex = node.astext().strip()
        if node.get("nowrap"):
            return f"$$\n{latex}\n$$"
        if "\\\\" in latex and "\\begin" not in latex:
            latex = f"\\begin{{split}}{latex}\\end{{split}}"
        number = node.get("number")
        tag = f"\n\\tag{{{number}}}" if number else ""
        return f"$$\n{latex}{tag}\n$$"

    def table(self, node: nodes.table) -> str:
        rows = []
        header_rows = 0
        for part in node.findall(nodes.thead):
            header_rows += len(part.children)
        for row in node.findall(nodes.row):
            cells = []
            for entry in row.children:
                text = "<br>".join(self.inline(p) if isinstance(
                    p, nodes.paragraph) else escape(p.astext())
                    for p in entry.children)
                cells.append(text.replace("\n", " "))
            rows.append(cells)
        if not rows:
            return ""
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        head, body = (rows[0], rows[1:]) if header_rows else (
            [""] * width, rows)
        lines = ["| " + " | ".join(head) + " |",
                 "|" + "---|" * width]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        title = node.next_node(nodes.title)
        prefix = f"**{self.inline(title)}**\n\n" if title else ""
        return prefix + "\n".join(lines)

    def admonition(self, node: nodes.Element, level: int) -> str:
        title = node.next_node(nodes.title)
        name = self.inline(title) if title is not None and \
            title.parent is node else str(
                admonitionlabels.get(node.tagname, node.tagname.title()))
        body = "\n\n".join(
            out for child in node.children
            if not isinstance(child, nodes.title)
            for out in [self.render_block(child, level)] if out)
        return _indent(f"**{name}**\n\n{body}", "> ", "> ")

    def figure(self, node: nodes.Element) -> str:
        image = node if isinstance(node, nodes.image) else \
            node.next_node(nodes.image)
        out = []
        if image is not None:
            uri = image["uri"]
            url = urljoin(self.url, "../" * self.docname.count("/")
                          + "_images/" + Path(uri).name) \
                if "://" not in uri else uri
            out.append(f"![{escape(image.get('alt', ''))}]({url})")
        caption = node.next_node(nodes.caption) \
            if isinstance(node, nodes.figure) else None
        if caption is not None:
            out.append("*" + self.inline(caption) + "*")
        return "\n\n".join(out)

    # -- inline level
    def inline(self, node: nodes.Element) -> str:
        return "".join(self.inline_node(c) for c in node.children).strip()

    def inline_node(self, node: nodes.Node) -> str:
        if isinstance(node, nodes.Text):
            return escape(str(node).replace("\n", " "))
        if isinstance(node, nodes.math):
            latex = " ".join(node.astext().split("\n")).strip()
            return f"${latex}$"
        if isinstance(node, nodes.literal):
            return _code_span(node.astext().replace("\n", " "))
        if isinstance(node, nodes.emphasis):
            return f"*{self.inline(node)}*"
        if isinstance(node, nodes.strong):
            return f"**{self.inline(node)}**"
        if isinstance(node, nodes.reference):
            return self.reference(node)
        if isinstance(node, (nodes.target, addnodes.index,
                             nodes.substitution_definition)):
            return ""
        if isinstance(node, nodes.image):
            return self.figure(node)
        if isinstance(node, nodes.footnote_reference):
            return f"[{node.astext()}]"
        if isinstance(node, INLINE_CONTAINERS):
            return self.inline(node)
        if isinstance(node, nodes.Element):
            self.warn(f"notebook export: no Markdown for inline "
                      f"<{node.tagname}>")
            return self.inline(node)
        return escape(node.astext())

    def reference(self, node: nodes.reference) -> str:
        text = self.inline(node)
        if "refuri" in node:
            uri = node["refuri"]
            if uri.startswith("#"):
                uri = self.url + uri
            elif "://" not in uri and not uri.startswith("mailto:"):
                uri = urljoin(self.url, uri)
        elif "refid" in node:
            if node["refid"].startswith("equation-"):
                return text  # an equation number of this page
            uri = f"{self.url}#{node['refid']}"
        else:
            return text
        return f"[{text}]({uri})"


# ---------------------------------------------------------------- Sphinx


def _executed(app, docname: str):
    """The page's notebook as myst-nb reads it, with the outputs of the
    execution cache."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import create_nb_reader

    path = app.env.doc2path(docname)
    text = Path(path).read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), app.env.myst_config,
                              app.env.mystnb_config, text)
    notebook = reader.read(text)
    cache = get_cache(app.env.mystnb_config.execution_cache_path)
    _, merged = cache.merge_match_into_notebook(notebook)
    return merged


def _edition(app) -> str:
    return "zh" if (app.config.language or "en").startswith("zh") else "en"


def page_url(app, docname: str) -> str:
    site = app.config.reglab_site_url.rstrip("/")
    return f"{site}/{_edition(app)}/{docname}.html"


def build_notebook(app, doctree, docname: str):
    import nbformat

    executed = _executed(app, docname)
    writer = Markdown(page_url(app, docname), docname,
                      lambda msg: logger.warning(msg, location=docname))
    items = writer.page(doctree)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": executed.metadata.get("kernelspec", {
        "name": "python3", "display_name": "Python 3",
        "language": "python"}), "language_info": {"name": "python"}}
    install = nbformat.v4.new_code_cell(install_source(
        _edition(app), app.config.reglab_site_url,
        app.config.reglab_install))
    install.id = "install-reglab"
    nb.cells.append(install)
    code = [i for i, c in enumerate(executed.cells)
            if c.cell_type == "code"]
    done = set()

    def add_code(upto: int) -> None:
        for i in code:
            if i <= upto and i not in done:
                done.add(i)
                cell = executed.cells[i]
                new = nbformat.v4.new_code_cell(
                    cell.source, outputs=cell.get("outputs", []),
                    execution_count=cell.get("execution_count"))
                new.metadata = {k: v for k, v in cell.metadata.items()
                                if k in ("tags",)}
                new.id = f"code-{i}"
                nb.cells.append(new)

    for n, (kind, value) in enumerate(items):
        if kind == "code":
            add_code(value)
        else:
            cell = nbformat.v4.new_markdown_cell(value)
            cell.id = f"text-{n}"
            nb.cells.append(cell)
    add_code(len(executed.cells))
    return nb


def _is_notebook(app, docname: str) -> bool:
    return "kernelspec" in app.env.metadata.get(docname, {})


def _export(app, doctree, docname: str) -> None:
    if app.builder.name != "html" or not _is_notebook(app, docname):
        return
    nb = build_notebook(app, doctree, docname)
    store = app.env.__dict__.setdefault("_reglab_notebooks", {})
    store[docname] = nb


def _write(app, exception) -> None:
    import nbformat

    if exception is not None or app.builder.name != "html":
        return
    store = app.env.__dict__.pop("_reglab_notebooks", {})
    for docname, nb in store.items():
        path = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.validate(nb)
        nbformat.write(nb, path)


PAGES_BRANCH = "gh-pages"  # where the built site is published


def _repo(app) -> tuple[str, str] | None:
    """(owner, name) of the GitHub repository in ``_config.yml``."""
    url = (app.config.html_theme_options or {}).get("repository_url", "")
    parts = url.rstrip("/").split("/")
    if len(parts) >= 5 and parts[2] == "github.com":
        return parts[3], parts[4]
    return None


def launch_urls(app, pagename: str) -> dict[str, str]:
    """Binder and Colab open this edition's notebook of the published
    site (branch ``gh-pages``): Colab directly, Binder in an environment
    built from the repository's ``binder/``, into which nbgitpuller pulls
    the site."""
    from urllib.parse import quote, urlencode

    repo = _repo(app)
    if repo is None:
        return {}
    owner, name = repo
    options = app.config.html_theme_options or {}
    branch = options.get("repository_branch", "main")
    binder = (options.get("launch_buttons", {}).get("binderhub_url")
              or "https://mybinder.org").rstrip("/")
    path = f"{_edition(app)}/_sources/{pagename}.ipynb"
    pull = "git-pull?" + urlencode({
        "repo": f"https://github.com/{owner}/{name}",
        "branch": PAGES_BRANCH, "urlpath": f"lab/tree/{name}/{path}"})
    return {
        "colab": "https://colab.research.google.com/github/"
                 f"{owner}/{name}/blob/{PAGES_BRANCH}/{path}",
        "binder": f"{binder}/v2/gh/{owner}/{name}/{branch}"
                  f"?urlpath={quote(pull, safe='')}",
    }


def _launch_buttons(app, pagename, templatename, context, doctree) -> None:
    from reglab_book import _buttons

    urls = launch_urls(app, pagename)
    for button in _buttons(context):
        for key, url in urls.items():
            if key in button.get("url", "") and (
                    "colab.research" in button["url"]
                    or "mybinder" in button["url"]):
                button["url"] = url


def _check(app, config) -> None:
    if config.reglab_install not in INSTALL_CHOICES:
        raise ValueError(
            f"reglab_install is {config.reglab_install!r}; allowed: "
            f"{', '.join(map(repr, INSTALL_CHOICES))}")
    if not re.match(r"https?://", config.reglab_site_url or ""):
        raise ValueError(
            f"reglab_site_url is {config.reglab_site_url!r}; it must be "
            "the http(s) address where the site is published")


def setup(app):
    app.add_config_value("reglab_site_url", "", "html")
    app.add_config_value("reglab_install", "site", "html")
    app.connect("config-inited", _check)
    app.connect("doctree-resolved", _export)
    app.connect("html-page-context", _launch_buttons, priority=600)
    app.connect("build-finished", _write, priority=400)
    return {"version": "0.1", "parallel_read_safe": True,
            "parallel_write_safe": False}
