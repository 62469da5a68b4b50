"""The sandbox one submission's kernel runs in: bubblewrap plus limits.

``bwrap`` (Debian's ``bubblewrap``, the sandbox of Flatpak) starts the
kernel in new namespaces (mount, PID, network, IPC, UTS, cgroup, user) with
a file system made of:

* the Python installation, the course environment (``.venv``) and the
  ``reglab`` package, **read-only**, at their usual paths;
* ``/usr`` (read-only) and the few files of ``/etc`` the loader needs;
* a private, size-limited ``/tmp`` and home folder (tmpfs), holding a
  read-only working copy of the student's own notebook;
* one private folder for the kernel's connection file and sockets.

Nothing else exists inside: no grading folder (gradebook, instructor
notebooks, other submissions, feedback), no repository beyond the installed
package, no home directory, no network (only a loopback of its own). All
capabilities are dropped, new user namespaces are refused, and the sandbox
dies with the grader. The PID namespace ends every process the submission
started when its kernel stops.

Limits (per submission, :class:`Limits`): address space (``--memory``),
CPU seconds, processes (a pids cgroup when the grader runs as root, else
``RLIMIT_NPROC``), the size of any file written, open files, the disk it may
write (the tmpfs sizes); the grader adds a time limit per cell and for the
whole notebook, and a limit on the output it keeps.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: sudo apt-get install "
                "bubblewrap; Fedora: sudo dnf install bubblewrap)")
HOME = "/home/student"
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Sizes in MiB, times in seconds."""

    memory: int = 4096  # address space of each process
    cpu: int = 600  # CPU seconds of each process
    processes: int = 256  # processes and threads in the sandbox
    file_size: int = 64  # largest file it may write
    disk: int = 256  # its home folder and /tmp, each
    open_files: int = 512
    cell_timeout: int = 30  # seconds per cell (nbgrader's Execute.timeout)
    notebook_timeout: int = 900  # seconds for the whole notebook
    output: int = 200_000  # characters of output kept per cell (as JSON)
    notebook_size: int = 50  # MiB: a larger submitted file is not read

    def __post_init__(self):
        for name, value in vars(self).items():
            if not isinstance(value, int) or isinstance(value, bool) \
                    or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got "
                                 f"{value!r}")


def bwrap_path() -> str | None:
    """The ``bwrap`` executable, if it is installed and works here."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    try:
        run = subprocess.run(
            [path, "--unshare-all", "--die-with-parent", "--ro-bind", "/",
             "/", "--cap-drop", "ALL", "true"],
            capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if run.returncode == 0 else None


def require_bwrap() -> str:
    """The ``bwrap`` executable, or a ``RuntimeError`` saying how to get it."""
    path = bwrap_path()
    if path is None:
        if shutil.which("bwrap"):
            raise RuntimeError(
                "bwrap is installed but cannot create a sandbox here (user "
                "namespaces disabled?); grading needs it")
        raise RuntimeError(f"grading runs each submission in a sandbox: "
                           f"{INSTALL_HINT}")
    return path


def _package_dirs() -> list[Path]:
    """Folders outside the environment that its imports need: an editable
    ``reglab`` (only the package folder, not the repository around it)."""
    dirs = []
    spec = importlib.util.find_spec("reglab")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            path = Path(location).resolve()
            if not path.is_relative_to(Path(sys.prefix).resolve()):
                dirs.append(path)
    return dirs


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/", name)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime",
                 "alternatives"):
        path = Path("/etc", name)
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _environment_binds() -> list[str]:
    args: list[str] = []
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(sys.prefix), Path(sys.executable).resolve().parent.parent}
    roots |= set(_package_dirs())
    for root in sorted(roots, key=lambda p: len(p.parts)):
        if root.is_relative_to("/usr") or not root.exists():
            continue
        args += ["--ro-bind", str(root), str(root)]
    return args


def sandbox_env() -> dict[str, str]:
    """The environment of a sandboxed kernel (one thread per kernel: the
    grader runs one kernel per core)."""
    env = {
        "HOME": HOME, "USER": "student", "LANG": "C.UTF-8",
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "TMPDIR": "/tmp", "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib", "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1", "REGLAB_PROGRESS": "0",
        "NBGRADER_EXECUTION": "autograde", "JUPYTER_PLATFORM_DIRS": "1",
    }
    # Correctness settings of this machine's OpenBLAS (see the README).
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    # The kernel imports the reglab that the grader found and the sandbox
    # shows (_package_dirs), not whatever the environment's editable
    # install points to: with a second checkout on PYTHONPATH (or under
    # pytest), they differ, and the kernel found no reglab at all.
    parents = [str(path.parent) for path in _package_dirs()]
    if parents:
        env["PYTHONPATH"] = os.pathsep.join(parents)
    return env


class ProcessGroup:
    """A pids cgroup holding every process of one sandbox (root only).

    Without root (or without a writable pids controller) the limit falls
    back to ``RLIMIT_NPROC``, which Linux counts per user and user
    namespace.
    """

    def __init__(self, limit: int):
        self.path: Path | None = None
        if os.geteuid() != 0:
            return
        for root in CGROUP_ROOTS:
            if not (root / "cgroup.procs").exists():
                continue
            controllers = root / "cgroup.subtree_control"
            if root == Path("/sys/fs/cgroup") and (
                    not controllers.exists()
                    or "pids" not in controllers.read_text().split()):
                continue  # cgroup v2 without a delegated pids controller
            path = root / f"reglab-grade-{uuid.uuid4().hex[:12]}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(limit))
            except OSError:
                try:
                    path.rmdir()
                except OSError:
                    pass
                continue
            self.path = path
            return

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` started inside the cgroup (by a shell that moves
        itself there first)."""
        if self.path is None:
            return argv
        procs = self.path / "cgroup.procs"
        return ["/bin/sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "sh",
                *argv]

    def close(self) -> None:
        """Kill whatever is left in the cgroup and remove it."""
        if self.path is None:
            return
        try:
            for pid in (self.path / "cgroup.procs").read_text().split():
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            for _ in range(50):
                try:
                    self.path.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)
        except OSError:
            pass
        self.path = None


def kernel_argv(bwrap: str, limits: Limits, rundir: Path,
                notebook: Path | None, group: ProcessGroup | None
                ) -> list[str]:
    """The command that starts an IPython kernel in the sandbox.

    Args:
        bwrap: the ``bwrap`` executable.
        limits: the submission's limits.
        rundir: a private folder on the host for the connection file and
            the kernel's sockets; it is the only host folder the kernel
            may write.
        notebook: the working copy of the student's notebook, shown
            read-only in the sandbox's home folder.
        group: the pids cgroup, if any.
    """
    mib = 1024 * 1024
    args = [bwrap, "--unshare-all", "--unshare-user", "--disable-userns",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--hostname", "sandbox"]
    # the private /tmp and home first: a course environment (or the run
    # folder) that lives under /tmp is then bound on top of them
    args += _system_binds()
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(limits.disk * mib), "--tmpfs", "/tmp",
             "--size", str(limits.disk * mib), "--tmpfs", HOME]
    args += _environment_binds() + ["--bind", str(rundir), str(rundir)]
    if notebook is not None:
        args += ["--ro-bind", str(notebook), f"{HOME}/{notebook.name}"]
    # the sandbox's own root (made of the mount points above) read-only:
    # only /tmp, the home folder and the kernel's folder can be written
    args += ["--remount-ro", "/", "--chdir", HOME, "--clearenv"]
    for key, value in sandbox_env().items():
        args += ["--setenv", key, value]
    nproc = limits.processes
    if group is None or group.path is None:
        # RLIMIT_NPROC counts the user's processes; leave room for those
        # the grading user already runs outside the sandbox.
        nproc += len([p for p in Path("/proc").iterdir() if p.name.isdigit()
                      and p.stat().st_uid == os.getuid()])
    args += ["--", shutil.which("prlimit") or "/usr/bin/prlimit",
             f"--as={limits.memory * mib}", f"--cpu={limits.cpu}",
             f"--nproc={nproc}", f"--fsize={limits.file_size * mib}",
             f"--nofile={limits.open_files}", "--core=0", "--",
             sys.executable, "-m", "ipykernel_launcher",
             "-f", "{connection_file}", "--InteractiveShell.xmode=Minimal",
             "--HistoryManager.enabled=False"]
    return group.wrap(args) if group is not None else args
