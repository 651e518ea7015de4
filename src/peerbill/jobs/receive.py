"""The receive job: payers' 999, TA1, 277CA and 835 files, each validated, read and recorded once; and a
rejected batch sent again with new control numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..claims.validate import BillingError
from ..claims.x837 import claims_per_transaction, render_parts
from ..log import logger
from ..model.verdict import Verdict
from ..outputs.files import publish_file, stage_file
from ..responses.parse import parse
from ..responses.read import ResponseError, read
from ..store import Store
from ..store.billing import load_batch, record_batch
from ..store.resend import claims_to_resend
from ..store.responses import Received, record_response
from .month import read_agency


@dataclass
class Refused:
    """A file not recorded, and why."""

    file_name: str
    message: str


def receive(paths: list[Path], store: Store) -> list[Received | Refused]:
    """Each file validated by pyx12, read, and recorded in a transaction of its own; a file that cannot be is
    refused with a sentence naming it, and the others are still received."""
    out: list[Received | Refused] = []
    for path in paths:
        try:
            file = read(path)
            kind, response = parse(file)
            done = record_response(store, file, kind, response)
        except ResponseError as exc:
            out.append(Refused(Path(path).name, str(exc)))
            continue
        logger.info(
            "received %s %s: response %d%s", kind, done.file_name, done.response_id, " (again)" if done.already else ""
        )
        out.append(done)
    return out


@dataclass(frozen=True)
class Resent:
    batch_id: int
    resends: int
    claims: int
    total: Decimal
    file: Path
    sha256: str


def resend(store: Store, batch_id: int, data_dir: Path, out_dir: Path) -> Resent:
    """A batch a 999 or TA1 rejected, sent again as a new batch: the same claims, with new claim numbers and new
    interchange, group and transaction control numbers."""
    _, row = load_batch(store, batch_id)
    agency = read_agency(data_dir)
    entry = agency.payer(row.payer)
    if entry is None:
        raise BillingError([f"payer {row.payer!r} is not in agency.yaml"])
    claims, links = claims_to_resend(store, batch_id)
    contacts: dict[str, Verdict] = {}
    hashes: dict[str, str] = {}
    for contact_id, (day, plan_id, units, amount, row_hash) in links.items():
        contacts[contact_id] = Verdict(
            contact_id, 0, day, "", "billable", payer=row.payer, units=units, amount=amount, plan_id=plan_id
        )
        hashes[contact_id] = row_hash
    prepared_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, second=0, microsecond=0)
    for claim in claims:
        claim.claim_ref = ""
    new_id, name, digest = record_batch(
        store,
        iter(claims),
        row.payer,
        row.month,
        row.as_of,
        row.usage,
        list(row.rule_packs),
        row.run_id,
        prepared_at,
        hashes,
        contacts,
        lambda b: render_parts(b, agency, entry),
        out_dir,
        lambda file_name, parts: stage_file(Path(out_dir) / file_name, parts),
        lambda file_name: publish_file(Path(out_dir) / file_name),
        per_transaction=claims_per_transaction(entry),
        numbering=agency.numbering.as_tuple(),
    )
    total = sum((c.total for c in claims), Decimal("0.00"))
    logger.info("batch %d resent as batch %d: %d claims in %s", batch_id, new_id, len(claims), name)
    return Resent(batch_id, new_id, len(claims), total, Path(out_dir) / name, digest)
