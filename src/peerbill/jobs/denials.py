"""Denials worked: what each contact an 835 denied needs, as the payer's pack classes its CARCs, and the
coverage denials that send a contact to the next payer (Title IV-E, as payer of last resort)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..checks import PriorUsage
from ..rules import RuleSet
from ..rules.schema import TimelyFiling
from ..store import Store
from ..store.responses import DeniedContact, denied_contacts

#: the order a contact's CARCs are read in when several are classed: the one that decides most comes first
_WEIGHT = {"lapse": 0, "coverage": 1, "fixable": 2}


@dataclass(frozen=True)
class Denied:
    contact: DeniedContact
    kind: str  # coverage, fixable, lapse, or unmapped (a CARC the pack does not class)
    carc: str
    says: str
    fix: str
    deadline: dt.date | None  # a fixable denial's last day to file the correction (the pack's timely filing)


def classify(rules: RuleSet, found: Iterable[DeniedContact]) -> list[Denied]:
    out = []
    for d in found:
        pack = rules.payers.get(d.payer)
        version = pack.on(d.service_date) if pack is not None else None
        mapped = [(m, c) for c in d.carcs if version is not None and (m := version.denials.of(c)) is not None]
        kind: str
        if mapped:
            m, carc = min(mapped, key=lambda mc: _WEIGHT[mc[0].class_])
            kind, says, fix = m.class_, m.says, m.fix or ""
        else:
            carc = d.carcs[0] if d.carcs else ""
            kind, says, fix = (
                "unmapped",
                "a code the payer's pack does not class",
                "look the code up; map it in the pack",
            )
        rule = version.check_of("timely_filing") if version is not None else None
        deadline = (
            d.service_date + dt.timedelta(days=rule.days)
            if kind in ("fixable", "unmapped") and isinstance(rule, TimelyFiling)
            else None
        )
        out.append(Denied(d, kind, carc, says, fix, deadline))
    return out


def with_denials(
    prior: PriorUsage,
    store: Store,
    rules: RuleSet,
    ids: Iterable[str],
    row_hash: Callable[[str], str | None] | None = None,
) -> PriorUsage:
    """``prior`` with the denials of ``ids``: a coverage denial judged for the next payer (``PAYER_DENIED``); a
    fixable one held (``DENIED_FIXABLE``) until the contact's row differs from the one its claim carries
    (``row_hash(contact id)``: the bundle's), when it is judged again and a replacement carries it; a lapsed one not
    billable (``DENIED_LAPSED``)."""
    found = denied_contacts(store, ids)
    if not found:
        return prior
    for d in classify(rules, found):
        c = d.contact
        why = f"CARC {d.carc}: {d.says}"
        if d.kind == "coverage":
            prior.denied[c.contact_id] = (c.payer, why)
        elif d.kind == "lapse":
            prior.denial_holds[c.contact_id] = (c.payer, "DENIED_LAPSED", "lapse", why)
        elif row_hash is None or row_hash(c.contact_id) in (None, c.row_hash):
            due = f"; correct it by {d.deadline}" if d.deadline else ""
            prior.denial_holds[c.contact_id] = (c.payer, "DENIED_FIXABLE", "held", f"{why}; {d.fix}{due}")
    return prior


def denials(store: Store, rules: RuleSet, month: str | None) -> list[Denied]:
    """The month's denied contacts, classed, dollars first (then claim and line)."""
    listed = classify(rules, denied_contacts(store, month=month))
    return sorted(listed, key=lambda d: (-d.contact.amount, d.contact.claim_ref, d.contact.line, d.contact.contact_id))


def total(listed: Iterable[Denied]) -> Decimal:
    return sum((d.contact.amount for d in listed), Decimal("0.00"))
