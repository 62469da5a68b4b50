"""Print a single-page HTML build of the book to PDF with Chromium.

``tools/build_book.py`` builds each edition once more with Sphinx's
``singlehtml`` builder (from the same doctrees and execution cache, so
nothing is executed again) and calls :func:`print_pdf` on it. Debian's
Chromium, driven by Playwright (both already used by the browser tests),
loads the page from a local HTTP server, waits until MathJax has typeset
every formula, keeps the theme's print header (the book's title and a
linked table of contents) in front, starts each chapter on a new page, and
prints A4 pages with page numbers and a PDF outline. Nothing is
downloaded: MathJax and the fonts come from the site and the system
(``fonts-noto-cjk`` for the Chinese edition).

``python tools/print_pdf.py _build/singlehtml/zh book.html OUT.pdf --title
TITLE`` prints one edition by hand.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import socketserver
import threading
from pathlib import Path

# Flags for a headless Chromium on a machine without network access (the
# same as the browser tests').
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]
# Print styles on top of the theme's own print sheet: no navigation, no
# buttons, chapters on new pages, code that wraps instead of being cut.
PRINT_CSS = """
@page { size: A4; margin: 18mm 16mm 20mm 16mm; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer,
.bd-footer-article, .bd-footer-content, .header-article-items,
.prev-next-area, .headerlink, .toggle-secondary-sidebar,
.bd-header-announcement, .search-button-field, .skip-link,
#pst-back-to-top, .reglab-lang-switcher { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article {
  max-width: none !important; width: 100% !important; padding: 0 !important;
  margin: 0 !important; }
section.reglab-chapter { break-before: page; }
pre, pre code { white-space: pre-wrap !important; word-break: break-word; }
div.cell_output img { max-width: 100% !important; }
mjx-container[display="true"] { overflow: visible !important; }
#jb-print-docs-body h1 { font-size: 2.2em; margin-top: 8%; }
#jb-print-toc { break-after: page; }
"""
# The theme's print header (``#jb-print-docs-body``) already holds a linked
# table of contents of the whole book: give it the book's title, start each
# chapter on a new page, and turn links to the site's pages into links
# inside the PDF.
PREPARE_JS = """
(title) => {
  const header = document.querySelector('#jb-print-docs-body h1');
  if (header) header.textContent = title;
  for (const span of document.querySelectorAll('span[id^="document-"]')) {
    const section = span.nextElementSibling;
    if (section) section.classList.add('reglab-chapter');
  }
  for (const a of document.querySelectorAll('a[href]')) {
    const href = a.getAttribute('href');
    if (/^[a-z]+:/.test(href) || href.startsWith('#')) continue;
    const m = href.match(/^(?:\\.\\.\\/)*([^#]*?)\\.html(#.*)?$/);
    if (m) a.setAttribute('href', m[2] || ('#document-' + m[1]));
  }
  return document.querySelectorAll(
    '#jb-print-toc a[href^="#document-"]').length;
}
"""
FOOTER = ('<div style="font-size:8px;width:100%;text-align:center;'
          'color:#555"><span class="pageNumber"></span> / '
          '<span class="totalPages"></span></div>')


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise SystemExit("printing the PDF needs Chromium: apt-get install "
                         "chromium (.ci/run installs it)")
    return path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def print_pdf(site: Path, page: str, pdf: Path, title: str,
              timeout_ms: int = 240_000) -> int:
    """Print ``page`` (a path inside ``site``, the output folder of a
    singlehtml build) to ``pdf``.

    Returns the number of chapters in the table of contents.
    """
    from playwright.sync_api import sync_playwright

    site, pdf = site.resolve(), pdf.resolve()
    if not (site / page).is_file():
        raise FileNotFoundError(site / page)
    handler = functools.partial(_Quiet, directory=str(site))
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler) as httpd:
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/{page}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(),
                                        args=ARGS)
            try:
                tab = browser.new_page()
                tab.set_default_timeout(timeout_ms)
                tab.emulate_media(media="print")
                tab.goto(url, wait_until="load")
                # MathJax 3 typesets after load; wait for its promise.
                tab.wait_for_function(
                    "window.MathJax && MathJax.startup && "
                    "MathJax.startup.promise !== undefined",
                    timeout=30_000)
                tab.evaluate("MathJax.startup.promise")
                tab.add_style_tag(content=PRINT_CSS)
                chapters = tab.evaluate(PREPARE_JS, title)
                pdf.parent.mkdir(parents=True, exist_ok=True)
                tab.pdf(path=str(pdf), format="A4", print_background=True,
                        display_header_footer=True,
                        header_template="<div></div>",
                        footer_template=FOOTER,
                        margin={"top": "16mm", "bottom": "18mm",
                                "left": "14mm", "right": "14mm"},
                        outline=True, tagged=True)
            finally:
                browser.close()
        httpd.shutdown()
    return chapters


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path,
                        help="the output folder of a singlehtml build")
    parser.add_argument("page", help="the page inside it, e.g. "
                                     "book/preface.html")
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--title", default="reglab")
    args = parser.parse_args()
    n = print_pdf(args.site, args.page, args.pdf, args.title)
    print(f"{args.pdf}: {n} chapters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
