"""A link check of the whole built site: every internal link and anchor
resolves; external links are listed (in ``_build/external-links.txt``),
never fetched."""

from __future__ import annotations

import html.parser
import posixpath
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.slow


class _Collector(html.parser.HTMLParser):
    """The ids of a page and the targets of its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (tag.attr, url)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key) and (key == "id" or tag == "a"):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) is not None:
                self.links.append((f"{tag}.{key}", attrs[key]))


def parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


def check_site(root: Path) -> tuple[list[str], set[str]]:
    """Broken internal links (as readable lines) and external URLs."""
    pages = {p.relative_to(root).as_posix(): parse(p)
             for p in root.rglob("*.html")}
    broken, external = [], set()
    for rel, page in sorted(pages.items()):
        for where, url in page.links:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") or url.startswith("//"):
                external.add(url)
                continue
            if parts.scheme in ("mailto", "data", "javascript"):
                continue
            if not parts.path:  # "#anchor" on this page
                target, fragment = rel, parts.fragment
            else:
                target = posixpath.normpath(posixpath.join(
                    posixpath.dirname(rel), unquote(parts.path)))
                fragment = parts.fragment
            if target.startswith("../") or not (root / target).exists():
                broken.append(f"{rel}: {where}={url!r} (no file {target})")
                continue
            if (root / target).is_dir():
                target = posixpath.join(target, "index.html")
                if not (root / target).exists():
                    broken.append(f"{rel}: {where}={url!r} (no index)")
                    continue
            if fragment and target.endswith(".html"):
                ids = pages[target].ids
                if unquote(fragment) not in ids:
                    broken.append(f"{rel}: {where}={url!r} (no anchor "
                                  f"#{fragment} in {target})")
    return broken, external


def test_checker_finds_broken_links(tmp_path):
    (tmp_path / "a.html").write_text(
        '<p id="top"><a href="b.html#here">x</a><a href="b.html#gone">y</a>'
        '<a href="#top">z</a><a href="missing.html">w</a>'
        '<img src="img.png"><a href="https://example.org/">e</a></p>')
    (tmp_path / "b.html").write_text('<h1 id="here">b</h1>')
    broken, external = check_site(tmp_path)
    assert broken == [
        "a.html: a.href='b.html#gone' (no anchor #gone in b.html)",
        "a.html: a.href='missing.html' (no file missing.html)",
        "a.html: img.src='img.png' (no file img.png)"]
    assert external == {"https://example.org/"}


def test_no_broken_internal_links(built_book):
    broken, external = check_site(built_book)
    listing = built_book.parent / "external-links.txt"
    listing.write_text("".join(f"{url}\n" for url in sorted(external)))
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(
        broken[:30])
