"""How peerbill uses the machine: the processes that judge a large month in parts, read its contacts,
and record its batches beside the one a command runs in, and what keeps memory and the store's
log in check.  The domain never knows a verdict may cross a process boundary; this is the one door.

- :func:`judge_rows` judges a month's rows, in one process or several, into :class:`Sinks`.
- :func:`read_bundle` reads a bundle, a large contacts.csv in two processes.
- :class:`Workers` are the judging processes, forked before a large bundle is read.
- :class:`Service` is a forked process carrying out calls sent to it (the store's batch writer).
"""

from .parallel import Progress, Sinks, Tally, Workers, auto_jobs, judge_rows, large_bundle
from .processes import default_workers
from .service import Service
from .split import read_bundle

__all__ = [
    "Progress",
    "Service",
    "Sinks",
    "Tally",
    "Workers",
    "auto_jobs",
    "default_workers",
    "judge_rows",
    "large_bundle",
    "read_bundle",
]
