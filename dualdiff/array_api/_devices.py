"""The one device: the CPU, where NumPy (and so every Dual) computes."""

from __future__ import annotations

from typing import Any

CPU = "cpu"


def check_device(device: Any) -> None:
    """Accept ``None`` or ``"cpu"``; anything else is a ``ValueError`` naming the device."""
    if device is not None and device != CPU:
        raise ValueError(f"dualdiff.array_api computes on the CPU only; got device={device!r}")
