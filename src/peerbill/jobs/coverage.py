"""The coverage job: how much of a month's work bills and why the rest does not, with the store's trend,
written as coverage.csv and coverage.html."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from ..coverage.figures import ContactFigures, Coverage, build
from ..coverage.render import PAGE_ROWS, write_csv, write_html
from ..log import logger
from ..model.verdict import Verdict
from ..outputs.files import out_folder
from ..store import Store
from .month import Month, load_rules, read


def coverage(
    data_dir: Path,
    month: str,
    out_dir: Path,
    rules_dir: Path | None,
    as_of: dt.date,
    store: Store | None = None,
    page_rows: int = PAGE_ROWS,
) -> Coverage:
    """``peerbill coverage``: judge the month (with what the store's batches billed) and write its coverage; the
    page's detail tables show at most ``page_rows`` rows each."""
    m = judged_month(data_dir, month, rules_dir, as_of, store)
    judge = m.judge()
    return write(m, out_dir, (judge(row) for row in m.rows), page_rows=page_rows)  # judged as read: none kept


def judged_month(data_dir: Path, month: str, rules_dir: Path | None, as_of: dt.date, store: Store | None) -> Month:
    """The month of the bundle in ``data_dir``, to be judged with what the store's batches billed."""
    rules = load_rules(rules_dir)
    m = Month(Path(data_dir), month, as_of, rules, read(data_dir, rules), store)
    m.prior_from_store()
    return m


def coverage_of(month: Month, verdicts: Iterable[Verdict] = (), added: ContactFigures | None = None) -> Coverage:
    """Coverage of a month from its ``verdicts`` in judging order, or from the figures ``added`` up already as
    it was judged (``run``), with the store's trend."""
    trend = month.store.trend(month.month) if month.store is not None else []
    return build(
        month.month,
        month.as_of,
        month.rows,
        verdicts,
        month.rules,
        month.bundle.reference,
        month.prior.auth,
        trend,
        added,
        month.prior.auth_recent,
    )


def write(
    month: Month,
    out_dir: Path,
    verdicts: Iterable[Verdict] = (),
    figures: ContactFigures | None = None,
    page_rows: int = PAGE_ROWS,
) -> Coverage:
    """Coverage of a month from its ``verdicts`` in judging order, or from ``figures`` added up already as it
    was judged (``run``), written into ``out_dir``."""
    cov = coverage_of(month, verdicts, figures)
    out = out_folder(out_dir)
    write_csv(cov, out / "coverage.csv")
    write_html(cov, out / "coverage.html", page_rows)
    logger.info("coverage of %s written: %d contacts", month.month, len(month.rows))
    return cov
