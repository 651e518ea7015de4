"""What the jobs of a month share: its bundle and rule packs, the run date, the store, what earlier batches
billed, and the processes that judge it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from .. import yamltext
from ..bundle import Bundle, BundleError, Problem
from ..bundle.rows import SourceRow
from ..checks import PriorUsage
from ..claims import envelope
from ..coverage.figures import pace_window
from ..engine import Judge
from ..model.agency import Agency
from ..rules import RuleSet, default_rules_dir
from ..runtime import Workers, read_bundle
from ..store import Store
from .denials import with_denials


def load_rules(rules_dir: Path | None) -> RuleSet:
    """The packs in ``rules_dir``, or the shipped ones."""
    return RuleSet.from_dir(Path(rules_dir) if rules_dir else default_rules_dir())


def read(data_dir: Path, rules: RuleSet, jobs: int | None = None) -> Bundle:
    """The bundle in ``data_dir``, with the files ``rules`` need; a large contacts.csv read in two processes
    unless ``jobs`` is 1."""
    return read_bundle(Path(data_dir), rules.files_needed(), split=jobs != 1)


def read_agency(data_dir: Path) -> Agency:
    """The bundle's agency.yaml: the billing provider and its payers, every value checked to be one the 837P
    can carry (:mod:`peerbill.claims.envelope`); each problem names its line and key."""
    path = Path(data_dir) / "agency.yaml"
    name = "agency.yaml"
    if not path.is_file():
        raise BundleError([Problem(name, None, None, f"is missing from {data_dir} (needed to bill)")])
    try:
        node, data = yamltext.parse(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise BundleError([Problem(name, None, None, "is not UTF-8 text; save it as UTF-8")]) from None
    except yaml.YAMLError as exc:
        line, message = yamltext.problem_of(exc)
        raise BundleError([Problem(name, line, None, message)]) from None
    lines = yamltext.line_map(node) if node is not None else {}
    try:
        agency = Agency.model_validate(data)
    except ValidationError as exc:
        raise BundleError(
            [
                Problem(
                    name,
                    yamltext.line_of(lines, tuple(e["loc"])),
                    _key(e["loc"]),
                    e["msg"].removeprefix("Value error, "),
                )
                for e in exc.errors()
            ]
        ) from None
    found = envelope.problems(agency)
    if found:
        raise BundleError([Problem(name, yamltext.line_of(lines, path_), _key(path_), why) for path_, why in found])
    return agency


def _key(path: tuple) -> str:
    """A key path as agency.yaml's problems name it: ``payers[0].payer_id``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Month:
    """A month of a bundle, judged with a set of packs as of a date."""

    data_dir: Path
    month: str
    as_of: dt.date
    rules: RuleSet
    bundle: Bundle
    #: the store the month's runs, batches and reports are recorded in (None: nothing is recorded)
    store: Store | None = None
    #: units and contacts earlier batches billed (:meth:`Store.prior_usage`)
    prior: PriorUsage = field(default_factory=PriorUsage)
    #: the processes that judge the month beside this one (--jobs; None: as many as pay)
    jobs: int | None = None
    workers: Workers | None = None

    @property
    def rows(self) -> Sequence[SourceRow]:
        """The month's contact rows, in judging order."""
        return self.bundle.months().rows(self.month)

    def ids(self) -> set[str]:
        """The contact ids of the month's rows."""
        return self.bundle.months().ids(self.month)

    def judge(self) -> Judge:
        return Judge(self.bundle.reference, self.rules, self.as_of, self.prior, self.bundle.duplicate_lines())

    def prior_from_store(self) -> None:
        """Take :attr:`prior` from the store: what its batches billed, as the month's contacts see it."""
        if self.store is not None:
            ids = self.ids()
            hashes = self.bundle.row_hashes()
            self.prior = with_denials(
                self.store.prior_usage(ids, recent_from=pace_window(self.month, self.as_of)[0]),
                self.store,
                self.rules,
                ids,
                hashes.get,
            )


@contextmanager
def open_month(
    data_dir: Path,
    month: str,
    as_of: dt.date,
    rules_dir: Path | None = None,
    *,
    store: Store | None = None,
    jobs: int | None = None,
) -> Iterator[Month]:
    """Read the bundle for ``month``: the processes that will judge a large one are forked first (see
    :class:`~peerbill.runtime.Workers`), and closed when the month is judged or this ends."""
    rules = load_rules(rules_dir)
    with Workers.for_bundle(data_dir, jobs) as workers:
        bundle = read(data_dir, rules, jobs)
        yield Month(Path(data_dir), month, as_of, rules, bundle, store, jobs=jobs, workers=workers)
