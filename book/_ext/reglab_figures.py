"""Figure captions for the plots of the book's code cells.

A chapter writes the caption of a plot right after the code cell that
draws it::

    ```{code-cell} ipython3
    fig, ax = plt.subplots()
    ...
    ```

    :::{figure-caption}
    What the figure shows, and what to notice.
    :::

The caption is ordinary MyST text of the page, so the gettext builder
extracts it (without executing anything) and the Chinese edition
translates it like any other paragraph. After the cell outputs are chosen
(myst-nb's ``SelectMimeType``), a post-transform wraps the cell's image in
a ``figure`` with that caption, and gives the image an ``alt`` text made
from the caption in the edition's language, with the maths written as
plain text (screen readers get no TeX). A caption that does not follow a
cell with exactly one image is a build error.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


class figure_caption(nodes.General, nodes.Element):
    """The caption of the figure of the preceding code cell (replaced by
    a ``figure`` before writing)."""


class FigureCaption(SphinxDirective):
    has_content = True

    def run(self) -> list[nodes.Node]:
        node = figure_caption()
        self.set_source_info(node)
        self.state.nested_parse(self.content, self.content_offset, node)
        if len(node.children) != 1 or not isinstance(
                node[0], nodes.paragraph):
            raise self.error("figure-caption: write one paragraph.")
        return [node]


# TeX commands as the characters a reader sees (for the alt text).
TEX_SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ",
    "epsilon": "ε", "varepsilon": "ε", "eta": "η", "theta": "θ",
    "kappa": "κ", "lambda": "λ", "mu": "μ", "rho": "ρ", "sigma": "σ",
    "tau": "τ", "phi": "φ", "omega": "ω", "Omega": "Ω", "nabla": "∇",
    "cdot": "·", "times": "×", "le": "≤", "leq": "≤", "ge": "≥",
    "geq": "≥", "approx": "≈", "pm": "±", "infty": "∞", "to": "→",
    "ln": "ln", "log": "log", "exp": "exp", "sqrt": "√", "star": "*",
    "max": "max", "min": "min", "ldots": "…", "dots": "…",
}
SUPERSCRIPTS = str.maketrans("0123456789+-tnixy", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ᵗⁿⁱˣʸ")
SUBSCRIPTS = str.maketrans("0123456789aehijklmnoprstuvx",
                           "₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")


def _script(table: dict, chars: str, mark: str) -> str:
    """``chars`` as super- or subscripts where Unicode has them all."""
    converted = chars.translate(table)
    if any(c in converted for c in chars if c.isalnum()):
        return mark + chars  # keep a readable x_max over half a script
    return converted


def tex_to_text(tex: str) -> str:
    """``\\lambda = \\sigma^2`` → ``λ = σ²``: TeX as plain text."""
    text = re.sub(r"\\(?:mathrm|mathbf|mathbb|boldsymbol|operatorname|"
                  r"text|hat|bar|tilde|mathcal|left|right|bigl|bigr|Bigl|"
                  r"Bigr)\b", "", tex)
    text = re.sub(r"\\(?:tfrac|dfrac|frac)\s*\{([^{}]*)\}\s*\{([^{}]*)\}",
                  r"\1/\2", text)
    text = re.sub(r"\\[td]?frac\s*(\d)(\d)", r"\1/\2", text)
    text = re.sub(r"\\sqrt\s*", "√", text)
    text = re.sub(r"\\([A-Za-z]+)",
                  lambda m: TEX_SYMBOLS.get(m.group(1), m.group(1)), text)
    text = re.sub(r"\^\{?([0-9a-z+\-]+)\}?",
                  lambda m: _script(SUPERSCRIPTS, m.group(1), "^"), text)
    text = re.sub(r"_\{?([0-9a-z]+)\}?",
                  lambda m: _script(SUBSCRIPTS, m.group(1), "_"), text)
    text = re.sub(r"\\[,;:! ]|~", " ", text)
    text = text.replace("{", "").replace("}", "").replace("\\", "")
    return re.sub(r"\s+", " ", text).strip()


def plain_text(node: nodes.Node) -> str:
    """The text of a caption as a reader hears it: maths without TeX."""
    parts = []
    for child in node.findall(lambda n: isinstance(n, (nodes.Text,
                                                       nodes.math))):
        if isinstance(child, nodes.math):
            parts.append(tex_to_text(child.astext()))
        elif not any(isinstance(p, nodes.math) for p in _parents(child)):
            parts.append(child.astext())
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _parents(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


def _previous(node: nodes.Element) -> nodes.Node | None:
    parent = node.parent
    index = parent.index(node)
    for sibling in reversed(parent.children[:index]):
        if not isinstance(sibling, (nodes.comment, nodes.target,
                                    nodes.system_message)):
            return sibling
    return None


class AttachCaptions(SphinxPostTransform):
    """Turn each ``figure_caption`` into the caption of the image of the
    code cell before it (after myst-nb has chosen the outputs)."""

    # after myst-nb's SelectMimeType (4) and the ReferencesResolver (10):
    # a reference to an equation reads "(3)" in the alt text too
    default_priority = 15

    def is_supported(self) -> bool:
        # The gettext builder extracts the caption's message from the
        # resolved doctree, where there are no cell outputs: keep it.
        return self.app.builder.name != "gettext"

    def run(self, **kwargs) -> None:
        number = 0
        for node in list(self.document.findall(figure_caption)):
            if self.app.builder.format != "html":
                node.replace_self(node.children)  # a plain paragraph
                continue
            cell = _previous(node)
            images = (list(cell.findall(nodes.image))
                      if isinstance(cell, nodes.container) else [])
            if len(images) != 1:
                logger.warning(
                    "figure-caption: the code cell before it must show "
                    "exactly one image (found %d)", len(images),
                    location=node, type="reglab", subtype="figure")
                node.parent.remove(node)
                continue
            image = images[0]
            paragraph = node[0]
            caption = nodes.caption(paragraph.rawsource, "",
                                    *paragraph.children)
            caption.source, caption.line = node.source, node.line
            figure = nodes.figure("", classes=["reglab-figure"])
            image.replace_self(figure)
            image["alt"] = plain_text(caption)
            figure += image
            figure += caption
            # a link target (the HTML writer wants an id on a figure)
            number += 1
            while f"figure-{number}" in self.document.ids:
                number += 1
            figure["ids"].append(f"figure-{number}")
            self.document.ids[f"figure-{number}"] = figure
            node.parent.remove(node)


def setup(app):
    app.add_node(figure_caption)
    app.add_directive("figure-caption", FigureCaption)
    app.add_post_transform(AttachCaptions)
    return {"version": "0.1", "parallel_read_safe": True,
            "parallel_write_safe": True}
