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


_RUNNING: dict[int, int] = {}
"""Tags of the derivative calls running now (and of Duals passed into them), with counts."""


class running:  # noqa: N801 - used as a statement, like a function
    """Mark ``tags`` as belonging to a derivative call that is running.

    Every derivative verb marks its own tag and the tags of the Duals it
    was given while ``f`` runs; a result carrying any other tag (but
    :data:`USER_TAG`) holds a perturbation of a call that has finished, and
    the verb refuses it (see :func:`is_running`).

    Examples
    --------
    >>> tag = new_tag()
    >>> with running(tag):
    ...     is_running(tag)
    True
    >>> is_running(tag)
    False
    """

    __slots__ = ("tags",)

    def __init__(self, *tags: int) -> None:
        self.tags = tags

    def __enter__(self) -> running:
        for tag in self.tags:
            _RUNNING[tag] = _RUNNING.get(tag, 0) + 1
        return self

    def __exit__(self, *exc: object) -> None:
        for tag in self.tags:
            left = _RUNNING[tag] - 1
            if left:
                _RUNNING[tag] = left
            else:
                del _RUNNING[tag]


def is_running(tag: int) -> bool:
    """Whether ``tag`` is the user's or belongs to a derivative call that is running now.

    Examples
    --------
    >>> is_running(USER_TAG)
    True
    """
    return tag == USER_TAG or tag in _RUNNING


def newest_running() -> int:
    """The newest tag of the derivative calls running now (:data:`USER_TAG` if none runs).

    A constant made without any Dual to take a tag from (``dualdiff.array_api.zeros``)
    belongs to it, so the Duals of that derivative can be written into it.

    Examples
    --------
    >>> tag = new_tag()
    >>> with running(tag):
    ...     newest_running() == tag
    True
    >>> newest_running() == USER_TAG  # no derivative call runs here
    True
    """
    return max(_RUNNING, default=USER_TAG)
