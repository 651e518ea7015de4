"""A process forked beside this one that carries out calls sent down a pipe, one at a time, in order.

The caller sends a call and goes on (``reply=False``) or waits for its answer.  A call that fails
without being waited for is remembered: the calls after it are skipped, and the next call waited
for is answered with its error, so nothing half-done is ever answered as done.  The handler the
service was made with is told to :meth:`~Handler.reset` after every failure.

The process is forked while this one is small (before a large bundle is read) and ends when this
one ends, however it ends.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol

from ..log import logger
from .processes import end_with_parent, forking


class Handler(Protocol):
    """What a service's process carries out: its calls are the handler's methods, by name."""

    def reset(self) -> None:
        """After a call failed: let go of whatever that call left half-done."""

    def close(self) -> None:
        """The service ends."""


class ServiceError(Exception):
    """A call failed in the service's process (the message says why), or the process stopped."""

    def __init__(self, message: str, stopped: bool = False):
        super().__init__(message)
        self.stopped = stopped


class Service:
    """A forked process running the handler that ``make`` returns there (see the module's text)."""

    def __init__(self, make: Callable[[], Handler], name: str):
        ours, theirs = forking().Pipe()
        self._process = forking().Process(target=_serve, args=(theirs, os.getpid(), make), name=name, daemon=True)
        self._process.start()
        theirs.close()
        self._pipe: Connection | None = ours

    def call(self, op: str, *args: Any, reply: bool = True) -> Any:
        """Have the handler's method ``op`` called with ``args``; with ``reply``, wait for what it returns
        (:class:`ServiceError` when it, or a call before it that was not waited for, failed)."""
        if self._pipe is None:
            raise ServiceError("the service is closed", stopped=True)
        try:
            self._pipe.send((op, args, reply))
            if not reply:
                return None
            status, value = self._pipe.recv()
        except (EOFError, OSError):
            raise ServiceError("the service stopped before it answered", stopped=True) from None
        if status != "ok":
            raise ServiceError(value)
        return value

    def close(self) -> None:
        if self._pipe is None:
            return
        with contextlib.suppress(OSError):
            self._pipe.send(("close", (), False))
        self._pipe.close()
        self._pipe = None
        self._process.join()


def _serve(pipe: Connection, parent: int, make: Callable[[], Handler]) -> None:
    """In the service's process: carry out what the pipe asks until it closes."""
    end_with_parent(parent)
    handler = make()
    failed: str | None = None  # why a call not waited for failed (told at the next call waited for)
    while True:
        try:
            op, args, reply = pipe.recv()
        except EOFError:
            op, args, reply = "close", (), False
        if op == "close":
            handler.close()
            pipe.close()
            return
        if failed is not None:
            if reply:
                pipe.send(("error", failed))
                failed = None
            continue
        try:
            value = getattr(handler, op)(*args)
        except Exception as exc:
            logger.debug("%s: %s failed: %s", type(handler).__name__, op, type(exc).__name__)
            message = f"{type(exc).__name__}: {getattr(exc, 'orig', None) or exc}".splitlines()[0]
            handler.reset()
            if reply:
                pipe.send(("error", message))
            else:
                failed = message
            continue
        if reply:
            pipe.send(("ok", value))
