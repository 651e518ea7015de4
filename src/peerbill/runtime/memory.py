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


class _Process:
    """What this process is known to do once its command is done."""

    ends = False


def process_ends_after_command() -> None:
    """The process ends when the command does (the ``peerbill`` program): see :func:`release`."""
    _Process.ends = True


def release() -> None:
    """At the end of a command: collect as usual again (for in-process callers, the tests).

    No collection here: the command's data may still be alive (an exception's frames), and
    walking it would cost much for the few cycles there are.  When the process ends with the
    command, what is alive is frozen out of collection instead: the interpreter would walk it all
    once more as it ends, and reference counting frees it anyway.
    """
    if _Process.ends:
        gc.freeze()
        return
    gc.enable()
