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
import threading

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


def draw_above(tag: int) -> None:
    """Make every tag drawn from now on larger than ``tag`` (a worker given the caller's tag).

    A process that runs part of another process's derivative call (a Jacobian
    block on a worker, :mod:`dualdiff.parallel`) calls this with that call's
    tag, so the derivative calls nested inside ``f`` there are newer than it.

    Examples
    --------
    >>> draw_above(new_tag() + 10)
    >>> new_tag() > 10
    True
    """
    global _counter  # noqa: PLW0603 - the process's one tag counter
    with _LOCK:
        _counter = itertools.count(max(next(_counter), tag + 1))


_RUNNING: dict[int, int] = {}
"""Tags of the derivative calls running now (and of Duals passed into them), with counts."""

_LOCK = threading.Lock()
"""Guards the tag counter, and :data:`_RUNNING`'s counts once :func:`guard_threads` was called."""

_GUARDED = False


def guard_threads() -> None:
    """Count running tags under a lock from now on (threads of an executor share tags).

    Called by :mod:`dualdiff.parallel` before it runs blocks on threads of
    this process; a process that never does pays nothing for the lock.

    Examples
    --------
    >>> guard_threads()
    """
    global _GUARDED  # noqa: PLW0603 - a process-wide switch, set once
    _GUARDED = True


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
        _mark(self.tags)
        return self

    def __exit__(self, *exc: object) -> None:
        _unmark(self.tags)


def _mark(tags: tuple[int, ...]) -> None:
    """Count each of ``tags`` as running once more (under the lock where threads run)."""
    guarded = _GUARDED and _LOCK.acquire()
    for tag in tags:
        _RUNNING[tag] = _RUNNING.get(tag, 0) + 1
    if guarded:
        _LOCK.release()


def _unmark(tags: tuple[int, ...]) -> None:
    """Undo :func:`_mark`: a tag counted down to zero is no longer running."""
    guarded = _GUARDED and _LOCK.acquire()
    for tag in tags:
        left = _RUNNING[tag] - 1
        if left:
            _RUNNING[tag] = left
        else:
            del _RUNNING[tag]
    if guarded:
        _LOCK.release()


def begin() -> int:
    """Draw a new tag and mark it running: ``with running(new_tag())`` as one call.

    For a derivative call given no Duals (a float point), whose only running tag is its
    own: the scalar :func:`~dualdiff.api.value_and_derivative` pays one call here and one
    in :func:`end` instead of a context manager's four.  Always pair it with :func:`end`
    in a ``finally``.

    Examples
    --------
    >>> tag = begin()
    >>> is_running(tag)
    True
    >>> end(tag)
    >>> is_running(tag)
    False
    """
    tag = next(_counter)
    _mark((tag,))
    return tag


def end(tag: int) -> None:
    """Unmark a tag :func:`begin` marked (``running``'s exit, for one tag).

    Examples
    --------
    >>> end(begin())
    """
    _unmark((tag,))


def running_now() -> list[int]:
    """The tags marked :class:`running` now (workers mark the caller's: :mod:`dualdiff.parallel`).

    Examples
    --------
    >>> tag = new_tag()
    >>> with running(tag):
    ...     tag in running_now()
    True
    """
    with _LOCK:
        return list(_RUNNING)


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
