"""A static screen of students' answer cells, run before any of them executes.

The tests of an assignment run in the same Python process as the student's
answers (they must call the student's functions). Code in that process can
in principle reach the tests' own tools: replace ``reglab.testing.forbid``
by a no-op, make ``torch.allclose`` return ``True``, swallow exceptions with
an IPython hook, shadow ``abs`` or ``isinstance``. The screen decides, from
the source alone and outside the student's process, whether an answer stays
inside what an exercise needs; an answer that does not is never executed,
and the student is told why in one sentence.

What an answer may do is an allow-list, so that a trick nobody thought of
is refused rather than let through:

* ``import`` only modules of :data:`ALLOWED_MODULES` (``math``, ``numpy``,
  ``torch``, ``copy``, …), never a private (``_x``) submodule or one named in
  :data:`DENIED_ATTRIBUTES`;
* use no reflective or escaping built-in (:data:`DENIED_NAMES`: ``eval``,
  ``exec``, ``getattr``, ``setattr``, ``globals``, ``vars``, ``open``,
  ``__import__``, ``get_ipython``, …) and no dunder name;
* read no private attribute (``x._y``, ``x.__dict__``; the exceptions are
  its own ``self._y``, ``super().__init__()`` and ``__name__``,
  ``__qualname__``, ``__doc__``), no frame or code attribute
  (``f_back``, ``gi_frame``, ``co_consts``, …) and no attribute of
  :data:`DENIED_ATTRIBUTES` (``sys``, ``os``, ``overrides``, ``library``,
  ``testing``, ``load``, …);
* assign or delete attributes only on ``self`` inside a method, never on
  anything reachable from a module, a class or a global name;
* bind at module level no name of a built-in (``abs``, ``isinstance``…) and
  none that the notebook's tests use (except the names the task asks for);
* define classes only on ordinary bases (not ``torch.Tensor``,
  ``numpy.ndarray``, ``type``…, no ``metaclass=``), with no special method
  other than those of :data:`ALLOWED_DUNDER_METHODS`;
* contain no IPython magic or shell escape (``%``, ``!``).

Everything the eleven reference solutions and their wrong-but-honest mutants
in ``tests/assignments/`` do is allowed (a test checks it).
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

ALLOWED_MODULES = frozenset({
    "math", "cmath", "numpy", "torch", "copy", "random", "itertools",
    "functools", "collections", "typing", "dataclasses", "statistics",
    "numbers", "fractions", "decimal", "enum", "abc", "re", "string",
    "bisect", "heapq", "time", "warnings", "reglab", "sklearn", "scipy",
})
DENIED_NAMES = frozenset({
    "eval", "exec", "compile", "__import__", "open", "globals", "locals",
    "vars", "getattr", "setattr", "delattr", "breakpoint", "input", "exit",
    "quit", "help", "memoryview", "get_ipython", "display",
    "__builtins__", "__builtin__", "__loader__", "__spec__",
    "__build_class__", "__file__", "__IPYTHON__",
})
ALLOWED_DUNDER_NAMES = frozenset({"__name__", "__doc__"})
# Modules reachable as attributes of allowed ones (torch.sys, numpy.os,
# torch.overrides...) and the escape hatches of the libraries.
DENIED_ATTRIBUTES = frozenset({
    # the standard library's ways out
    "sys", "os", "builtins", "importlib", "inspect", "gc", "ctypes",
    "ctypeslib", "subprocess", "shutil", "socket", "pickle", "marshal",
    "threading", "multiprocessing", "signal", "types", "weakref", "code",
    "codeop", "runpy", "pathlib", "tempfile", "glob", "platform",
    "resource", "pty", "mmap", "faulthandler", "tracemalloc", "dis", "ast",
    "asyncio", "concurrent", "atexit", "linecache", "traceback", "operator",
    "io", "distutils", "f2py", "site", "sysconfig", "zipimport", "pydoc",
    # the libraries' hooks, registries, loaders and compilers
    "overrides", "library", "testing", "hub", "jit", "compile", "compiler",
    "ops", "fx", "package", "classes", "cpp_extension", "load", "loads",
    "load_inline", "load_library", "serialization", "export", "onnx",
    "_dynamo", "as_subclass", "set_default_dtype", "set_default_device",
    "set_default_tensor_type", "set_printoptions", "saved_tensors_hooks",
    "fromfile", "frombuffer", "memmap", "lib",
})
DENIED_ATTRIBUTE_PREFIXES = (
    "f_", "gi_", "cr_", "ag_", "tb_", "co_",  # frames, generators, code
    "register_module_",  # global hooks on every torch.nn.Module
)
DENIED_BASES = frozenset({
    "Tensor", "Parameter", "Buffer", "ndarray", "type", "ModuleType",
    "TorchFunctionMode", "TorchDispatchMode", "Function", "generic",
})
# Special attributes an answer may read (``type(x).__name__`` in a message).
READABLE_DUNDERS = frozenset({"__name__", "__qualname__", "__doc__"})
ALLOWED_DUNDER_METHODS = frozenset({
    "__init__", "__call__", "__repr__", "__str__", "__len__", "__iter__",
    "__next__", "__getitem__", "__contains__",
})


@dataclass(frozen=True)
class Refusal:
    """Why a cell was refused: ``line`` (1-based) and a sentence."""

    line: int
    reason: str

    def sentence(self, cell: str) -> str:
        return (f"Your answer in cell {cell!r} was not run: line "
                f"{self.line} {self.reason}. Answers may use the modules "
                "and functions an exercise needs, but not change the "
                "libraries, reach the notebook's tests or leave the "
                "notebook.")


def python_source(source: str) -> str:
    """The Python that IPython would run for ``source`` (magics become
    ``get_ipython()`` calls, which the screen refuses)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython is in the pins
        return source
    return TransformerManager().transform_cell(source)


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for an attribute chain (``?`` for other roots)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    parts.append(node.id if isinstance(node, ast.Name) else "?")
    return ".".join(reversed(parts))


def _root(node: ast.AST) -> ast.AST:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node


class _Screen(ast.NodeVisitor):
    def __init__(self, protected: frozenset[str],
                 imports: frozenset[tuple[str, str]]):
        self.protected = protected
        self.imports = imports  # (name, module) bindings the tests use
        self.found: Refusal | None = None
        self.functions: list[ast.AST] = []  # enclosing function defs
        self.method_self: list[str | None] = []  # "self" name per function
        self.scopes: list[str] = ["module"]  # module / function / class

    # -- helpers -------------------------------------------------------------
    def refuse(self, node: ast.AST, reason: str) -> None:
        if self.found is None:
            self.found = Refusal(getattr(node, "lineno", 1), reason)

    def check_module(self, node: ast.AST, name: str) -> None:
        parts = name.split(".")
        if parts[0] not in ALLOWED_MODULES:
            self.refuse(node, f"imports {name!r} (allowed: "
                        + ", ".join(sorted(ALLOWED_MODULES)) + ")")
            return
        for part in parts[1:]:
            if part.startswith("_") or part in DENIED_ATTRIBUTES:
                self.refuse(node, f"imports {name!r}, a part of "
                            f"{parts[0]} that answers may not use")
                return

    def check_binding(self, node: ast.AST, name: str) -> None:
        """A name bound at module level (or declared global)."""
        if self.scopes[-1] != "module" and not getattr(node, "_global",
                                                       False):
            return
        if name in self.protected or hasattr(builtins, name):
            self.refuse(node, f"defines the name {name!r}, which the "
                        "tests (or Python itself) use; choose another name")

    def check_store_target(self, target: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.check_store_target(elt)
            return
        if isinstance(target, ast.Starred):
            self.check_store_target(target.value)
            return
        if isinstance(target, ast.Name):
            self.check_binding(target, target.id)
            return
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            root = _root(target)
            own_self = (self.method_self and self.method_self[-1]
                        and isinstance(root, ast.Name)
                        and root.id == self.method_self[-1])
            if isinstance(target, ast.Attribute) and not own_self and \
                    target.attr in ("grad", "data"):
                self.refuse(target, f"assigns {_dotted(target)!r}; change "
                            "a tensor in place instead (e.g. "
                            f"{ast.unparse(target)}.mul_(scale) or "
                            f"{ast.unparse(target)}.copy_(new)): an answer "
                            "may only set attributes of its own objects "
                            "(self.x = ...)")
            elif isinstance(target, ast.Attribute) and not own_self:
                self.refuse(target, f"changes the attribute "
                            f"{_dotted(target)!r}; an answer may only set "
                            "attributes of its own objects (self.x = ...)")
            elif isinstance(target, ast.Subscript) and not (
                    own_self or (self.functions and isinstance(root, ast.Name)
                                 and self.is_local(root.id))):
                self.refuse(target, "changes an item of "
                            f"{ast.unparse(target.value)!r}, which the "
                            "answer did not create")

    def is_local(self, name: str) -> bool:
        """``name`` is a parameter or an assigned name of the innermost
        function."""
        func = self.functions[-1]
        args = func.args
        params = {a.arg for a in (*args.posonlyargs, *args.args,
                                  *args.kwonlyargs)}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a}
        if name in params:
            return True
        for node in ast.walk(func):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) \
                    and node.id == name:
                return True
        return False

    # -- visitors ------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.check_module(node, alias.name)
            name = alias.asname or alias.name.split(".")[0]
            module = alias.name if alias.asname else name
            if (name, module) not in self.imports:
                self.check_binding(node, name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.refuse(node, "uses a relative import")
            return
        self.check_module(node, node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.refuse(node, "uses 'import *'")
            elif alias.name.startswith("_") or alias.name in DENIED_ATTRIBUTES:
                self.refuse(node, f"imports {alias.name!r} from "
                            f"{node.module}")
            name = alias.asname or alias.name
            if (name, f"{node.module}.{alias.name}") not in self.imports:
                self.check_binding(node, name)

    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name in DENIED_NAMES or (name.startswith("__")
                                    and name not in ALLOWED_DUNDER_NAMES):
            self.refuse(node, f"uses {name!r}")
        elif isinstance(node.ctx, ast.Del):
            self.check_binding(node, name)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        own = (self.method_self and self.method_self[-1]
               and isinstance(node.value, ast.Name)
               and node.value.id == self.method_self[-1])
        private = attr.startswith("_") and not (
            attr in READABLE_DUNDERS and isinstance(node.ctx, ast.Load)
            or attr == "__init__"
            or (own and not attr.startswith("__")))
        if private \
                or attr in DENIED_ATTRIBUTES \
                or attr.startswith(DENIED_ATTRIBUTE_PREFIXES):
            self.refuse(node, f"uses the attribute {_dotted(node)!r}")
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.check_store_target(node)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.check_store_target(node)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, (ast.Name, ast.Tuple, ast.List,
                                   ast.Starred)):
                self.check_store_target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.check_binding(node.target, node.target.id)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.check_binding(node.target, node.target.id)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.check_binding(node.target, node.target.id)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self.check_store_target(node.target)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        if node.optional_vars is not None:
            self.check_store_target(node.optional_vars)
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.check_binding(node, node.name)
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            marker = ast.Name(id=name, lineno=node.lineno)
            marker._global = True
            self.check_binding(marker, name)

    def _function(self, node, in_class: bool = False) -> None:
        if not in_class:
            self.check_binding(node, node.name)
        for deco in node.decorator_list:
            self.visit(deco)
        args = node.args
        for default in (*args.defaults, *args.kw_defaults):
            if default is not None:
                self.visit(default)
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs,
                    args.vararg, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self.visit(arg.annotation)
        if node.returns is not None:
            self.visit(node.returns)
        positional = [*args.posonlyargs, *args.args]
        is_static = any(isinstance(d, ast.Name) and d.id in
                        ("staticmethod", "classmethod")
                        for d in node.decorator_list)
        if in_class:
            me = positional[0].arg if positional and not is_static else None
        else:  # a nested function sees the method's self as a closure
            me = self.method_self[-1] if self.method_self else None
            if me is not None and me in {a.arg for a in ast.walk(args)
                                         if isinstance(a, ast.arg)}:
                me = None
        if me is not None and any(
                isinstance(n, ast.Name) and n.id == me
                and isinstance(n.ctx, ast.Store) for n in ast.walk(node)):
            me = None  # "self" rebound: no longer the method's own object
        self.functions.append(node)
        self.method_self.append(me)
        self.scopes.append("function")
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()
        self.functions.pop()
        self.method_self.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        """A lambda in a class body (``property(lambda self: ...)``) is a
        method: its first parameter is the object."""
        args = [*node.args.posonlyargs, *node.args.args]
        me = args[0].arg if self.scopes[-1] == "class" and args else None
        self.method_self.append(me)
        self.generic_visit(node)
        self.method_self.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.check_binding(node, node.name)
        for base in node.bases:
            last = _dotted(base).rsplit(".", 1)[-1]
            if last in DENIED_BASES or not isinstance(
                    base, (ast.Name, ast.Attribute)):
                self.refuse(base, f"defines a class based on "
                            f"{ast.unparse(base)!r}; answers return plain "
                            "tensors, not subclasses of them")
            self.visit(base)
        if node.keywords:
            self.refuse(node, "passes keywords (such as metaclass=) to a "
                        "class")
        for deco in node.decorator_list:
            self.visit(deco)
        self.scopes.append("class")
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if (stmt.name.startswith("__") and stmt.name.endswith("__")
                        and stmt.name not in ALLOWED_DUNDER_METHODS):
                    self.refuse(stmt, f"defines the special method "
                                f"{stmt.name!r}")
                self._function(stmt, in_class=True)
            else:
                self.visit(stmt)
        self.scopes.pop()

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "type" \
                and len(node.args) != 1:
            self.refuse(node, "calls type() with more than one argument")
        if isinstance(func, ast.Name) and func.id == "super" and node.args:
            self.refuse(node, "calls super() with arguments")
        if isinstance(func, ast.Attribute) and isinstance(
                func.value, ast.Call) and isinstance(func.value.func,
                                                     ast.Name) \
                and func.value.func.id == "type":
            self.refuse(node, "calls a method through type(...)")
        self.generic_visit(node)


def screen(source: str, protected: frozenset[str] = frozenset(),
           imports: frozenset[tuple[str, str]] = frozenset()
           ) -> Refusal | None:
    """Screen one answer cell; return ``None`` if it may run.

    Args:
        source: the cell as the student wrote it (IPython syntax).
        protected: names the notebook's tests use that an answer must not
            rebind at module level (see :func:`protected_names`).
        imports: ``(name, module)`` bindings an answer may repeat although
            the name is protected (``import torch``; see
            :func:`import_bindings`).

    A cell that is not valid Python is let through: running it raises the
    ``SyntaxError`` the student should see, and nothing of it executes.

    Example:
        >>> screen("def f(x):\\n    return x * 2") is None
        True
        >>> screen("import torch\\ntorch.allclose = None").reason
        "changes the attribute 'torch.allclose'; an answer may only set \
attributes of its own objects (self.x = ...)"
    """
    python = python_source(source)
    try:
        tree = ast.parse(python)
    except SyntaxError:
        try:
            ast.parse(source)
        except SyntaxError:
            return None
        tree = ast.parse(source)
    if python.strip() != source.strip() and "get_ipython" in python:
        return Refusal(1, "uses an IPython magic or a shell command "
                       "(a line starting with % or !)")
    visitor = _Screen(frozenset(protected), frozenset(imports))
    visitor.visit(tree)
    return visitor.found


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name a piece of code binds anywhere (assignments, parameters,
    imports, definitions, ``except ... as``)."""
    bound = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            bound.add(n.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in n.names}
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                            ast.ClassDef)):
            bound.add(n.name)
        elif isinstance(n, ast.arg):
            bound.add(n.arg)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            bound.add(n.name)
    return bound


def protected_names(locked_sources: list[str], answer_names: set[str]
                    ) -> frozenset[str]:
    """The names an answer must not rebind at module level.

    Args:
        locked_sources: the notebook's locked code cells (set-up and tests).
        answer_names: the names the tasks ask the student to define.

    Returns:
        The names that some locked cell reads without binding them itself
        (so that it takes them from an earlier cell), other than
        ``answer_names``. Built-in names are protected by the screen
        anyway.
    """
    used: set[str] = set()
    for source in locked_sources:
        try:
            tree = ast.parse(python_source(source))
        except SyntaxError:
            continue
        bound = _bound_names(tree)
        used |= {n.id for n in ast.walk(tree)
                 if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                 and n.id not in bound}
    return frozenset(used - set(answer_names))


def import_bindings(sources: list[str]) -> set[tuple[str, str]]:
    """(name, module) pairs bound by the imports of ``sources``."""
    pairs = set()
    for source in sources:
        try:
            tree = ast.parse(python_source(source))
        except SyntaxError:
            continue
        for n in ast.walk(tree):
            if isinstance(n, ast.Import):
                pairs |= {(a.asname or a.name.split(".")[0],
                           a.name if a.asname else a.name.split(".")[0])
                          for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.module:
                pairs |= {(a.asname or a.name, f"{n.module}.{a.name}")
                          for a in n.names}
    return pairs


def defined_names(source: str) -> set[str]:
    """The module-level names a (reference) answer cell defines."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target])
            for target in targets:
                names |= {n.id for n in ast.walk(target)
                          if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names
