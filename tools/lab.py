"""Which nbgrader tools the course environment's JupyterLab shows.

Students validate their notebooks; they do not create assignments, grade,
or fetch and submit through an nbgrader exchange (the course has none: they
hand in their ``.ipynb`` files). So the course environment's JupyterLab is
the students' by default: ``make env`` and ``binder/postBuild`` run
``python tools/lab.py student``, which writes two files into the
environment's Jupyter config folder (``<sys.prefix>/etc/jupyter``):

``labconfig/page_config.json``
    disables nbgrader's lab plugins other than the Validate button
    (:data:`INSTRUCTOR_PLUGINS`: the Nbgrader menu, Create Assignment,
    Formgrader, Course List, Assignment List), as ``jupyter labextension
    disable --level=sys_prefix`` would;
``jupyter_server_config.d/zz-reglab.json``
    turns off nbgrader's server extensions behind them
    (:data:`INSTRUCTOR_SERVER`) and turns on ``reglab_jupyter``, which
    makes the Validate button list each failing test's sentence first.

Instructors get nbgrader's full set in one JupyterLab with ``make
lab-instructor``, which starts it with ``JUPYTER_CONFIG_PATH`` set to
``tools/jupyter-instructor`` (that folder's files take precedence and turn
everything back on); ``python tools/lab.py instructor`` makes that the
environment's default instead. With an nbgrader exchange (JupyterHub),
students get the Assignment List back the same way, or per user with
``jupyter labextension enable @jupyter/nbgrader:assignment-list
@jupyter/nbgrader:menu`` and ``jupyter server extension enable
nbgrader.server_extensions.assignment_list``.

``python tools/lab.py status`` prints what the JupyterLab started from
this environment (and the current ``JUPYTER_CONFIG_PATH``) will show.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

INSTRUCTOR_PLUGINS = (
    "@jupyter/nbgrader:menu", "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:assignment-list")
STUDENT_PLUGINS = ("@jupyter/nbgrader:validate-assignment",)
INSTRUCTOR_SERVER = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.assignment_list")
STUDENT_SERVER = ("nbgrader.server_extensions.validate_assignment",
                  "reglab_jupyter")
# Sorted after nbgrader's own nbgrader.json, so that it takes precedence.
SERVER_FILE = "zz-reglab.json"


def config_dir(prefix: str | Path = sys.prefix) -> Path:
    """The environment's Jupyter config folder (``--sys-prefix`` level)."""
    return Path(prefix, "etc", "jupyter")


def _update(path: Path, change) -> None:
    data = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    change(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n",
                    "utf-8")


def configure(role: str, prefix: str | Path = sys.prefix) -> list[Path]:
    """Make ``role`` (``"student"`` or ``"instructor"``) the default of the
    environment at ``prefix``; return the files written."""
    if role not in ("student", "instructor"):
        raise ValueError(f"role must be 'student' or 'instructor', got "
                         f"{role!r}")
    student = role == "student"
    folder = config_dir(prefix)
    page = folder / "labconfig" / "page_config.json"

    def plugins(data):
        disabled = data.get("disabledExtensions", {})
        if isinstance(disabled, list):  # the older list form
            disabled = dict.fromkeys(disabled, True)
        disabled.update(dict.fromkeys(INSTRUCTOR_PLUGINS, student))
        disabled.update(dict.fromkeys(STUDENT_PLUGINS, False))
        data["disabledExtensions"] = disabled

    def server(data):
        on = data.setdefault("ServerApp", {}).setdefault(
            "jpserver_extensions", {})
        on.update(dict.fromkeys(INSTRUCTOR_SERVER, not student))
        on.update(dict.fromkeys(STUDENT_SERVER, True))

    server_file = folder / "jupyter_server_config.d" / SERVER_FILE
    _update(page, plugins)
    _update(server_file, server)
    return [page, server_file]


def status() -> dict[str, bool]:
    """Every nbgrader plugin and server extension (and reglab_jupyter):
    is it on, with the config JupyterLab would read now?"""
    from jupyter_server.extension.config import ExtensionConfigManager
    from jupyter_server.serverapp import ServerApp
    from jupyterlab_server.config import get_static_page_config

    disabled = get_static_page_config(level="all").get(
        "disabledExtensions", {})
    if isinstance(disabled, list):
        disabled = dict.fromkeys(disabled, True)
    found = {name: not disabled.get(name, False)
             for name in STUDENT_PLUGINS + INSTRUCTOR_PLUGINS}
    app = ServerApp()
    manager = ExtensionConfigManager(read_config_path=app.config_file_paths)
    server = manager.get_jpserver_extensions()
    found.update({name: bool(server.get(name, False))
                  for name in STUDENT_SERVER + INSTRUCTOR_SERVER})
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lab.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=("student", "instructor", "status"))
    args = parser.parse_args(argv)
    if args.role == "status":
        for name, on in status().items():
            print(f"{'on ' if on else 'off'}  {name}")
        return 0
    for path in configure(args.role):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
