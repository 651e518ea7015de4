"""Judging a month in parts, in worker processes beside this one, each part whole components.

Components of contacts share no staff member and no child, so each part is judged on its own and
the verdicts are those of one pass (:mod:`.partition`).  :func:`judge_rows` merges them back into
judging order; :class:`Workers` are the processes, forked before a large bundle is read.
"""

from __future__ import annotations

import os
import pickle
from array import array
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, Protocol, Self

from .. import log
from ..bundle.rows import (
    PackedRows,
    SourceRow,
    TableTexts,
    cells_at,
    column_of,
    lines_at,
    packed_at,
    rows_at,
    table_texts,
)
from ..checks import PriorUsage
from ..engine import Judge
from ..model.records import Contact
from ..model.reference import Reference
from ..model.verdict import Verdict
from ..rules import RuleSet
from . import pickling
from .partition import partition
from .processes import default_workers, end_with_parent, forking
from .scratch import scratch

#: rows from which a month is judged in parallel: below, starting processes costs more than it saves
PARALLEL_FROM = 20_000
#: contacts.csv bytes from which a job forks its workers before reading the bundle (about PARALLEL_FROM rows)
EARLY_FROM_BYTES = PARALLEL_FROM * 100
#: parts a month is split into for each process that judges
PARTS_PER_JOB = 16
#: rows between two advances of the progress bar, and items a part's files hold per pickle
PROGRESS_STEP = 2000
PICKLED_AT_ONCE = 5000


class Progress:
    """Receives progress of long work; the default does nothing (the CLI shows a bar)."""

    def start(self, total: int, label: str) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass


class Tally(Protocol):
    """Figures added up verdict by verdict, in whichever process judges the verdict's row, then merged."""

    def count(self, at: int, verdict: Verdict, row: SourceRow, contact: Contact | None, judge: Judge) -> None:
        """Add the verdict of the month's row at position ``at`` (``contact``: the row as parsed, None when
        unreadable)."""

    def empty(self) -> Self:
        """An empty tally of the same kind, for a part judged elsewhere."""

    def settle(self) -> Self:
        """The part is judged: keep plain sums only (nothing that means something in this process alone)."""

    def merge(self, other: Self) -> None:
        """Add the settled tally of a part judged elsewhere."""


@dataclass(frozen=True)
class Sinks:
    """What observes the verdicts of a month as it is judged."""

    #: figures added up where each row is judged, and merged
    tallies: Sequence[Tally] = ()
    #: a text made of each verdict where its row is judged, given back in row order (decisions.csv's lines)
    line: Callable[[Verdict], str] | None = None
    #: whether the verdicts are given back, in row order
    keep: bool = False
    #: told each part's verdicts as soon as the part is judged (the store records them meanwhile)
    parts: Callable[[list[Verdict]], None] | None = None


def auto_jobs(rows: int) -> int:
    """The processes that judge ``rows`` when a command does not say: one for a small month."""
    if rows < PARALLEL_FROM:
        return 1
    return 1 + default_workers()


def large_bundle(data_dir: Path) -> bool:
    """Whether the contacts.csv in ``data_dir`` is large enough to be judged in parallel (:data:`EARLY_FROM_BYTES`)."""
    try:
        return (Path(data_dir) / "contacts.csv").stat().st_size >= EARLY_FROM_BYTES
    except OSError:
        return False  # the reader says what is wrong with the file


class Workers:
    """The processes that judge parts of a large month beside this one, forked when this is made.

    A forked process shares its parent's memory until either of them writes a page, and reading
    a Python object writes its reference count: workers forked after the bundle was read end up
    with a copy of every page of rows they touch.  So the jobs that read a large bundle make their
    workers first (:meth:`for_bundle`), and a worker gets the rows of each part with the part (as
    the table's codes, see :class:`_Rows`), the part's reference data (:class:`_PartReference`),
    and what judges them once, pickled to a file: it holds its own copies, and no page of the
    bundle is shared.  A month too small to judge in parallel leaves them idle.
    """

    def __init__(self, count: int):
        self.count = count
        self._pool: ProcessPoolExecutor | None = None
        if count > 0:
            self._pool = ProcessPoolExecutor(
                count, mp_context=forking(), initializer=end_with_parent, initargs=(os.getpid(),)
            )
            self._pool.submit(int).result()  # the first task forks every worker: now, while this process is small

    @classmethod
    def for_bundle(cls, data_dir: Path, jobs: int | None) -> Workers:
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

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def judge_rows(
    rows: Sequence[SourceRow],
    judge: Judge,
    sinks: Sinks = Sinks(),
    *,
    jobs: int | None = None,
    workers: Workers | None = None,
    meanwhile: Callable[[], None] | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[str | None, Verdict | None]]:
    """Judge ``rows`` in order: for each row, (its verdict's ``sinks.line``, its verdict when ``sinks.keep``).

    ``jobs`` processes judge (by default one for a small month, two for a large one), this one
    among them; the others are ``workers`` (forked before the bundle was read), or forked now.
    ``meanwhile`` is work of the caller's that needs no verdict (``run`` imports the bundle): this
    process does it first, while the workers start judging.  Whatever the number of processes,
    the verdicts, lines and tallies are those of one pass over the rows in order.
    """
    jobs = jobs if jobs is not None else auto_jobs(len(rows))
    progress = progress or Progress()
    if jobs == 1:
        return _here(rows, judge, sinks, meanwhile, progress)
    return _in_parts(rows, judge, sinks, jobs, workers, meanwhile, progress)


def judge_part(
    rows: Sequence[SourceRow],
    judge: Judge,
    tallies: Sequence[Tally],
    line: Callable[[Verdict], str] | None,
    progress: Progress | None = None,
    positions: Sequence[int] | None = None,
) -> Iterator[tuple[str | None, Verdict]]:
    """Judge rows in order: (``line`` of the verdict, the verdict), counting each into ``tallies`` at its
    position in the month (``positions``, by default the order of ``rows``)."""
    debug = log.debugging()
    for n, row in enumerate(rows):
        verdict, contact = judge.judge(row)
        at = positions[n] if positions is not None else n
        for tally in tallies:
            tally.count(at, verdict, row, contact, judge)
        if debug:
            log.logger.debug(
                "contact %s (contacts.csv:%s): %s %s %s units %s",
                verdict.contact_id or "-",
                verdict.line,
                verdict.status,
                verdict.payer or "-",
                verdict.reasons,
                verdict.units,
            )
        yield (line(verdict) if line is not None else None), verdict
        if progress is not None and (n + 1) % PROGRESS_STEP == 0:
            progress.advance(PROGRESS_STEP)
    if progress is not None:
        progress.advance(len(rows) % PROGRESS_STEP)


def _here(
    rows: Sequence[SourceRow],
    judge: Judge,
    sinks: Sinks,
    meanwhile: Callable[[], None] | None,
    progress: Progress,
) -> Iterator[tuple[str | None, Verdict | None]]:
    """The month judged in this process alone."""
    if meanwhile is not None:
        meanwhile()
    kept: list[Verdict] = []
    told = sinks.parts is not None
    for text, verdict in judge_part(rows, judge, sinks.tallies, sinks.line, progress):
        if told:
            kept.append(verdict)
        yield text, (verdict if sinks.keep else None)
    if sinks.parts is not None:
        sinks.parts(kept)


#: the verdict's fields that repeat its row's cells, as the judge gives them: a worker sends its verdicts
#: without them and this process gives them back from its own rows, so a month's verdicts share the
#: bundle's strings instead of holding unpickled copies
ROW_FIELDS = ("contact_id", "service_date", "start_time", "child_id", "staff_id", "place_of_service", "program")


def _without_row_cells(verdict: Verdict) -> Verdict:
    verdict.contact_id = verdict.service_date = verdict.start_time = ""
    verdict.child_id = verdict.staff_id = verdict.place_of_service = verdict.program = None
    return verdict


def _with_row_cells(
    verdict: Verdict,
    line: int,
    contact_id: str | None,
    service_date: str | None,
    start_time: str | None,
    child_id: str | None,
    staff_id: str | None,
    place_of_service: str | None,
    program: str | None,
) -> Verdict:
    """Give back what :func:`_without_row_cells` took, as the judge gave it (an empty id, date or time as "")."""
    verdict.line, verdict.contact_id, verdict.service_date = line, contact_id or "", service_date or ""
    verdict.start_time, verdict.child_id, verdict.staff_id = start_time or "", child_id, staff_id
    verdict.place_of_service, verdict.program = place_of_service, program
    return verdict


class _Spec(NamedTuple):
    """What judges every part in a worker, pickled once to a file: the judge's inputs but the reference data and
    the billed contacts (each part takes its own), the tallies' empty kinds, and the line made of each verdict."""

    rules: RuleSet
    as_of: Any
    prior: PriorUsage
    duplicates: frozenset[int] | set[int]
    tallies: list[Tally]
    line: Callable[[Verdict], str] | None


_LOADED: dict[str, Any] = {}  # in a worker: what it unpickled from files (the spec, a table's texts), by path


def _loaded(path: str) -> Any:
    """What is pickled at ``path``, unpickled once in each worker (a month's files only: the last month's go)."""
    if path not in _LOADED:
        folder = os.path.dirname(path)
        for other in [p for p in _LOADED if os.path.dirname(p) != folder]:
            del _LOADED[other]
        with open(path, "rb") as f:
            _LOADED[path] = pickle.load(f)
    return _LOADED[path]


def _load(*paths: str | None) -> None:
    """In a worker: unpickle the spec and the table texts at ``paths`` now, before its first part comes."""
    for path in paths:
        if path is not None:
            _loaded(path)


class _Judged(NamedTuple):
    """A part's tallies and, judged in this process, its verdicts in row order (a worker's are in its file)."""

    tallies: list[Tally]
    verdicts: list[Verdict] | None


def _judge_in_worker(
    number: int,
    indexes: list[int],
    folder: str,
    verdicts: bool,
    part_rows: list[SourceRow],
    spec_path: str,
    billed: frozenset[str],
    reference: Reference,
) -> _Judged:
    """In a worker: judge one part with a judge of its own reference data, and write its files."""
    spec: _Spec = _loaded(spec_path)
    judge = Judge(reference, spec.rules, spec.as_of, replace(spec.prior, billed=billed), spec.duplicates)
    tallies = [t.empty() for t in spec.tallies]
    judged = _judged(part_rows, indexes, judge, tallies, spec.line)
    _write_part(folder, number, judged, verdicts)
    return _Judged([t.settle() for t in tallies], None)


def _judge_here(
    number: int,
    indexes: list[int],
    folder: str,
    rows: Sequence[SourceRow],
    judge: Judge,
    tallies: Sequence[Tally],
    line: Callable[[Verdict], str] | None,
    verdicts: bool,
) -> _Judged:
    """In this process: judge a part no worker has started, with this process's own judge and cells."""
    part_tallies = [t.empty() for t in tallies]
    judged = _judged(rows_at(rows, indexes), indexes, judge, part_tallies, line)
    _write_part(folder, number, judged, False)
    return _Judged([t.settle() for t in part_tallies], [item[2] for item in judged] if verdicts else None)


def _judged(
    part_rows: Sequence[SourceRow],
    indexes: list[int],
    judge: Judge,
    tallies: Sequence[Tally],
    line: Callable[[Verdict], str] | None,
) -> list[tuple[int, str | None, Verdict]]:
    """(position, line, verdict) of each row of a part, in row order (it was judged component by component)."""
    judged = [
        (i, text, verdict)
        for i, (text, verdict) in zip(indexes, judge_part(part_rows, judge, tallies, line, positions=indexes))
    ]
    judged.sort(key=itemgetter(0))
    return judged


def _write_part(folder: str, number: int, judged: list[tuple[int, str | None, Verdict]], verdicts: bool) -> None:
    """A part's lines, and its verdicts without their row cells when ``verdicts``, to a file each, in row order."""
    for kind, column in (("lines", 1), ("verdicts", 2)) if verdicts else (("lines", 1),):
        with open(os.path.join(folder, f"part-{number}.{kind}"), "wb") as f:
            for start in range(0, len(judged), PICKLED_AT_ONCE):
                chunk = judged[start : start + PICKLED_AT_ONCE]
                if column == 1:
                    pickling.dump([text for _, text, _ in chunk], f)
                else:
                    pickling.dump([_without_row_cells(v) for _, _, v in chunk], f)


class _Rows:
    """A part's rows for a worker, taken only when pickled to be sent (a part or two ahead of the worker),
    not when every part is handed to the pool at once: a month's rows are never all made at once.

    A table's rows go as their codes (:class:`~peerbill.bundle.rows.PackedRows`), and the worker makes
    them with the table's texts, read once from the file at ``texts``: pickling the rows themselves
    would keep this process busy while the worker waits for them.
    """

    def __init__(self, rows: Sequence[SourceRow], indexes: Sequence[int], texts: str | None = None):
        self._rows, self._indexes, self._texts = rows, indexes, texts

    def __reduce__(self) -> tuple[Any, ...]:
        packed = packed_at(self._rows, self._indexes) if self._texts is not None else None
        if packed is None:
            return list, (rows_at(self._rows, self._indexes),)
        return _unpack, (self._texts, packed)


def _unpack(path: str, packed: PackedRows) -> list[SourceRow]:
    """In a worker: a part's rows, made from their codes and the table's texts."""
    texts: TableTexts = _loaded(path)
    return packed.rows(texts)


class _Billed:
    """Which of a part's contacts are on submitted claims, worked out when the part is sent: the judge asks
    only about the contact it judges, so a worker needs the ids of its part's rows, not the month's."""

    def __init__(self, ids: Sequence[str | None] | None, indexes: Sequence[int], billed: frozenset[str]):
        self._ids, self._indexes, self._billed = ids, indexes, billed

    def __reduce__(self) -> tuple[Any, ...]:
        ids, billed = self._ids, self._billed
        if ids is None:
            return frozenset, ()
        return frozenset, (tuple(cid for i in self._indexes if (cid := ids[i]) in billed),)


class _PartReference:
    """What a part's contacts need of the reference data, taken when the part is sent.

    Parts share no child and no staff member, so a worker needs the records of the part it judges
    and not the whole bundle's.
    """

    def __init__(self, rows: Sequence[SourceRow], indexes: Sequence[int], reference: Reference):
        self._rows, self._indexes, self._reference = rows, indexes, reference

    def __reduce__(self) -> tuple[Any, ...]:
        rows, indexes, ref = self._rows, self._indexes, self._reference
        part = ref.of(
            cells_at(rows, "child_id", indexes),
            cells_at(rows, "staff_id", indexes),
            cells_at(rows, "contact_id", indexes) if ref.payments else (),
        )
        return Reference, (), vars(part)  # made empty in the worker, then given the part's records


def _read_part(path: str) -> Iterator[Any]:
    with open(path, "rb") as f:
        while True:
            try:
                yield from pickle.load(f)
            except EOFError:
                return


def _in_parts(
    rows: Sequence[SourceRow],
    judge: Judge,
    sinks: Sinks,
    jobs: int,
    workers: Workers | None,
    meanwhile: Callable[[], None] | None,
    progress: Progress,
) -> Iterator[tuple[str | None, Verdict | None]]:
    """The month judged in ``jobs`` processes, whole components each, merged back into judging order.

    ``jobs - 1`` are workers; this one does ``meanwhile`` first, then takes the parts in order: a
    part judged already is read back (its verdicts told to ``sinks.parts``), and while the next one
    is not, this process judges the first part no worker has started.  The lines are read back
    last, in row order: the part every row is in is known, so the parts' files need no heap to merge.
    """
    judging = workers if workers is not None and workers.count == jobs - 1 else Workers(jobs - 1)
    wanted = sinks.keep or sinks.parts is not None
    kept: list[Verdict | None] | None = [None] * len(rows) if wanted else None
    plans: dict[str, str] = {}  # a child's plan id, one string for all its verdicts, not one per pickle
    shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # equal findings, one tuple for all verdicts
    with scratch() as folder:
        try:
            prior, reference = judge.prior, judge.ref
            spec_file = os.path.join(folder, "spec.pickle")
            with open(spec_file, "wb") as f:
                spec = _Spec(
                    judge.rules,
                    judge.as_of,
                    replace(prior, billed=frozenset()),
                    judge.duplicates,
                    [t.empty() for t in sinks.tallies],
                    sinks.line,
                )
                pickle.dump(spec, f, protocol=pickle.HIGHEST_PROTOCOL)
            texts, texts_file = table_texts(rows), None
            if texts is not None:
                texts_file = os.path.join(folder, "texts.pickle")
                with open(texts_file, "wb") as f:
                    pickle.dump(texts, f, protocol=pickle.HIGHEST_PROTOCOL)
            judging.pool.submit(_load, spec_file, texts_file)  # a worker reads them while the month is split
            parts = partition(rows, jobs * PARTS_PER_JOB)
            ids = column_of(rows, "contact_id") if prior.billed else None
            futures: list[Future[_Judged]] = [
                judging.pool.submit(
                    _judge_in_worker,
                    n,
                    part,
                    folder,
                    wanted,
                    _Rows(rows, part, texts_file),  # type: ignore[arg-type]
                    spec_file,
                    _Billed(ids, part, prior.billed),  # type: ignore[arg-type]
                    _PartReference(rows, part, reference),  # type: ignore[arg-type]
                )
                for n, part in enumerate(parts)
            ]
            owner = array("H", bytes(2 * len(rows)))  # the part each row is in
            for n, part in enumerate(parts):
                for i in part:
                    owner[i] = n
            if meanwhile is not None:
                meanwhile()
            here: dict[int, _Judged] = {}
            for n, future in enumerate(futures):
                while n not in here and not future.done():
                    spare = next((m for m in range(n, len(futures)) if m not in here and futures[m].cancel()), None)
                    if spare is None:
                        break  # every part left is being judged: wait for this one
                    here[spare] = _judge_here(
                        spare, parts[spare], folder, rows, judge, sinks.tallies, sinks.line, wanted
                    )
                    progress.advance(len(parts[spare]))
                if n in here:
                    judged = here.pop(n)
                else:
                    judged = future.result()
                    progress.advance(len(parts[n]))
                for tally, part_tally in zip(sinks.tallies, judged.tallies):
                    tally.merge(part_tally)
                if kept is not None:
                    _merge_verdicts(rows, folder, n, sorted(parts[n]), judged.verdicts, kept, plans, shared, sinks)
        finally:
            judging.close()  # the month is judged: the workers' memory is free before the merge

        lines = None
        if sinks.line is not None:
            streams = [_read_part(os.path.join(folder, f"part-{n}.lines")) for n in range(len(parts))]
            lines = (next(streams[n]) for n in owner)
        for i in range(len(rows)):
            yield (
                next(lines) if lines is not None else None,
                kept[i] if kept is not None and sinks.keep else None,
            )


def _merge_verdicts(
    rows: Sequence[SourceRow],
    folder: str,
    number: int,
    order: list[int],
    verdicts: list[Verdict] | None,
    kept: list[Verdict | None],
    plans: dict[str, str],
    shared: dict[tuple[Any, ...], tuple[Any, ...]],
    sinks: Sinks,
) -> None:
    """Put a part's verdicts at their rows' positions (a worker's read back from its file, given their row cells
    from this process's columns) and tell them to ``sinks.parts``."""
    if verdicts is None:
        cells = zip(lines_at(rows, order), *(cells_at(rows, name, order) for name in ROW_FIELDS))
        verdicts_read = _read_part(os.path.join(folder, f"part-{number}.verdicts"))
        merged: Iterator[Verdict] = (_with_row_cells(v, *row_cells) for row_cells, v in zip(cells, verdicts_read))
    else:
        merged = iter(verdicts)
    part = []
    for i, v in zip(order, merged):
        kept[i] = v
        if v.plan_id is not None:
            v.plan_id = plans.setdefault(v.plan_id, v.plan_id)
        if v.findings:
            v.findings = shared.setdefault(v.findings, v.findings)
        part.append(v)
    if sinks.parts is not None:
        sinks.parts(part)
