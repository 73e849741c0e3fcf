"""Every call safe (issue 12): the call boundary of compiled functions, with the issue's exact inputs."""

from __future__ import annotations

import time
import types
from typing import Any

import numpy as np
import pytest

import symgraph

LINE = "(w*x+b-y)^2/2"
CLASH = "inputs x (shape (3,)) and y (shape (4,)) do not broadcast together"


# --- 1. shapes that do not broadcast ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: symgraph.compile(LINE, wrt=["w", "b"])(1.0, np.ones(3), 1.0, np.ones(4)),
        lambda: symgraph.compile(LINE, wrt=["w", "b"])(w=1.0, x=np.ones(3), b=1.0, y=np.ones(4)),
        lambda: symgraph.compile(LINE, wrt=["w", "b"]).values(1.0, np.ones(3), 1.0, np.ones(4)),
        lambda: symgraph.hessian(LINE, wrt=["w", "b"])(1.0, np.ones(3), 1.0, np.ones(4)),
        lambda: symgraph.hvp(LINE, wrt=["w", "b"])(1.0, np.ones(3), 1.0, np.ones(4), 1.0, 1.0),
        lambda: symgraph.jacobian(f"({LINE}, w*y)", wrt=["w", "b"])(1.0, np.ones(3), 1.0, np.ones(4)),
        lambda: symgraph.explain(LINE, at={"w": 1.0, "x": np.ones(3), "b": 1.0, "y": np.ones(4)}),
    ],
)
def test_shapes_that_do_not_broadcast_are_an_argument_error_naming_both(call) -> None:
    with pytest.raises(symgraph.ArgumentError, match=CLASH.replace("(", r"\(").replace(")", r"\)")) as info:
        call()
    assert info.value.__suppress_context__  # raised from None: NumPy's message is noise next to it


def test_the_clash_names_the_two_inputs_that_disagree() -> None:
    f = symgraph.compile("a*b + c*d")
    with pytest.raises(symgraph.ArgumentError, match=r"inputs b \(shape \(2, 3\)\) and d \(shape \(5,\)\)"):
        f(1.0, np.ones((2, 3)), np.ones(3), np.ones(5))


def test_broadcastable_shapes_still_work() -> None:
    value, (d_w, d_b) = symgraph.compile(LINE, wrt=["w", "b"])(np.ones((2, 1)), np.ones(3), 1.0, np.ones((1, 3)))
    assert value.shape == (2, 3) and d_w.shape == (2, 1) and np.shape(d_b) == ()


def test_a_value_error_that_is_not_a_clash_is_not_disguised(monkeypatch) -> None:
    f = symgraph.compile("x*y")

    def broken(*args: object) -> None:
        raise ValueError("something else")

    monkeypatch.setattr(f, "function", broken)
    with pytest.raises(ValueError, match="something else") as info:
        f(np.ones(3), np.ones(3))
    assert not isinstance(info.value, symgraph.SymgraphError)


# --- 2. input types -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,args,message",
    [
        ("sin(x)*y", (10**400, 1.0), "input x is an integer of 401 digits, too large for a float64"),
        ("x*y", (1.0, -(10**309)), "input y is an integer of 310 digits"),
        ("sin(x)*y", (1j, 1.0), "input x is complex; symgraph's derivatives are real"),
        ("sin(x)*y", (1.0, np.complex64(1)), "input y is complex"),
        ("-x", (np.ones(2, dtype=complex),), "input x is complex"),
        ("-x", (np.array([1.0, None], dtype=object),), r"input x is an array of Python objects \(dtype object\)"),
        ("-x", (np.array([1.0, 2.0], dtype=object),), "dtype object"),
        ("-x", (np.array(["a"]),), "input x is an array of dtype <U1"),
        ("x*y", ([1.0, 2.0], 1.0), r"input x is a list; pass a number or an array \(np.asarray"),
        ("x*y", (1.0, (1.0, 2.0)), r"input y is a tuple; .*np.asarray"),
        ("x*y", (None, 1.0), "input x is None"),
        ("x*y", (1.0, "2"), "input y is a str"),
        ("x*y", (1.0, b"2"), "input y is a bytes"),
        ("x*y", (1.0, object()), "input y is a object"),
    ],
)
def test_bad_input_types_are_argument_errors_naming_the_input(text: str, args: tuple, message: str) -> None:
    with pytest.raises(symgraph.ArgumentError, match=message):
        symgraph.compile(text)(*args)
    names = symgraph.compile(text).variables
    with pytest.raises(symgraph.ArgumentError, match=message):  # by name too
        symgraph.compile(text)(**dict(zip(names, args)))


def test_huge_python_ints_within_float_range_are_floats() -> None:
    value, grads = symgraph.compile("sin(x)*y")(10**200, 1.0)
    assert value == np.sin(1e200) and grads == (np.cos(1e200), np.sin(1e200))
    assert symgraph.compile("x")(2**63)[0] == 2.0**63


def test_bool_arrays_are_floats() -> None:
    value, (d_x,) = symgraph.compile("-x")(np.array([True, False]))
    assert value.dtype == np.float64 and value.tolist() == [-1.0, -0.0]
    assert d_x.tolist() == [-1.0, -1.0]


@pytest.mark.parametrize(
    "text,args,expected",
    [
        ("x^y", (3, 41), 3.6472996377170784e19),
        ("x^y", (2, -1), 0.5),
        ("x-y", (np.uint8(3), np.uint8(5)), -2.0),
        ("x-y", (np.array(3, dtype=np.uint8), np.array(5, dtype=np.uint8)), -2.0),
        ("x-y", (True, False), 1.0),
        ("x/y", (1, 2), 0.5),
        ("x/y", (np.int64(1), np.int8(2)), 0.5),
    ],
)
def test_integers_and_bools_are_computed_in_float64(text: str, args: tuple, expected: float) -> None:
    value, grads = symgraph.compile(text)(*args)
    assert value == expected and type(value) in (float, np.float64)
    assert all(np.asarray(g).dtype == np.float64 for g in grads)


def test_integer_arrays_do_not_wrap() -> None:
    value, (d_x,) = symgraph.compile("x*x")(np.array([2**40]))
    assert value.dtype == np.float64 and value.tolist() == [1.2089258196146292e24]
    assert d_x.tolist() == [2.0**41]
    value, _ = symgraph.compile("x - y")(np.array([3], dtype=np.uint8), np.array([5], dtype=np.uint8))
    assert value.tolist() == [-2.0]


def test_other_float_dtypes_pass_through_unchanged() -> None:
    x = np.arange(3, dtype=np.float32)
    value, (d_x, d_y) = symgraph.compile("x*y")(x, np.float32(2))
    assert value.dtype == d_x.dtype == np.float32
    value, _ = symgraph.compile("x*x")(np.float16(3))
    assert type(value) is np.float16


def test_values_and_explain_convert_as_the_call_does() -> None:
    f = symgraph.compile("h = x + 5; g = h^3 + 1; f = g^2")
    assert f.values(x=-3)["x"] == -3.0 and type(f.values(x=-3)["x"]) is float
    assert f.values(x=np.array([-3]))["d_x"].dtype == np.float64
    with pytest.raises(symgraph.ArgumentError, match="input x is a list"):
        f.values(x=[-3.0])
    assert "216" in str(symgraph.explain(f, at={"x": -3}))


def test_the_raw_function_is_the_unchecked_fast_path() -> None:
    f = symgraph.compile("x*x")
    assert f.function(np.array([2**40]))[0].tolist() == [0]  # NumPy's int64 wraps: f(...) converts first
    assert f(np.array([2**40]))[0].tolist() == [2.0**80]


def test_the_fast_path_hands_floats_through_untouched() -> None:
    from symgraph import calls

    args = (1.0, np.ones(3))
    assert calls.floats(("x", "y"), args) is args


# --- 4. pickling --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make,args",
    [
        (lambda: symgraph.compile("x*y"), (2.0, 3.0)),
        (lambda: symgraph.compile("x*y", wrt="y", name="g"), (2.0, np.arange(3.0))),
        (lambda: symgraph.hessian("x*y^3"), (2.0, 3.0)),
        (lambda: symgraph.hvp("x*y^3", wrt=["y"]), (2.0, 3.0, 0.5)),
        (lambda: symgraph.jacobian("(x*y, x+y)"), (2.0, 3.0)),
    ],
)
def test_compiled_functions_pickle_by_their_text(make, args: tuple) -> None:
    import pickle

    f = make()
    data = pickle.dumps(f)
    assert b"def " not in data and len(data) < 400  # the text, not the code
    g = pickle.loads(data)
    assert type(g) is type(f) and (g.wrt, g.name, g.source) == (f.wrt, f.name, f.source)
    assert repr(g(*args)) == repr(f(*args))
    assert pickle.loads(pickle.dumps(g)).source == f.source  # served from the cache


def test_unpickling_an_unknown_kind_is_an_argument_error() -> None:
    from symgraph import api

    with pytest.raises(symgraph.ArgumentError, match="cannot unpickle"):
        api._unpickle("os.system", "x", ("x",), "value_and_grad")


def test_a_compiled_function_maps_over_a_process_pool() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    f = symgraph.compile("x^3/3")
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(f, [1.0, 2.0, np.array([3.0, 4])]))
    assert repr(results[:2]) == repr([f(1.0), f(2.0)])
    assert results[2][1][0].tolist() == [9.0, 16.0]


# --- 3. empty arrays ----------------------------------------------------------------------------------------
MEAN_COST = "mean((w*x+b-y)^2)/2"


def test_an_empty_batch_gives_numpys_nan_with_its_warning() -> None:
    import warnings

    f = symgraph.compile(MEAN_COST, wrt=["w", "b"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, (d_w, d_b) = f(1.0, np.array([]), 1.0, np.array([]))
        mean, (d_x,) = symgraph.compile("mean(x)")(np.zeros((0, 3)))
    assert np.isnan(value) and np.shape(d_w) == np.shape(d_b) == ()
    assert np.isnan(mean) and d_x.shape == (0, 3) and d_x.dtype == np.float64
    messages = [str(w.message) for w in caught if w.category is RuntimeWarning]
    assert "Mean of empty slice" in messages and any("divide" in m for m in messages)


def test_an_empty_batch_in_the_saved_module(tmp_path) -> None:
    import subprocess
    import sys

    symgraph.compile(MEAN_COST, wrt=["w", "b"], name="cost").save(tmp_path / "cost.py")
    symgraph.compile("mean(x)", name="m").save(tmp_path / "m.py")
    script = (
        "import warnings, numpy as np\n"
        "warnings.simplefilter('error')\n"
        "from cost import cost\n"
        "from m import m\n"
        "for call in (lambda: cost(1.0, np.array([]), 1.0, np.array([])), lambda: m(np.zeros((0, 3)))):\n"
        "    try:\n"
        "        call()\n"
        "    except RuntimeWarning as w:\n"
        "        print('warned')\n"
        "warnings.simplefilter('ignore')\n"
        "v, (dw, db) = cost(1.0, np.array([]), 1.0, np.array([]))\n"
        "v2, (dx,) = m(np.zeros((0, 3)))\n"
        "print(np.isnan(v), np.isnan(v2), dx.shape)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.split("\n")[:3] == ["warned", "warned", "True True (0, 3)"], out.stderr


# --- 5. limits on the derivative compilers ------------------------------------------------------------------
def test_a_large_hessian_is_refused_before_the_work() -> None:
    import time

    text = "*".join(f"v{i}" for i in range(400))
    start = time.perf_counter()
    with pytest.raises(symgraph.LimitError, match=r"798,800 in all; the limit is 200,000 \(MAX_DERIVATIVE_WORK\)"):
        symgraph.hessian(text)
    assert time.perf_counter() - start < 1.0


def _work(text: str, passes: str) -> int:
    from symgraph.adjoint import gradient

    p = symgraph.parse(text)
    if passes == "outputs":
        return len(p.graph) * len(p.outputs)
    gradient(p.graph, p.output, list(p.inputs.values()))
    return len(p.graph) * (len(p.inputs) if passes == "wrt" else 1)


@pytest.mark.parametrize(
    "kind,text,limit,passes",
    [
        ("HessianFunction", "mean(a*b*c*d) + a^3", "MAX_DERIVATIVE_WORK", "wrt"),
        ("HVPFunction", "a*b*c*d + sin(a)", "MAX_HVP_NODES", "one"),
        ("JacobianFunction", "(a*b, b*c, c*d, exp(d))", "MAX_DERIVATIVE_WORK", "outputs"),
    ],
)
def test_each_limit_admits_its_bound_and_refuses_one_more(monkeypatch, kind: str, text: str, limit: str, passes: str):
    from symgraph import higher
    from symgraph.parse import parse

    work = _work(text, passes)
    make = getattr(higher, kind)
    monkeypatch.setattr(higher, limit, work)
    make(parse(text))  # at the limit: compiled
    monkeypatch.setattr(higher, limit, work - 1)
    with pytest.raises(symgraph.LimitError, match=limit):
        make(parse(text))


def test_explain_cuts_long_cells() -> None:
    text = "^".join(["x"] * 300)
    e = symgraph.explain(text)
    rendered = str(e)
    assert max(len(line) for line in rendered.splitlines()) < 4 * 200 + 100
    assert "..." in rendered
    assert len(e.render(width=None)) > len(rendered)  # the full text is still there on request


def test_compile_refuses_a_list_for_text() -> None:
    with pytest.raises(symgraph.ArgumentError, match="text"):
        symgraph.compile(["x+1"])  # type: ignore[arg-type]


@pytest.mark.parametrize("show", [symgraph.explain, symgraph.to_dot])
def test_explain_and_drawings_have_a_size_limit_checked_first(show: Any) -> None:
    from symgraph.explain import MAX_EXPLAIN_NODES

    big = "sin(" * 12000 + "x" + ")" * 12000  # 36,002 graph nodes
    assert len(symgraph.compile(big).program.graph) > MAX_EXPLAIN_NODES
    start = time.perf_counter()
    with pytest.raises(symgraph.LimitError, match="MAX_EXPLAIN_NODES"):
        show(big, at={"x": 0.5})
    assert time.perf_counter() - start < 5.0  # compiled (cached) above: the refusal itself is immediate
    show("sin(" * 1000 + "x" + ")" * 1000, at={"x": 0.5})  # 3,002 nodes: explained


# --- 4. the entry f(...) runs -------------------------------------------------------------------------------
@pytest.mark.parametrize("text,args", [("2+3", ()), ("-x", (2.0,)), ("x*y", (2.0, 3.0)), ("x*y", (2, True))])
def test_the_entry_answers_as_the_function_for_any_number_of_inputs(text: str, args: tuple[Any, ...]) -> None:
    f = symgraph.compile(text)
    assert f(*args) == f.function(*(float(a) for a in args))
    assert f(**dict(zip(f.variables, args))) == f(*args)
    if args:
        assert f(*args[:1], **dict(zip(f.variables[1:], args[1:]))) == f(*args)


@pytest.mark.parametrize(
    "args,kwargs,message",
    [
        ((1.0, 2.0, 3.0), {}, r"takes 2 inputs, got 3 by position"),
        ((1.0,), {}, r"missing input\(s\): y"),
        ((), {}, r"missing input\(s\): x, y"),
        ((1.0, 2.0), {"z": 1.0}, "has no input 'z'"),
        ((1.0,), {"x": 2.0, "y": 3.0}, "got input 'x' twice"),
    ],
)
def test_a_wrong_call_with_floats_is_an_argument_error(args, kwargs, message: str) -> None:
    with pytest.raises(symgraph.ArgumentError, match=message):
        symgraph.compile("x*y")(*args, **kwargs)


def test_the_entry_follows_a_new_function_and_keeps_keyword_names() -> None:
    f = symgraph.compile("lambda*x")  # lambda is renamed in the generated code, not in the call
    assert f(**{"lambda": 2.0, "x": 3.0}) == f(2.0, 3.0) == (6.0, (3.0, 2.0))
    f.function = lambda *args: ("stand-in", args)
    assert f(2.0, 3.0) == ("stand-in", (2.0, 3.0)) and f(2, 3.0) == ("stand-in", (2.0, 3.0))
    assert f.__call__(1.0, 1.0) == ("stand-in", (1.0, 1.0)) and "variables" in type(f).__call__.__doc__


@pytest.mark.parametrize("make", [lambda: symgraph.compile(LINE, wrt=["w", "b"]), lambda: symgraph.hessian("x*y^2")])
def test_the_helpers_compiled_once_are_those_of_the_module_line_for_line(make) -> None:
    """load.load compiles codegen.HELPERS once; each module gets the helpers its code calls (and the ones those
    call), each as if compiled with the rest of the module."""
    f = make()
    namespace, filename = f.function.__globals__, f.function.__code__.co_filename
    module = compile(f.source, filename, "exec", dont_inherit=True)
    codes = [c for c in module.co_consts if isinstance(c, types.CodeType)]
    present = [c for c in codes if c.co_name in namespace]
    assert f.name in {c.co_name for c in present} and len(present) < len(codes)  # not every helper
    for c in present:  # every helper a present function names is present: nothing it calls is missing
        assert {d.co_name for d in codes} & set(c.co_names) <= set(namespace), c.co_name
    pairs = [(namespace[c.co_name].__code__, c) for c in present]
    fresh_module: dict[str, object] = {}
    exec(module, fresh_module)  # noqa: S102 - the module's own source, to read its functions' defaults
    for name, value in fresh_module.items():
        if isinstance(value, types.FunctionType) and name in namespace:  # defaults live on the function: kept
            assert namespace[name].__defaults__ == value.__defaults__, name
    while pairs:
        ours, fresh = pairs.pop()
        for attr in ("co_code", "co_names", "co_varnames", "co_firstlineno", "co_filename", "co_qualname"):
            assert getattr(ours, attr) == getattr(fresh, attr), attr
        assert list(ours.co_positions()) == list(fresh.co_positions()) and ours.co_filename == filename
        inner = [(a, b) for a, b in zip(ours.co_consts, fresh.co_consts) if isinstance(b, types.CodeType)]
        pairs += inner
