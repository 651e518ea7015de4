"""Coverage as coverage.csv, a self-contained coverage.html (inline SVG, sortable tables) and terminal lines."""

from __future__ import annotations

import calendar
import heapq
import html
from collections.abc import Iterator, Sequence
from decimal import Decimal
from operator import itemgetter
from pathlib import Path

from ..model.verdict import STATUSES
from ..outputs import csvout, files
from ..reasons import BILLING_OFFICE, STAFF
from ..rules.schema import PracticeNorm
from .figures import PACE_WEEKS, Coverage, Tally

COLUMNS = (
    "section",
    "key",
    "contacts",
    "billable",
    "held",
    "not_billable",
    "rejected",
    "hours",
    "billable_hours",
    "potential_dollars",
    "billable_dollars",
    "at_risk_dollars",
    "share_contacts",
    "share_hours",
    "share_dollars",
    "note",
    "label",
    "program",
    "families",
    "families_below",
    "families_inside",
    "families_above",
    "owner",
)
COLORS = {"billable": "#2e7d32", "held": "#f9a825", "not_billable": "#c62828", "rejected": "#6d6d6d"}
GROUP_TITLES = {
    "payer": "By payer",
    "program": "By program",
    "service": "By service",
    "staff": "By staff member",
    "child": "By child",
}


def _hours(minutes: int) -> str:
    return f"{Decimal(minutes) / 60:.1f}"


def tally_row(section: str, key: str, t: Tally, label: str = "") -> tuple:
    """A group's row of coverage.csv; ``label``: its key in words (a staff member's name)."""
    sums = t.sums
    return (
        section,
        key,
        t.total_contacts,
        *sums[0:4],
        _hours(sum(sums[4:8])),
        _hours(sums[4]),
        f"{sum(sums[8:12], Decimal('0')):.2f}",
        f"{sums[8]:.2f}",
        f"{t.at_risk:.2f}",
        t.share("contacts"),
        t.share("minutes"),
        t.share("dollars"),
        "",
        label,
        "",
        "",
        "",
        "",
        "",
        "",
    )


_COLUMN_AT = {c: i for i, c in enumerate(COLUMNS)}
#: the cells of a group's HTML table, taken from its CSV row (:func:`tally_row`) by column name
_GROUP_CELLS = itemgetter(
    *(
        _COLUMN_AT[c]
        for c in (
            "key",
            "contacts",
            "billable",
            "held",
            "not_billable",
            "rejected",
            "share_contacts",
            "share_hours",
            "share_dollars",
            "billable_dollars",
            "at_risk_dollars",
        )
    )
)


def _row(section: str, key: str, **values) -> tuple:
    """A CSV row built by column name; columns not given are empty."""
    unknown = values.keys() - _COLUMN_AT.keys()
    assert not unknown, unknown
    row = [section, key] + [""] * (len(COLUMNS) - 2)
    for name, value in values.items():
        row[_COLUMN_AT[name]] = value
    return tuple(row)


def rows(cov: Coverage) -> Iterator[tuple]:
    """coverage.csv's rows, made as they are written: a statewide month has a row per child."""
    yield tally_row("overall", cov.month, cov.overall)
    names = cov.staff_names
    for group in GROUP_TITLES:
        for key in sorted(cov.groups[group]):
            yield tally_row(group, key, cov.groups[group][key], names.get(key, "") if group == "staff" else "")
    for code, (n, dollars) in ranked_reasons(cov):
        yield _row(
            "reason", code, contacts=n, at_risk_dollars=f"{dollars:.2f}", label=cov.reason_labels.get(code, code)
        )
    for h in cov.held:
        note = (
            f"{h['days_left']} days left (until {h['deadline']}); release: {h['release']}"
            if h["deadline"]
            else h["release"]
        )
        yield (
            _row(
                "held",
                h["contact_id"],
                contacts=1,
                billable=0,
                held=1,
                not_billable=0,
                rejected=0,
                potential_dollars=f"{h['potential']:.2f}",
                billable_dollars="0.00",
                at_risk_dollars=f"{h['potential']:.2f}",
                note=note,
                owner=owner_of(h, cov.staff_names),
            )
        )
    for a in cov.authorizations:
        yield (
            _row(
                "authorization",
                a["plan_id"],
                note=f"child {a['child_id']} auth {a['auth_number'] or '-'}: {a['used']} of {a['authorized']} "
                f"units used, {a['left']} left; {forecast_text(a)}",
            )
        )
    for c in cov.caps:
        yield (
            _row(
                "daily_cap",
                c["contact_id"],
                contacts=1,
                note=f"child {c['child_id']} on {c['service_date']}: units {c['effect']} by the daily cap",
            )
        )
    yield from caseload_rows(cov)
    for m in cov.trend:
        yield (
            _row(
                "trend",
                str(m["month"]),
                contacts=m["contacts"],
                billable=m["billable"],
                billable_dollars=m["billable_amount"],
                at_risk_dollars=m.get("at_risk", ""),
                share_contacts=m["share"],
                note=(
                    f"run {m['run']}; billed {m.get('billed', '0.00')}, paid {m.get('paid', '0.00')}, denied or "
                    f"adjusted {m.get('denied', '0.00')}, outstanding {m.get('outstanding', '0.00')}"
                ),
            )
        )


def owner_of(held: dict, names: dict[str, str]) -> str:
    """Who can release a held contact, in words: its staff member by name and id, or the billing office."""
    if held["owner"] != STAFF:
        return BILLING_OFFICE
    staff_id = held["staff_id"] or "unknown"
    return f"{names[staff_id]} ({staff_id})" if staff_id in names else staff_id


def queue(cov: Coverage) -> list[tuple[str, list[dict]]]:
    """The month's held contacts by who can release them (the billing office first, then each staff member by
    name), each group soonest deadline first: the work queue."""
    groups: dict[str, list[dict]] = {}
    for h in cov.held:
        groups.setdefault(owner_of(h, cov.staff_names), []).append(h)
    return sorted(groups.items(), key=lambda kv: (kv[0] != BILLING_OFFICE, kv[0]))


def forecast_text(a: dict) -> str:
    """An authorisation's pace and when it runs out, in words."""
    pace = f"{a['pace']} units a week"
    ends = f"the plan ends {a['plan_end']}" if a["plan_end"] else "the plan has no end date"
    if a["left"] <= 0:
        return f"{pace}; used up ({ends})"
    if a["runs_out"] is None:
        return f"{pace}; does not run out at that pace ({ends})"
    when = "before" if a["before_end"] else "after"
    return f"{pace}; runs out {a['runs_out']}, {when} {ends.replace('the plan ends', 'the plan ends on')}"


def norm_text(norm: PracticeNorm) -> str:
    """A practice norm in words: ``7-10 hours a family a month; at most 15 families a staff member``."""
    parts = []
    hours = norm.hours_per_family_month
    if hours is not None:
        if hours.min is not None and hours.max is not None:
            parts.append(f"{hours.min:g}-{hours.max:g} hours a family a month")
        elif hours.min is not None:
            parts.append(f"at least {hours.min:g} hours a family a month")
        else:
            parts.append(f"at most {hours.max:g} hours a family a month")
    if norm.families_per_staff_max is not None:
        parts.append(f"at most {norm.families_per_staff_max} families a staff member")
    return "; ".join(parts)


def program_shares(cov: Coverage) -> dict[str, tuple[int, int]]:
    """Each program with a norm: its families inside the norm's hours, and all its families (a family counted
    once for each staff member who served it)."""
    out: dict[str, list[int]] = {program: [0, 0] for program in sorted(cov.norms)}
    for c in cov.caseloads:
        entry = out[c.program]
        entry[0] += c.counts["inside"]
        entry[1] += len(c.families)
    return {program: (inside, total) for program, (inside, total) in out.items()}


def _percent(part: int, whole: int) -> str:
    return f"{Decimal(100 * part) / whole:.1f}" if whole else "0.0"


def caseload_rows(cov: Coverage) -> Iterator[tuple]:
    """coverage.csv's caseload rows: a row per program with a norm (``caseload_program``), per staff member and
    program (``caseload``), and per family a staff member served (``family``)."""
    for program, (inside, total) in program_shares(cov).items():
        yield _row(
            "caseload_program",
            program,
            families=total,
            families_inside=inside,
            program=program,
            note=f"norm: {norm_text(cov.norms[program])}; source: {cov.norms[program].source}",
        )
    for c in cov.caseloads:
        counts = c.counts
        over = f"over the norm's {c.norm.families_per_staff_max} families; " if c.over_caseload else ""
        yield _row(
            "caseload",
            c.staff_id,
            label=cov.staff_names.get(c.staff_id, ""),
            program=c.program,
            hours=_hours(c.minutes),
            families=len(c.families),
            families_below=counts["below"],
            families_inside=counts["inside"],
            families_above=counts["above"],
            note=f"{over}norm: {norm_text(c.norm)}",
        )
    for c in cov.caseloads:
        for family, minutes in c.families:
            yield _row(
                "family",
                family,
                program=c.program,
                hours=_hours(minutes),
                families=1,
                note=f"staff {c.staff_id}: {c.position(minutes)} the norm's hours",
            )


def ranked_reasons(cov: Coverage) -> list[tuple[str, tuple[int, Decimal]]]:
    return sorted(
        ((code, (n, d)) for code, (n, d) in cov.reasons.items()), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0])
    )


def write_csv(cov: Coverage, path: Path) -> None:
    """coverage.csv: every row of :func:`rows`."""
    with files.replacing(path) as f:
        w = csvout.writer(f)
        w.writerow(COLUMNS)
        w.writerows(rows(cov))


def terminal(cov: Coverage) -> list[str]:
    o = cov.overall
    out = [
        f"coverage {cov.month} (as of {cov.as_of}): {o.total_contacts} contacts, "
        f"{o.share('contacts')}% of contacts, {o.share('minutes')}% of hours and "
        f"{o.share('dollars')}% of potential dollars bill",
        f"  {'':<24}{'contacts':>9}{'billable':>9}{'held':>7}{'not':>7}{'rej':>6}{'share $':>9}{'at risk $':>12}",
    ]
    for group in ("payer", "service", "program", "staff"):
        for key in sorted(cov.groups[group]):
            r = tally_row(group, key, cov.groups[group][key])
            share = f"{r[14]}%"
            out.append(f"  {group + ' ' + key:<24}{r[2]:>9}{r[3]:>9}{r[4]:>7}{r[5]:>7}{r[6]:>6}{share:>9}{r[11]:>12}")
    out.append("  reasons by dollars at risk: " + ", ".join(f"{c} ${d:,.2f}" for c, (n, d) in ranked_reasons(cov)[:6]))
    if cov.held:
        h = cov.held[0]
        out.append(
            f"  {len(cov.held)} held; soonest deadline: {h['contact_id']} "
            f"with {h['days_left']} days left ({h['release']})"
        )
    return out


def _svg_bar(parts: list[tuple[str, float, str]], width: int = 600, height: int = 28) -> str:
    total = sum(v for _, v, _ in parts) or 1
    x, out = 0.0, []
    for label, value, color in parts:
        w = width * value / total
        out.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{color}"><title>{html.escape(label)}: '
            f"{value:g}</title></rect>"
        )
        x += w
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="share by status" '
        f'preserveAspectRatio="none">{"".join(out)}</svg>'
    )


def _svg_trend(trend: list[dict], key: str, title: str, shown: str, width: int = 260, height: int = 120) -> str:
    """A small bar chart of one figure of the trend's months, oldest first: each bar labelled with its month and
    titled with its value (shown when pointed at), the latest value in the heading."""
    values = [None if m.get(key) in (None, "") else float(Decimal(str(m[key]))) for m in trend]
    top = max((v for v in values if v is not None), default=0) or 1
    slot = width / max(len(values), 1)
    bars = []
    for i, (m, value) in enumerate(zip(trend, values)):
        x = i * slot + slot * 0.15
        label = html.escape(str(m["month"]))
        if value is not None:  # a month whose run recorded no such figure has no bar
            h = (height - 30) * value / top
            bars.append(
                f'<rect x="{x:.1f}" y="{height - 16 - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                f'fill="#2e7d32"><title>{label}: {html.escape(shown.format(value))}</title></rect>'
            )
        bars.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 3}" font-size="10" text-anchor="middle">'
            f"{calendar.month_abbr[int(label[5:7])]}</text>"
        )
    latest = html.escape(shown.format(values[-1])) if values and values[-1] is not None else "no figure"
    return (
        f'<figure class="chart"><figcaption>{html.escape(title)}: <b>{latest}</b></figcaption>'
        f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{html.escape(title)} by month">'
        f"{''.join(bars)}</svg></figure>"
    )


#: what joins a row's cells while they are escaped together: a text of a bundle holds no control character
_CELLS = "\x1f"


def _table(table_id: str, header: list[str], body: list[list], numeric: set[int]) -> str:
    head = "".join(f'<th scope="col" data-col="{i}">{html.escape(h)}</th>' for i, h in enumerate(header))
    opens = [f"<td{' class=num' if i in numeric else ''}>" for i in range(len(header))]
    lines = []
    for cells in body:
        # a row's cells escaped in one pass rather than one by one (a state's children and held contacts fill
        # large tables), unless a cell holds the separator
        texts = html.escape(_CELLS.join([c if type(c) is str else str(c) for c in cells])).split(_CELLS)
        if len(texts) != len(cells):
            texts = [html.escape(str(c)) for c in cells]
        lines.append("<tr>" + "".join([o + t + "</td>" for o, t in zip(opens, texts)]) + "</tr>")
    return (
        f'<div class="scroll"><table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table></div>"
    )


CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:16px;color:#1b1b1b}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{flex:1 1 160px;border:1px solid #ddd;border-radius:8px;padding:10px}
.kpi b{display:block;font-size:1.6em}.kpi span{color:#555;font-size:.9em}
.legend span{display:inline-block;margin-right:14px;font-size:.9em}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9em}th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}th{cursor:pointer;background:#f5f5f5;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
.muted{color:#666;font-size:.9em}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{flex:1 1 220px;margin:0}.chart figcaption{font-size:.9em;color:#333}
td.bar{background:linear-gradient(90deg,#f4c7c3 var(--w),transparent var(--w));min-width:12em}
@media print{th{position:static}.scroll{overflow:visible}body{max-width:none}}
@media (max-width:600px){body{padding:8px;font-size:14px}.kpi b{font-size:1.3em}}
"""

SORT_JS = """
function sortBy(th,asc){var table=th.closest('table'),body=table.tBodies[0],col=+th.dataset.col;
table.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort')});th.setAttribute('aria-sort',asc?'ascending':'descending');
var rows=Array.prototype.slice.call(body.rows);rows.sort(function(a,b){var x=a.cells[col].textContent,y=b.cells[col].textContent;
var nx=parseFloat(x.replace(/[$,%]/g,'')),ny=parseFloat(y.replace(/[$,%]/g,''));
var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c});rows.forEach(function(r){body.appendChild(r)})}
document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){
sortBy(th,th.getAttribute('aria-sort')!=='ascending')})});
var m=/sort=([\\w-]+):(\\d+):(asc|desc)/.exec(location.hash);
if(m){var th=document.querySelector('#'+m[1]+' th[data-col="'+m[2]+'"]');if(th)sortBy(th,m[3]==='asc')}
"""


#: the rows a detail table of the page shows at most: a statewide month has a row per child, which no browser
#: opens usefully; coverage.csv has every row
PAGE_ROWS = 200


def _capped(rows: Sequence, limit: int, what: str) -> tuple[list, str]:
    """The first ``limit`` of ``rows`` (in the order given), and the sentence that says so when rows were left out."""
    return list(rows[:limit]), _left_out(limit, len(rows), what)


def _left_out(limit: int, total: int, what: str) -> str:
    """The sentence that says a table shows ``limit`` of its ``total`` rows (empty when it shows them all)."""
    if total <= limit:
        return ""
    return (
        f'<p class="muted">The {limit:,} of {total:,} rows {what}; <a href="coverage.csv">coverage.csv</a> has '
        "every row.</p>"
    )


def _caseload_section(cov: Coverage, limit: int) -> list[str]:
    """Caseload and intensity: each program's share of families inside its norm, and each staff member's families
    against it, those furthest from it first."""
    if not cov.norms:
        return []
    out = [
        "<h2>Caseload and intensity against practice norms</h2>",
        '<p class="muted">A family is the caregiver a contact names (the child when it names none), counted once '
        "for each staff member who served it; its hours are all its contacts of the program with that staff "
        "member this month, whatever their verdict.</p>",
    ]
    for program, (inside, total) in program_shares(cov).items():
        norm = cov.norms[program]
        out.append(
            f'<p><b data-figure="norm-share-{html.escape(program)}">{_percent(inside, total)}%</b> of '
            f"{html.escape(program)}'s {total} families had the hours its norm asks ({html.escape(norm_text(norm))})"
            f'. <span class="muted">Source: {html.escape(norm.source)}</span></p>'
        )

    def distance(c) -> tuple:
        counts = c.counts
        return (-(counts["below"] + counts["above"] + (1000 if c.over_caseload else 0)), c.program, c.staff_id)

    shown = heapq.nsmallest(limit, cov.caseloads, key=distance)
    body = []
    for c in shown:
        counts, name = c.counts, cov.staff_names.get(c.staff_id)
        most = c.norm.families_per_staff_max
        body.append(
            [
                f"{name} ({c.staff_id})" if name else c.staff_id,
                c.program,
                len(c.families),
                most if most is not None else "",
                "over" if c.over_caseload else "",
                counts["below"],
                counts["inside"],
                counts["above"],
                _hours(c.minutes),
            ]
        )
    out += [
        _left_out(limit, len(cov.caseloads), "furthest from the norm"),
        _table(
            "caseloads",
            [
                "staff",
                "program",
                "families",
                "at most",
                "caseload",
                "below hours",
                "inside hours",
                "above hours",
                "hours",
            ],
            body,
            {2, 3, 5, 6, 7, 8},
        ),
    ]
    return out


def _reasons_table(cov: Coverage) -> str:
    """The reasons, most dollars at risk first: each in words with its code as the cell's title, and a bar of its
    dollars against the first's drawn behind it (text, not a drawing: it wraps on a phone's narrow screen)."""
    ranked = ranked_reasons(cov)
    top = max((d for _, (_, d) in ranked), default=Decimal(0)) or Decimal(1)
    lines = []
    for code, (n, dollars) in ranked:
        width = f"{100 * dollars / top:.1f}"
        label = html.escape(cov.reason_labels.get(code, code))
        lines.append(
            f'<tr><td class="bar" style="--w:{width}%" title="{html.escape(code)}" data-code="{html.escape(code)}">'
            f"{label}</td><td class=num>{n}</td><td class=num>{dollars:.2f}</td></tr>"
        )
    head = "".join(
        f'<th scope="col" data-col="{i}">{h}</th>' for i, h in enumerate(("reason", "contacts", "dollars at risk"))
    )
    return (
        f'<div class="scroll"><table class="sortable" id="reasons" aria-label="dollars at risk by reason">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table></div>"
    )


def write_html(cov: Coverage, path: Path, limit: int = PAGE_ROWS) -> None:
    """coverage.html: the tables by group show the figures of coverage.csv's rows.  Each detail table shows
    at most ``limit`` rows: those with the most dollars at risk (held contacts: the soonest deadlines), with
    a line that says so."""
    o = cov.overall
    at_risk = o.dollars["held"] + o.dollars["not_billable"] + o.dollars["rejected"]
    kpis = [
        ("overall-share-contacts", f"{o.share('contacts')}%", "of contacts bill"),
        ("overall-share-hours", f"{o.share('minutes')}%", "of hours bill"),
        ("overall-share-dollars", f"{o.share('dollars')}%", "of potential dollars bill"),
        ("overall-billable-dollars", f"${o.dollars['billable']:,.2f}", "billable"),
        ("overall-at-risk-dollars", f"${at_risk:,.2f}", "at risk (held, not billable, rejected)"),
    ]
    parts = [
        f'<div class="kpi"><b data-figure="{k}">{html.escape(v)}</b><span>{html.escape(t)}</span></div>'
        for k, v, t in kpis
    ]
    bar = _svg_bar([(s.replace("_", " "), o.contacts[s], COLORS[s]) for s in STATUSES])
    legend = "".join(
        f'<span><i style="background:{COLORS[s]}"></i>{s.replace("_", " ")} {o.contacts[s]}</span>' for s in STATUSES
    )
    sections = [
        f"<h1>Billable coverage, {cov.month}</h1>",
        f'<p class="muted">As of {cov.as_of}. {o.total_contacts} contacts judged. Potential dollars: what a '
        f"contact would earn if it billed.</p>",
        f'<div class="kpis">{"".join(parts)}</div>',
        "<h2>Contacts by status</h2>",
        bar,
        f'<p class="legend">{legend}</p>',
    ]
    sections += [
        "<h2>Reasons, ranked by dollars at risk</h2>",
        '<p class="muted">A contact that fails for several reasons counts under each of them. Each reason is '
        "its rule pack's words; its code shows when pointed at (coverage.csv has both).</p>",
        _reasons_table(cov),
    ]
    for group, title in GROUP_TITLES.items():
        tallies = cov.groups[group]
        if len(tallies) > limit:  # the rows with the most at risk, found without a row made for each
            keys = heapq.nsmallest(limit, tallies, key=lambda k: (-tallies[k].at_risk, k))
        else:
            keys = sorted(tallies)
        names = cov.staff_names if group == "staff" else {}
        body = [
            [
                f"{names[key]} ({key})" if key in names else key,
                n,
                billable,
                held,
                not_billable,
                rejected,
                f"{contacts}%",
                f"{hours}%",
                f"{dollars}%",
                billable_usd,
                at_risk_usd,
            ]
            for key, n, billable, held, not_billable, rejected, contacts, hours, dollars, billable_usd, at_risk_usd in (
                _GROUP_CELLS(tally_row(group, k, tallies[k])) for k in keys
            )
        ]
        note = _left_out(limit, len(tallies), "with the most dollars at risk")
        sections += [
            f"<h2>{title}</h2>",
            note,
            _table(
                f"by-{group}",
                [
                    group,
                    "contacts",
                    "billable",
                    "held",
                    "not billable",
                    "rejected",
                    "% contacts",
                    "% hours",
                    "% dollars",
                    "billable $",
                    "at risk $",
                ],
                body,
                set(range(1, 11)),
            ),
        ]
    sections += _caseload_section(cov, limit)
    held, held_note = _capped(cov.held, limit, "with the soonest filing deadline")
    auths, auth_note = _capped(cov.authorizations, limit, "that run out first")
    caps, caps_note = _capped(cov.caps, limit, "first")
    owners = queue(cov)
    work = [(who, len(items), sum((h["potential"] for h in items), Decimal(0)), items[0]) for who, items in owners]
    if len(work) > limit:  # a state's staff: those with the most dollars to release
        work = heapq.nsmallest(limit, work, key=lambda w: (-w[2], w[0]))
    sections += [
        "<h2>Work queue: who can release the held contacts</h2>",
        '<p class="muted">The staff member who logged a contact fixes its own row (a note to sign, a goal to '
        "link, times or dates to correct); the billing office fixes the rest (plans, authorisations, eligibility, "
        "reference rows, what a claim needs, a payer's denial). peerbill queue lists each one.</p>",
        _left_out(limit, len(owners), "with the most dollars to release"),
        _table(
            "queue",
            ["who", "held contacts", "dollars to release", "soonest deadline", "days left"],
            [
                [
                    who,
                    n,
                    f"{dollars:.2f}",
                    first["deadline"] or "",
                    "" if first["days_left"] is None else first["days_left"],
                ]
                for who, n, dollars, first in work
            ],
            {1, 2, 4},
        ),
        "<h2>Held contacts, soonest filing deadline first</h2>",
        held_note,
        _table(
            "held",
            [
                "contact",
                "date",
                "payer",
                "staff",
                "child",
                "days left",
                "deadline",
                "potential $",
                "what releases it",
                "who",
            ],
            [
                [
                    h["contact_id"],
                    h["service_date"],
                    h["payer"],
                    h["staff_id"],
                    h["child_id"],
                    h["days_left"],
                    h["deadline"],
                    f"{h['potential']:.2f}",
                    h["release"],
                    owner_of(h, cov.staff_names),
                ]
                for h in held
            ],
            {5, 7},
        ),
    ]
    sections += [
        "<h2>Authorisations, those that run out first first</h2>",
        f'<p class="muted">Pace: units a week over the last {PACE_WEEKS} weeks to the end of the month (or the '
        "as-of date), this month's and what earlier batches billed; over the month's own days when no earlier "
        "batch billed the plan in those weeks. It runs out on the day the units left are used at that pace.</p>",
        auth_note,
        _table(
            "authorizations",
            [
                "plan",
                "child",
                "authorisation",
                "authorised",
                "used",
                "left",
                "units a week",
                "runs out",
                "plan ends",
                "before the plan ends",
            ],
            [
                [
                    a["plan_id"],
                    a["child_id"],
                    a["auth_number"] or "",
                    a["authorized"],
                    a["used"],
                    a["left"],
                    a["pace"],
                    a["runs_out"] or "",
                    a["plan_end"] or "",
                    "yes" if a["before_end"] else "",
                ]
                for a in auths
            ],
            {3, 4, 5, 6},
        ),
    ]
    sections += [
        "<h2>Daily caps hit</h2>",
        caps_note,
        _table(
            "caps",
            ["contact", "child", "date", "effect"],
            [[c["contact_id"], c["child_id"], c["service_date"], c["effect"]] for c in caps],
            set(),
        ),
    ]
    if cov.trend:
        sections += [
            "<h2>Trend (months in the store)</h2>",
            '<div class="charts">',
            _svg_trend(cov.trend, "share", "billable share of contacts", "{:.1f}%"),
            _svg_trend(cov.trend, "billable_amount", "billable dollars", "${:,.0f}"),
            _svg_trend(cov.trend, "at_risk", "dollars at risk", "${:,.0f}"),
            _svg_trend(cov.trend, "paid", "paid dollars", "${:,.0f}"),
            _svg_trend(cov.trend, "denied", "denied or adjusted dollars", "${:,.0f}"),
            "</div>",
            _table(
                "trend",
                [
                    "month",
                    "contacts",
                    "billable",
                    "% contacts",
                    "billable $",
                    "at risk $",
                    "billed $",
                    "paid $",
                    "denied $",
                    "outstanding $",
                ],
                [
                    [
                        t["month"],
                        t["contacts"],
                        t["billable"],
                        f"{t['share']}%",
                        t["billable_amount"],
                        t.get("at_risk", ""),
                        t.get("billed", "0.00"),
                        t.get("paid", "0.00"),
                        t.get("denied", "0.00"),
                        t.get("outstanding", "0.00"),
                    ]
                    for t in cov.trend
                ],
                {1, 2, 3, 4, 5, 6, 7, 8, 9},
            ),
        ]
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width,initial-scale=1"><title>peerbill coverage {cov.month}</title>'
        f"<style>{CSS}</style></head><body>{''.join(sections)}<script>{SORT_JS}</script></body></html>\n"
    )
    files.write_text(path, page)
