"""nbgrader configuration of the course; nbgrader reads it from the cwd.

Run every nbgrader command from the repository root (or from a grading
folder holding a copy of this file). ``db_url`` and ``root`` are left unset:
the gradebook is ``gradebook.db`` in the folder nbgrader runs in.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821  (injected by traitlets when loading)

# Instructor versions (MyST .md + generated .ipynb) in solutions/<a>/.
c.CourseDirectory.source_directory = "solutions"
# Student versions are written to exercises/<assignment>/ (committed).
c.CourseDirectory.release_directory = "exercises"
# Default ignores + "*.md": the MyST sources (solutions!) never ship.
c.CourseDirectory.ignore.append("*.md")

# A cell running longer than this many seconds is stopped and scores 0.
c.Execute.timeout = 30
# Interrupt a timed-out cell and carry on grading the following cells.
c.Execute.interrupt_on_timeout = True
# Minimal tracebacks: only "Error: message", never the test cell's lines.
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]

# Feedback: the default preprocessors plus one that blanks hidden tests.
c.GenerateFeedback.preprocessors = [
    GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTests]
