"""What a billing run sends (pure): new claims, replacements (frequency 7) and voids (frequency 8).

A contact already on a submitted claim is never put on another one.  When a
billed contact's row changed since it was billed, or it left the bundle, its
claim is replaced by one with the contacts that still bill, or voided when
none does: if what the claim says changes (a change of a note's signing date
alone sends nothing), and, for a payer that wants its own claim number cited,
once an 835 has given it (until then the correction is held,
``AWAITING_ADJUDICATION``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter

from ..model.reference import Reference
from ..model.verdict import Verdict
from ..rules import RuleSet
from .assemble import assemble
from .model import Claim


@dataclass(frozen=True, slots=True)
class Billed:
    """A contact on a submitted claim, as the store knows it."""

    contact_id: str
    claim_id: int
    claim_ref: str
    payer: str
    month: str
    child_id: str
    staff_id: str
    row_hash: str


@dataclass
class Plan:
    #: the replacements and voids first, then the new claims, each made when it is taken (a state's batch is
    #: never made whole)
    claims: Iterator[Claim]
    already_billed: int  # billable contacts skipped because they are on a submitted claim, unchanged
    billable: dict[str, Verdict]  # the payer's billable verdicts by contact id (what the claims' contacts bill)
    #: claims whose correction waits for the payer's claim number (an 835), by claim number
    awaiting: list[str] = field(default_factory=list)
    #: claims whose contacts' rows changed in nothing the claim says: no replacement is sent
    unchanged: int = 0


#: :meth:`Verdict.order_key`, each key made in C
_ORDER = attrgetter("service_date", "start_time", "contact_id")


def plan_claims(
    verdicts: Iterable[Verdict],
    reference: Reference,
    qualifying: Callable[[dt.date], frozenset[str] | None],
    payer: str,
    month: str,
    billed: Collection[str],
    claims_of_month: Iterable[tuple[int, list[Billed]]],
    row_hashes: Mapping[str, str],
    load_claim: Callable[[int], Claim],
    await_adjudication: bool = False,
) -> Plan:
    """``billed`` holds the ids of the verdicts' contacts that are on a submitted claim (any payer or month);
    ``claims_of_month``
    gives the submitted claims of ``payer`` and ``month`` with their contacts, one at a time (only
    those a changed row affects are kept); ``row_hashes`` holds the hash of every contact row of the
    bundle (first occurrence of each id); ``load_claim(id)`` gives a stored claim.  With ``await_adjudication``,
    a claim no 835 has given its payer's claim number is not corrected yet.
    """
    by_id = {v.contact_id: v for v in verdicts if v.status == "billable" and v.payer == payer}
    members = {
        claim_id: bs for claim_id, bs in claims_of_month if any(row_hashes.get(b.contact_id) != b.row_hash for b in bs)
    }
    affected = sorted(members)
    claims: list[Claim] = []
    freed: set[str] = set()  # billed contacts released by a replacement or void
    awaiting: list[str] = []
    unchanged = 0
    for claim_id in affected:
        original = load_claim(claim_id)
        keep = [
            by_id[b.contact_id]
            for b in members[claim_id]
            if b.contact_id in by_id
            and by_id[b.contact_id].child_id == b.child_id
            and by_id[b.contact_id].staff_id == b.staff_id
        ]
        rebuilt = list(assemble(sorted(keep, key=_ORDER), reference, qualifying, payer, month))
        if len(rebuilt) == 1 and len(keep) == len(members[claim_id]) and rebuilt[0].says() == original.says():
            unchanged += 1  # the rows changed in nothing the claim tells its payer
            continue
        if await_adjudication and not original.payer_claim_number:
            awaiting.append(original.claim_ref)
            continue
        freed.update(b.contact_id for b in members[claim_id])
        if rebuilt:
            rebuilt[0].frequency, rebuilt[0].replaces, rebuilt[0].original_ref = "7", claim_id, original.cite
            claims.extend(rebuilt)
        else:
            void = original
            void.frequency, void.replaces, void.original_ref = "8", claim_id, original.cite
            void.payer_claim_number, void.claim_ref = None, ""
            claims.append(void)
    on_claims = {cid for c in claims if c.frequency != "8" for cid in c.contact_ids}
    new = [v for cid, v in by_id.items() if cid not in on_claims and (cid not in billed or cid in freed)]
    skipped = sum(1 for cid in by_id if cid in billed and cid not in freed)
    made = assemble(sorted(new, key=_ORDER), reference, qualifying, payer, month)
    return Plan(chain(claims, made), skipped, by_id, awaiting, unchanged)


def qualifying_categories(rules: RuleSet, payer: str) -> Callable[[dt.date], frozenset[str] | None]:
    """The ICD-10 categories that qualify for ``payer`` on a day (None: all do), as its pack's qualifying
    diagnosis check in force that day lists them; worked out once per day."""
    pack = rules.payers[payer]
    known: dict[dt.date, frozenset[str] | None] = {}

    def qualifying(day: dt.date) -> frozenset[str] | None:
        if day not in known:
            version = pack.on(day)
            rule = version.check_of("qualifying_diagnosis") if version else None
            known[day] = rule.category_set() if rule else None  # type: ignore[attr-defined]
        return known[day]

    return qualifying
