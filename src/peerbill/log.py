"""peerbill's log: ids only.

Every message names contacts, children, staff, claims and batches by their ids
and rows by file and line; none carries a name, birth date, address, member id
or diagnosis (tests/test_log.py runs the demo at debug level and searches the log
for every one of them).  The log goes to stderr, or to ``--log-file``.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger("peerbill")
LEVELS = {"warning": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG}


def setup(level: str, file: Path | None = None) -> None:
    """Send peerbill's log at ``level`` to ``file`` (appended, owner-only) or stderr.

    Without a file, the default level logs nothing: errors and warnings are already printed.
    """
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    if file is None and LEVELS[level] >= logging.WARNING:
        # what a user must see is printed by the commands themselves; a log line would only repeat it
        logger.addHandler(logging.NullHandler())
        logger.setLevel(LEVELS[level])
        logger.propagate = False
        return
    handler: logging.Handler = logging.FileHandler(file, encoding="utf-8") if file else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(LEVELS[level])
    logger.propagate = False


def debugging() -> bool:
    return logger.isEnabledFor(logging.DEBUG)
