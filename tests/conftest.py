"""Hypothesis profiles: `fast` by default (CI: the property tests take a few seconds), `thorough` for a long
search, chosen with `pytest --hypothesis-profile=thorough` or SYMGRAPH_HYPOTHESIS_PROFILE=thorough."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Examples are whole compile-and-differentiate runs with SymPy, so no per-example deadline.
settings.register_profile("fast", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("SYMGRAPH_HYPOTHESIS_PROFILE", "fast"))
