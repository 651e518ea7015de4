"""Tables of the store.  The schema is created and upgraded by the Alembic migrations beside this file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


#: the status of a claim that bills its contacts (neither replaced, voided, nor a void)
SUBMITTED = "submitted"
#: the status of a claim its payer's front end rejected (a 999 or 277CA): never adjudicated, it bills nothing
REJECTED = "rejected"
#: the status of a claim of a test interchange (ISA15 T): never adjudicated, it bills nothing
TEST = "test"


class Import(Base):
    """One load of a bundle: where from, the hash of every file, and what changed."""

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(Text)
    files: Mapped[dict] = mapped_column(JSON)  # file name -> sha256
    counts: Mapped[dict] = mapped_column(JSON)  # file name -> {new, changed, unchanged, skipped}


class ReferenceRow(Base):
    """A version of a reference-file row (children, staff, eligibility, ...), as read."""

    __tablename__ = "reference_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    row_hash: Mapped[str] = mapped_column(String(64))
    line: Mapped[int] = mapped_column(Integer)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    fields: Mapped[dict] = mapped_column(JSON)
    __table_args__ = (
        UniqueConstraint("file", "key", "version", name="uq_reference_rows_version"),
        Index("ix_reference_rows_current", "file", "key", "current"),
    )


class ContactRow(Base):
    """A version of a contacts.csv row; a corrected row is a new version and the old one is kept."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    row_hash: Mapped[str] = mapped_column(String(64))
    service_date: Mapped[str | None] = mapped_column(String(32), nullable=True)  # as written
    month: Mapped[str | None] = mapped_column(String(7), nullable=True)
    child_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    staff_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    line: Mapped[int] = mapped_column(Integer)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    fields: Mapped[dict] = mapped_column(JSON)
    __table_args__ = (
        UniqueConstraint("contact_id", "version", name="uq_contacts_version"),  # also finds an id's current version
        Index("ix_contacts_month", "month"),
    )


class Run(Base):
    """One judging of a month: its inputs (bundle hashes, rule packs with hashes, as-of) and summary."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    month: Mapped[str] = mapped_column(String(7))
    as_of: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(Text)
    files: Mapped[dict] = mapped_column(JSON)
    rule_packs: Mapped[list] = mapped_column(JSON)  # [{id, version, file, sha256}]
    summary: Mapped[dict] = mapped_column(JSON)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"), nullable=True)


class VerdictRow(Base):
    """The verdict of one contact in one run, with every reason and rule id."""

    __tablename__ = "verdicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    contact_id: Mapped[str] = mapped_column(String(255))
    contact_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    line: Mapped[int] = mapped_column(Integer)
    service_date: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    payer: Mapped[str | None] = mapped_column(String(32), nullable=True)
    procedure: Mapped[str | None] = mapped_column(String(16), nullable=True)
    modifiers: Mapped[str] = mapped_column(String(32))
    units: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    rate: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    reasons: Mapped[str] = mapped_column(Text)
    rule_ids: Mapped[str] = mapped_column(Text)
    rule_versions: Mapped[str] = mapped_column(Text)
    child_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    staff_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    plan_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    details: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        Index("ix_verdicts_run", "run_id"),
        Index("ix_verdicts_contact", "contact_id"),
    )


class Counter(Base):
    """Control numbers (ISA, GS, ST) that increase across batches."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class BatchRow(Base):
    """One 837P file to one payer: recorded before the file is written, with the file's SHA-256."""

    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payer: Mapped[str] = mapped_column(String(32))
    month: Mapped[str] = mapped_column(String(7))
    as_of: Mapped[dt.date] = mapped_column(Date)
    prepared_at: Mapped[dt.datetime] = mapped_column(DateTime)
    usage: Mapped[str] = mapped_column(String(1))
    isa_control: Mapped[int] = mapped_column(Integer)
    gs_control: Mapped[int] = mapped_column(Integer)
    st_controls: Mapped[list] = mapped_column(JSON)
    rule_packs: Mapped[list] = mapped_column(JSON)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    claims: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), nullable=True)
    #: the claims of each transaction set but the last (a 999 rejecting one set rejects its claims alone)
    per_transaction: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: sent; accepted, rejected or partly accepted once a 999 or TA1 answers it (derived from batch_acks)
    status: Mapped[str] = mapped_column(String(16), server_default="sent")


class ClaimRow(Base):
    """A claim as sent: frequency 1 original, 7 replacement, 8 void; status submitted, replaced or voided."""

    __tablename__ = "claims"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    claim_ref: Mapped[str] = mapped_column(String(38), unique=True)
    payer: Mapped[str] = mapped_column(String(32))
    month: Mapped[str] = mapped_column(String(7))
    child_id: Mapped[str] = mapped_column(String(255))
    staff_id: Mapped[str] = mapped_column(String(255))
    frequency: Mapped[str] = mapped_column(String(1))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), nullable=True)
    original_ref: Mapped[str | None] = mapped_column(String(50), nullable=True)
    payer_claim_number: Mapped[str | None] = mapped_column(String(50), nullable=True)
    #: REF*G1: the prior authorization number of the claim's service plan
    prior_auth: Mapped[str | None] = mapped_column(String(50), nullable=True)
    place_of_service: Mapped[str] = mapped_column(String(2))
    diagnoses: Mapped[list] = mapped_column(JSON)
    subscriber: Mapped[dict] = mapped_column(JSON)
    rendering: Mapped[dict] = mapped_column(JSON)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    status: Mapped[str] = mapped_column(String(16))
    __table_args__ = (Index("ix_claims_batch", "batch_id"), Index("ix_claims_month", "payer", "month"))


class ClaimLineRow(Base):
    __tablename__ = "claim_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    number: Mapped[int] = mapped_column(Integer)
    service_date: Mapped[dt.date] = mapped_column(Date)
    procedure: Mapped[str] = mapped_column(String(16))
    modifiers: Mapped[str] = mapped_column(String(32))
    place_of_service: Mapped[str] = mapped_column(String(2))
    units: Mapped[int] = mapped_column(Integer)
    rate: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    pointers: Mapped[list] = mapped_column(JSON)
    __table_args__ = (Index("ix_claim_lines_claim", "claim_id"),)


class LineContact(Base):
    """Which contact (and which version of its row) went on which claim line."""

    __tablename__ = "line_contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("claim_lines.id"))
    contact_id: Mapped[str] = mapped_column(String(255))
    row_hash: Mapped[str] = mapped_column(String(64))
    service_date: Mapped[str] = mapped_column(String(32))
    plan_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    units: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    __table_args__ = (Index("ix_line_contacts_contact", "contact_id"), Index("ix_line_contacts_line", "line_id"))


class BilledContact(Base):
    """A contact currently on a submitted claim: the primary key makes billing it twice impossible."""

    __tablename__ = "billed_contacts"
    contact_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    line_contact_id: Mapped[int] = mapped_column(ForeignKey("line_contacts.id"))
    __table_args__ = (Index("ix_billed_contacts_claim", "claim_id"),)


class CostReportRow(Base):
    """An issued CB-496 report of a quarter; never changed afterwards (a revision is a new row)."""

    __tablename__ = "cost_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quarter: Mapped[str] = mapped_column(String(8))
    revision: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[dt.date] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    rule_packs: Mapped[list] = mapped_column(JSON)
    lines: Mapped[list] = mapped_column(JSON)
    files: Mapped[dict] = mapped_column(JSON)  # file name -> sha256
    __table_args__ = (UniqueConstraint("quarter", "revision", name="uq_cost_reports_revision"),)


class CostReportItem(Base):
    """One contact's (or cost's) figure in an issued report."""

    __tablename__ = "cost_report_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("cost_reports.id"))
    kind: Mapped[str] = mapped_column(String(16))
    row: Mapped[str] = mapped_column(String(32))
    quarter: Mapped[str] = mapped_column(String(8))
    contact_id: Mapped[str] = mapped_column(String(255))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    federal: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)  # the contact's row: path/contacts.csv:line
    rule_versions: Mapped[str] = mapped_column(Text)
    #: the program's service category and its rating on the service date (a contact's item; empty for a cost
    #: line or an item recorded before they were)
    category: Mapped[str] = mapped_column(String(32), server_default="")
    rating: Mapped[str] = mapped_column(String(32), server_default="")
    __table_args__ = (
        Index("ix_cost_report_items_report", "report_id"),
        Index("ix_cost_report_items_contact", "contact_id"),
    )


class ResponseRow(Base):
    """A payer's response file as received: a 999, TA1, 277CA or 835, recorded once (by its SHA-256)."""

    __tablename__ = "responses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sender: Mapped[str] = mapped_column(String(15))
    control: Mapped[str] = mapped_column(String(9))
    #: what the file says beside its acks and claims: an 835's payment, trace and provider adjustments
    summary: Mapped[dict] = mapped_column(JSON)


class BatchAck(Base):
    """A 999's (or TA1's) answer for one batch: accepted, rejected or partly accepted."""

    __tablename__ = "batch_acks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"))
    status: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(8))
    #: the transaction sets rejected (ST02) and the errors given for them
    detail: Mapped[dict] = mapped_column(JSON)
    __table_args__ = (Index("ix_batch_acks_batch", "batch_id"),)


class ClaimEvent(Base):
    """What a response says of one claim: a 999 or 277CA accepted or rejected it; an 835 paid, partly paid,
    denied or reversed it (with the payer's claim control number and the amounts)."""

    __tablename__ = "claim_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    payer_claim_number: Mapped[str] = mapped_column(String(50))
    charged: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    paid: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    patient_responsibility: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    #: claim-level adjustments ([group, reason, amount, quantity]) and remark codes
    detail: Mapped[dict] = mapped_column(JSON)
    __table_args__ = (Index("ix_claim_events_claim", "claim_id"), Index("ix_claim_events_response", "response_id"))


class LinePayment(Base):
    """An 835 service line, posted to the 837P line its REF*6R names."""

    __tablename__ = "line_payments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("claim_events.id"))
    line_id: Mapped[int] = mapped_column(ForeignKey("claim_lines.id"))
    charged: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    paid: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    units: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    adjustments: Mapped[list] = mapped_column(JSON)
    remarks: Mapped[list] = mapped_column(JSON)
    __table_args__ = (Index("ix_line_payments_event", "event_id"), Index("ix_line_payments_line", "line_id"))


class LedgerEntry(Base):
    """Append-only, hash-chained record of everything recorded: imports, runs, batches, cost reports.

    Each entry holds a digest of the rows it vouches for (and the SHA-256 of the files written), the hash
    of the entry before it, and its own hash.  Database triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "ledger"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class CompletedRun(Base):
    """A ``peerbill run`` that finished with nothing else recorded in the store while it ran: what it was run
    on, the ledger's head when it ended, and the outputs it left.

    A later run of the same month on the same inputs finds its month unchanged here (see
    :mod:`peerbill.jobs.unchanged`) instead of judging it again.  It is a record of work done, not of
    anything billed: the ledger does not vouch for it, and without it a run only judges the month again.
    """

    __tablename__ = "completed_runs"
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    #: SHA-256 of what the run was given: bundle files, rule files, peerbill's own files, month, as-of, usage
    inputs_key: Mapped[str] = mapped_column(String(64))
    #: the ledger's head when the run ended: what it recorded was the last thing recorded
    ledger_head: Mapped[str] = mapped_column(String(64))
    out_dir: Mapped[str] = mapped_column(Text)
    #: each output's path under out_dir -> its SHA-256
    outputs: Mapped[dict] = mapped_column(JSON)
    #: the run's summary as printed, and whether it found data errors (its exit status 1)
    lines: Mapped[list] = mapped_column(JSON)
    data_errors: Mapped[bool] = mapped_column(Boolean)
    __table_args__ = (Index("ix_completed_runs_month", "month"),)
