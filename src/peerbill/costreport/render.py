"""Writing a cost report: cb496.csv, cb496.xml (lxml), cb496-detail.csv and children.csv."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from lxml import etree

from ..model.reference import Reference
from ..outputs import csvout, files
from .figures import ESTIMATE_METHOD, ROWS, Item, Report

NS = "urn:peerbill:cb496:1"
LINE_COLUMNS = (
    "row",
    "label",
    "rate",
    "current_total",
    "current_federal",
    "adjustments_total",
    "adjustments_federal",
    "estimate_total",
    "estimate_federal",
)
#: the prior-quarter adjustments of each line by the quarter they adjust, each at that quarter's federal share
ADJUSTMENT_COLUMNS = ("row", "label", "adjusted_quarter", "adjusted_rate", "adjustments_total", "adjustments_federal")
DETAIL_COLUMNS = (
    "kind",
    "cb496_row",
    "quarter",
    "contact_id",
    "child_id",
    "candidacy",
    "prevention_plan",
    "period",
    "program",
    "rating",
    "staff_id",
    "service_date",
    "units",
    "total_computable",
    "ffp_rate",
    "federal_share",
    "reason",
)


#: (quarter, the last day to claim it, days left), as :func:`~.figures.open_quarters` gives them
OpenQuarters = list[tuple[str, dt.date, int]]


def _money(d: Decimal) -> str:
    return f"{d:.2f}"


def line_values(report: Report) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for row, label in ROWS:
        cur, adj, est = report.line(row, "current"), report.line(row, "adjustment"), report.estimates[row]
        rate = report.rate_used(row)
        out.append((row, label, "" if rate is None else str(rate), *(_money(x) for x in (*cur, *adj, *est))))
    return out


def write_csv(
    report: Report, revision: int, status: str, as_of: dt.date, open_quarters: OpenQuarters, path: Path
) -> None:
    f = report.footers
    with files.replacing(path) as handle:
        w = csvout.writer(handle)
        w.writerow(LINE_COLUMNS)
        w.writerows(line_values(report))
        w.writerow(())
        w.writerow(("item", "value"))
        for key, value in (
            ("state", report.state),
            ("quarter", str(report.quarter)),
            ("revision", revision),
            ("status", status),
            ("as_of", as_of),
            ("fmap_current_quarter", report.fmap_current or ""),
            ("fmap_next_quarter", report.fmap_next or ""),
            ("estimate_method", ESTIMATE_METHOD),
            (f"fy{f['fiscal_year']}_well_supported_share", f["well_supported_share"]),
            ("well_supported_minimum", f["well_supported_minimum"] or "none"),
            ("well_supported_counts", f["well_supported_counts"]),
            ("well_supported_result", f["well_supported_result"]),
            ("well_supported_scope", f["well_supported_scope"]),
            ("average_monthly_children_served", f["average_monthly_children"]),
        ):
            w.writerow((key, value))
        for quarter, last, days in open_quarters:
            w.writerow((f"days_left_to_claim_{quarter}", f"{days} (through {last})"))
        w.writerow(())
        w.writerow(ADJUSTMENT_COLUMNS)
        for row, label in ROWS:
            for quarter, rate, total, federal in report.adjustments_by_quarter(row):
                w.writerow((row, label, quarter, str(rate), _money(total), _money(federal)))


def build_xml(report: Report, revision: int, status: str, as_of: dt.date, open_quarters: OpenQuarters) -> bytes:
    root = etree.Element(f"{{{NS}}}cb496", nsmap={None: NS})
    root.set("state", report.state)
    root.set("quarter", str(report.quarter))
    root.set("revision", str(revision))
    root.set("status", status)
    root.set("asOf", as_of.isoformat())
    if report.fmap_current is not None:
        root.set("fmapCurrent", str(report.fmap_current))
    if report.fmap_next is not None:
        root.set("fmapNext", str(report.fmap_next))
    for row, label, rate, *amounts in line_values(report):
        line = etree.SubElement(root, f"{{{NS}}}line", id=row, label=label)
        if rate:
            line.set("rate", rate)
        for name, (total, federal) in zip(("current", "adjustments", "estimate"), zip(amounts[::2], amounts[1::2])):
            figure = etree.SubElement(line, f"{{{NS}}}{name}", total=total, federal=federal)
            if name == "adjustments":
                for quarter, q_rate, q_total, q_federal in report.adjustments_by_quarter(row):
                    etree.SubElement(
                        figure,
                        f"{{{NS}}}quarter",
                        id=quarter,
                        rate=str(q_rate),
                        total=_money(q_total),
                        federal=_money(q_federal),
                    )
    etree.SubElement(root, f"{{{NS}}}estimateMethod").text = ESTIMATE_METHOD
    footer = etree.SubElement(root, f"{{{NS}}}footer")
    f = report.footers
    ws = etree.SubElement(
        footer,
        f"{{{NS}}}wellSupportedShare",
        fiscalYear=str(f["fiscal_year"]),
        share=str(f["well_supported_share"]),
        counts=str(f["well_supported_counts"]),
        result=str(f["well_supported_result"]),
        scope=str(f["well_supported_scope"]),
    )
    if f["well_supported_minimum"] is not None:
        ws.set("minimum", str(f["well_supported_minimum"]))
    etree.SubElement(footer, f"{{{NS}}}averageMonthlyChildren").text = str(f["average_monthly_children"])
    for quarter, last, days in open_quarters:
        etree.SubElement(footer, f"{{{NS}}}openQuarter", quarter=quarter, lastDay=last.isoformat(), daysLeft=str(days))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def write_detail(report: Report, path: Path) -> None:
    with files.replacing(path) as handle:
        w = csvout.writer(handle)
        w.writerow(DETAIL_COLUMNS)
        for i in report.items:
            w.writerow(
                (
                    i.kind,
                    i.row,
                    i.quarter,
                    i.contact_id,
                    i.child_id,
                    i.candidacy,
                    i.plan_id,
                    i.period,
                    i.program,
                    i.rating,
                    i.staff_id,
                    i.service_date,
                    i.units,
                    _money(i.total),
                    i.rate,
                    _money(i.federal),
                    i.reason,
                )
            )


def write_children(report: Report, reference: Reference, path: Path) -> None:
    """Child-level prevention data: services, spending, the 12-month period, setting at its start and end."""
    by_child: dict[str, list[Item]] = {}
    for i in report.items:
        if i.kind == "current" and i.child_id:
            by_child.setdefault(i.child_id, []).append(i)
    with files.replacing(path) as handle:
        w = csvout.writer(handle)
        w.writerow(
            (
                "child_id",
                "candidacy",
                "prevention_plan",
                "period_start",
                "period_end",
                "services",
                "units",
                "total_computable",
                "federal_share",
                "programs",
                "setting_at_start",
                "setting_at_end",
            )
        )
        for child_id in sorted(by_child):
            items = by_child[child_id]
            start, _, end = items[0].period.partition("..")
            w.writerow(
                (
                    child_id,
                    items[0].candidacy,
                    items[0].plan_id,
                    start,
                    end,
                    len(items),
                    sum(i.units for i in items),
                    _money(sum((i.total for i in items), Decimal("0"))),
                    _money(sum((i.federal for i in items), Decimal("0"))),
                    ";".join(sorted({i.program for i in items})),
                    _setting(reference, child_id, start),
                    _setting(reference, child_id, end),
                )
            )


def _setting(reference: Reference, child_id: str, day: str) -> str:
    if not day:
        return ""
    d = dt.date.fromisoformat(day)
    found = [s.setting for s in reference.settings.get(child_id, ()) if s.covers(d)]
    return found[0] if found else "unknown"
