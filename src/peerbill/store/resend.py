"""What a rejected batch sends again: its rejected claims, as recorded, and their contacts' links."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..claims.model import Claim
from .billing import claim_of_row
from .consistency import on_submitted_claims
from .database import Database
from .schema import REJECTED, BatchRow, ClaimLineRow, ClaimRow, LineContact


class ResendRefused(LookupError):
    """A batch that cannot be sent again (no such batch, nothing rejected, or sent again already)."""


#: a contact's link as its claim recorded it: service date, plan, units, amount, row hash
Link = tuple[str, str | None, int, Decimal, str]


def claims_to_resend(store: Database, batch_id: int) -> tuple[list[Claim], dict[str, Link]]:
    """The batch's rejected claims, in order, and each of their contacts' links.  Refused when the batch has no
    rejected claim, or when a contact of one has been billed on another claim since (it was resent already,
    or billed anew)."""
    with Session(store.engine) as s:
        batch = s.get(BatchRow, batch_id)
        if batch is None:
            raise ResendRefused(f"no batch {batch_id}")
        rows = list(
            s.scalars(
                select(ClaimRow).where(ClaimRow.batch_id == batch_id, ClaimRow.status == REJECTED).order_by(ClaimRow.id)
            )
        )
        if not rows:
            raise ResendRefused(f"batch {batch_id} has no rejected claims to resend (its status: {batch.status})")
        ids = [r.id for r in rows]
        links: dict[str, Link] = {}
        for contact_id, day, plan_id, units, amount, row_hash in s.execute(
            select(
                LineContact.contact_id,
                LineContact.service_date,
                LineContact.plan_id,
                LineContact.units,
                LineContact.amount,
                LineContact.row_hash,
            )
            .join(ClaimLineRow, ClaimLineRow.id == LineContact.line_id)
            .where(ClaimLineRow.claim_id.in_(ids))
        ).tuples():
            links[contact_id] = (day, plan_id, units, amount, row_hash)
        billed = s.execute(
            on_submitted_claims(LineContact.contact_id, ClaimRow.claim_ref).where(
                LineContact.contact_id.in_(sorted(links))
            )
        ).first()
        if billed is not None:
            raise ResendRefused(
                f"batch {batch_id} cannot be resent: contact {billed[0]} is on claim {billed[1]} since "
                "(resent already, or billed again)"
            )
        return [claim_of_row(s, r) for r in rows], links
