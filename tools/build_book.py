"""Build both editions of the book: ``make book`` runs this.

Steps (each fails loudly):

1. ``jupyter-book config sphinx .`` turns ``_config.yml`` into ``conf.py``
   (generated, git-ignored).
2. The gettext builder extracts the English messages into ``_build/gettext``
   (without executing the notebooks: outputs hold no translatable text).
3. Every message must have a non-fuzzy Chinese translation in
   ``book/locales/zh_CN``; otherwise the build stops and lists what is
   missing. ``--update-po`` instead merges new messages into the catalogs
   (``sphinx-intl update``) for a translator to fill in, and removes the
   ``python-format`` flags Babel puts on prose with percent signs (they
   make ``msgfmt --check`` fail).
4. ``sphinx-build -W --keep-going -n`` builds ``_build/html/en`` (where
   the notebooks execute, into a cache shared with the next step) and
   ``_build/html/zh``: any warning or notebook error fails the build.
5. ``_build/html/index.html`` lets the reader choose a language.
6. Each edition is built once more as a single page (``singlehtml``, from
   the same doctrees and cache: nothing executes again) and printed by
   Chromium to ``_build/html/pdf/reglab-<edition>.pdf``
   (``tools/print_pdf.py``); every page's download menu links to it.
   ``--no-pdf`` skips this step.
7. ``python -m build`` makes the wheel of ``reglab`` that the downloaded
   notebooks install (``_build/html/wheels/``, see
   ``book/_ext/reglab_notebooks.py``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "book" / "locales"
LANGS = {"en": "en", "zh": "zh_CN"}
# Configuration values that Sphinx does not take from the catalogs.
OVERRIDES = {
    "zh_CN": {
        "html_title": "深度网络的训练策略与正则化",
        "html_theme_options.search_bar_text": "在本书中搜索……",
    },
}


def run(cmd: list[str], **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, **kwargs)


def cache_dir(build: Path) -> Path:
    """The execution cache, keyed by reglab's sources and the pinned
    environment: outputs must be recomputed when the library changes."""
    h = hashlib.sha256()
    for f in sorted((ROOT / "reglab").rglob("*.py")) + [
            ROOT / "requirements.txt"]:
        h.update(f.relative_to(ROOT).as_posix().encode())
        h.update(f.read_bytes())
    return build / ".jupyter_cache" / h.hexdigest()[:12]


def sphinx(builder: str, out: Path, doctrees: Path, cache: Path,
           language: str, strict: bool = True,
           toc: Path | None = None) -> None:
    cmd = [sys.executable, "-m", "sphinx", "-b", builder, "-q",
           "-d", str(doctrees), "-D", f"language={language}",
           "-D", f"nb_execution_cache_path={cache}"]
    if toc is not None:
        cmd += ["-D", f"external_toc_path={toc}"]
    for key, value in OVERRIDES.get(language, {}).items():
        cmd += ["-D", f"{key}={value}"]
    if builder == "gettext":  # messages never come from cell outputs
        cmd += ["-D", "nb_execution_mode=off"]
    cmd += [str(ROOT), str(out)]
    if strict:
        cmd[3:3] = ["-W", "--keep-going", "-n"]
    # Chapters use small tensors: one intra-op thread per kernel avoids
    # threads stalling each other on a busy 2-core machine.
    env = dict(os.environ, REGLAB_PROGRESS="0",
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
               PYTHONPATH=os.pathsep.join(
                   [str(ROOT / "book" / "_ext"),
                    os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    run(cmd, env=env)


def glossary_terms() -> list[str]:
    """The Chinese terms of the glossary (and their alternatives), so
    that the search index keeps 正则化 or 批量归一化 as one word."""
    import re

    terms = set()
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    for row in re.findall(r"^\|[^|]+\|([^|]+)\|([^|]+)\|$", text, re.M):
        for cell in row:
            for part in re.split(r"[、/，,]", re.sub(r"（[^）]*）", "", cell)):
                terms.update(w for w in part.split()
                             if re.search(r"[\u4e00-\u9fff]", w))
    return sorted(terms)


def write_search_dict(build: Path) -> Path:
    """A jieba user dictionary for the Chinese search index."""
    path = build / "jieba-userdict.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{t} 100000\n" for t in glossary_terms()),
                    encoding="utf-8")
    return path


def untranslated(pot_dir: Path, lang: str,
                 locales: Path = LOCALES) -> list[str]:
    """Messages of the .pot files with no non-fuzzy translation."""
    import polib

    problems = []
    for pot_path in sorted(pot_dir.rglob("*.pot")):
        rel = pot_path.relative_to(pot_dir).with_suffix(".po")
        po_path = locales / lang / "LC_MESSAGES" / rel
        if not po_path.exists():
            problems.append(f"{rel}: catalog missing")
            continue
        po = polib.pofile(str(po_path))
        done = {e.msgid for e in po
                if e.msgstr and "fuzzy" not in e.flags and not e.obsolete}
        for entry in polib.pofile(str(pot_path)):
            if entry.msgid not in done:
                short = entry.msgid.replace("\n", " ")[:70]
                problems.append(f"{rel}: untranslated or fuzzy: {short!r}")
    problems += untranslated_captions(lang, locales)
    return problems


def strip_format_flags(catalogs: Path) -> list[Path]:
    """Remove the ``python-format`` flag from every entry of the .po files
    under ``catalogs``; return the files changed.

    Babel flags prose such as "50 % of" or "% i" as a Python format string,
    and ``msgfmt --check`` then rejects a translation that does not repeat
    the "directive". The book's messages are never %-formatted, so the flag
    is always wrong; ``sphinx-intl update`` re-adds it on every merge.
    """
    import polib

    changed = []
    for path in sorted(catalogs.rglob("*.po")):
        po = polib.pofile(str(path), wrapwidth=0)  # sphinx-intl: no wrapping
        touched = False
        for entry in po:
            if "python-format" in entry.flags:
                entry.flags.remove("python-format")
                touched = True
        if touched:
            po.save()
            changed.append(path)
    return changed


def hand_entries(path: Path) -> list:
    """The translated entries of the templates' catalog ``sphinx.po``.

    Besides what gettext extracts from the templates, it holds entries
    written by hand: the part captions of ``_toc.yml`` and the themes'
    labels (``Link to this heading``, ``Light``…), which no .pot lists, so
    ``sphinx-intl update --no-obsolete`` would delete them."""
    import polib

    if not path.exists():
        return []
    return [e for e in polib.pofile(str(path), wrapwidth=0)
            if e.msgstr and not e.obsolete]


def restore_entries(path: Path, entries: list) -> int:
    """Add back the ``entries`` that a merge removed from ``path``."""
    import polib

    po = polib.pofile(str(path), wrapwidth=0)
    have = {e.msgid for e in po}
    lost = [e for e in entries if e.msgid not in have]
    for entry in lost:
        po.append(entry)
    if lost:
        po.save()
    return len(lost)


def merge_catalogs(pot: Path, locales: Path = LOCALES) -> None:
    """``sphinx-intl update`` of the Chinese catalogs from the .pot files
    in ``pot``, keeping the hand-written entries of ``sphinx.po`` and
    removing Babel's ``python-format`` flags."""
    templates = locales / "zh_CN" / "LC_MESSAGES" / "sphinx.po"
    kept = hand_entries(templates)
    run([str(Path(sys.executable).parent / "sphinx-intl"), "update",
         "-p", str(pot), "-d", str(locales), "-l", "zh_CN",
         "--line-width", "0", "--no-obsolete"], stdout=subprocess.DEVNULL)
    restore_entries(templates, kept)
    strip_format_flags(locales / "zh_CN")


def toc_captions() -> list[str]:
    """The part captions of ``_toc.yml`` (translated via ``sphinx.po``)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [part["caption"] for part in toc.get("parts", [])
            if part.get("caption")]


def untranslated_captions(lang: str, locales: Path = LOCALES) -> list[str]:
    import polib

    path = locales / lang / "LC_MESSAGES" / "sphinx.po"
    captions = toc_captions() if locales == LOCALES else []
    if not captions:
        return []
    done = set()
    if path.exists():
        done = {e.msgid for e in polib.pofile(str(path))
                if e.msgstr and "fuzzy" not in e.flags}
    return [f"sphinx.po: _toc.yml caption {c!r} untranslated"
            for c in captions if c not in done]


def subset_toc(pages: list[str], out: Path) -> Path:
    """A copy of ``_toc.yml`` keeping the root, the back matter (glossary,
    references) and ``pages``: authors build one chapter in seconds.
    Links to the chapters left out are reported as warnings."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    wanted = {f"book/{p}" for p in pages} - {toc["root"]}  # always kept
    unknown = wanted - files
    if unknown:
        raise SystemExit(f"--pages: {sorted(unknown)} not in _toc.yml "
                         f"(known: {sorted(files)})")
    keep = wanted | {"book/glossary", "book/references"}
    parts = []
    for part in toc["parts"]:
        chapters = [c for c in part["chapters"] if c["file"] in keep]
        if chapters:
            parts.append(dict(part, chapters=chapters))
    out.mkdir(parents=True, exist_ok=True)
    path = out / "_toc.subset.yml"
    path.write_text(yaml.safe_dump(dict(toc, parts=parts), sort_keys=False))
    return path


def book_title(language: str) -> str:
    import yaml

    return OVERRIDES.get(language, {}).get("html_title") or yaml.safe_load(
        (ROOT / "_config.yml").read_text())["title"]


def root_doc() -> str:
    import yaml

    return yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]


def executed_since(cache: Path, start: float) -> list[str]:
    """The notebooks that this build executed (cache records it wrote)."""
    import datetime

    from jupyter_cache import get_cache

    if not cache.exists():
        return []
    since = datetime.datetime.fromtimestamp(start)
    return sorted(Path(r.uri).stem for r in get_cache(cache)
                  .list_cache_records() if r.created >= since)


# What a distribution of reglab is made from (nothing else is copied).
PACKAGE_FILES = ("pyproject.toml", "LICENSE", "docs/package.md", "reglab")


def build_package(out: Path, *, sdist: bool = False) -> list[Path]:
    """``python -m build`` on a copy of the package's files (the tree
    stays clean); returns the wheel (and sdist) written to ``out``.
    Offline: the build backend comes from the course environment."""
    import tempfile

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "reglab-src"
        for name in PACKAGE_FILES:
            path = ROOT / name
            target = src / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                shutil.copytree(path, target, ignore=shutil.ignore_patterns(
                    "__pycache__", "*.pyc"))
            else:
                shutil.copy(path, target)
        before = set(out.iterdir())
        run([sys.executable, "-m", "build", "--no-isolation",
             "--outdir", str(out)] + ([] if sdist else ["--wheel"])
            + [str(src)], stdout=subprocess.DEVNULL)
    return sorted(set(out.iterdir()) - before)


def write_chooser(html: Path, root_doc: str) -> None:
    (html / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Training strategy and regularisation · 训练策略与正则化</title>
<link rel="alternate" hreflang="en" href="en/{root_doc}.html">
<link rel="alternate" hreflang="zh-CN" href="zh/{root_doc}.html">
<script>
  // Send the reader to the edition of their browser's language.
  var zh = (navigator.language || "").toLowerCase().startsWith("zh");
  if (!location.hash) location.replace((zh ? "zh/" : "en/")
                                       + "{root_doc}.html");
</script>
<style>body{{font-family:sans-serif;max-width:36rem;margin:4rem auto;
line-height:1.6}}</style></head>
<body><h1>Training strategy and regularisation for deep networks</h1>
<p><a href="en/{root_doc}.html" hreflang="en">Read in English</a></p>
<h1 lang="zh-CN">深度网络的训练策略与正则化</h1>
<p lang="zh-CN"><a href="zh/{root_doc}.html"
  hreflang="zh-CN">阅读中文版</a></p>
</body></html>
""", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true",
                        help="remove previous HTML and doctrees first "
                             "(keeps the execution cache)")
    parser.add_argument("--update-po", action="store_true",
                        help="merge new English messages into the .po "
                             "catalogs and stop")
    parser.add_argument("--only", choices=sorted(LANGS),
                        help="build one edition (for authors; the English "
                             "edition alone skips the translation check)")
    parser.add_argument("--build-dir", default=str(ROOT / "_build"))
    parser.add_argument("--pages", type=lambda s: s.split(","),
                        help="comma-separated chapters (file names without "
                             "book/ and .md) to build alone with the "
                             "preface and back matter; with --update-po, "
                             "only their catalogs are merged")
    parser.add_argument("--no-pdf", action="store_true",
                        help="do not print the PDF of each edition")
    parser.add_argument("--draft", action="store_true",
                        help="report warnings and missing translations "
                             "instead of failing (for authors)")
    args = parser.parse_args()
    build = Path(args.build_dir).resolve()
    toc = subset_toc(args.pages, build) if args.pages else None
    start, wall_start = time.perf_counter(), time.time()
    if args.clean:
        for sub in ("html", "doctrees", "gettext"):
            shutil.rmtree(build / sub, ignore_errors=True)

    run([str(Path(sys.executable).parent / "jupyter-book"), "config",
         "sphinx", str(ROOT)], stdout=subprocess.DEVNULL)
    cache = cache_dir(build)
    pot = build / "gettext"
    shutil.rmtree(pot, ignore_errors=True)  # no stale templates
    # Merging catalogs needs only the messages: warnings (such as links
    # to chapters left out by --pages) fail the HTML builds instead.
    # Always from the whole table of contents (gettext executes nothing):
    # a subset's root page would lack the captions of the parts left out,
    # and merging it would drop their translations.
    sphinx("gettext", pot, build / "doctrees" / "gettext", cache, "en",
           strict=not (args.draft or args.update_po))
    if args.pages:  # merge and check only the pages asked for
        for f in (pot / "book").rglob("*.pot"):  # sphinx.pot stays
            if f.relative_to(pot / "book").with_suffix("").as_posix() \
                    not in args.pages:
                f.unlink()

    if args.update_po:
        merge_catalogs(pot)
        left = untranslated(pot, "zh_CN")
        print(f"{len(left)} message(s) still to translate or un-fuzzy.")
        return 0
    missing = untranslated(pot, "zh_CN")
    if missing and args.only != "en":
        print("The Chinese edition is incomplete (run `make po`, then "
              "translate):", *missing, sep="\n  ", file=sys.stderr)
        if not args.draft:
            return 1

    html = build / "html"
    for folder, language in LANGS.items():
        if args.only and folder != args.only:
            continue
        if language == "zh_CN":
            OVERRIDES[language]["html_search_options.dict"] = str(
                write_search_dict(build))
        sphinx("html", html / folder, build / "doctrees" / folder, cache,
               language, strict=not args.draft, toc=toc)
        shutil.rmtree(html / "jupyter_execute", ignore_errors=True)
    if not (args.no_pdf or args.pages):
        sys.path.insert(0, str(ROOT / "tools"))
        from print_pdf import print_pdf

        for folder, language in LANGS.items():
            if args.only and folder != args.only:
                continue
            single = build / "singlehtml" / folder
            sphinx("singlehtml", single, build / "doctrees" / folder, cache,
                   language, strict=not args.draft)
            pdf = html / "pdf" / f"reglab-{folder}.pdf"
            # singlehtml writes the root page's links relative to the
            # output folder, even for a root page in a subfolder
            shutil.copy(single / f"{root_doc()}.html", single / "book.html")
            chapters = print_pdf(single, "book.html", pdf,
                                 book_title(language))
            print(f"{pdf.relative_to(build)}: {chapters} chapters, "
                  f"{pdf.stat().st_size / 2**20:.1f} MiB", flush=True)
    shutil.rmtree(build / "jupyter_execute", ignore_errors=True)
    wheels = html / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    for made in build_package(wheels):
        print(f"{made.relative_to(build)}: the reglab the notebooks install")
    write_chooser(html, root_doc())
    (html / ".nojekyll").touch()  # GitHub Pages: serve _static/, _sources/
    ran = executed_since(cache, wall_start)
    print(f"\nExecuted {len(ran)} notebook(s) in this build"
          + (f": {', '.join(ran)}." if ran else " (all from the cache)."))
    print(f"Built both editions in {time.perf_counter() - start:.0f} s.")
    print(f"Open {html / 'index.html'}, or serve the site with\n"
          f"  python -m http.server -d {html}\n"
          "and browse to http://localhost:8000/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
