"""nbgrader's ``Validator``, with a report a student reads in one glance.

nbgrader's Validate dialog shows, for every failing test cell, the cell's
whole source and then the error. :class:`ReadableValidator` reports
instead the error's sentence first (a test cell of the course calls
``reglab.testing.tests_of``, so its error is that sentence, then the lines
of the student's own code that raised), wrapped to the dialog's width,
and then the test's one-line description. ``tools/exercises.py validate``
(``make check``) prints the same sentences.
"""

from __future__ import annotations

import html
import re
import textwrap

from nbconvert.filters import strip_ansi
from nbgrader.validator import Validator

WIDTH = 76  # characters per line in the Validate dialog
_LAST = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)?: ")


def sentence_first(text: str) -> str:
    """The lines of an error output, the sentence first.

    A course test cell's error already starts with its sentence. Any other
    error (a notebook run before ``tests_of`` existed, an IPython
    traceback) is reduced to its last line, ``Error: message``, which is
    where Python puts it.
    """
    lines = [line.rstrip() for line in strip_ansi(text).splitlines()]
    lines = [line for line in lines if line.strip()]
    if not lines:
        return "(no message)"
    looks_like_traceback = any(
        "Traceback (most recent call last)" in line or
        set(line.strip()) == {"-"} for line in lines)
    if looks_like_traceback or (len(lines) > 1 and _LAST.match(lines[-1])
                                and not _LAST.match(lines[0])):
        lines = lines[-1:]
    if lines[0].rstrip(": ") == "NotImplementedError":
        return ("Not answered yet: a task's cell still raises "
                "NotImplementedError.")
    return "\n".join(lines)


def written_sentence(points) -> str:
    """What Validate says about a written answer handed in unchanged."""
    return ("The written question is not answered yet: its answer cell "
            "still says YOUR ANSWER HERE (write your answer there; it is "
            f"marked by hand, {points:g} points, not by the tests).")


def describe(source: str) -> str:
    """A test cell's description: its first line, ``# Checks ...``."""
    first = (source.strip().splitlines() or [""])[0]
    return first.lstrip("# ").strip()


class ReadableValidator(Validator):
    """``Validator`` whose failed cells read: sentence, then the test.

    Each entry of ``validate(...)["failed"]`` keeps nbgrader's keys, which
    the Validate dialog shows in this order: ``source`` (now the message,
    wrapped to :data:`WIDTH` characters) and ``error`` (HTML: which test
    it was); ``raw_error`` is the message. Two keys are added:
    ``message`` (its first line is the sentence) and ``test`` (the test's
    description).

    A written answer (a markdown answer cell graded by hand) that is still
    the release's ``YOUR ANSWER HERE`` is one of nbgrader's failures too;
    its message says so (:func:`written_sentence`) and its test is
    ``written question (marked by hand)``.
    """

    def _get_failed_cells(self, nb):
        self._failed_cells = super()._get_failed_cells(nb)
        return self._failed_cells

    def _extract_error(self, cell) -> str:
        if cell.cell_type != "code":  # a written answer left unchanged
            points = cell.metadata.get("nbgrader", {}).get("points", 0)
            return written_sentence(float(points))
        errors = ["\n".join(output.traceback) for output in cell.outputs
                  if output.output_type == "error"]
        if errors:
            return "\n".join(sentence_first(error) for error in errors)
        return super()._extract_error(cell)

    def validate(self, filename: str) -> dict:
        self._failed_cells = []
        results = super().validate(filename)
        # nbgrader builds results["failed"] from _get_failed_cells, in order
        for cell, nb_cell in zip(results.get("failed", []),
                                 self._failed_cells):
            message = cell["raw_error"]
            test = ("written question (marked by hand)"
                    if nb_cell.cell_type != "code"
                    else describe(cell["source"]))
            wrapped = "\n".join(
                textwrap.fill(line, WIDTH, subsequent_indent="  "
                              if line.startswith("  ") else "")
                for line in message.splitlines())
            cell.update(message=message, test=test, source=wrapped,
                        raw_error=message,
                        error=html.escape(textwrap.fill(f"(test: {test})",
                                                        WIDTH)))
        return results
