"""Untrusted and pathological input: nothing runs, nothing recurses, nothing hangs, domain problems are NumPy's.

Injection: user text reaches generated source only as ASCII identifiers the grammar admits (renamed when they
clash with Python) and as `repr(text)`; the tests try to smuggle code through every place text can go and
check the generated module with `ast`. Size: deep nesting and long chains compile under a recursion limit
barely above the caller's depth, so no pass recurses over the input. Timings live in
benchmarks/bench_pathological.py, not here.
"""

from __future__ import annotations

import ast
import inspect
import math
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symgraph
from symgraph.codegen import MAX_INLINE_DEPTH
from symgraph.ops import RUNTIME_HELPERS
from symgraph.parse import MAX_INPUT_CHARS, MAX_NODES

PACKAGE = Path(symgraph.__file__).resolve().parent


# --- no eval, no exec of user text ---------------------------------------------------------------------


def test_only_generated_source_is_ever_executed() -> None:
    """eval/exec/compile/__import__ appear twice in the package: load.load running codegen's output, and
    xp.function_xp running its Array-API printing (tests/test_array_api.py checks that module like this one)."""
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in ("eval", "exec", "compile", "__import__"):
                    found.append((path.name, node.func.id))
    assert sorted(found) == [
        ("load.py", "compile"),
        ("load.py", "exec"),
        ("xp.py", "compile"),
        ("xp.py", "exec"),
    ]


def generated_function(f: symgraph.CompiledFunction) -> ast.FunctionDef:
    tree = ast.parse(f.source)
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == f.name)


def assert_module_is_safe(f: symgraph.CompiledFunction, text: str) -> None:
    """The module holds the text only as the FORMULA literal, and the function calls only NumPy and itself."""
    tree = ast.parse(f.source)
    formula = [n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "FORMULA"]  # type: ignore[attr-defined]
    assert len(formula) == 1 and ast.literal_eval(formula[0].value) == text
    fn = generated_function(f)
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            func = node.func
            ok_np = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "np"
            helpers = {h.__name__ for h in RUNTIME_HELPERS}  # runtime.py's functions, copied into the module
            ok_name = isinstance(func, ast.Name) and func.id in {f.name, "isinstance", *helpers}
            assert ok_np or ok_name, ast.unparse(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert node.value.startswith("Value of FORMULA"), node.value  # the docstring only
        assert not isinstance(node, (ast.Import, ast.ImportFrom, ast.Lambda, ast.Global, ast.Nonlocal))
        if isinstance(node, ast.Attribute):
            assert not node.attr.startswith("_"), ast.unparse(node)


HOSTILE_NAMES = [
    "np", "FORMULA", "_SCALARS", "_sum_to", "isinstance", "float", "int", "value_and_grad", "value",
    "__import__", "__builtins__", "__class__", "eval", "exec", "open", "print", "getattr", "os", "sys",
    "lambda", "import", "def", "return", "None", "True", "class", "yield", "d_x", "t1", "t2",
]  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_input_names_are_plain_variables(name: str) -> None:
    text = f"{name} * x + {name}^2"
    f = symgraph.compile(text)
    assert f.variables == (name, "x") or f.variables == ("x",)  # 'x' vs 'd_x' etc.
    value, grads = f(2.0, 3.0)
    assert value == 2.0 * 3.0 + 4.0 and grads == (3.0 + 4.0, 2.0)
    assert f.values(**{name: 2.0, "x": 3.0})[name] == 2.0
    assert_module_is_safe(f, text)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_statement_names_are_plain_locals(name: str) -> None:
    text = f"{name} = x + 1\nq = {name} * {name}\nq + {name}"
    f = symgraph.compile(text)
    assert f.variables == ("x",)
    value, (d_x,) = f(2.0)
    assert value == 9.0 + 3.0 and d_x == 2 * 3.0 + 1.0
    if not name.startswith("d_"):  # values() also lists adjoints as d_<name>: a statement d_x would clash
        assert f.values(x=2.0)[name] == 3.0
    assert_module_is_safe(f, text)


@pytest.mark.parametrize(
    "text",
    [
        "x # \"\"\" ''' ); import os; os.system('echo pwned') #",
        "y = x + 1  # \\\nz = y * 2  # \\n \\x00 \x00 \\u2028 \u2028 \u0085 \x0c\n z",
        "x + 1 # \"\"\"\n# '''\n",
        "x # " + "}" * 50 + "{__import__('os')}\n",
        "x # \r\n + 1 # \r",
        "lambda_ = x # ' \" \\' \\\" \\\\",
    ],
)
def test_comments_cannot_break_out_of_the_formula_literal(text: str) -> None:
    if "+ 1 # \r" in text:  # a '\r' not followed by '\n' is not a line break: an error, even in a comment
        with pytest.raises(symgraph.ParseError, match="carriage return"):
            symgraph.compile(text)
        return
    f = symgraph.compile(text)
    assert_module_is_safe(f, text)
    assert "pwned" not in "".join(ast.unparse(s) for s in generated_function(f).body)


@pytest.mark.parametrize("name", ["__import__", "eval", "exec", "getattr", "open", "print", "np", "globals", "os"])
def test_function_names_outside_the_table_are_unknown(name: str) -> None:
    with pytest.raises(symgraph.ParseError, match=f"unknown function '{name}'"):
        symgraph.compile(f"{name}(x)")


@pytest.mark.parametrize(
    "text", ["os.system(x)", "x.__class__", "x[0]", "x if y else z", "x; import os", "`x`", "x\\\ny", "{x}"]
)
def test_python_syntax_is_not_the_language(text: str) -> None:
    with pytest.raises(symgraph.ParseError):
        symgraph.compile(text)


@pytest.mark.parametrize("text", ["0x10", "1_000", "1j", "0b1", "1e5e5", "1.5.5", "08.5e", "1L"])
def test_number_spellings_beyond_decimal_floats_are_refused(text: str) -> None:
    with pytest.raises(symgraph.ParseError):
        symgraph.compile(text)


def test_numbers_reach_the_source_as_python_float_literals() -> None:
    f = symgraph.compile("x * 000012.50e+0001 + 1e-400")  # 1e-400 underflows to 0: x*125
    assert f(2.0)[0] == 250.0
    assert "125.0" in f.source and "000012" not in ast.unparse(generated_function(f))


@pytest.mark.parametrize("name", ["f'; import os; '", "a\nimport os", "x)", "__init__", "π", "f" * 0])
def test_compile_name_cannot_carry_code(name: str) -> None:
    with pytest.raises(symgraph.SymgraphError):
        symgraph.compile("x", name=name)


def test_compile_name_is_used_as_an_identifier() -> None:
    f = symgraph.compile("x*y", name="loss")
    assert f.name == "loss" and "def loss(x, y):" in f.source
    assert_module_is_safe(f, "x*y")


# --- pathological sizes: linear, iterative, inside CPython's limits -------------------------------------


@contextmanager
def shallow_stack(headroom: int = 150) -> Iterator[None]:
    """Run with a recursion limit only `headroom` frames above the caller: input-sized recursion fails."""
    symgraph.compile("x + 1")  # load the parser and grammar outside the limit
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def max_expression_depth(source: str) -> int:
    """The deepest nesting of expression nodes in the source, walked without recursion."""
    deepest = 0
    stack = [(node, 0) for node in ast.parse(source).body]
    while stack:
        node, depth = stack.pop()
        here = depth + 1 if isinstance(node, ast.expr) else 0
        deepest = max(deepest, here)
        stack.extend((child, here) for child in ast.iter_child_nodes(node))
    return deepest


def nested(fn: str, n: int) -> str:
    return f"{fn}(" * n + "x" + ")" * n


def test_five_thousand_nested_parentheses() -> None:
    with shallow_stack():
        f = symgraph.compile("(" * 5000 + "x + 1" + ")" * 5000 + " * 2")
        assert f(1.5) == (5.0, (2.0,))


def test_deep_function_nesting_matches_the_chain_rule_by_hand() -> None:
    n = 5000
    with shallow_stack():
        f = symgraph.compile(nested("sin", n))
        value, (d_x,) = f(0.7)
    v, d = 0.7, 1.0
    for _ in range(n):
        d *= math.cos(v)
        v = math.sin(v)
    assert value == pytest.approx(v, rel=1e-12) and d_x == pytest.approx(d, rel=1e-9)
    assert max_expression_depth(f.source) <= 3 * MAX_INLINE_DEPTH


def test_mixed_deep_nesting() -> None:
    text = "".join(f"{fn}(-(" for fn in ["tanh", "sin", "softplus", "cos"] * 600) + "x" + "))" * 2400
    with shallow_stack():
        f = symgraph.compile(text)
        value, (d_x,) = f(0.3)
    h = 1e-6
    assert d_x == pytest.approx((f(0.3 + h)[0] - f(0.3 - h)[0]) / (2 * h), rel=1e-5, abs=1e-9)
    assert np.isfinite(value)


def test_long_sum_with_repeated_inputs() -> None:
    n = 30_000
    text = "+".join(f"x{i % 7}" for i in range(n))
    with shallow_stack():
        f = symgraph.compile(text)
    args = [float(k) for k in range(7)]
    counts = [len(range(k, n, 7)) for k in range(7)]
    value, grads = f(*args)
    assert value == sum(c * a for c, a in zip(counts, args))
    assert list(grads) == counts
    assert max_expression_depth(f.source) <= 3 * MAX_INLINE_DEPTH


def test_hundred_thousand_distinct_inputs_fit_the_node_limit_and_one_more_does_not() -> None:
    n = 100_000  # n inputs and n - 1 additions: 199,999 nodes
    f = symgraph.compile("+".join(f"x{i}" for i in range(n)), wrt=["x0", "x99999"])
    assert len(f.variables) == n
    assert f(*[0.5] * n) == (n / 2, (1.0, 1.0))
    with pytest.raises(symgraph.LimitError, match=f"more than {MAX_NODES:,} graph nodes"):
        symgraph.parse("+".join(f"x{i}" for i in range(n + 1)))


def test_long_product_and_power_tower() -> None:
    with shallow_stack():
        f = symgraph.compile("*".join(["x"] * 20_000))
        value, (d_x,) = f(1.0001)
        assert value == pytest.approx(1.0001**20_000, rel=1e-9) and d_x == pytest.approx(
            20_000 * 1.0001**19_999, rel=1e-9
        )
        g = symgraph.compile("^".join(["x"] * 2_000))
        assert g(1.0) == (1.0, (1.0,))


def test_long_chains_of_unary_minus() -> None:
    with shallow_stack():
        for n in (100_000, 100_001):
            f = symgraph.compile("-" * n + "x")
            sign = -1.0 if n % 2 else 1.0
            assert f(2.0) == (sign * 2.0, (sign,))
        f = symgraph.compile("-(" * 50_000 + "x" + ")" * 50_000)
        assert f(2.0) == (2.0, (1.0,))


def test_many_statements_chain() -> None:
    lines = ["s0 = x"] + [f"s{i} = s{i - 1} * 0.5 + x" for i in range(1, 20_000)]
    with shallow_stack():
        f = symgraph.compile("\n".join(lines))
    value, (d_x,) = f(1.0)
    assert value == pytest.approx(2.0) and d_x == pytest.approx(2.0)
    assert "s19999 = s19998 * 0.5 + x" in f.source


def test_megabyte_inputs_compile_or_are_refused() -> None:
    padding = MAX_INPUT_CHARS - len("x * 2 # ")
    f = symgraph.compile("x * 2 # " + "c" * padding)  # exactly the limit: accepted
    assert f(3.0) == (6.0, (2.0,))
    with pytest.raises(symgraph.LimitError):
        symgraph.compile("x * 2 # " + "c" * (padding + 1))
    long_name = "v" * 1_000_000
    f = symgraph.compile(f"{long_name} * 2 + 1")
    assert f.variables == (long_name,) and f(3.0) == (7.0, (2.0,))
    with pytest.raises(symgraph.ParseError, match="too large for a float"):
        symgraph.compile("9" * 1_000_000 + " * x")
    f = symgraph.compile("0." + "0" * 1_000_000 + "1 + x")  # underflows to 0.0
    assert f(1.0) == (1.0, (1.0,))


def test_errors_deep_inside_huge_inputs_are_reported_with_position() -> None:
    text = "(" * 5000 + "x +" + ")" * 5000
    with shallow_stack(), pytest.raises(symgraph.ParseError) as info:
        symgraph.compile(text)
    assert (info.value.line, info.value.column) == (1, 5004)
    assert "expected an operand after '+', found ')'" in info.value.message
    text = "+".join(["x"] * 100_000) + "\ny = (x"
    with pytest.raises(symgraph.ParseError, match=r"the '\(' at line 2, column 5 is not closed"):
        symgraph.compile(text)


# --- domain problems at evaluation: NumPy's answers and NumPy's warnings --------------------------------

DOMAIN = [
    ("log(x)", {"x": -1.0}, lambda x: np.log(x), "invalid value"),
    ("log(x)", {"x": 0.0}, lambda x: np.log(x), "divide by zero"),
    ("x/y", {"x": 0.0, "y": 0.0}, lambda x, y: np.divide(x, y), "invalid value"),
    ("x/y", {"x": 1.0, "y": 0.0}, lambda x, y: np.divide(x, y), "divide by zero"),
    ("x/y", {"x": -1, "y": 0}, lambda x, y: np.divide(np.float64(x), y), "divide by zero"),
    ("sqrt(x)", {"x": -4.0}, lambda x: np.sqrt(x), "invalid value"),
    ("acos(x)", {"x": 2.0}, lambda x: np.arccos(x), "invalid value"),
    ("x^y", {"x": -8.0, "y": 1 / 3}, lambda x, y: np.power(x, y), "invalid value"),
    ("x^-3", {"x": 0.0}, lambda x: np.power(x, -3.0), "divide by zero"),
    ("exp(x)", {"x": 1000.0}, lambda x: np.exp(x), "overflow"),
]


@pytest.mark.parametrize("text,point,reference,warning", DOMAIN, ids=[f"{d[0]}@{d[1]}" for d in DOMAIN])
@pytest.mark.parametrize("kind", ["python", "numpy scalar", "array"])
def test_domain_problems_give_numpys_value_and_warning(text, point, reference, warning, kind) -> None:  # type: ignore[no-untyped-def]
    f = symgraph.compile(text)
    if kind == "numpy scalar":
        point = {k: np.float64(v) for k, v in point.items()}
    elif kind == "array":
        point = {k: np.array([v, 0.5]) for k, v in point.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, grads = f(**point)
    assert any(w.category is RuntimeWarning and warning in str(w.message) for w in caught), caught
    with np.errstate(all="ignore"):
        want = reference(*(np.asarray(v, dtype=float) for v in point.values()))
    np.testing.assert_array_equal(value, want)  # nan == nan here, inf == inf
    assert len(grads) == len(point)


@pytest.mark.parametrize(
    "text,want", [("1/0", math.inf), ("-1/0", -math.inf), ("0/0", math.nan), ("log(-1)", math.nan)]
)
def test_constant_domain_problems_without_inputs(text: str, want: float) -> None:
    f = symgraph.compile(text)
    with pytest.warns(RuntimeWarning):
        value, grads = f()
    np.testing.assert_equal(value, want)
    assert grads == ()


def test_constant_domain_problem_inside_a_formula_with_inputs() -> None:
    f = symgraph.compile("0/0 * x + 1/0 * y + 0^-2 * z")
    with pytest.warns(RuntimeWarning):
        value, (d_x, d_y, d_z) = f(1.0, 1.0, 1.0)
    assert math.isnan(value) and math.isnan(d_x) and d_y == math.inf and d_z == math.inf


def test_no_warning_where_the_value_is_fine() -> None:
    f = symgraph.compile("log(x) + x/y + sqrt(x)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grads = f(4.0, 2.0)
    assert value == pytest.approx(math.log(4) + 2 + 2)


# --- any text at all: a compiled function or a SymgraphError, nothing else --------------------------------

PIECES = ["x", "y", "2", "1.5", "e", "1e", "sin", "atan2", "max", "(", ")", "+", "-", "*", "/", "^", "**", ",", "=",
          ";", "\n", " ", "# c", "pi", "a", "\t", "\u00d7", "\x00", ".", "\r\n", "'", "_", "9e999"]  # fmt: skip


def assert_compiles_or_explains(text: str) -> None:
    try:
        f = symgraph.compile(text)
    except symgraph.SymgraphError as e:
        assert e.message and "Unexpected" not in e.message  # ours, not Lark's
        if e.line is not None:
            assert 1 <= e.line <= text.count("\n") + 1
            assert 1 <= e.column <= len(text.split("\n")[e.line - 1]) + 1  # type: ignore[operator]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, grads = f(*[0.5] * len(f.variables))
    assert len(grads) == len(f.variables)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_token_soup_compiles_or_raises_a_symgraph_error(text: str) -> None:
    assert_compiles_or_explains(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_unicode_compiles_or_raises_a_symgraph_error(text: str) -> None:
    assert_compiles_or_explains(text)
