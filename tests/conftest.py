"""Hypothesis profiles: `fast` by default (CI: the property tests take a few seconds), `thorough` for a long
search, chosen with `pytest --hypothesis-profile=thorough` or SYMGRAPH_HYPOTHESIS_PROFILE=thorough."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Examples are whole compile-and-differentiate runs with SymPy, so no per-example deadline.
settings.register_profile("fast", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("SYMGRAPH_HYPOTHESIS_PROFILE", "fast"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The Array-API tests run last: they start PyTorch's and JAX's threads, and symgraph.check (test_check.py,
    test_safety_edges.py) forks, which is unsafe in a process that has such threads (JAX warns of deadlocks)."""
    items.sort(key=lambda item: "test_array_api" in item.nodeid.split("::")[0])  # stable: the order otherwise kept
