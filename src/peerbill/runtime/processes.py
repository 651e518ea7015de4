"""The processes peerbill forks beside the one a command runs in: how many a machine affords, and
their end when the process that forked them ends."""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
from multiprocessing.context import ForkContext


def forking() -> ForkContext:
    return mp.get_context("fork")


def default_workers() -> int:
    """Processes that work beside this one: one on a machine with two cores or more (none without fork)."""
    if "fork" not in mp.get_all_start_methods():
        return 0
    return max(1, min(2, os.cpu_count() or 1)) - 1


def end_with_parent(parent: int) -> None:
    """In a forked process: end when the process that forked it ends, however it ends.

    A worker waits for its next task on a pipe it also holds the writing end of; a parent killed
    with SIGKILL would leave it waiting for ever.  On Linux the kernel sends the worker SIGKILL too
    (PR_SET_PDEATHSIG); elsewhere the pool's own shutdown is all there is.
    """
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG, from the C library the process runs on
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request took hold
        os._exit(1)
