"""The README's neural-network section says what the code does: its generated module and its shape error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import symgraph

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Neural networks: vectors and matrices") : README.index("## Higher derivatives")]
NETWORK = re.search(r'compile\(\s*"""(.*?)"""', SECTION, re.S).group(1)  # type: ignore[union-attr]


def test_the_readme_shows_the_generated_backward_pass_line_for_line() -> None:
    shown = re.search(r"```python\n(def value_and_grad.*?)```", SECTION, re.S).group(1)  # type: ignore[union-attr]
    source = symgraph.compile(NETWORK, wrt=["W1", "b1", "W2", "b2"]).source.splitlines()
    at = 0
    for line in shown.splitlines():
        if line.strip() == "...":
            continue
        at = source.index(line, at) + 1  # every shown line is there, in this order


def test_the_readme_shape_error_is_the_one_raised() -> None:
    wrong = NETWORK.replace("Z = H @ W2 + b2", "Z = X @ W2 + b2")
    with pytest.raises(symgraph.ShapeError) as info:
        symgraph.compile(wrong)
    quoted = re.search(r'"(@ contracts .*?)"', SECTION.replace("\n", " ")).group(1)  # type: ignore[union-attr]
    assert quoted == info.value.message
    assert info.value.line == 4 and "^" in str(info.value)
