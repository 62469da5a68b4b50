"""nbgrader's autograde step without execution: replay the sandbox's run.

The grading folder's ``nbgrader_config.py`` puts :class:`Replay` where
nbgrader's ``Execute`` preprocessor was, so ``nbgrader autograde`` (run by
``tools/grade.py grade``, or by the formgrader's button) never starts a
kernel: it takes the outputs that :mod:`grading.execute` produced in the
sandbox, ``sandbox/<student>/<assignment>/<notebook>.ipynb``, and nbgrader
then scores them as usual. A submission that was not run in the sandbox
gets an error in every code cell ("not run in the sandbox"), never an
unconfined kernel.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode


def _plain(text: str) -> str:
    """``text`` shown literally in Markdown (no HTML, links or markup)."""
    text = html.escape(" ".join(str(text).split()), quote=False)
    return re.sub(r"([\\`*_{}\[\]()+!|~<>])", r"\\\1", text)


def _key(cell, counters: dict) -> tuple:
    """Match cells by grade_id, else by their rank among cells without."""
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if gid:
        return ("id", gid)
    counters[cell.cell_type] = counters.get(cell.cell_type, 0) + 1
    return (cell.cell_type, counters[cell.cell_type])


class Replay(NbGraderPreprocessor):
    """Copy the outputs of the sandboxed run into the notebook."""

    directory = Unicode(
        "sandbox", help="Folder (relative to the grading folder) of the "
        "notebooks executed in the sandbox").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        path = Path(self.directory, info.get("student", ""),
                    info.get("assignment", ""),
                    f"{info.get('notebook', '')}.ipynb")
        executed: dict = {}
        if path.is_file():
            counters: dict = {}
            for cell in nbformat.read(path, as_version=4).cells:
                executed.setdefault(_key(cell, counters), cell)
        else:
            self.log.error("No sandboxed run for %s; run tools/grade.py "
                           "grade", path)
        status = path.with_suffix(".status.json")
        notes = []
        if status.is_file():
            report = json.loads(status.read_text("utf-8"))
            notes = report.get("refused", []) + report.get("events", [])
        if notes:
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(
                "**Grading notes** (what happened while your notebook was "
                "graded):\n\n" + "\n".join(f"- {_plain(n)}"
                                               for n in notes)))
        counters = {}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            ran = executed.get(_key(cell, counters))
            if ran is None:
                message = ("this cell was not run in the grading sandbox"
                           if executed else
                           "this notebook was not run in the grading "
                           "sandbox")
                cell.outputs = [nbformat.v4.new_output(
                    "error", ename="NotRun", evalue=message,
                    traceback=[f"NotRun: {message}"])]
                cell.execution_count = None
            else:
                cell.outputs = ran.get("outputs", [])
                cell.execution_count = ran.get("execution_count")
        return nb, resources
