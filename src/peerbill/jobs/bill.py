"""The bill job: judge a month, plan its claims, check them, record each payer's batch, then write its 837P.

Crash safety: inside the transaction that records a batch, its 837P is written under a staged
name (``.NAME.837.tmp``) and flushed to disk; only after the commit is it renamed to its real
name.  So a file with a real name is always one the store recorded.  A run killed between the
commit and the rename leaves a staged file the next ``bill`` publishes (its name and SHA-256 match
the recorded batch); one killed before the commit leaves a staged file the next ``bill`` deletes,
and nothing recorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from ..bundle import Problem
from ..claims.model import Claim
from ..claims.plan import plan_claims, qualifying_categories
from ..claims.validate import TRANSLITERATED, BillingError, CheckedClaims
from ..claims.x837 import claims_per_transaction, render, render_parts
from ..log import debugging, logger
from ..model.agency import Agency
from ..outputs.decisions import add_problems
from ..outputs.files import out_folder, publish_file, stage_file, staged, write_new
from ..runtime import Progress
from ..store import Store
from ..store.batch_writer import BatchWriter
from ..store.billing import batch_named, billed_claims, load_batch, load_claim, record_batch
from .check import Judged, judge
from .month import Month, open_month, read_agency

AWAITING_ADJUDICATION = "AWAITING_ADJUDICATION"
#: what an 837P batch's usage indicator (ISA15) says
USAGES = {"T": "test", "P": "production"}


@dataclass
class PayerBatch:
    """What a payer's batch of the month sent (or would send, in a dry run)."""

    payer: str
    claims: int
    frequencies: dict[str, int]
    total: str
    contacts: int
    already_billed: int
    batch_id: int | None = None
    file: str | None = None
    sha256: str | None = None
    #: the interchange's usage indicator: T (test: bills nothing) or P (production)
    usage: str = "T"
    #: claims whose correction waits for an 835 to give the payer's claim number (AWAITING_ADJUDICATION)
    awaiting: list[str] = field(default_factory=list)
    #: claims whose contacts changed in nothing the claim says: no replacement sent
    unchanged: int = 0


@dataclass
class Billed:
    """A month billed: how it was judged, each payer's batch, and notes for the person billing."""

    check: Judged
    dry_run: bool
    batches: list[PayerBatch] = field(default_factory=list)
    #: files left by a run that stopped, payers of agency.yaml skipped
    notes: list[str] = field(default_factory=list)
    #: (file, child or staff id) -> the name and address columns the 837P carries transliterated
    transliterated: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)


#: who a transliteration note names, by the file the name is in
WHO = {"children.csv": "child", "staff.csv": "staff"}


@dataclass
class Billing:
    """A month opened to be billed: the store's billing lock is held, and the processes are forked."""

    month: Month
    store: Store
    agency: Agency
    payers: list[str]
    #: what was done about files a run that stopped left behind
    recovered: list[str]
    writer: BatchWriter | None


def bill(
    data_dir: Path,
    month: str,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: dt.date,
    store: Store,
    *,
    payers: list[str] | None = None,
    usage: str | None = None,
    dry_run: bool = False,
    jobs: int | None = None,
    progress: Progress | None = None,
    writer: bool | None = None,
) -> Billed:
    """``peerbill bill``: judge the month, record the run, and send each payer's new claims, replacements
    and voids.  ``usage``: ``T`` or ``P`` for every payer, or None for each payer's agency.yaml ``usage``.
    ``writer``: whether batches are recorded by a process of their own (by default, for a bundle judged in
    parallel)."""
    with open_billing(
        data_dir, month, as_of, rules_dir, store, out_dir, payers=payers, jobs=jobs, dry_run=dry_run, writer=writer
    ) as billing:
        checked = judge(billing.month, out_dir, keep=True, record=not dry_run, progress=progress)
        return send(billing, checked, out_dir, usage=usage, dry_run=dry_run)


@contextmanager
def open_billing(
    data_dir: Path,
    month: str,
    as_of: dt.date,
    rules_dir: Path | None,
    store: Store,
    out_dir: Path,
    *,
    payers: list[str] | None = None,
    jobs: int | None = None,
    dry_run: bool = False,
    writer: bool | None = None,
) -> Iterator[Billing]:
    """Open ``month`` to be billed: one billing run at a time per store (a second waits, then sees what the
    first billed); files a stopped run left are finished first; the batch writer is forked (when it pays)
    before the bundle is read, and let go when the month was billed before (it will send little)."""
    agency = read_agency(data_dir)  # every value the 837P carries checked before any work
    with store.exclusive("peerbill:bill"):
        recovered = [] if dry_run else finish_interrupted(store, out_dir)
        wish = BatchWriter.wish(writer)
        with (
            BatchWriter.for_bundle(store, data_dir, jobs, False if dry_run else wish) as batch_writer,
            open_month(data_dir, month, as_of, rules_dir, store=store, jobs=jobs) as m,
        ):
            keys, skipped = _payers_to_bill(agency, m, payers)
            m.prior_from_store()
            used = batch_writer
            if m.prior.billed and used is not None and wish is None:
                used.close()  # billed before: the month sends few claims or none, recorded here
                used = None
            yield Billing(m, store, agency, keys, recovered + skipped, used)


def _payers_to_bill(agency: Agency, m: Month, asked: list[str] | None) -> tuple[list[str], list[str]]:
    """The payer keys to send batches to, and a note for each agency.yaml payer left out.

    ``--payer`` keys must each be an agency.yaml payer billed on an 837P; without them, every such payer of
    agency.yaml is billed, and one whose packs do not bill on an 837P (a Title IV-E agency, claimed on the
    cost report) is skipped with a note.
    """
    billable = m.rules.payers_in_role("medicaid_837p")
    for key in asked or ():
        if agency.payer(key) is None:
            raise BillingError([f"payer {key!r} is not in agency.yaml"])
        if key not in billable:
            raise BillingError(
                [f"payer {key!r} has no rule pack that bills on an 837P (role: medicaid_837p, procedure codes)"]
            )
    if asked:
        return list(asked), []
    keys = [p.key for p in agency.payers if p.key in billable]
    skipped = [
        f"agency.yaml payer {p.key!r} is skipped: no rule pack bills it on an 837P (it is claimed on the cost report)"
        for p in agency.payers
        if p.key not in billable
    ]
    return keys, skipped


def send(
    billing: Billing, checked: Judged, out_dir: Path, *, usage: str | None = None, dry_run: bool = False
) -> Billed:
    """Plan, check, record and write each payer's batch of the month ``checked`` judged (``usage``: as
    :func:`bill` takes it)."""
    month = billing.month
    hashes = month.bundle.row_hashes()
    out = Billed(checked, dry_run, notes=list(billing.recovered))
    for key in billing.payers:
        batch, transliterated = _send_payer(billing, checked, key, out_dir, usage, dry_run)
        out.batches.append(batch)
        for who, columns in transliterated.items():
            out.transliterated.setdefault(who, columns)
    hashes.let_go()
    held = [
        Problem(
            "claims",
            None,
            None,
            f"{AWAITING_ADJUDICATION}: {b.payer} claim {claim_ref} has billed contacts whose rows changed; its "
            "correction is held until an 835 gives the payer's claim number (peerbill receive)",
            "note",
        )
        for b in out.batches
        for claim_ref in b.awaiting
    ]
    if held and not dry_run:
        add_problems(out_folder(out_dir), held)
    if out.transliterated:
        add_problems(
            out_folder(out_dir),
            [
                Problem(file, None, "; ".join(columns), f"{WHO[file]} {who}: {TRANSLITERATED}", "note")
                for (file, who), columns in out.transliterated.items()
            ],
        )
    return out


def _send_payer(
    billing: Billing, checked: Judged, key: str, out_dir: Path, usage: str | None, dry_run: bool
) -> tuple[PayerBatch, dict[tuple[str, str], tuple[str, ...]]]:
    month, store, agency = billing.month, billing.store, billing.agency
    entry = agency.payer(key)
    assert entry is not None
    usage = usage or ("P" if entry.usage == "production" else "T")
    hashes = month.bundle.row_hashes()
    plan = plan_claims(
        checked.verdicts or [],
        month.bundle.reference,
        qualifying_categories(month.rules, key),
        key,
        month.month,
        month.prior.billed,
        billed_claims(store, key, month.month),
        hashes,
        lambda claim_id: load_claim(store, claim_id),
        await_adjudication=entry.await_adjudication,
    )
    taken = CheckedClaims(agency)
    claims = taken.checked(_logged(plan.claims, key))
    first = next(claims, None)  # the checks of a batch that fails them end here, or as its file is written
    recorded = None
    if dry_run or first is None:
        for _ in claims:
            pass
        logger.info(
            "no batch for %s %s: %s, %d contacts already on submitted claims",
            key,
            month.month,
            "a dry run" if dry_run else "nothing new to send",
            plan.already_billed,
        )
    else:
        prepared_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
        try:
            recorded = record_batch(
                store,
                chain([first], claims),
                key,
                month.month,
                month.as_of,
                usage,
                month.rules.records(),
                checked.run_id,
                prepared_at,
                hashes,
                plan.billable,
                lambda b: render_parts(b, agency, entry),
                out_dir,
                lambda file_name, parts: stage_file(Path(out_dir) / file_name, parts),
                lambda file_name: publish_file(Path(out_dir) / file_name),
                billing.writer,
                per_transaction=claims_per_transaction(entry),
                numbering=agency.numbering.as_tuple(),
            )
        except BillingError:
            raise  # checked as it was written: its staged file is removed already
        except Exception:
            finish_interrupted(store, out_dir)  # a file staged for a batch that was not committed goes
            raise
    batch = PayerBatch(
        key,
        taken.claims,
        taken.frequencies,
        f"{taken.total:.2f}",
        taken.contacts,
        plan.already_billed,
        usage=usage,
        awaiting=plan.awaiting,
        unchanged=plan.unchanged,
    )
    if recorded is not None:
        batch.batch_id, name, batch.sha256 = recorded
        batch.file = str(Path(out_dir) / name)
        logger.info(
            "batch %d for %s %s: %d claims, %d contacts, written to %s",
            batch.batch_id,
            key,
            month.month,
            batch.claims,
            batch.contacts,
            name,
        )
    return batch, taken.transliterated


def _logged(claims: Iterable[Claim], payer: str) -> Iterator[Claim]:
    """The claims, each logged by ids at debug level."""
    if not debugging():
        yield from claims
        return
    for c in claims:
        logger.debug(
            "claim for child %s staff %s (%s): frequency %s, %d lines, contacts %s",
            c.subscriber.child_id,
            c.rendering.staff_id,
            payer,
            c.frequency,
            len(c.lines),
            " ".join(c.contact_ids),
        )
        yield c


def finish_interrupted(store: Store, out_dir: Path) -> list[str]:
    """After a run that stopped: publish staged 837P files the store recorded, and remove the others.

    A staged file whose batch was committed (same name and SHA-256) gets its real name; one whose
    transaction never committed is deleted, so no file exists that the store does not know.
    """
    notes = []
    for tmp in sorted(Path(out_dir).glob(".*.837.tmp")):
        path = tmp.with_name(tmp.name[1 : -len(".tmp")])
        assert staged(path) == tmp
        row = batch_named(store, path.name)
        if row is not None and not path.exists() and hashlib.sha256(tmp.read_bytes()).hexdigest() == row.sha256:
            publish_file(path)
            notes.append(
                f"batch {row.id}: {path.name} was recorded by a run that stopped before naming it; it is complete now"
            )
        else:
            tmp.unlink()
            notes.append(f"{tmp.name}: left by a run that stopped before recording it; removed")
    for note in notes:
        logger.warning("%s", note)
    return notes


@dataclass(frozen=True)
class Rewritten:
    """A recorded batch written again: where, whether its bytes are the recorded file's, and whether
    a file already had its name (which is never replaced: the evidence of what was sent)."""

    path: Path
    same: bool
    kept: Path | None


def write_batch_again(store: Store, batch_id: int, data_dir: Path, out_dir: Path) -> Rewritten:
    """Render a recorded batch from the store and write it under its recorded name, or beside a file that
    has that name (``NAME.1.837``, ...), never over it; an identical file already there is left as it is."""
    batch, row = load_batch(store, batch_id)
    agency = read_agency(data_dir)
    entry = agency.payer(row.payer)
    if entry is None:
        raise BillingError([f"payer {row.payer!r} is not in agency.yaml"])
    data = render(batch, agency, entry)
    digest = hashlib.sha256(data).hexdigest()
    target = out_folder(out_dir) / row.file_name
    if target.is_file() and not target.is_symlink() and hashlib.sha256(target.read_bytes()).hexdigest() == digest:
        return Rewritten(target, digest == row.sha256, None)
    path = write_new(target, data)
    return Rewritten(path, digest == row.sha256, target if path != target else None)
