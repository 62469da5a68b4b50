"""One module per graded assignment: what its round-trip tests expect.

Each module ``tests/assignments/<name>.py`` describes the assignment
``solutions/<ASSIGNMENT>/<NOTEBOOK>.md`` for ``tests/test_exercises.py``
(fast: the notebook's test cells run in-process against wrong answers)
and ``tests/test_grading.py`` (slow: the real nbgrader round trip).
A module defines:

``ASSIGNMENT``, ``NOTEBOOK``
    the folder and the notebook name (without ``.ipynb``).
``SOLUTIONS``
    the grade_ids of the solution (code) cells, in notebook order.
``WRITTEN``
    the grade_ids of the written answers, in notebook order: markdown
    answer cells graded by hand ("manually graded answer" in nbgrader),
    each after a locked question cell. Autograding leaves them for the
    formgrader; an answer handed in unchanged scores 0 automatically.
``TESTS``
    solution grade_id -> the grade_ids of the test cells that check it.
``HIDDEN``
    the test cells that hold hidden tests.
``FORBIDDEN``
    dotted names that the tests must switch off with ``forbid``.
``MUTANTS``
    name -> (answer source, the test cells it must fail, delegates?):
    each answer runs after the reference solution cells, replacing the
    function(s) it defines.
``DIAGNOSES``
    mutant name -> a fragment (or a tuple of fragments) of the diagnosis
    (``reglab.testing.diagnoses``) that its failing test cells must show;
    every other mutant must get no diagnosis. At least three different
    diagnoses per assignment.
``STUDENTS``
    student id -> (cells to replace by grade_id, or None for the untouched
    release; the test cells that must score 0). The ids ``reference``,
    ``untouched``, ``wrong``, ``infinite-loop``, ``delegates`` and
    ``edits-tests`` are required. Every student but the untouched one
    hands in the model answer of each written question.
``FEEDBACK_CODE``
    a line of visible test code that the feedback must show.
``FEEDBACK_MESSAGES``
    student id -> sentences the feedback must show (hidden-test messages).
``FEEDBACK_FIRST_LINES`` (optional)
    student id -> sentences that must be the first line of a failed test
    cell's feedback (e.g. that an earlier task does not pass its tests).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

REQUIRED_STUDENTS = ("reference", "untouched", "wrong", "infinite-loop",
                     "delegates", "edits-tests")


def load() -> list[ModuleType]:
    """Every assignment spec, sorted by assignment name.

    ``REGLAB_ASSIGNMENTS=ch06-dropout,...`` keeps only those (for authors
    working on one assignment; the full suite runs them all).
    """
    names = sorted(p.stem for p in Path(__file__).parent.glob("*.py")
                   if not p.stem.startswith("_"))
    specs = [importlib.import_module(f"{__name__}.{n}") for n in names]
    only = os.environ.get("REGLAB_ASSIGNMENTS")
    if only:
        specs = [s for s in specs if s.ASSIGNMENT in only.split(",")]
    return sorted(specs, key=lambda s: s.ASSIGNMENT)


SPECS = load()
