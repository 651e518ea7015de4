"""The billing job (I/O edge): judge the month, plan claims, check them, record the batch, then write the 837P.

Crash safety: inside the transaction that records a batch, its 837P is written
under a temporary name (``.NAME.837.tmp``) and flushed to disk; only after the
commit is it renamed to its real name.  So a file with a real name is always
one the store recorded.  A run killed between the commit and the rename leaves
a staged file the next ``bill`` publishes (its name and SHA-256 match the
recorded batch); one killed before the commit leaves a staged file the next
``bill`` deletes, and nothing recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from decimal import Decimal
from itertools import chain
from typing import TYPE_CHECKING, Iterable, Iterator

import yaml
from pydantic import ValidationError

from .bundle import Bundle, BundleError, Problem
from .checks import PriorUsage
from .log import debugging, logger
from .claims.plan import plan_claims
from .claims.validate import check_provider, claim_problems, transliterations
from .claims.x837 import render, render_parts
from .claims.model import Claim
from .model.agency import Agency
from .parallel import Progress, Workers
from .pipeline import CheckResult, check_month, load_ruleset, read
from .rules import RuleSet
from .store.billing import batch_named, billed_claims, load_batch, load_claim, record_batch
from .store.db import Imported, Store
from .store.writer import BatchWriter

if TYPE_CHECKING:
    from .coverage.figures import ContactFigures


class BillingError(Exception):
    """The batch fails a pre-write check: nothing is recorded or written (exit 2)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class PayerBatch:
    payer: str
    claims: int
    frequencies: dict[str, int]
    total: str
    contacts: int
    already_billed: int
    batch_id: int | None = None
    file: str | None = None
    sha256: str | None = None


@dataclass
class BillResult:
    check: CheckResult
    dry_run: bool
    batches: list[PayerBatch] = field(default_factory=list)
    #: names and addresses the 837P carries transliterated, by child or staff id
    notes: list[str] = field(default_factory=list)
    #: what the run read and the prior usage it judged with, for jobs that follow in the same process
    bundle: Bundle | None = None
    rules: RuleSet | None = None
    prior: PriorUsage | None = None


def read_agency(data_dir: Path) -> Agency:
    path = Path(data_dir) / "agency.yaml"
    if not path.is_file():
        raise BundleError([Problem("agency.yaml", None, None, f"is missing from {data_dir} (needed to bill)")])
    try:
        return Agency.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as exc:
        raise BundleError([Problem("agency.yaml", None, None, f"not valid YAML: {exc}")]) from None
    except ValidationError as exc:
        raise BundleError([Problem("agency.yaml", None, ".".join(str(p) for p in e["loc"]),
                                   e["msg"].removeprefix("Value error, ")) for e in exc.errors()]) from None


def qualifying_for(rules: RuleSet, payer: str):
    pack = rules.payers[payer]
    known: dict[dt.date, frozenset[str] | None] = {}  # a state's claims ask about a month's days 600,000 times

    def qualifying(day: dt.date) -> frozenset[str] | None:
        if day not in known:
            version = pack.on(day)
            rule = version.check_of("qualifying_diagnosis") if version else None
            known[day] = rule.category_set() if rule else None  # type: ignore[attr-defined]
        return known[day]

    return qualifying


def _staged(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def stage_file(path: Path, parts: Iterable[bytes]) -> None:
    """Write ``parts`` to the temporary name of ``path`` and flush it to disk.  When making the parts
    fails (a batch's claims fail their checks as they are taken), the staged file is removed."""
    staged = _staged(path)
    try:
        with staged.open("wb") as f:
            for part in parts:
                f.write(part)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def publish_file(path: Path) -> None:
    """Give a staged file its real name, durably (the rename is flushed with its folder)."""
    os.replace(_staged(path), path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_atomically(path: Path, data: bytes) -> None:
    stage_file(path, [data])
    publish_file(path)


def finish_interrupted(store: Store, out_dir: Path) -> list[str]:
    """After a run that stopped: publish staged 837P files the store recorded, and remove the others.

    A staged file whose batch was committed (same name and SHA-256) gets its real name; one whose
    transaction never committed is deleted, so no file exists that the store does not know.
    """
    notes = []
    for tmp in sorted(Path(out_dir).glob(".*.837.tmp")):
        path = tmp.with_name(tmp.name[1:-len(".tmp")])
        row = batch_named(store, path.name)
        if row is not None and not path.exists() and hashlib.sha256(tmp.read_bytes()).hexdigest() == row.sha256:
            publish_file(path)
            notes.append(f"batch {row.id}: {path.name} was recorded by a run that stopped before naming it; "
                         "it is complete now")
        else:
            tmp.unlink()
            notes.append(f"{tmp.name}: left by a run that stopped before recording it; removed")
    for note in notes:
        logger.warning("%s", note)
    return notes


def bill_month(data_dir: Path, month: str, out_dir: Path, rules_dir: Path | None, as_of: dt.date, store: Store,
               payers: list[str] | None = None, usage: str = "T", dry_run: bool = False, jobs: int | None = None,
               progress: Progress | None = None, import_first: bool = False,
               figures: "ContactFigures | None" = None, writer: bool | None = None) -> BillResult:
    """Bill a month.  Runs one at a time per store: a second run waits, then sees what the first billed.

    ``figures``: coverage's, to add each verdict to as the month is judged (``run``).  ``writer``: whether
    batches are recorded by a :class:`BatchWriter` process (by default, for a bundle judged in parallel).
    """
    with store.exclusive("peerbill:bill"):
        recovered = [] if dry_run else finish_interrupted(store, out_dir)
        writer = BatchWriter.wish(writer)
        with BatchWriter.for_bundle(store, data_dir, jobs, False if dry_run else writer) as batch_writer:
            return _bill_month(data_dir, month, out_dir, rules_dir, as_of, store, payers, usage, dry_run, jobs, progress,
                               import_first, figures, recovered, batch_writer, writer)


def _bill_month(data_dir: Path, month: str, out_dir: Path, rules_dir: Path | None, as_of: dt.date, store: Store,
                payers: list[str] | None, usage: str, dry_run: bool, jobs: int | None, progress: Progress | None,
                import_first: bool, figures: "ContactFigures | None", recovered: list[str],
                batch_writer: "BatchWriter | None", writer: bool | None) -> BillResult:
    rules = load_ruleset(rules_dir)
    with Workers.for_bundle(data_dir, jobs) as workers:  # before the bundle is read: see Workers
        bundle = read(data_dir, rules, jobs)
        agency = read_agency(data_dir)
        keys = payers or [p.key for p in agency.payers]
        for key in keys:
            if agency.payer(key) is None:
                raise BillingError([f"payer {key!r} is not in agency.yaml"])
            if key not in rules.payers or not any(v.procedures for v in rules.payers[key].pack.versions):
                raise BillingError([f"payer {key!r} has no rule pack with procedure codes to bill on an 837P"])
        prior = store.prior_usage(bundle.months().ids(month))  # what earlier batches billed: the import changes none of it
        imported: list[Imported] = []
        importing = import_first and not dry_run
        if importing and not prior.billed:
            # a month billed for the first time bills most of its rows: the import's row hashes are kept for the
            # batch (32 bytes a row); billed again, few or none, and they are worked out for those few
            bundle.row_hashes().keep()
        if prior.billed and batch_writer is not None and writer is None:
            # billed again, the month sends few claims or none: they are recorded here, and the writer's memory
            # (about 40 MB while it waits) is let go before the month is judged (at 1M: 1,003 -> 951 MB)
            batch_writer.close()
            batch_writer = None

        def import_bundle() -> None:  # while the workers judge: the import needs no verdict, the verdicts no import
            imported.append(store.import_bundle(bundle, versions_of=month))
            bundle.imported()  # nothing of this run reads the reference files' rows again

        def recording():  # after the import: each part's verdicts are recorded while the workers judge the next
            if not imported:
                return store.recorder(rules, bundle, month, as_of)
            return store.recorder(rules, bundle, month, as_of, import_id=imported[0].import_id,
                                  versions=imported[0].versions)

        result = check_month(bundle, rules, month, out_dir, as_of, prior=prior, progress=progress, keep=True, jobs=jobs,
                             alongside=import_bundle if importing else None, workers=workers,
                             recording=None if dry_run else recording, figures=figures)
    if result.recorder is not None:
        result.import_id = imported[0].import_id if imported else None
        result.run_id = result.recorder.finish(result)
    hashes = bundle.row_hashes()
    packs = rules.records()
    out = BillResult(result, dry_run, notes=recovered, bundle=bundle, rules=rules, prior=prior)
    for key in keys:
        entry = agency.payer(key)
        plan = plan_claims(result.verdicts or [], bundle.reference, qualifying_for(rules, key), key, month, prior.billed,
                           billed_claims(store, key, month), hashes, lambda claim_id: load_claim(store, claim_id))
        taken = _Taken(key, agency)
        claims = taken.checked(plan.claims)
        first = next(claims, None)  # the checks of a batch that fails them end here, or as its file is written
        recorded = None
        if dry_run or first is None:
            for _ in claims:
                pass
            logger.info("no batch for %s %s: %s, %d contacts already on submitted claims", key, month,
                        "a dry run" if dry_run else "nothing new to send", plan.already_billed)
        else:
            prepared_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, second=0, microsecond=0)
            try:
                recorded = record_batch(
                    store, chain([first], claims), key, month, as_of, usage, packs, result.run_id, prepared_at, hashes,
                    plan.billable, lambda b: render_parts(b, agency, entry), out_dir,  # type: ignore[arg-type]
                    lambda file_name, parts: stage_file(Path(out_dir) / file_name, parts),
                    lambda file_name: publish_file(Path(out_dir) / file_name), batch_writer)
            except BillingError:
                raise  # checked as it was written: its staged file is removed already
            except Exception:
                finish_interrupted(store, out_dir)  # a file staged for a batch that was not committed goes
                raise
        summary = PayerBatch(key, sum(taken.frequencies.values()), taken.frequencies, f"{taken.total:.2f}",
                             taken.contacts, plan.already_billed)
        out.batches.append(summary)
        out.notes.extend(n for n in taken.notes if n not in out.notes)
        if recorded is not None:
            summary.batch_id, name, summary.sha256 = recorded
            summary.file = str(Path(out_dir) / name)
            logger.info("batch %d for %s %s: %d claims, %d contacts, written to %s", summary.batch_id, key, month,
                        summary.claims, summary.contacts, name)
    hashes.let_go()
    return out


class _Taken:
    """A payer's planned claims as they are taken: checked (a batch that fails is neither recorded nor
    written), counted for the summary, and their transliterated names noted.

    The claims are made, recorded and written one at a time (a state's batch is never held whole),
    so the checks come with them: once a claim fails, the rest are checked but no more are handed on,
    and :class:`BillingError` is raised with every problem when they are all checked; the batch's
    transaction is rolled back and its staged file removed.
    """

    def __init__(self, payer: str, agency: Agency):
        self.payer = payer
        self.problems = check_provider(agency)
        self.notes: dict[str, None] = {}  # in the order the claims give them, each once
        self.frequencies: dict[str, int] = {}
        self.total = Decimal("0.00")
        self.contacts = 0

    def checked(self, claims: Iterable[Claim]) -> Iterator[Claim]:
        debug = debugging()
        for c in claims:
            if debug:
                logger.debug("claim for child %s staff %s (%s): frequency %s, %d lines, contacts %s",
                             c.subscriber.child_id, c.rendering.staff_id, self.payer, c.frequency, len(c.lines),
                             " ".join(c.contact_ids))
            self.problems.extend(claim_problems(c))
            if self.problems:
                continue  # checked, and no more recorded or written
            self.frequencies[c.frequency] = self.frequencies.get(c.frequency, 0) + 1
            if c.frequency != "8":
                self.total += c.total
                self.contacts += len(c.contact_ids)
            self.notes.update(dict.fromkeys(transliterations([c])))
            yield c
        if self.problems:
            raise BillingError(self.problems)


def write_batch_again(store: Store, batch_id: int, data_dir: Path, out_dir: Path) -> tuple[Path, bool]:
    """Render a recorded batch from the store; True when it matches the recorded SHA-256."""
    batch, row = load_batch(store, batch_id)
    agency = read_agency(data_dir)
    entry = agency.payer(row.payer)
    if entry is None:
        raise BillingError([f"payer {row.payer!r} is not in agency.yaml"])
    data = render(batch, agency, entry)
    path = Path(out_dir) / row.file_name
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    write_atomically(path, data)
    return path, hashlib.sha256(data).hexdigest() == row.sha256
