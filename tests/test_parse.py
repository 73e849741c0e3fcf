"""The language: precedence from the grammar, numbers, names, statements."""

from __future__ import annotations

import math

import pytest

import symgraph


def value(text: str, **point: float) -> float:
    return symgraph.compile(text)(**point)[0]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("-2^2", -4.0),
        ("2^3^2", 512.0),
        ("2**3**2", 512.0),
        ("2^-1", 0.5),
        ("-2**2", -4.0),
        ("(-2)^2", 4.0),
        ("2*3+4", 10.0),
        ("2*(3+4)", 14.0),
        ("8/4/2", 1.0),
        ("8-4-2", 2.0),
        ("--3", 3.0),
        ("+-+3", -3.0),
        ("1e3", 1000.0),
        ("2.5E-1", 0.25),
        (".5", 0.5),
        ("5.", 5.0),
        ("1/2", 0.5),
        ("3/2*4", 6.0),
        ("pi", math.pi),
        ("e", math.e),
        ("2^-1^2", 0.5),
    ],
)
def test_constant_expressions(text: str, expected: float) -> None:
    assert value(text) == pytest.approx(expected, rel=1e-15)


def test_power_binds_tighter_than_unary_minus() -> None:
    assert value("-x^2", x=3.0) == -9.0
    assert value("2^-x", x=1.0) == 0.5


def test_inputs_in_order_of_first_appearance() -> None:
    assert symgraph.compile("z*y + x*z").variables == ("z", "y", "x")
    assert symgraph.compile("a = q + p; b = a*r").variables == ("q", "p", "r")


def test_names_with_digits_and_underscores() -> None:
    f = symgraph.compile("m_0 * theta1 + _k")
    assert f.variables == ("m_0", "theta1", "_k")


def test_statement_names_are_not_inputs() -> None:
    f = symgraph.compile("h = x + 5\n\ng = h^3 + 1;; f = g^2;")
    assert f.variables == ("x",)


def test_compile_is_cached() -> None:
    assert symgraph.compile("x*y+1") is symgraph.compile("x*y+1")
    assert symgraph.compile("x*y+1", wrt=["x"]) is not symgraph.compile("x*y+1")


def test_errors_are_symgraph_errors_with_position() -> None:
    with pytest.raises(symgraph.ParseError) as info:
        symgraph.compile("x + * y")
    assert (info.value.line, info.value.column) == (1, 5)
    assert isinstance(info.value, ValueError)
    with pytest.raises(symgraph.ArgumentError):
        symgraph.compile("x + y", wrt=["z"])
