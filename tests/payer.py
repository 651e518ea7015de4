"""A payer answering what was billed, for tests: every submitted claim of the store paid in full by an 835,
received, so corrections can cite the payer's claim number."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conftest import run_cli
from sqlalchemy import select
from sqlalchemy.orm import Session

from peerbill.store import Store
from peerbill.store.billing import load_batch
from peerbill.store.schema import BatchRow, ClaimRow
from peerbill.testing.responses import remittance_835

_controls = iter(range(900_000, 999_999))


def adjudicate(db_url: str, folder: Path, on: dt.date = dt.date(2026, 11, 1)) -> dict[str, str]:
    """Pay every submitted claim not paid before; the payer's claim number of each claim paid, by claim number."""
    store = Store.open(db_url)
    with Session(store.engine) as s:
        batch_ids = list(s.scalars(select(BatchRow.id).where(BatchRow.usage == "P").order_by(BatchRow.id)))
        unpaid = set(
            s.scalars(
                select(ClaimRow.claim_ref).where(ClaimRow.status == "submitted", ClaimRow.payer_claim_number.is_(None))
            )
        )
    claims = [c for b in batch_ids for c in load_batch(store, b)[0].claims if c.claim_ref in unpaid]
    if not claims:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"paid-{next(_controls)}.835"
    path.write_text(remittance_835(claims, int(path.stem.split("-")[1]), on))
    code, _, err = run_cli("receive", "--db", db_url, str(path))
    assert code == 0, err
    return {c.claim_ref: f"ICN{c.claim_ref[2:]}" for c in claims}
