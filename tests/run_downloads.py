"""Execute the chapters' downloaded notebooks in a fresh environment.

``python tests/run_downloads.py <built site> <work folder>``: creates a
venv with a reader's packages but no reglab (``fresh_venv.READER``),
serves the built site on localhost, and executes each chapter's notebook
once (the English and the Chinese download of alternate chapters) with
``REGLAB_SITE_URL`` pointing at the served site, so that the first
notebook's install cell installs reglab from the site's wheel. Writes
``result.json`` into the work folder. ``tests/test_downloads.py`` starts
this in the background and checks the result.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fresh_venv import READER, ROOT, clean_env, make_venv, run  # noqa

EDITIONS = ("en", "zh")
PAGES = sorted(p.stem for p in (ROOT / "book").glob("*.md")
               if "```{code-cell}" in p.read_text(encoding="utf-8"))

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


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main(site: Path, work: Path) -> int:
    start = time.perf_counter()
    result = {"paths": [], "returncode": None}
    try:
        venv = work / "venv"
        python = make_venv(venv, READER)
        result["venv_seconds"] = round(time.perf_counter() - start, 1)
        handler = functools.partial(_Quiet, directory=str(site))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        nbs = work / "notebooks"
        nbs.mkdir()
        for k, page in enumerate(PAGES):
            edition = EDITIONS[k % 2]
            dst = nbs / f"{edition}-{page}.ipynb"
            shutil.copy(site / edition / "_sources" / "book"
                        / f"{page}.ipynb", dst)
            result["paths"].append(dst.name)
        (nbs / "runner.py").write_text(RUNNER)
        jupyter = work / "jupyter"
        env = dict(clean_env(), REGLAB_SITE_URL=url,
                   JUPYTER_DATA_DIR=str(jupyter),
                   JUPYTER_CONFIG_DIR=str(jupyter),
                   JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
                   PATH=f"{venv / 'bin'}:{clean_env()['PATH']}")
        proc = run(python, "runner.py", *result["paths"], cwd=nbs,
                   env=env, timeout=3000)
        server.shutdown()
        result.update(returncode=proc.returncode,
                      stdout=proc.stdout[-3000:], stderr=proc.stderr[-5000:],
                      venv=str(venv))
        report = nbs / "report.json"
        if report.exists():
            result["report"] = json.loads(report.read_text())
    except Exception as exc:  # reported by the test, not lost
        result["error"] = f"{type(exc).__name__}: {exc}"
    result["seconds"] = round(time.perf_counter() - start, 1)
    (work / "result.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
