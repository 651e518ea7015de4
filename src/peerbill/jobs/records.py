"""Jobs over what the store holds: importing a bundle, the batches, the ledger, and the rule packs and
reason codes a store's runs are judged with."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..outputs import files
from ..reasons import catalogue
from ..rules import RuleSet
from ..rules import load_rules as load_packs
from ..store import Imported, Store
from ..store.billing import list_batches, load_batch
from ..store.ledger import Verification, verify
from ..store.schema import BatchRow
from ..testing.generate import generate
from ..testing.responses import LineAnswer, ack_999, claim_ack_277, remittance_835
from .bill import write_batch_again
from .month import load_rules, read

__all__ = [
    "batches",
    "check_rules",
    "fixtures",
    "import_bundle",
    "reasons",
    "respond",
    "verify_ledger",
    "write_batch_again",
]


def import_bundle(data_dir: Path, store: Store, rules_dir: Path | None = None) -> tuple[Imported, list[str]]:
    """``peerbill import``: load the bundle into the store, idempotently; what was imported, and the bundle's
    problems (as ``severity: file:row column: message``)."""
    bundle = read(data_dir, load_rules(rules_dir))
    imported = store.import_bundle(bundle)
    return imported, [f"{p.severity}: {p}" for p in bundle.problems]


def batches(store: Store) -> list[BatchRow]:
    """The 837P batches recorded in the store, oldest first."""
    return list_batches(store)


def verify_ledger(store: Store, expect_head: str | None = None) -> Verification:
    """Recompute the ledger's hash chain, the rows each entry vouches for, and the files' hashes; re-derive
    what no digest covers; with ``expect_head``, prove the chain still holds that entry."""
    return verify(store, expect_head)


def check_rules(directory: Path) -> RuleSet:
    """Every pack under ``directory`` validated (:class:`~peerbill.rules.RulePackError` lists every problem)."""
    return RuleSet(load_packs(directory))


def fixtures(out_dir: Path, contacts: int, **shape: Any) -> dict[str, int]:
    """``peerbill fixtures generate``: a made-up bundle of about ``contacts`` contacts (see
    :func:`peerbill.testing.generate.generate` for its ``shape``); what it holds."""
    return generate(out_dir, contacts, **shape)


def reasons(rules_dir: Path | None = None) -> dict[str, str]:
    """Every reason code with its one-line explanation, those the packs add included."""
    return catalogue(load_rules(rules_dir).explanations())


def respond(
    store: Store,
    batch_id: int,
    kind: str,
    on: dt.date,
    reject: list[str],
    deny: list[tuple[str, int, str]],
    target: Path,
) -> None:
    """``peerbill fixtures respond``: write to ``target`` what a payer would send back for a recorded batch (a
    rehearsal's 999, 277CA or 835): a 999 accepting it (``reject``: rejecting it), a 277CA accepting its claims
    but those in ``reject`` (A7:21), an 835 paying them but the lines ``deny`` lists (claim, line, CARC)."""
    batch, _ = load_batch(store, batch_id)
    control = 700_000 + batch_id * 10 + {"999": 1, "277ca": 2, "835": 3}[kind]
    if kind == "999":
        text = ack_999(batch, control, on, accepted=not reject)
    elif kind == "277ca":
        text = claim_ack_277(batch, control, on, rejected={ref: "A7:21" for ref in reject})
    else:
        answers = {(ref, line): LineAnswer(Decimal("0"), "CO", carc) for ref, line, carc in deny}
        text = remittance_835([c for c in batch.claims if c.claim_ref not in reject], control, on, answers=answers)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    files.write_text(target, text)
