"""Shared test settings: a fixed seed, and hypothesis profiles."""

import os

import numpy as np
import pytest
from hypothesis import settings

SEED = 20261128

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator with the suite's fixed seed."""
    return np.random.default_rng(SEED)
