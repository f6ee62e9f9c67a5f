"""Test settings: hypothesis searches briefly by default, at length with AUTOGRAD_LITE_FUZZ=1."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FUZZ = os.environ.get("AUTOGRAD_LITE_FUZZ") == "1"
"""True when AUTOGRAD_LITE_FUZZ=1: the one switch for every long randomized run."""

settings.load_profile("fuzz" if FUZZ else "default")
