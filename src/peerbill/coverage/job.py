"""The coverage job (I/O edge): judge the month, add the store's trend, write coverage.csv and coverage.html."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..checks import PriorUsage
from ..engine import Judge
from ..log import logger
from ..pipeline import load_ruleset, prepare_out, read
from ..store.db import Store
from ..store.schema import Run
from .figures import ContactFigures, Coverage, build
from .render import rows as table_rows, write_csv, write_html

if TYPE_CHECKING:
    from ..billing import BillResult
    from ..model.verdict import Verdict


def trend(store: Store, month: str, months: int = 6) -> list[dict]:
    """The latest recorded run of each of the last ``months`` months up to ``month``."""
    year, m = int(month[:4]), int(month[5:])
    wanted = []
    for _ in range(months):
        wanted.append(f"{year:04d}-{m:02d}")
        year, m = (year - 1, 12) if m == 1 else (year, m - 1)
    out = []
    with Session(store.engine) as s:
        for key in reversed(wanted):
            run = s.scalars(select(Run).where(Run.month == key).order_by(Run.id.desc())).first()
            if run is None:
                continue
            summary = run.summary
            billable = summary["by_status"]["billable"]
            rows = summary["rows_read"]
            out.append({"month": key, "run": run.id, "contacts": rows, "billable": billable["count"],
                        "billable_amount": billable["amount"],
                        "share": f"{(100 * billable['count'] / rows) if rows else 0:.1f}"})
    return out


def coverage_month(data_dir: Path, month: str, out_dir: Path, rules_dir: Path | None, as_of: dt.date,
                   store: Store | None = None, judged_already: "BillResult | None" = None,
                   figures: ContactFigures | None = None) -> Coverage:
    """Coverage of a month; ``judged_already``: the month as ``bill`` judged it in this process (``run``), and
    ``figures`` what its verdicts added up to as they were judged (with ``judged_already`` only)."""
    assert figures is None or judged_already is not None, "figures of a month judged in this process"
    if judged_already is not None:
        bundle, rules, prior = judged_already.bundle, judged_already.rules, judged_already.prior
        rows = bundle.months().rows(month)
        verdicts: Iterable[Verdict] = judged_already.check.verdicts or []
        assert len(verdicts) == len(rows), "the verdicts are not of this month's rows"  # type: ignore[arg-type]
    else:
        rules = load_ruleset(rules_dir)
        bundle = read(data_dir, rules)
        rows = bundle.months().rows(month)
        prior = store.prior_usage(bundle.months().ids(month)) if store is not None else PriorUsage()
        judge = Judge(bundle.reference, rules, as_of, prior, bundle.duplicate_lines())
        verdicts = (judge(row) for row in rows)  # judged as build reads them: no list of a million
    cov = build(month, as_of, rows, verdicts, rules, bundle.reference, prior.auth, trend(store, month) if store else [],
                figures)
    out = prepare_out(out_dir)
    table = table_rows(cov)  # for both files
    write_csv(cov, out / "coverage.csv", table)
    write_html(cov, out / "coverage.html", table)
    logger.info("coverage of %s written: %d contacts", month, len(rows))
    return cov
