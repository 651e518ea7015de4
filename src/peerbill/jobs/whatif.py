"""The what-if job: a month judged under draft rule packs beside the current ones, and what would change.

Nothing is recorded: no claim, no report, no run; the store, when given, is only read (the units
earlier batches billed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..changes import HEADER, Change, by_payer, compare, table
from ..engine import judge_month
from ..outputs import csvout
from ..outputs.files import out_folder, replacing
from ..store import Store
from .denials import with_denials
from .month import load_rules, read


@dataclass
class WhatIf:
    month: str
    current: str  # the current packs' labels
    draft: str  # the draft packs'
    judged: int
    changes: list[Change]
    by_payer: dict[str, dict[str, Any]]

    @property
    def rows(self) -> list[tuple[Any, ...]]:
        """One row per change, in the order of :data:`~peerbill.changes.HEADER`."""
        return table(self.changes)


def whatif(
    draft_dir: Path,
    data_dir: Path,
    month: str,
    as_of: dt.date,
    current_dir: Path | None = None,
    store: Store | None = None,
    out_dir: Path | None = None,
) -> WhatIf:
    """``peerbill whatif``: the month judged under the packs in ``current_dir`` (default: shipped) and under those
    in ``draft_dir``; with ``out_dir``, every change written to whatif.csv there."""
    current, draft = load_rules(current_dir), load_rules(draft_dir)
    bundle = read(data_dir, current)
    ids = bundle.months().ids(month)
    prior = with_denials(store.prior_usage(ids), store, current, ids) if store is not None else None
    before, after = (
        list(judge_month(bundle.contacts, bundle.reference, rules, month, as_of, prior)) for rules in (current, draft)
    )
    found = WhatIf(month, current.label, draft.label, len(before), compare(before, after), by_payer(before, after))
    if out_dir is not None:
        with replacing(out_folder(out_dir) / "whatif.csv") as f:
            writer = csvout.writer(f)
            writer.writerow(HEADER)
            writer.writerows(found.rows)
    return found
