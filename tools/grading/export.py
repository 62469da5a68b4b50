"""nbgrader's CSV export, with the number of answers still to mark by hand.

The grading folder's ``nbgrader_config.py`` (written by ``tools/grade.py
setup``) makes ``nbgrader export`` use :class:`CsvExport`, so that
``tools/grade.py grade`` and ``tools/grade.py export`` (``make grade``,
``make export``), like ``nbgrader export`` run there by hand, write the
same ``grades.csv``: nbgrader's columns, then ``to_mark``, the number of
graded cells of the submission that have no score yet, neither from the
autograder nor from a grader. Those are the written answers that wait
for the formgrader's Manual Grading; until they are marked they count 0
in ``score`` (``max_score`` includes their points). A written answer
handed in unchanged (still ``YOUR ANSWER HERE``) is scored 0 by nbgrader
itself and is not counted. A student without a submission has
``to_mark`` 0.
"""

from __future__ import annotations

import csv

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import CsvExportPlugin

COLUMN = "to_mark"


def unmarked(gradebook: Gradebook, assignment: str,
             student: str) -> list[str]:
    """The grade_ids of ``student``'s cells of ``assignment`` that have no
    score yet (no autograder score, no manual score), sorted; empty if
    there is no submission."""
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return []
    return sorted(grade.name for notebook in submission.notebooks
                  for grade in notebook.grades
                  if grade.auto_score is None and grade.manual_score is None)


class CsvExport(CsvExportPlugin):
    """``CsvExportPlugin`` plus the column ``to_mark`` (see the module)."""

    def export(self, gradebook: Gradebook) -> None:
        super().export(gradebook)
        dest = self.to or "grades.csv"
        with open(dest, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            fields = list(reader.fieldnames or [])  # also with no rows
        for row in rows:
            row[COLUMN] = len(unmarked(gradebook, row["assignment"],
                                       row["student_id"]))
        with open(dest, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=fields + [COLUMN],
                                    lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
