"""Names in generated code: one allocator, deterministic, that keeps the user's names where it can.

User names are ASCII identifiers (the grammar guarantees it); those that are Python keywords, or clash with
what the generated module itself defines (np, the function, its helpers), get a trailing underscore.
Adjoints are d_<name>, the value is the last statement's name or `value`, temporaries are t<node id>.
"""

from __future__ import annotations

import keyword

from .errors import SymgraphError

# What generated code defines or uses by name; a user name equal to one of these is renamed.
GENERATED = frozenset(
    {
        "np",
        "isinstance",
        "float",
        "int",
        "FORMULA",
        "_sum_to",
        "_size",
        "_like",
        "_fresh",
        "_stack",
        "_python_numbers",
        "_numpy_floats",
        "_float_dtype",
        "_flat",
        "_vector",
        "_matrix",
        "_directions",
        "_hvp",
        "_vjp",
        "_matmul_da",
        "_matmul_db",
        "_logsumexp",
        "_softmax",
        "_log_softmax",
        "_tie_share",
        "_NUMBERS",
    }
)
ADJOINT_PREFIX = "d_"
VALUE = "value"


def is_safe_identifier(name: str) -> bool:
    """True for an ASCII identifier that is not a keyword: the only names that reach generated source."""
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name)


class Namer:
    """Hands out unique names in the order asked; the same requests give the same names."""

    def __init__(self, reserved: set[str] | frozenset[str] = GENERATED) -> None:
        self.taken: set[str] = set(reserved)

    def reserve(self, name: str) -> None:
        """Mark a name as used by the generated code itself."""
        self.taken.add(name)

    def copy(self) -> Namer:
        """An independent namer that has taken what this one has."""
        other = Namer(frozenset())
        other.taken = set(self.taken)
        return other

    def take(self, wanted: str) -> str:
        """`wanted` if it is free and safe, else the first of wanted_, wanted__, ... that is."""
        if not wanted.isascii() or not wanted.isidentifier():
            raise SymgraphError(f"{wanted!r} is not a name that can appear in generated code")
        name = wanted
        while name in self.taken or keyword.iskeyword(name):
            name += "_"
        self.taken.add(name)
        return name


def function_name(wanted: str) -> str:
    """Validate the name the user gave the generated function."""
    if not is_safe_identifier(wanted) or wanted in GENERATED or wanted.startswith("_"):
        raise SymgraphError(
            f"{wanted!r} cannot name the generated function: use an identifier that is not a keyword, "
            "does not start with '_' and is not one of " + ", ".join(sorted(GENERATED))
        )
    return wanted
