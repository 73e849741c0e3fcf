"""symgraph.keep_memory: glibc keeps the memory generated code frees, so temporaries stop faulting in pages."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

import symgraph

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# A fresh interpreter (malloc's state is the process's): Rosenbrock n=30's value alone on 10^5 points, the page
# faults of its fifth to tenth calls, each call making and freeing about 90 temporaries of 800 KB.
FAULTS = """
import resource, sys
import numpy as np
import symgraph
if sys.argv[1] == "keep":
    assert symgraph.keep_memory()
text = " + ".join(f"(1-x{i})^2 + 100*(x{i + 1}-x{i}^2)^2" for i in range(29))
v = symgraph.compile(text, wrt=[])
xs = [np.random.default_rng(i).uniform(-2, 2, 100_000) for i in range(30)]
for _ in range(4):
    v(*xs)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(6):
    v(*xs)
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 6)
"""


def faults_per_call(mode: str) -> int:
    run = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return int(run.stdout)


def test_keep_memory_answers_whether_malloc_took_it() -> None:
    """True with glibc, False elsewhere; in a process of its own, so that the test run's malloc is left as it is."""
    run = subprocess.run([sys.executable, "-c", "import symgraph; print(symgraph.keep_memory())"], capture_output=True)
    assert run.stdout.decode().strip() == str(GLIBC)


@pytest.mark.skipif(not GLIBC, reason="mallopt's settings are glibc's; elsewhere keep_memory changes nothing")
def test_with_keep_memory_the_temporaries_fault_in_no_pages() -> None:
    kept = faults_per_call("keep")
    assert kept < 1000, f"{kept} page faults a call (about 17,000 pages of temporaries are made and freed)"
    assert kept < faults_per_call("default")  # glibc's default gives some of them back to the system


@pytest.mark.parametrize("options", [{"trim": 4 << 30}, {"mmap": 4 << 30}, {"trim": -2}, {"mmap": 1.5e6}])
def test_keep_memory_refuses_what_a_c_int_cannot_hold(options: dict) -> None:
    """Regression (review): 4 << 30 reached glibc as 0 (a C int wraps), which trims on every free, and True came
    back. Sizes are whole numbers of bytes up to 2**31 - 1, checked before anything is set."""
    with pytest.raises(symgraph.ArgumentError, match="number of bytes"):
        symgraph.keep_memory(**options)
