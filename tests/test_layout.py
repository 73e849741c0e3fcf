"""The package's shape, as docs/architecture.md describes it: imports run one way, and modules stay small."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "symgraph"
MAX_LINES = 400

# module -> the symgraph modules it may import. The core never imports an edge.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "_version": set(),
    "runtime": set(),  # copied verbatim into generated modules: NumPy only
    "dims": set(),  # the declared-shape algebra: plain Python
    "opdef": {"ir"},  # the op record; ir only for type checking
    "tensor_ops": {"dims", "ir", "opdef", "runtime"},  # the table's matrix entries
    "ops": {"dims", "errors", "ir", "opdef", "runtime", "tensor_ops"},  # ir only for type checking
    "simplify": {"ops", "ir"},
    "ir": {"dims", "ops", "simplify", "errors", "shapes"},
    "shapes": {"dims"},  # what the graph knows of a node's shape (ir.Shape)
    "arguments": {"errors"},  # keyword arguments and shape declarations as the text spells them
    "parse": {"arguments", "dims", "ir", "ops", "errors", "syntax_errors", "parse_fast"},
    "parse_fast": set(),  # the parser's fast path: a regular expression's tokens into Lark's LALR parser
    "syntax_errors": {"errors", "ops", "syntax_hints"},
    "syntax_hints": {"errors", "ops"},
    "adjoint": {"ir", "ops"},
    "names": {"errors"},
    "schedule": set(),  # the order of a function's lines: plain Python
    "inplace": {"ops", "ir", "schedule", "simplify"},  # steps in a dying temporary's array; ir for type checking
    "emit": {"ir", "ops", "names", "schedule", "inplace", "simplify"},  # a function's lines and their spelling
    "codegen": {"ir", "ops", "names", "emit", "_version"},
    "calls": {"errors"},  # the checks at the call boundary: NumPy only
    "load": {"codegen", "ops"},  # generated source -> a callable: the one place symgraph runs code
    "function": {"calls", "codegen", "ir", "errors", "adjoint", "load", "names", "ops", "parse", "runtime", "xp"},
    "runtime_xp": set(),  # the Array-API form's helpers, copied into its modules
    "xp": {"_version", "calls", "codegen", "ir", "opdef", "ops", "runtime_xp"},  # the Array-API form
    "higher": {"_version", "adjoint", "codegen", "errors", "function", "ir", "load", "names", "ops"},
    "api": {"function", "ir", "parse", "higher", "errors"},
    "cli": {"api", "errors", "__init__", "explain", "serve"},  # `from . import explain`: the public function
    "memory": {"errors"},  # keep_memory: glibc's malloc settings, through ctypes
    "__init__": {
        "_version",
        "api",
        "memory",
        "errors",
        "function",
        "higher",
        "explain",
        "draw",
        "crosscheck",
        "sympy_bridge",
        "xp",
    },  # bridge lazily
    "__main__": {"cli"},
}
CORE = {
    "calls",
    "runtime",
    "runtime_xp",
    "xp",
    "errors",
    "ops",
    "opdef",
    "arguments",
    "tensor_ops",
    "dims",
    "simplify",
    "ir",
    "shapes",
    "parse",
    "parse_fast",
    "adjoint",
    "names",
    "schedule",
    "inplace",
    "codegen",
    "emit",
    "load",
    "function",
    "higher",
    "api",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 1:  # from . import x: module x, or the package
            found |= {a.name if (PACKAGE / f"{a.name}.py").exists() else "__init__" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("symgraph"):
            found.add(node.module.split(".")[1] if "." in node.module else "__init__")
    return found


def test_imports_follow_the_map() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        name = path.stem
        used = imports_of(path)
        if name in ALLOWED:
            assert used <= ALLOWED[name], f"{name} imports {sorted(used - ALLOWED[name])}"
        else:  # an edge module (sympy_bridge, draw, explain, ...): never imported by the core
            for core in CORE:
                assert name not in imports_of(PACKAGE / f"{core}.py"), f"core module {core} imports edge {name}"


def test_modules_stay_small() -> None:
    for path in PACKAGE.glob("*.py"):
        n = len(path.read_text(encoding="utf-8").splitlines())
        assert n <= MAX_LINES, f"{path.name} has {n} lines (budget {MAX_LINES})"


def test_only_the_sympy_bridge_imports_sympy() -> None:
    for path in PACKAGE.glob("*.py"):
        if path.stem != "sympy_bridge":
            assert "sympy" not in imports_of_absolute(path), path.name


def imports_of_absolute(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names
