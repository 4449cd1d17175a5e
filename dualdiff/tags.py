"""Tags: which differentiation a dual number belongs to.

Every call of a derivative function (``derivative``, ``jvp``, ...) draws a
fresh tag, an integer larger than any drawn before, and seeds its inputs
with it.  When two dual numbers of different tags meet in an operation, the
one with the *larger* (newer, inner) tag is the live perturbation and the
other is an ordinary constant to it: the constant takes part in the primal
computation, where it keeps its own tangent one level down.  That ordering
is what makes nested derivatives exact and perturbation confusion
impossible: ``derivative(lambda x: x * derivative(lambda y: x + y, 1.0), 1.0)``
is ``1.0``.

Dual numbers built by hand with ``Dual(value, tangent)`` get
:data:`USER_TAG`, older than every derivative call.
"""

from __future__ import annotations

import itertools

USER_TAG = 0
"""The tag of dual numbers a user builds directly."""

_counter = itertools.count(USER_TAG + 1)


def new_tag() -> int:
    """Return a tag newer than every tag handed out so far.

    Examples
    --------
    >>> a, b = new_tag(), new_tag()
    >>> b > a > USER_TAG
    True
    """
    return next(_counter)
