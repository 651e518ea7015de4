"""The ledger: append an entry in the same transaction as what it records; verify the chain and the rows.

A payload holds a digest of the rows the entry vouches for, computed the same way
when recording and when verifying, so a changed verdict, batch or claim row breaks
verification; and the SHA-256 and path of every file written, which `verify`
checks where it can find the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

import orjson
from sqlalchemy import JSON, Text, cast, select
from sqlalchemy.orm import Session

from . import consistency
from .database import Database
from .schema import (
    BatchAck,
    BatchRow,
    ClaimEvent,
    ClaimLineRow,
    ClaimRow,
    ContactRow,
    CostReportItem,
    CostReportRow,
    Import,
    LedgerEntry,
    LineContact,
    LinePayment,
    ReferenceRow,
    ResponseRow,
    Run,
    VerdictRow,
)

GENESIS = "0" * 64


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:.4f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


#: json.dumps with options builds a new encoder on every call; every row shares this one
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_plain)
_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME  # dates and times through _plain, as _ENCODER
#: _plain for orjson, each distinct amount or date written once: a month's verdicts, claim lines and their
#: contacts repeat a few dozen of them
_plain_once = lru_cache(maxsize=4096)(_plain)


def _encoded(value) -> bytes:
    """``_ENCODER.encode(value)`` as bytes (ASCII: the standard encoder escapes the rest), made by orjson
    where that gives the same text, several times faster.  A row's tuple is written as the list it is read
    back as.

    orjson writes letters beyond ASCII and DEL as they are where the standard encoder escapes them,
    so such a text is made again by the standard encoder; dates, times and decimals go through
    ``_plain`` in both.  (The two would also differ on floats written with an exponent: the rows and
    fields the store hashes hold none; amounts are decimals.)
    """
    try:
        data = orjson.dumps(value, default=_plain_once, option=_ORJSON)
    except orjson.JSONEncodeError:  # what orjson cannot write (a very large int): the standard encoder says
        return _ENCODER.encode(value).encode("ascii")
    if data.isascii() and b"\x7f" not in data:
        return data
    return _ENCODER.encode(value).encode("ascii")


def _encode(value) -> str:
    """``_ENCODER.encode(value)`` (see :func:`_encoded`)."""
    return _encoded(value).decode("ascii")


_canonical = _encoded


class JSONText(str):
    """A JSON column's value encoded already: a bulk insert stores the text as it is, with no encoding per row."""


class CanonicalJSON(JSONText):
    """A JSON column's value already encoded, canonically (:func:`canonical_json`).

    The million ``fields`` of an import are encoded once: the bulk insert stores this text as it
    is, and the ledger splices it into the row it hashes (the same bytes as encoding the row whole).
    """


def canonical_json(value) -> CanonicalJSON:
    return CanonicalJSON(_encode(value))


_ENCODE_STR = json.encoder.encode_basestring_ascii  # what the encoder does with a str (ensure_ascii)


def _value_json(v) -> str:
    t = type(v)
    if t is CanonicalJSON:
        return v
    if t is str:
        return _ENCODE_STR(v)
    if t is int:
        return int.__repr__(v)
    return "null" if v is None else _encode(v)


def _canonical_row(values: list) -> bytes:
    """As ``_canonical(values)``, with values encoded already spliced in as they are."""
    return ("[" + ",".join(map(_value_json, values)) + "]").encode("utf-8")


def _digest_rows(s: Session, table, where, columns: list[str]) -> str:
    """SHA-256 over the rows (ordered by id), each as its listed columns.

    The rows are fetched a chunk at a time (on PostgreSQL through a cursor on the server): a state's
    import holds a million contact rows, each with its fields, far too many to hold at once.
    """
    h = hashlib.sha256()
    cols = [getattr(table, c) for c in columns]
    # JSON read as its text and parsed here by orjson: several times faster than the column type's json.loads
    texts = [k for k, c in enumerate(cols) if isinstance(c.type, JSON)]
    picked = [cast(c, Text) if k in texts else c for k, c in enumerate(cols)]
    query = select(*picked).where(where).order_by(table.id).execution_options(yield_per=ROWS_AT_ONCE)
    update = h.update
    for row in s.execute(query):
        values = list(row)
        for k in texts:
            if values[k] is not None:
                values[k] = _parsed(values[k])
        update(_canonical(values) + b"\n")  # decimals and dates become text through the encoder's _plain
    return h.hexdigest()


#: rows :func:`_digest_rows` fetches at once
ROWS_AT_ONCE = 5000


def _parsed(text: str):
    """A JSON column's text as the column type would give it (``json.loads`` where orjson refuses: an
    integer beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


#: the digests' schemes: which columns of each kind of row an entry hashes.  An entry names its scheme
#: (entries without one were recorded under scheme 1), so a store recorded under an older scheme still
#: verifies.  Scheme 2 covers every column a figure or the never-bill-twice promise depends on; the
#: columns it leaves out are derived from covered rows and re-derived by :func:`verify` (a claim's
#: status, a row's ``current`` flag, the billed contacts) or carry no weight (an id the store gives).
SCHEME = 5
COLUMNS: dict[int, dict[str, list[str]]] = {
    1: {
        "import": ["id", "source", "files", "counts"],
        "reference_rows": ["file", "key", "version", "row_hash", "fields"],
        "contacts": ["contact_id", "version", "row_hash", "fields"],
        "run": ["id", "month", "as_of", "files", "rule_packs", "summary"],
        "verdicts": [
            "contact_id",
            "contact_version",
            "status",
            "payer",
            "procedure",
            "modifiers",
            "units",
            "amount",
            "reasons",
            "rule_ids",
            "rule_versions",
            "plan_id",
        ],
        "batch": [
            "id",
            "payer",
            "month",
            "isa_control",
            "gs_control",
            "st_controls",
            "usage",
            "file_name",
            "sha256",
            "claims",
            "total",
        ],
        "claims": [
            "claim_ref",
            "frequency",
            "replaces_id",
            "original_ref",
            "child_id",
            "staff_id",
            "diagnoses",
            "total",
        ],
        "lines": ["claim_id", "number", "service_date", "procedure", "modifiers", "units", "amount"],
        "line_contacts": ["line_id", "contact_id", "row_hash", "units", "amount"],
        "report": ["id", "quarter", "revision", "as_of", "lines", "files"],
        "items": ["kind", "row", "quarter", "contact_id", "total", "rate", "federal", "source", "rule_versions"],
    },
    2: {
        "import": ["id", "imported_at", "source", "files", "counts"],
        "reference_rows": ["file", "key", "version", "row_hash", "line", "import_id", "fields"],
        "contacts": [
            "contact_id",
            "version",
            "row_hash",
            "service_date",
            "month",
            "child_id",
            "staff_id",
            "line",
            "import_id",
            "fields",
        ],
        "run": ["id", "kind", "month", "as_of", "started_at", "source", "files", "rule_packs", "summary", "import_id"],
        "verdicts": [
            "run_id",
            "contact_id",
            "contact_version",
            "line",
            "service_date",
            "status",
            "payer",
            "procedure",
            "modifiers",
            "units",
            "amount",
            "rate",
            "reasons",
            "rule_ids",
            "rule_versions",
            "child_id",
            "staff_id",
            "plan_id",
            "details",
        ],
        "batch": [
            "id",
            "payer",
            "month",
            "as_of",
            "prepared_at",
            "usage",
            "isa_control",
            "gs_control",
            "st_controls",
            "rule_packs",
            "file_name",
            "sha256",
            "claims",
            "total",
            "run_id",
        ],
        "claims": [
            "batch_id",
            "claim_ref",
            "payer",
            "month",
            "child_id",
            "staff_id",
            "frequency",
            "replaces_id",
            "original_ref",
            "place_of_service",
            "diagnoses",
            "subscriber",
            "rendering",
            "total",
        ],
        "lines": [
            "claim_id",
            "number",
            "service_date",
            "procedure",
            "modifiers",
            "place_of_service",
            "units",
            "rate",
            "amount",
            "pointers",
        ],
        "line_contacts": ["line_id", "contact_id", "row_hash", "service_date", "plan_id", "units", "amount"],
        "report": ["id", "quarter", "revision", "as_of", "issued_at", "rule_packs", "lines", "files"],
        "items": [
            "report_id",
            "kind",
            "row",
            "quarter",
            "contact_id",
            "total",
            "rate",
            "federal",
            "reason",
            "source",
            "rule_versions",
        ],
    },
}
#: scheme 3: scheme 2 and a cost-report item's service category and rating
COLUMNS[3] = {**COLUMNS[2], "items": [*COLUMNS[2]["items"], "category", "rating"]}
#: scheme 4: scheme 3 and a claim's prior authorization (REF*G1)
COLUMNS[4] = {**COLUMNS[3], "claims": [*COLUMNS[3]["claims"], "prior_auth"]}
#: scheme 5: scheme 4, a batch's claims per transaction set, and the payers' responses (a batch's and a claim's
#: status and the payer's claim number are derived from them)
COLUMNS[5] = {
    **COLUMNS[4],
    "batch": [*COLUMNS[4]["batch"], "per_transaction"],
    "response": ["id", "kind", "file_name", "sha256", "received_at", "sender", "control", "summary"],
    "batch_acks": ["response_id", "batch_id", "status", "code", "detail"],
    "claim_events": [
        "response_id",
        "claim_id",
        "kind",
        "status",
        "code",
        "payer_claim_number",
        "charged",
        "paid",
        "patient_responsibility",
        "detail",
    ],
    "line_payments": ["event_id", "line_id", "charged", "paid", "units", "adjustments", "remarks"],
}
#: table -> the digest it feeds; the large row sets, hashed (under the newest scheme) as they are inserted
INSERTED = {
    "reference_rows": "reference_rows",
    "contacts": "contacts",
    "verdicts": "verdicts",
    "claims": "claims",
    "claim_lines": "lines",
    "line_contacts": "line_contacts",
    "cost_report_items": "items",
}


def note_inserted(s: Session, table, names: tuple[str, ...], rows: list[tuple]) -> None:
    """Hash rows as they are bulk-inserted (each the values of the columns ``names``), in id order,
    exactly as :func:`digests` would read them back.

    Recording a month's verdicts then costs one pass over rows already in memory instead of
    reading them all back; ``verify`` still reads them back, so a digest that did not match the
    rows would show there (and the store's tests verify after every kind of recording).
    """
    part = INSERTED[table.__tablename__]
    cols = COLUMNS[SCHEME][part]
    h = s.info.setdefault("ledger_inserted", {}).setdefault(part, hashlib.sha256())
    if not rows:
        return
    missing = [c for c in cols if c not in names]
    assert not missing, f"{table.__tablename__}: rows without {missing} cannot be hashed for the ledger"
    cells = itemgetter(*(names.index(c) for c in cols))
    update = h.update
    first = cells(rows[0])
    spliced = [type(v) is CanonicalJSON for v in first]
    if not any(spliced) and tuple(cols) == names:  # the rows are the hashed columns, in order (a month's verdicts)
        for row in rows:
            update(_encoded(row) + b"\n")
    elif not any(spliced):
        for row in rows:
            update(_encoded(cells(row)) + b"\n")
    elif spliced.index(True) == len(cols) - 1 > 0:  # the fields of an import's rows, encoded already, last
        for row in rows:
            values = cells(row)
            update(_encoded(values[:-1])[:-1] + b"," + values[-1].encode("utf-8") + b"]\n")
    else:
        for row in rows:
            update(_canonical_row(list(cells(row))) + b"\n")


def digests(s: Session, kind: str, ref_id: int, inserted: dict | None = None, scheme: int = SCHEME) -> dict[str, str]:
    """The digests of the rows an entry of ``kind`` vouches for: as they are now, or as ``inserted`` hashed them."""
    inserted = inserted or {}
    columns = COLUMNS[scheme]

    def rows(part: str, table, where) -> str:
        if part in inserted:
            return inserted[part].hexdigest()
        return _digest_rows(s, table, where, columns[part])

    if kind == "import":
        return {
            "import": rows("import", Import, Import.id == ref_id),
            "reference_rows": rows("reference_rows", ReferenceRow, ReferenceRow.import_id == ref_id),
            "contacts": rows("contacts", ContactRow, ContactRow.import_id == ref_id),
        }
    if kind == "run":
        return {
            "run": rows("run", Run, Run.id == ref_id),
            "verdicts": rows("verdicts", VerdictRow, VerdictRow.run_id == ref_id),
        }
    if kind == "batch":
        claim_ids = select(ClaimRow.id).where(ClaimRow.batch_id == ref_id)
        line_ids = select(ClaimLineRow.id).where(ClaimLineRow.claim_id.in_(claim_ids))
        return {
            "batch": rows("batch", BatchRow, BatchRow.id == ref_id),
            "claims": rows("claims", ClaimRow, ClaimRow.batch_id == ref_id),
            "lines": rows("lines", ClaimLineRow, ClaimLineRow.claim_id.in_(claim_ids)),
            "line_contacts": rows("line_contacts", LineContact, LineContact.line_id.in_(line_ids)),
        }
    if kind == "response":
        event_ids = select(ClaimEvent.id).where(ClaimEvent.response_id == ref_id)
        return {
            "response": rows("response", ResponseRow, ResponseRow.id == ref_id),
            "batch_acks": rows("batch_acks", BatchAck, BatchAck.response_id == ref_id),
            "claim_events": rows("claim_events", ClaimEvent, ClaimEvent.response_id == ref_id),
            "line_payments": rows("line_payments", LinePayment, LinePayment.event_id.in_(event_ids)),
        }
    if kind == "cost_report":
        return {
            "report": rows("report", CostReportRow, CostReportRow.id == ref_id),
            "items": rows("items", CostReportItem, CostReportItem.report_id == ref_id),
        }
    raise ValueError(f"unknown ledger kind {kind}")


def _entry_hash(prev: str, kind: str, ref_id: int, payload: dict) -> str:
    return hashlib.sha256(prev.encode() + _canonical([kind, ref_id, payload])).hexdigest()


def append(
    s: Session, kind: str, ref_id: int, files: dict[str, str] | None = None, inputs: dict[str, str] | None = None
) -> LedgerEntry:
    """Add an entry for rows just written in this session's transaction.

    ``files``: outputs (path -> sha256) that `verify` checks on disk; ``inputs``: hashes recorded only
    (bundle files are corrected in place, so their later state proves nothing).
    """
    s.flush()
    prev = newest(s)
    payload = {
        "digests": digests(s, kind, ref_id, s.info.pop("ledger_inserted", None)),
        "files": files or {},
        "inputs": inputs or {},
        "scheme": SCHEME,
    }
    entry = LedgerEntry(
        kind=kind, ref_id=ref_id, payload=payload, prev_hash=prev, entry_hash=_entry_hash(prev, kind, ref_id, payload)
    )
    s.add(entry)
    s.flush()
    return entry


@dataclass
class Verification:
    entries: int
    files_checked: int
    files_missing: list[str]
    first_break: str | None
    #: the hash of the newest entry: kept outside the store, it lets a later ``verify`` prove no entry was cut
    head: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.first_break is None


def head(store: Database) -> str:
    """The hash of the ledger's newest entry (the genesis hash of an empty ledger)."""
    with Session(store.engine) as s:
        return newest(s)


def newest(s: Session) -> str:
    """The hash of the newest entry ``s`` sees (the genesis hash of an empty ledger)."""
    return s.execute(select(LedgerEntry.entry_hash).order_by(LedgerEntry.id.desc()).limit(1)).scalar() or GENESIS


def verify(store: Database, expect_head: str | None = None) -> Verification:
    """Recompute the chain, every entry's row digests and every file hash it can find, then re-derive what
    no digest covers (:mod:`.consistency`); stop at the first break.

    ``expect_head``: an entry hash (or a prefix of at least 12 of its characters) printed by an earlier
    command; the chain must still hold it, or entries after it were removed.
    """
    checked, missing = 0, list[str]()
    with Session(store.engine) as s:
        entries = s.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
        prev = GENESIS
        for n, e in enumerate(entries, 1):
            where = f"ledger entry {e.id} ({e.kind} {e.ref_id})"
            if e.prev_hash != prev or _entry_hash(prev, e.kind, e.ref_id, e.payload) != e.entry_hash:
                return Verification(n, checked, missing, f"{where}: the chain is broken (the entry was altered)", prev)
            now = digests(s, e.kind, e.ref_id, scheme=e.payload.get("scheme", 1))
            for name, digest in e.payload["digests"].items():
                if now.get(name) != digest:
                    return Verification(
                        n,
                        checked,
                        missing,
                        f"{where}: its {name.replace('_', ' ')} rows changed since they were recorded",
                        prev,
                    )
            for path, sha in sorted(e.payload.get("files", {}).items()):
                p = Path(path)
                if not p.is_file():
                    missing.append(path)
                    continue
                checked += 1
                if hashlib.sha256(p.read_bytes()).hexdigest() != sha:
                    return Verification(n, checked, missing, f"{where}: file {path} changed since it was written", prev)
            prev = e.entry_hash
        done = len(entries)
        if expect_head is not None:
            wanted = expect_head.strip().lower()
            if len(wanted) < 12 or not any(e.entry_hash.startswith(wanted) for e in entries):
                return Verification(
                    done,
                    checked,
                    missing,
                    f"the ledger holds no entry {wanted}: entries were cut from its end (or it is another store's)",
                    prev,
                )
        for problem in consistency.problems(s):
            return Verification(done, checked, missing, problem, prev)
        return Verification(done, checked, missing, None, prev)
