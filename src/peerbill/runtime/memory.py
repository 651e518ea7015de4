"""Keeping Python's cyclic garbage collector out of a command's way.

A run holds a month's rows, verdicts and claims: millions of container objects, none
of them garbage, which every full collection walks again.  The data a run keeps forms no
reference cycles, so reference counting frees all of it; the collector only ever finds
the few small cycles of library bookkeeping (a database session and its transaction),
which wait for the end of the command.  So a command runs with the collector off.
"""

from __future__ import annotations

import gc


def hold() -> None:
    """At the start of a command: no collections until :func:`release` (forked workers inherit this)."""
    gc.disable()


def release() -> None:
    """At the end of a command: collect as usual again (for in-process callers, the tests).

    No collection here: the command's data may still be alive (an exception's frames), and
    walking millions of objects would cost seconds for the few cycles there are.
    """
    gc.enable()
