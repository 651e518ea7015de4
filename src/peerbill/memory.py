"""Keeping Python's cyclic garbage collector away from the data a run keeps until it ends.

A run holds a month's rows, verdicts and claims: millions of container objects.  Each
full collection walks every one of them again, although none of them is garbage; on a
million contacts the collector cost about a sixth of the run (with it off, 408 s became
344 s; single runs, which vary by about 10% on the benchmark machine).  ``gc.freeze`` moves every object alive into a generation the collector
never walks.  Reference counting still frees a frozen object when the run drops it, so
memory is unchanged; only a reference cycle among frozen objects would wait for
:func:`release`, and the kept data (rows, verdicts, claims) forms none.
"""

from __future__ import annotations

import gc


def keep() -> None:
    """What is alive now lives as long as the command: the collector stops walking it."""
    gc.freeze()


def release() -> None:
    """At the end of a command: the collector sees everything again (callers in one process, the tests)."""
    gc.unfreeze()
