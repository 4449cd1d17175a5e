"""Doctests of the documentation pages leave dualdiff's registries as they found them.

The pages show how to register rules (``register_ufunc``, ``register_function``);
run as doctests, those registrations would otherwise stay in force for the rest
of the test session and change what other tests see.
"""

from collections.abc import Iterator

import pytest

from dualdiff import dispatch


@pytest.fixture(autouse=True)
def _restore_registries() -> Iterator[None]:
    """Snapshot every registry (module-level dict) of ``dualdiff.dispatch`` and restore it."""
    registries = {name: value for name, value in vars(dispatch).items() if isinstance(value, dict)}
    saved = {name: dict(registry) for name, registry in registries.items()}
    yield
    for name, registry in registries.items():
        registry.clear()
        registry.update(saved[name])
