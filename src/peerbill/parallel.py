"""Judging a month in parts: in worker processes beside this one, each part whole components.

Components of contacts share no staff member and no child, so each part is judged on its own and
the verdicts are those of one pass (:mod:`peerbill.partition`).  :func:`judge_in_parallel` merges
them back into judging order; :class:`Workers` are the processes, forked before a large bundle is read.
"""

from __future__ import annotations

import copy
import ctypes
import datetime as dt
import multiprocessing as mp
import os
import pickle
import signal
import tempfile
from array import array
from dataclasses import replace
from concurrent.futures import ProcessPoolExecutor
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from . import log
from .bundle.rows import (_CHILD_ID, _CONTACT_ID, _SERVICE, _STAFF_ID, PackedRows, SourceRow, TableTexts, cells_at,
                          column_of, lines_at, packed_at, rows_at, table_texts)
from .decisions import decisions_line
from .engine import ROW_CELLS, Judge, with_cells, without_row_cells
from .model.reference import Reference
from .model.verdict import Verdict
from .partition import partition
from .rules import RuleSet
from .summary import Summary

if TYPE_CHECKING:
    from .coverage.figures import ContactFigures


class Progress:
    """Receives progress of long work; the default does nothing (the CLI shows a bar)."""

    def start(self, total: int, label: str) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass


PARALLEL_FROM = 20_000  # rows; below this, starting processes costs more than it saves
#: contacts.csv bytes from which a job forks its workers before reading the bundle (about PARALLEL_FROM rows)
EARLY_FROM_BYTES = PARALLEL_FROM * 100


def auto_jobs(rows: int) -> int:
    if rows < PARALLEL_FROM:
        return 1
    return 1 + default_workers()


def large_bundle(data_dir: Path) -> bool:
    """Whether the contacts.csv in ``data_dir`` is large enough to be judged in parallel (:data:`EARLY_FROM_BYTES`)."""
    try:
        return (Path(data_dir) / "contacts.csv").stat().st_size >= EARLY_FROM_BYTES
    except OSError:
        return False  # the reader says what is wrong with the file


def default_workers() -> int:
    """Processes that judge beside this one: one on a machine with two cores or more (none without fork)."""
    if "fork" not in mp.get_all_start_methods():
        return 0
    return max(1, min(2, os.cpu_count() or 1)) - 1


class Workers:
    """The processes that judge parts of a large month beside this one, forked when this is made.

    A forked process shares its parent's memory until either of them writes a page, and reading
    a Python object writes its reference count.  Workers forked after the bundle was read ended up
    with a copy of every page of rows that they judged or this process imported: at a million
    contacts, the two processes held 1.2 GB.  So the jobs that read a large bundle make their
    workers first (:meth:`for_bundle`), and a worker gets the rows of each part with the part
    (as the table's codes, see :class:`_Rows`) and the part's reference data (:class:`_PartReference`),
    and the judge and the table's texts once, pickled to files: it holds its own copies, and no
    page of the bundle is shared.  A month too small to
    judge in parallel leaves them idle.
    """

    def __init__(self, count: int):
        self.count = count
        self._pool: ProcessPoolExecutor | None = None
        if count > 0:
            self._pool = ProcessPoolExecutor(count, mp_context=mp.get_context("fork"), initializer=end_with_parent,
                                             initargs=(os.getpid(),))
            self._pool.submit(int).result()  # the first task forks every worker: now, while this process is small

    @classmethod
    def for_bundle(cls, data_dir: Path, jobs: int | None) -> "Workers":
        """Workers for a job about to read the bundle in ``data_dir``: ``jobs - 1`` when asked for, else
        :func:`default_workers` when its contacts.csv is large enough to be judged in parallel."""
        if jobs is not None:
            return cls(jobs - 1)
        return cls(default_workers() if large_bundle(data_dir) else 0)

    @property
    def pool(self) -> ProcessPoolExecutor:
        assert self._pool is not None, "no workers"
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def end_with_parent(parent: int) -> None:
    """In a worker: end when the process that forked it ends, however it ends.

    A worker waits for its next part on a pipe it also holds the writing end of; a parent killed
    with SIGKILL would leave it waiting for ever.  On Linux the kernel sends the worker SIGKILL too
    (PR_SET_PDEATHSIG); elsewhere the pool's own shutdown is all there is.
    """
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG, from the C library the process runs on
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request took hold
        os._exit(1)


_LOADED: dict[str, object] = {}  # in a worker: what it unpickled from files (the judge, a table's texts), by path


def _loaded(path: str):
    """What is pickled at ``path``, unpickled once in each worker (a month's files only: the last month's go)."""
    if path not in _LOADED:
        folder = os.path.dirname(path)
        for other in [p for p in _LOADED if os.path.dirname(p) != folder]:
            del _LOADED[other]
        with open(path, "rb") as f:
            _LOADED[path] = pickle.load(f)
    return _LOADED[path]


def _judge_at(path: str) -> Judge:
    """The judge pickled at ``path``, unpickled once in each worker."""
    return _loaded(path)  # type: ignore[return-value]


def _load(*paths: str | None) -> None:
    """In a worker: unpickle the judge and the table texts at ``paths`` now, before its first part comes."""
    for path in paths:
        if path is not None:
            _loaded(path)


def judge_part(rows: Sequence[SourceRow], judge: Judge, summary: Summary, keep: bool,
               progress: Progress | None = None, figures: "ContactFigures | None" = None,
               positions: Sequence[int] | None = None) -> Iterator[tuple[str, Verdict | None]]:
    """Judge rows in order: (decisions.csv line, the verdict when kept), counting into ``summary``,
    and into ``figures`` (coverage) when given, each row at its position in the month (``positions``,
    by default the order of ``rows``)."""
    debug = log.debugging()
    for n, row in enumerate(rows, 1):
        verdict, contact = judge.judge(row)
        summary.add(verdict)
        if figures is not None:
            figures.add(positions[n - 1] if positions is not None else n - 1, verdict, row.values[_SERVICE], contact,
                        judge.rules, judge.as_of)
        if debug:
            log.logger.debug("contact %s (contacts.csv:%s): %s %s %s units %s", verdict.contact_id or "-", verdict.line,
                             verdict.status, verdict.payer or "-", verdict.reasons, verdict.units)
        yield decisions_line(verdict), (verdict if keep else None)
        if progress is not None and n % 2000 == 0:
            progress.advance(2000)
    if progress is not None:
        progress.advance(len(rows) % 2000)


def _worker(number: int, indexes: list[int], folder: str, keep: bool, part_rows: list, judge: Judge | str,
            empty: Summary, billed: frozenset[str] | None = None, figures: "ContactFigures | None" = None,
            here: bool = False, reference: Reference | None = None,
            ) -> tuple[Summary, "ContactFigures | None", list[Verdict] | None]:
    """Judge one part (in a worker, or in this process for the parts it takes), and pickle its
    decisions lines and (when kept) its verdicts, in row order and in batches, to a file each.
    Returns the part's summary, its coverage ``figures`` (added to the empty ones given) when given,
    and, judged ``here`` (in this process), its kept verdicts in row order instead of their file:
    they hold this process's own cells already, and pickling them to read them back cost about 5 µs each.

    ``part_rows`` are the rows at ``indexes``; in a worker, ``judge`` is the path of the pickled judge,
    pickled without the billed contact ids and without the reference data, ``billed`` those of the
    part's rows and ``reference`` what the reference holds of its children, staff and contacts.
    """
    if isinstance(judge, str):
        judge = _judge_at(judge)
        judge.prior = replace(judge.prior, billed=billed or frozenset())
        assert reference is not None, "a worker judges a part with the part's reference data"
        judge.ref = reference
    summary = copy.deepcopy(empty)
    judged = [(i, line, verdict if here or verdict is None else without_row_cells(verdict))
              for i, (line, verdict) in zip(indexes, judge_part(part_rows, judge, summary, keep,
                                                                figures=figures, positions=indexes))]
    judged.sort(key=itemgetter(0))  # the part was judged component by component; the merge needs row order
    if figures is not None:
        figures.fold()  # the part's sums by group, not by combination, go back
    for kind, column in (("lines", 1), ("verdicts", 2)) if keep and not here else (("lines", 1),):
        with open(os.path.join(folder, f"part-{number}.{kind}"), "wb") as f:
            for start in range(0, len(judged), 5000):
                pickle.dump([item[column] for item in judged[start:start + 5000]], f, protocol=pickle.HIGHEST_PROTOCOL)
    return summary, figures, ([item[2] for item in judged] if keep and here else None)


class _Rows:
    """A part's rows for a worker, taken only when pickled to be sent (a part or two ahead of the
    worker), not when every part is handed to the pool at once: a month's rows are not all made at once.

    A table's rows go as their codes (:class:`~peerbill.bundle.rows.PackedRows`), and the worker makes
    them with the table's texts, read once from the file at ``texts`` (:func:`_texts_at`): pickling the
    rows themselves kept this process busy about 5 µs a row (at a million contacts, with the import
    beside it, 12 s of its time) while the worker waited for them.
    """

    def __init__(self, rows: Sequence[SourceRow], indexes: Sequence[int], texts: str | None = None):
        self._rows, self._indexes, self._texts = rows, indexes, texts

    def __reduce__(self):
        packed = packed_at(self._rows, self._indexes) if self._texts is not None else None
        if packed is None:
            return list, (rows_at(self._rows, self._indexes),)
        return _unpack, (self._texts, packed)


def _texts_at(path: str) -> TableTexts:
    """The table texts pickled at ``path``, unpickled once in each worker."""
    return _loaded(path)


def _unpack(path: str, packed: PackedRows) -> list[SourceRow]:
    """In a worker: a part's rows, made from their codes and the table's texts."""
    return packed.rows(_texts_at(path))


class _Billed:
    """Which of a part's contacts are on submitted claims (:attr:`PriorUsage.billed`), worked out when
    the part is sent: the judge asks only about the contact it judges, so a worker needs the ids of its
    part's rows and not the whole month's (a month run again: 650,000 ids in each worker)."""

    def __init__(self, ids: Sequence[str | None], indexes: Sequence[int], billed: frozenset[str]):
        self._ids, self._indexes, self._billed = ids, indexes, billed

    def __reduce__(self):
        ids, billed = self._ids, self._billed
        return frozenset, (tuple(cid for i in self._indexes if (cid := ids[i]) in billed),)


class _PartReference:
    """What a part's contacts need of the reference data, taken when the part is sent.

    Parts share no child and no staff member, so a worker needs the records of the part it judges
    and not the whole bundle's: a state's reference data (30,000 children, 7,500 staff and their
    spans: 177,000 records) took 109 MB in the worker unpickled once whole, and a part's is about a thirtieth of it.
    """

    def __init__(self, rows: Sequence[SourceRow], indexes: Sequence[int], reference: Reference):
        self._rows, self._indexes, self._reference = rows, indexes, reference

    def __reduce__(self):
        rows, indexes, ref = self._rows, self._indexes, self._reference
        part = ref.of(cells_at(rows, _CHILD_ID, indexes), cells_at(rows, _STAFF_ID, indexes),
                      cells_at(rows, _CONTACT_ID, indexes) if ref.payments else ())
        return Reference, (), vars(part)  # made empty in the worker, then given the part's records


def _read_part(path: str) -> Iterator:
    with open(path, "rb") as f:
        while True:
            try:
                yield from pickle.load(f)
            except EOFError:
                return


def judge_in_parallel(rows: Sequence[SourceRow], judge: Judge, jobs: int, summary: Summary, keep: bool, progress: Progress,
                      alongside: Callable[[], None] | None = None, lines: bool = True,
                      workers: Workers | None = None,
                      record: Callable[[list[Verdict]], None] | None = None,
                      figures: "ContactFigures | None" = None,
                      ) -> Iterator[tuple[str | None, Verdict | None]]:
    """Judge ``rows`` in ``jobs`` processes, whole components each, and merge back into judging order.

    ``jobs - 1`` are ``workers`` (forked now when not given, or not as many; closed when the month
    is judged); this one runs ``alongside()`` first, then takes the parts in order: a part judged
    already is read back (its verdicts given to ``record``, when kept), and while the next one is
    not, this process judges the first part no worker has started.  Its parts are merged in order too,
    so a part it took from the end of the month waited for every other: at a million contacts it had
    5 s of merging and recording left when its worker finished, 2 s now it takes the first.

    The decisions lines (None without ``lines``) are read back last, in row order: the part every
    row is in is known, so the parts' files need no heap to merge.  ``figures`` (coverage), when
    given, get each part's added as the part is merged.
    """
    empty = Summary(summary.month, summary.as_of, summary.rule_packs)
    judging = workers if workers is not None and workers.count == jobs - 1 else Workers(jobs - 1)
    verdicts: list | None = [None] * len(rows) if keep else None
    plans: dict[str, str] = {}  # a child's plan id, one string for all its verdicts, not one per pickle
    shared: dict[tuple, tuple] = {}  # equal findings, one tuple for all verdicts (see Judge._settled)
    with tempfile.TemporaryDirectory(prefix="peerbill-") as folder:
        try:
            judge_file = os.path.join(folder, "judge.pickle")
            prior, reference = judge.prior, judge.ref
            judge.prior = replace(prior, billed=frozenset())  # each part takes its own (see _Billed)
            judge.ref = Reference()  # and its own reference data (see _PartReference)
            try:
                with open(judge_file, "wb") as f:
                    pickle.dump(judge, f, protocol=pickle.HIGHEST_PROTOCOL)
            finally:
                judge.prior, judge.ref = prior, reference
            texts, texts_file = table_texts(rows), None
            if texts is not None:
                texts_file = os.path.join(folder, "texts.pickle")
                with open(texts_file, "wb") as f:
                    pickle.dump(texts, f, protocol=pickle.HIGHEST_PROTOCOL)
            judging.pool.submit(_load, judge_file, texts_file)  # a worker reads them while the month is split
            parts = partition(rows, jobs * 16)
            ids = column_of(rows, _CONTACT_ID) if prior.billed else None
            futures = [judging.pool.submit(_worker, n, part, folder, keep, _Rows(rows, part, texts_file),
                                           judge_file, empty,
                                           _Billed(ids, part, prior.billed) if ids is not None else None,
                                           type(figures)() if figures is not None else None,
                                           reference=_PartReference(rows, part, reference))
                       for n, part in enumerate(parts)]
            owner = array("H", bytes(2 * len(rows)))  # the part each row is in (once the worker has a part)
            for n, part in enumerate(parts):
                for i in part:
                    owner[i] = n
            if alongside is not None:
                alongside()
            judged_here: dict[int, tuple[Summary, ContactFigures | None, list[Verdict] | None]] = {}
            for n, future in enumerate(futures):
                while n not in judged_here and not future.done():
                    spare = next((m for m in range(n, len(futures))
                                  if m not in judged_here and futures[m].cancel()), None)
                    if spare is None:
                        break  # every part left is being judged: wait for this one
                    judged_here[spare] = _worker(spare, parts[spare], folder, keep, rows_at(rows, parts[spare]),
                                                 judge, empty, figures=type(figures)() if figures is not None else None,
                                                 here=True)
                    progress.advance(len(parts[spare]))
                if n in judged_here:
                    part_summary, part_figures, kept_here = judged_here.pop(n)
                else:
                    part_summary, part_figures, kept_here = future.result()
                    progress.advance(len(parts[n]))
                summary.merge(part_summary)
                if figures is not None:
                    figures.merge(part_figures)  # type: ignore[arg-type]
                if verdicts is not None:
                    part = []
                    order = sorted(parts[n])
                    if kept_here is None:
                        # the cells the worker left out, read from this process's columns (making the rows took
                        # 0.8 µs each)
                        cells = zip(lines_at(rows, order), *(cells_at(rows, k, order) for k in ROW_CELLS))
                        kept_here = (with_cells(v, *row_cells) for row_cells, v in
                                     zip(cells, _read_part(os.path.join(folder, f"part-{n}.verdicts"))))
                    for i, v in zip(order, kept_here):
                        verdicts[i] = v
                        if v.plan_id is not None:
                            v.plan_id = plans.setdefault(v.plan_id, v.plan_id)
                        if v.findings:
                            v.findings = shared.setdefault(v.findings, v.findings)  # type: ignore[arg-type]
                        part.append(v)
                    if record is not None:
                        record(part)
        finally:
            judging.close()  # the month is judged: the workers' memory is free before the merge

        texts = None
        if lines:
            streams = [_read_part(os.path.join(folder, f"part-{n}.lines")) for n in range(len(parts))]
            texts = (next(streams[n]) for n in owner)
        for i in range(len(rows)):
            yield next(texts) if texts is not None else None, verdicts[i] if verdicts is not None else None


def judge_rows(rows: Sequence[SourceRow], judge: Judge, month: str, as_of: dt.date, rules: RuleSet) -> Iterator[Verdict]:
    """Verdicts of ``rows`` in order, in parallel for a large month (as ``check``), for jobs that need no file."""
    jobs = auto_jobs(len(rows))
    if jobs == 1:
        yield from (judge(row) for row in rows)
        return
    summary = Summary(month, as_of.isoformat(), rules.label, rows_read=len(rows))
    for _, verdict in judge_in_parallel(rows, judge, jobs, summary, True, Progress(), lines=False):
        yield verdict  # type: ignore[misc]
