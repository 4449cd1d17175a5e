"""The inspection API: ``__array_namespace_info__()`` says what this namespace offers."""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.array_api import _dtypes
from dualdiff.array_api._devices import CPU, check_device

_BY_KIND = {
    "bool": ("bool",),
    "signed integer": ("int8", "int16", "int32", "int64"),
    "unsigned integer": ("uint8", "uint16", "uint32", "uint64"),
    "real floating": ("float32", "float64"),
    "complex floating": ("complex64", "complex128"),
}
_BY_KIND["integral"] = _BY_KIND["signed integer"] + _BY_KIND["unsigned integer"]
_BY_KIND["numeric"] = (_BY_KIND["integral"] + _BY_KIND["real floating"]
                       + _BY_KIND["complex floating"])


class Info:
    """What the namespace supports: its capabilities, devices and data types.

    Examples
    --------
    >>> info = Info()
    >>> info.default_dtypes()["real floating"]
    dtype('float64')
    >>> sorted(info.dtypes(kind="real floating"))
    ['float32', 'float64']
    """

    __module__ = "dualdiff.array_api"

    def capabilities(self) -> dict[str, Any]:
        """Boolean indexing and data-dependent shapes are supported (as in NumPy)."""
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}

    def default_device(self) -> str:
        """The CPU."""
        return CPU

    def devices(self) -> list[str]:
        """The CPU only."""
        return [CPU]

    def default_dtypes(self, *, device: Any = None) -> dict[str, np.dtype]:
        """float64, complex128, int64 and int64 for indices, as NumPy's."""
        check_device(device)
        return {"real floating": _dtypes.float64, "complex floating": _dtypes.complex128,
                "integral": _dtypes.int64, "indexing": _dtypes.int64}

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict[str, np.dtype]:
        """The data types of ``kind`` (a name or a tuple of names; ``None``: all of them)."""
        check_device(device)
        if kind is None:
            names = ("bool", *_BY_KIND["numeric"])
        else:
            kinds = kind if isinstance(kind, tuple) else (kind,)
            names = tuple(dict.fromkeys(n for k in kinds for n in _lookup(k)))
        return {name: getattr(_dtypes, name) for name in names}


def _lookup(kind: Any) -> tuple[str, ...]:
    if isinstance(kind, str):
        if kind not in _BY_KIND:
            raise ValueError(f"unknown dtype kind {kind!r}; expected one of {sorted(_BY_KIND)}")
        return _BY_KIND[kind]
    return (np.dtype(kind).name,)


def __array_namespace_info__() -> Info:  # noqa: N807 - the standard's name
    """The namespace's :class:`Info`."""
    return Info()
