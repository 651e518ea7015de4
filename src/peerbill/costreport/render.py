"""Writing a cost report: cb496.csv, cb496.xml (lxml), cb496-detail.csv and children.csv."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from lxml import etree

from ..model.reference import Reference
from ..outputs import csvout, files
from .children import ChildRecord
from .figures import CATEGORY_LABELS, ESTIMATE_METHOD, ROWS, STATE_TRIBE, Item, Report
from .form import COLUMN_KEYS, cb496_form

NS = "urn:peerbill:cb496:1"
#: a line: its row id, label and current federal share rate, then its six figures in the form's column order
LINE_COLUMNS = ("row", "label", "rate", *COLUMN_KEYS)
#: where each line goes on Form CB-496 Part 1 (templates/cb496-form.yaml), after the figures in cb496.csv
FORM_COLUMNS = ("form_section", "form_line", "form_line_confirmed")
#: the contacts' services by category and rating
CATEGORY_COLUMNS = (
    "category",
    "category_label",
    "rating",
    "current_total",
    "current_federal",
    "adjustments_total",
    "adjustments_federal",
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
    "category",
)


#: (quarter, the last day to claim it, days left), as :func:`~.figures.open_quarters` gives them
OpenQuarters = list[tuple[str, dt.date, int]]


def _money(d: Decimal) -> str:
    return f"{d:.2f}"


def line_values(report: Report) -> list[tuple[str, ...]]:
    """Each line of the report: row, label, rate and its six figures; the State-Tribe breakout after the
    services total (the services total when this agency provides its services under an agreement, else zero)."""
    out: list[tuple[str, ...]] = []
    for row, label in ROWS:
        cur, adj, est = report.line(row, "current"), report.line(row, "adjustment"), report.estimates[row]
        rate = report.rate_used(row)
        out.append((row, label, "" if rate is None else str(rate), *(_money(x) for x in (*cur, *adj, *est))))
        if row == "services_total":
            breakout = out[-1][2:] if report.state_tribe else ("", *(["0.00"] * 6))
            out.append((*STATE_TRIBE, *breakout))
    return out


def _form_cells(row: str) -> tuple[str, str, str]:
    line = cb496_form().lines.get(row)
    if line is None:
        return "", "", "no"
    return line.section, line.line or "", "yes" if line.confirmed else "no"


def write_csv(
    report: Report, revision: int, status: str, as_of: dt.date, open_quarters: OpenQuarters, path: Path
) -> None:
    f = report.footers
    with files.replacing(path) as handle:
        w = csvout.writer(handle)
        w.writerow((*LINE_COLUMNS, *FORM_COLUMNS))
        w.writerows((*values, *_form_cells(values[0])) for values in line_values(report))
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
            ("state_tribe_agreement", report.state_tribe or "none"),
            ("form", _form_text()),
            ("form_columns", _columns_text()),
        ):
            w.writerow((key, value))
        for quarter, last, days in open_quarters:
            w.writerow((f"days_left_to_claim_{quarter}", f"{days} (through {last})"))
        w.writerow(())
        w.writerow(ADJUSTMENT_COLUMNS)
        for row, label in ROWS:
            for quarter, rate, total, federal in report.adjustments_by_quarter(row):
                w.writerow((row, label, quarter, str(rate), _money(total), _money(federal)))
        w.writerow(())
        w.writerow(CATEGORY_COLUMNS)
        for category, rating, current, adjustments in report.by_category():
            label = CATEGORY_LABELS.get(category, category)
            w.writerow((category, label, rating, *map(_money, (*current, *adjustments))))


def _form_text() -> str:
    form = cb496_form()
    return f"{form.form}, {form.part}, revision of {form.revision} ({form.source})"


def _columns_text() -> str:
    columns = cb496_form().columns
    letters = ", ".join(f"{key} {letter}" for key, letter in columns.letters().items())
    return letters + ("" if columns.confirmed else " (column letters not confirmed from the public form)")


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
    form = cb496_form()
    form_el = etree.SubElement(
        root,
        f"{{{NS}}}form",
        name=form.form,
        revision=form.revision,
        part=form.part,
        source=form.source,
        columnsConfirmed="true" if form.columns.confirmed else "false",
    )
    for key, letter in form.columns.letters().items():
        etree.SubElement(form_el, f"{{{NS}}}column", figure=key, letter=letter)
    for row, label, rate, *amounts in line_values(report):
        line = etree.SubElement(root, f"{{{NS}}}line", id=row, label=label)
        if rate:
            line.set("rate", rate)
        section, number, confirmed = _form_cells(row)
        line.set("formSection", section)
        if number:
            line.set("formLine", number)
        line.set("formLineConfirmed", "true" if confirmed == "yes" else "false")
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
    categories = etree.SubElement(root, f"{{{NS}}}categories")
    for category, rating, current, adjustments in report.by_category():
        cell = etree.SubElement(
            categories,
            f"{{{NS}}}category",
            id=category,
            label=CATEGORY_LABELS.get(category, category),
            rating=rating or "unrated",
        )
        etree.SubElement(cell, f"{{{NS}}}current", total=_money(current[0]), federal=_money(current[1]))
        etree.SubElement(cell, f"{{{NS}}}adjustments", total=_money(adjustments[0]), federal=_money(adjustments[1]))
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
    if report.state_tribe:
        etree.SubElement(footer, f"{{{NS}}}stateTribeAgreement").text = report.state_tribe
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
                    i.category,
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
    return reference.setting_on(child_id, dt.date.fromisoformat(day))


CHILD_NS = "urn:peerbill:prevention-children:1"
#: one row per child, prevention plan and program (the child's fields repeated on each)
PREVENTION_CHILD_COLUMNS = (
    "child_id",
    "prevention_plan",
    "candidacy",
    "candidacy_date",
    "period_end",
    "setting_at_start",
    "setting_at_end",
    "entered_foster_care",
    "follow_up_end",
    "program",
    "program_name",
    "category",
    "rating",
    "first_service",
    "last_service",
    "contacts",
    "units",
    "total_computable",
)


def _entered_text(r: ChildRecord) -> str:
    """A candidate's entry into foster care: its date, ``no`` once the two years are over, else ``not yet known``."""
    if r.candidacy != "candidate":
        return "not applicable"
    if r.entered_foster_care is not None:
        return r.entered_foster_care.isoformat()
    return "no" if r.follow_up_complete else "not yet known"


def write_prevention_children(records: list[ChildRecord], path: Path) -> None:
    with files.replacing(path) as handle:
        w = csvout.writer(handle)
        w.writerow(PREVENTION_CHILD_COLUMNS)
        for r in records:
            child = (
                r.child_id,
                r.plan_id,
                r.candidacy,
                r.candidacy_date,
                r.period_end,
                r.setting_at_start,
                r.setting_at_end if r.setting_at_end is not None else "period not ended",
                _entered_text(r),
                r.follow_up_end,
            )
            for s in r.services:
                w.writerow(
                    (
                        *child,
                        s.program,
                        s.name,
                        s.category,
                        s.rating,
                        s.first_date,
                        s.last_date,
                        s.contacts,
                        s.units,
                        _money(s.total),
                    )
                )


def build_prevention_children_xml(report: Report, records: list[ChildRecord], as_of: dt.date) -> bytes:
    """The records as XML, valid against templates/prevention-children.xsd."""
    root = etree.Element(f"{{{CHILD_NS}}}preventionChildren", nsmap={None: CHILD_NS})
    root.set("state", report.state)
    root.set("quarter", str(report.quarter))
    root.set("asOf", as_of.isoformat())
    for r in records:
        child = etree.SubElement(
            root,
            f"{{{CHILD_NS}}}child",
            id=r.child_id,
            plan=r.plan_id,
            candidacy=r.candidacy,
            candidacyDate=r.candidacy_date.isoformat(),
            periodEnd=r.period_end.isoformat(),
            settingAtStart=r.setting_at_start,
        )
        if r.setting_at_end is not None:
            child.set("settingAtEnd", r.setting_at_end)
        if r.candidacy == "candidate":
            follow = etree.SubElement(
                child,
                f"{{{CHILD_NS}}}fosterCareFollowUp",
                through=r.follow_up_end.isoformat(),
                complete="true" if r.follow_up_complete else "false",
            )
            if r.entered_foster_care is not None:
                follow.set("entered", r.entered_foster_care.isoformat())
        for s in r.services:
            etree.SubElement(
                child,
                f"{{{CHILD_NS}}}service",
                program=s.program,
                name=s.name,
                category=s.category,
                rating=s.rating or "unrated",
                firstDate=s.first_date.isoformat(),
                lastDate=s.last_date.isoformat(),
                contacts=str(s.contacts),
                units=str(s.units),
                total=_money(s.total),
            )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
