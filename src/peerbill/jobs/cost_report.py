"""The cost-report job: judge the quarter and the quarters it may adjust, compute the CB-496 figures, write
them, and record the report as issued."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..bundle import Bundle
from ..calendar import FiscalQuarter
from ..checks import PriorUsage
from ..costreport.children import prevention_children
from ..costreport.figures import (
    Claimed,
    Report,
    ShareMissing,
    build_report,
    claim_window,
    may_report,
    open_quarters,
)
from ..costreport.render import (
    build_prevention_children_xml,
    build_xml,
    line_values,
    write_children,
    write_csv,
    write_detail,
    write_prevention_children,
)
from ..engine import Judge
from ..log import logger
from ..model.verdict import Verdict
from ..outputs.files import out_folder, write_atomically
from ..rules import RulePackError, RuleSet
from ..rules.loader import PackError
from ..rules.schema import Version
from ..runtime import Sinks, judge_rows
from ..store import Store
from ..store.costreports import claimed_so_far, current_by_row, first_reported, issued_revision, record_report
from .denials import with_denials
from .month import Month, load_rules, read, read_agency

#: the files a cost report writes, each recorded with its digest
OUTPUT_FILES = (
    "cb496.csv",
    "cb496.xml",
    "cb496-detail.csv",
    "children.csv",
    "prevention-children.csv",
    "prevention-children.xml",
)
#: quarters back a report may adjust when the prevention pack sets no claim period (45 CFR 95.7: two years)
ADJUSTABLE_QUARTERS = 8


@dataclass
class JudgedMonth:
    """A month a job of the same command judged already (``run``: bill's verdicts), with the prior usage it used."""

    month: str
    prior: PriorUsage
    verdicts: list[Verdict]
    #: the batches that job recorded of the month (their contacts are all the month's)
    batches: tuple[int, ...] = ()


def reusable(judged: JudgedMonth | None, month: str, prior: PriorUsage) -> list[Verdict] | None:
    """``judged``'s verdicts when judging ``month`` with ``prior`` would give the same figures, else None.

    Same bundle, rules and as-of date, so a verdict can only differ through the units billed
    earlier for contacts outside the run (the caps), and through the ALREADY_BILLED note a billed
    contact gets; the report reads no notes of billable verdicts.  So when the daily and
    authorization units match, the verdicts' statuses, payers, units, amounts and plans match.
    """
    if judged is None or judged.month != month:
        return None
    if judged.prior.daily != prior.daily or judged.prior.auth != prior.auth:
        return None
    return judged.verdicts


class ReportIssued(Exception):
    """The quarter's report was issued already; a new one must be an explicit revision."""


class NoPreventionPack(LookupError):
    """The rule packs hold no Title IV-E prevention pack with federal shares in force for the quarter."""


@dataclass
class CostReportResult:
    quarter: str
    revision: int
    status: str
    report_id: int | None
    files: dict[str, str]
    lines: list[tuple]
    footers: dict
    #: costs.csv rows refused, each as file:row column: why
    refused: list[str] = field(default_factory=list)


def cost_report(
    data_dir: Path,
    quarter_text: str,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: dt.date,
    store: Store,
    *,
    revise: bool = False,
    draft: bool = False,
) -> CostReportResult:
    """``peerbill cost-report``: issue (record) a quarter's report, or with ``draft`` only write what it would
    say now."""
    quarter = FiscalQuarter.parse(quarter_text)
    issued = _issued(store, quarter, revise, draft)
    rules = load_rules(rules_dir)
    return _report(data_dir, read(data_dir, rules), rules, quarter, out_dir, as_of, store, issued, draft)


def draft_after(month: Month, verdicts: list[Verdict], batches: tuple[int, ...], out_dir: Path) -> CostReportResult:
    """The draft report of ``month``'s quarter, after the month was judged (``verdicts``) and billed (``batches``)
    in the same command: its bundle and rules, and its verdicts where they would be the same."""
    assert month.store is not None, "a cost report reads what earlier reports claimed from the store"
    quarter = FiscalQuarter.parse(month.month)
    issued = _issued(month.store, quarter, revise=False, draft=True)
    judged = JudgedMonth(month.month, month.prior, verdicts, batches)
    return _report(
        month.data_dir, month.bundle, month.rules, quarter, out_dir, month.as_of, month.store, issued, True, judged
    )


def _issued(store: Store, quarter: FiscalQuarter, revise: bool, draft: bool) -> int:
    """The quarter's latest revision issued (0: none); an error when a new one would be issued unasked."""
    issued = issued_revision(store, str(quarter))
    if issued and not revise and not draft:
        raise ReportIssued(f"{quarter} was issued already (revision {issued}); issue a revised report with --revise")
    return issued


def _report(
    data_dir: Path,
    bundle: Bundle,
    rules: RuleSet,
    quarter: FiscalQuarter,
    out_dir: Path,
    as_of: dt.date,
    store: Store,
    issued: int,
    draft: bool,
    judged_already: JudgedMonth | None = None,
) -> CostReportResult:
    """Judge the quarter and the quarters it may adjust (each month as its own run, or ``judged_already``'s
    verdicts), compute the report, write its files, and record it unless it is a ``draft``."""
    agency = read_agency(data_dir)
    payer = rules.payer_in_role("iv_e_prevention")
    version = rules.payers[payer].on(quarter.first_day) if payer is not None else None
    if payer is None or version is None or version.federal_share is None:
        raise NoPreventionPack(
            "no Title IV-E prevention pack (role: iv_e_prevention) with federal shares is in force on "
            f"{quarter.first_day}"
        )
    window = claim_window(version) or ADJUSTABLE_QUARTERS
    claimed = claimed_so_far(store, str(quarter))
    # the quarters a report may claim or adjust upwards, and older ones with claims, which a correction may
    # still lower: a refund of an overclaim is never time-barred (45 CFR 95.7 limits claims)
    quarters = {quarter - back for back in range(window + 1)}
    quarters |= {FiscalQuarter.parse(c.quarter) for c in claimed.values()}
    months = [m for q in sorted(quarters) if not quarter < q for m in q.months]
    by_month = bundle.months()
    judged_ids = set().union(*(by_month.ids(m) for m in months))
    # The batches the job before recorded of a month judged here hold contacts judged here only: they add
    # nothing to the units of contacts not judged, and only the contacts they hold to the billed ones, which
    # the judge asks about for a contact of theirs only, of that month.  So while that month's verdicts are
    # reused, its batches need not be read back.
    skip = judged_already.batches if judged_already is not None and judged_already.month in months else ()
    prior, duplicates = store.prior_usage(judged_ids, except_batches=skip), bundle.duplicate_lines()
    if skip and judged_already is not None and reusable(judged_already, judged_already.month, prior) is None:
        prior = store.prior_usage(judged_ids)  # the month is judged again: with every batch
    # a contact Medicaid denied for coverage is judged for Title IV-E, the payer of last resort
    prior = with_denials(prior, store, rules, judged_ids)
    verdicts: dict[str, Verdict] = {}  # those the report may make items of
    judged = reused = 0
    for month in months:
        rows = by_month.rows(month)
        if not rows:
            continue
        kept = reusable(judged_already, month, prior)
        if kept is not None:
            reused += len(kept)
            again: Iterable[Verdict | None] = kept
        else:
            judge = Judge(bundle.reference, rules, as_of, prior, duplicates)  # each month is judged as its own run
            again = (v for _, v in judge_rows(rows, judge, Sinks(keep=True)))
        for v in again:
            assert v is not None, "kept verdicts"
            if v.status != "rejected":  # only an id's first row can be: a later one is a duplicate, rejected
                judged += 1
                if may_report(v, claimed, payer):
                    verdicts.setdefault(v.contact_id, v)
    try:
        report = _figures(bundle, rules, payer, quarter, version, verdicts, claimed, agency.address.state, store)
    except ShareMissing as exc:
        pack = rules.payers[payer].loaded
        key = f"federal_share.fmap.{exc.quarter.fiscal_year}" if exc.fmap else f"federal_share.{exc.category}"
        raise RulePackError(
            [
                PackError(
                    pack.file,
                    None,
                    key,
                    f"{exc}: the {quarter} report needs it; fill it in (the state's FMAP for the fiscal year is "
                    "published in the Federal Register)"
                    if exc.fmap
                    else f"{exc}: the {quarter} report needs it",
                )
            ]
        ) from None
    report.state_tribe = agency.state_tribe_agreement
    revision = issued + 1
    status = "draft" if draft else "issued"
    out = out_folder(out_dir)
    opened = open_quarters(quarter, as_of, window)
    write_csv(report, revision, status, as_of, opened, out / "cb496.csv")
    write_atomically(out / "cb496.xml", build_xml(report, revision, status, as_of, opened))
    write_detail(report, out / "cb496-detail.csv")
    write_children(report, bundle.reference, out / "children.csv")
    records = prevention_children(quarter, verdicts.values(), payer, bundle.reference, version, as_of)
    write_prevention_children(records, out / "prevention-children.csv")
    write_atomically(out / "prevention-children.xml", build_prevention_children_xml(report, records, as_of))
    files = {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in OUTPUT_FILES}
    lines = line_values(report)
    packs = rules.records()
    contacts_file = str((Path(data_dir) / "contacts.csv").resolve())
    report_id = None if draft else record_report(store, report, revision, as_of, packs, lines, files, contacts_file)
    logger.info(
        "cost report %s revision %d %s: %d contacts judged over %d months (%d verdicts reused)",
        quarter,
        revision,
        status,
        judged,
        len(months),
        reused,
    )
    refused = [f"costs.csv:{r.line} quarter: {r.message}" for r in report.refused]
    return CostReportResult(str(quarter), revision, status, report_id, files, lines, report.footers, refused)


def _figures(
    bundle: Bundle,
    rules: RuleSet,
    payer: str,
    quarter: FiscalQuarter,
    version: Version,
    verdicts: dict[str, Verdict],
    claimed: dict[str, Claimed],
    state: str,
    store: Store,
) -> Report:
    """The quarter's figures (:func:`build_report`) from what the job gathered."""
    fy_quarters = [str(q) for q in (quarter - n for n in range(1, quarter.number))]
    return build_report(
        payer,
        rules.payers_in_role("medicaid_837p"),
        quarter,
        verdicts,
        bundle.row_hashes().keys(),  # every contact id of the bundle
        claimed,
        bundle.reference,
        version,
        state,
        bundle.reference.payments,
        [
            (c.quarter, c.category, c.amount, c.note or "", line)
            for c, line in zip(bundle.reference.costs, bundle.reference.cost_lines)
        ],
        current_by_row(store, [str(quarter - 1)]) or None,
        current_by_row(store, fy_quarters, ("current", "adjustment")),
        FiscalQuarter.parse(first) if (first := first_reported(store)) else None,
    )
