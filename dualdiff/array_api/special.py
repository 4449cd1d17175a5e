"""``xp.special``: where SciPy's array-API wrappers of ``scipy.special`` look for a function.

With ``SCIPY_ARRAY_API=1``, ``scipy.special.erf(x)`` asks ``x`` for its
namespace and, for a namespace SciPy does not know, calls
``xp.special.erf`` if there is one.  Here each name is the ufunc behind
SciPy's wrapper (or the NumPy implementation behind a wrapped Python
function such as ``zeta``), so a Dual reaches dualdiff's rows in
:mod:`dualdiff.special` exactly as without the flag; a function without a row
raises the usual ``TypeError``.  ``polygamma`` is dualdiff's, which takes Duals.
"""

from __future__ import annotations

from typing import Any

from dualdiff import special as _rows


def __getattr__(name: str) -> Any:
    if _rows.sc is None or name.startswith("__"):
        raise AttributeError(name)
    if name == "polygamma":
        return _rows.polygamma
    function = getattr(_rows.sc, name)  # the ufunc itself, where SciPy wraps one
    return getattr(function, "__wrapped__", function)  # a wrapped Python function's NumPy body
