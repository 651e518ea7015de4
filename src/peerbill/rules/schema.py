"""The schema of a rule pack, validated with pydantic on load.

A pack file holds a header (``id``, ``version``, ``title``, ``payer`` or
``role: routing``) and a list of ``versions``.  Each version states the date
range it is in force (``effective_from`` .. ``effective_to``, both included)
and the rules; a version inherits every top-level key it does not set from
the version before it, so a rate change is a version that lists ``rates``
only.  Everything a check needs -- codes, rates, caps, lists, dates -- lives
here; the engine only knows the *kinds* of check below.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..model.fields import Text
from ..model.records import Activity, Modality, Service, SettingName


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Rating = Literal["promising", "supported", "well_supported", "does_not_meet"]
ReasonCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
#: a HCPCS or CPT code, written into the 837P as it is: five letters or digits (never an X12 delimiter)
ProcedureCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{5}$")]
#: a procedure modifier: two letters or digits
ModifierCode = Annotated[str, Field(pattern=r"^[A-Z0-9]{2}$")]


# --------------------------------------------------------------------------- checks


class CheckRule(Strict):
    """Common to every check: a stable rule id and the public source it encodes."""

    if TYPE_CHECKING:
        check: str  # each kind of check names itself (a Literal of its own)

    id: str = Field(min_length=1)
    source: str | None = None
    description: str | None = None
    reason: ReasonCode | None = None

    @property
    def failure_code(self) -> str:
        return self.reason or self._defaults()[0]

    @property
    def note_code(self) -> str | None:
        return self._defaults()[1]

    @classmethod
    def _defaults(cls) -> tuple[str, str | None]:
        kind: str = cls.model_fields["check"].default
        return DEFAULT_REASONS[kind]


class ActivityBillable(CheckRule):
    check: Literal["activity_billable"] = "activity_billable"
    not_billable: list[Activity]


class EligibilityRule(CheckRule):
    check: Literal["eligibility"] = "eligibility"
    payer: str | None = Field(None, description="eligibility.csv payer key; default: the pack's payer")


class ExcludedSetting(CheckRule):
    check: Literal["excluded_setting"] = "excluded_setting"
    settings: list[SettingName] = Field(min_length=1)


class CategoryRange(Strict):
    from_: str = Field(alias="from", pattern=r"^[A-Z][0-9]{2}$")
    to: str = Field(pattern=r"^[A-Z][0-9]{2}$")

    def contains(self, category: str) -> bool:
        return self.from_ <= category <= self.to

    def expand(self) -> set[str]:
        """Every three-character category in the range, e.g. F01 .. F69."""
        out = set()
        for letter in range(ord(self.from_[0]), ord(self.to[0]) + 1):
            for n in range(100):
                cat = f"{chr(letter)}{n:02d}"
                if self.contains(cat):
                    out.add(cat)
        return out


class QualifyingDiagnosis(CheckRule):
    check: Literal["qualifying_diagnosis"] = "qualifying_diagnosis"
    categories: list[CategoryRange] = Field(min_length=1)

    def category_set(self) -> frozenset[str]:
        cached = self.__dict__.get("_category_set")
        if cached is None:
            cached = frozenset().union(*(r.expand() for r in self.categories))
            self.__dict__["_category_set"] = cached
        return cached


class ServicePlanRule(CheckRule):
    check: Literal["service_plan"] = "service_plan"


class DiagnosisLink(CheckRule):
    check: Literal["diagnosis_link"] = "diagnosis_link"


class CredentialRule(CheckRule):
    check: Literal["credential"] = "credential"
    credentials: list[str] = Field(min_length=1)


class ActivityCovered(CheckRule):
    check: Literal["activity_covered"] = "activity_covered"
    not_covered: list[Activity]


class ModalityAllowed(CheckRule):
    check: Literal["modality_allowed"] = "modality_allowed"
    not_allowed: dict[Service, list[Modality]]


class GroupSize(CheckRule):
    check: Literal["group_size"] = "group_size"
    maximum: int = Field(ge=1)


class MinimumDuration(CheckRule):
    """Passes when the contact lasts at least the version's ``units.minimum_minutes``."""

    check: Literal["minimum_duration"] = "minimum_duration"


class NoteSigned(CheckRule):
    check: Literal["note_signed"] = "note_signed"


class NoteDeadline(CheckRule):
    check: Literal["note_deadline"] = "note_deadline"
    days: int = Field(ge=0, description="the note may be signed at most this many days after the service date")


class GoalLinked(CheckRule):
    check: Literal["goal_linked"] = "goal_linked"


class TimelyFiling(CheckRule):
    check: Literal["timely_filing"] = "timely_filing"
    days: int = Field(ge=1)
    warn_days: int | None = Field(None, ge=0, description="note when fewer days than this are left")


class Overlap(CheckRule):
    check: Literal["overlap"] = "overlap"
    same_group_exempt: bool = True


class DailyCap(CheckRule):
    check: Literal["daily_cap"] = "daily_cap"
    units: int = Field(ge=1, description="per child, per procedure (any modifiers), per date")


class Authorization(CheckRule):
    check: Literal["authorization"] = "authorization"


class PreventionPlanRule(CheckRule):
    check: Literal["prevention_plan"] = "prevention_plan"


class CandidacyRule(CheckRule):
    """The child is one Title IV-E prevention may serve on the date (SSA 471(e)(2)): a candidate is at
    imminent risk of entering foster care, so not in it; a pregnant or parenting youth is in it."""

    check: Literal["candidacy"] = "candidacy"
    foster_care: list[SettingName] = Field(
        ["foster_care"], min_length=1, description="the settings.csv settings that are foster care"
    )
    not_in_care_reason: ReasonCode = Field(
        "NOT_IN_FOSTER_CARE", description="the reason when a pregnant or parenting youth is not in foster care"
    )


class PreventionPeriod(CheckRule):
    check: Literal["prevention_period"] = "prevention_period"
    months: int = Field(12, ge=1)
    last_day: Literal["day_before_anniversary", "anniversary"] = "day_before_anniversary"


class ProgramInPlan(CheckRule):
    check: Literal["program_in_plan"] = "program_in_plan"


class ProgramApproved(CheckRule):
    check: Literal["program_approved"] = "program_approved"
    ratings: list[Rating] = Field(min_length=1)


class ClaimPeriod(CheckRule):
    check: Literal["claim_period"] = "claim_period"
    quarters: int = Field(
        8, ge=1, description="claims are due by the end of this many quarters after the expenditure quarter"
    )


DEFAULT_REASONS: dict[str, tuple[str, str | None]] = {
    "activity_billable": ("ACTIVITY_NOT_BILLABLE", None),
    "eligibility": ("NOT_MEDICAID_ELIGIBLE", None),
    "excluded_setting": ("CHILD_IN_EXCLUDED_SETTING", None),
    "qualifying_diagnosis": ("NO_QUALIFYING_DIAGNOSIS", None),
    "service_plan": ("NO_SERVICE_PLAN", None),
    "diagnosis_link": ("DIAGNOSIS_NOT_LINKED", None),
    "credential": ("STAFF_NOT_CREDENTIALED", None),
    "activity_covered": ("ACTIVITY_NOT_COVERED", None),
    "modality_allowed": ("MODALITY_NOT_ALLOWED", None),
    "group_size": ("GROUP_TOO_LARGE", None),
    "minimum_duration": ("BELOW_MINIMUM_DURATION", None),
    "note_signed": ("NOTE_UNSIGNED", None),
    "note_deadline": ("NOTE_LATE", None),
    "goal_linked": ("NO_GOAL_LINKED", None),
    "timely_filing": ("TIMELY_FILING_EXPIRED", "FILING_DEADLINE_NEAR"),
    "overlap": ("OVERLAPPING_CONTACT", None),
    "daily_cap": ("DAILY_UNIT_CAP", "UNITS_REDUCED_BY_CAP"),
    "authorization": ("AUTH_UNITS_EXHAUSTED", "UNITS_REDUCED_BY_AUTH"),
    "prevention_plan": ("NO_PREVENTION_PLAN", None),
    "candidacy": ("CHILD_IN_FOSTER_CARE", None),
    "prevention_period": ("OUTSIDE_PREVENTION_PERIOD", None),
    "program_in_plan": ("PROGRAM_NOT_IN_PLAN", None),
    "program_approved": ("PROGRAM_NOT_APPROVED", None),
    "claim_period": ("CLAIM_PERIOD_EXPIRED", None),
}

Check = Annotated[
    ActivityBillable
    | EligibilityRule
    | ExcludedSetting
    | QualifyingDiagnosis
    | ServicePlanRule
    | DiagnosisLink
    | CredentialRule
    | ActivityCovered
    | ModalityAllowed
    | GroupSize
    | MinimumDuration
    | NoteSigned
    | NoteDeadline
    | GoalLinked
    | TimelyFiling
    | Overlap
    | DailyCap
    | Authorization
    | PreventionPlanRule
    | CandidacyRule
    | PreventionPeriod
    | ProgramInPlan
    | ProgramApproved
    | ClaimPeriod,
    Field(discriminator="check"),
]

#: check kinds that need a record another check found; skipped (not listed) when it is missing
NEEDS_RECORD = {
    "diagnosis_link": "service_plan",
    "authorization": "service_plan",
    "prevention_period": "prevention_plan",
    "program_in_plan": "prevention_plan",
}

#: bundle files each check kind reads (a missing file is a configuration error)
NEEDS_FILE = {
    "eligibility": "eligibility.csv",
    "excluded_setting": "settings.csv",
    "qualifying_diagnosis": "diagnoses.csv",
    "diagnosis_link": "diagnoses.csv",
    "service_plan": "service_plans.csv",
    "authorization": "service_plans.csv",
    "prevention_plan": "prevention_plans.csv",
}


# --------------------------------------------------------------------------- money and units


class Units(Strict):
    """How minutes become billable units."""

    minutes_per_unit: int = Field(ge=1)
    round_up_from: int | None = Field(
        None,
        ge=1,
        description="a remainder of at least this many minutes adds a unit (midpoint rule: 8); null = whole units only",
    )
    minimum_minutes: int = Field(ge=1, description="shorter contacts fail minimum_duration")
    source: str | None = None

    @model_validator(mode="after")
    def _sane(self) -> Units:
        if self.round_up_from is not None and self.round_up_from >= self.minutes_per_unit:
            raise ValueError("round_up_from must be less than minutes_per_unit")
        return self

    def of(self, minutes: int) -> int:
        if minutes <= 0:
            return 0
        whole, rest = divmod(minutes, self.minutes_per_unit)
        if self.round_up_from is not None and rest >= self.round_up_from:
            whole += 1
        return whole


class Condition(Strict):
    """All given fields must match.  ``group`` is true when group_size > 1."""

    child_present: bool | None = None
    group: bool | None = None
    modality: list[Modality] | Modality | None = None
    activity: list[Activity] | Activity | None = None
    service: list[Service] | Service | None = None


class ModifierRule(Strict):
    id: str | None = None
    when: Condition
    add: ModifierCode
    source: str | None = None


class Rate(Strict):
    """A price per unit; the first entry that matches the line is used."""

    procedure: ProcedureCode | None = None
    program: str | None = None
    with_modifier: ModifierCode | None = None
    per_unit: Decimal = Field(ge=0, decimal_places=2)
    source: str | None = None


class ReasonClasses(Strict):
    """How routing reads each failure: coverage (try the next payer), lapse, held; notes do not fail."""

    coverage: list[ReasonCode] = []
    lapse: list[ReasonCode] = []
    held: list[ReasonCode] = []
    note: list[ReasonCode] = []

    @model_validator(mode="after")
    def _disjoint(self) -> ReasonClasses:
        seen: dict[str, str] = {}
        for cls in ("coverage", "lapse", "held", "note"):
            for code in getattr(self, cls):
                if code in seen:
                    raise ValueError(f"{code} is listed as both {seen[code]} and {cls}")
                seen[code] = cls
        return self

    def class_of(self, code: str) -> str | None:
        for cls in ("coverage", "lapse", "held", "note"):
            if code in getattr(self, cls):
                return cls
        return None


# --------------------------------------------------------------------------- Title IV-E program data


class DatedRating(Strict):
    from_: dt.date = Field(alias="from")
    to: dt.date | None = None
    rating: Rating
    source: str | None = None


class Span(Strict):
    from_: dt.date = Field(alias="from")
    to: dt.date | None = None
    source: str | None = None

    def covers(self, day: dt.date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)


#: the service categories of SSA 471(e)(1) and kinship navigator programs (SSA 474(a)(7)), as a pack assigns them
ServiceCategory = Literal["mental_health", "substance_use", "in_home_parent_skill_based", "kinship_navigator"]


class ProgramModel(Strict):
    name: Text = Field(min_length=1, description="the program's name (printable text: the reports carry it)")
    category: ServiceCategory | None = Field(
        None,
        description=(
            "the program's service category: mental_health, substance_use, in_home_parent_skill_based "
            "(SSA 471(e)(1)) or kinship_navigator (claimed on the kinship navigator line, at its federal share)"
        ),
    )
    ratings: list[DatedRating] = []
    state_plan: list[Span] = Field([], description="dates the program is in the state's approved prevention plan")

    def rating_on(self, day: dt.date) -> str | None:
        current = None
        for r in sorted(self.ratings, key=lambda r: r.from_):
            if r.from_ <= day and (r.to is None or day <= r.to):
                current = r.rating
        return current

    def in_state_plan(self, day: dt.date) -> bool:
        return any(s.covers(day) for s in self.state_plan)


class HoursRange(Strict):
    """Hours a month, at least ``min`` and at most ``max`` (either may be left open)."""

    min: Decimal | None = Field(None, ge=0)
    max: Decimal | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> HoursRange:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError("max is below min")
        return self


class PracticeNorm(Strict):
    """What a program's practice model asks of its staff, which coverage compares the month's work with."""

    hours_per_family_month: HoursRange | None = Field(
        None, description="hours a staff member spends with each family in a month"
    )
    families_per_staff_max: int | None = Field(
        None, ge=1, description="families one staff member serves in a month, at most"
    )
    source: str = Field(min_length=1, description="where the norm is published")

    @model_validator(mode="after")
    def _something(self) -> PracticeNorm:
        if self.hours_per_family_month is None and self.families_per_staff_max is None:
            raise ValueError("a practice norm needs hours_per_family_month, families_per_staff_max or both")
        return self


class ShareRate(Strict):
    """A federal share for service dates in [from, to]: a fixed rate, or the state's FMAP."""

    from_: dt.date = Field(alias="from")
    to: dt.date | None = None
    rate: Decimal | None = Field(None, ge=0, le=1)
    basis: Literal["fixed", "fmap"] = "fixed"
    source: str | None = None

    @model_validator(mode="after")
    def _rate_or_fmap(self) -> ShareRate:
        if (self.basis == "fixed") == (self.rate is None):
            raise ValueError("give a rate for basis fixed, and no rate for basis fmap")
        return self

    def covers(self, day: dt.date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)


class FederalShare(Strict):
    services: list[ShareRate]
    administration: list[ShareRate] = []
    training: list[ShareRate] = []
    kinship_navigator: list[ShareRate] = []
    fmap: dict[int, Decimal] = Field({}, description="the state's FMAP by federal fiscal year")
    source: str | None = None

    def rate(self, category: str, day: dt.date, fiscal_year: int) -> Decimal | None:
        """The federal share for ``category`` (services, administration, ...) of spending dated ``day``."""
        for entry in getattr(self, category):
            if entry.covers(day):
                return entry.rate if entry.basis == "fixed" else self.fmap.get(fiscal_year)
        return None


class WellSupportedMinimum(Strict):
    first_fiscal_year: int
    last_fiscal_year: int | None = None
    minimum_share: Decimal | None = Field(None, ge=0, le=1, description="null = no minimum (waived)")
    counts: list[Rating] = []
    source: str | None = None


class Expenditure(Strict):
    """Which date puts a service's spending in a quarter: the service date, or the date the
    provider was paid (45 CFR 95.13(b)) from the bundle's optional payments.csv."""

    quarter_basis: Literal["service_date", "payment_date"] = "service_date"
    source: str | None = None


# --------------------------------------------------------------------------- versions and packs


class Denial(Strict):
    """What a claim adjustment reason code (CARC) on an 835 means for the contacts it denies: ``coverage``, the
    payer does not cover them (judged for the next payer: Title IV-E as payer of last resort); ``fixable``, they
    bill once ``fix`` is done (a replacement); ``lapse``, they will not bill (timely filing)."""

    carc: str = Field(pattern=r"^[A-Z0-9]{1,5}$")
    class_: Literal["coverage", "fixable", "lapse"] = Field(alias="class")
    says: str = Field(min_length=1, description="what the code says, in plain words")
    fix: str | None = Field(None, description="what to do, for a fixable denial")


class Denials(Strict):
    codes: list[Denial] = []
    source: str | None = None

    def of(self, carc: str) -> Denial | None:
        found = self.__dict__.get("_by_code")
        if found is None:
            found = self.__dict__["_by_code"] = {d.carc: d for d in self.codes}
        return found.get(carc)


class Version(Strict):
    label: str = Field(min_length=1)
    effective_from: dt.date
    effective_to: dt.date | None = None
    source: str | None = None
    # routing packs
    payer_order: list[str] | None = None
    #: program key -> its practice norm (coverage's caseload and intensity); the state's, so in the routing pack
    practice_norms: dict[str, PracticeNorm] = {}
    # payer packs
    units: Units | None = None
    procedures: dict[Service, ProcedureCode] = {}
    modifiers: list[ModifierRule] = []
    rates: list[Rate] = []
    checks: list[Check] = []
    reason_classes: ReasonClasses = ReasonClasses()
    programs: dict[str, ProgramModel] = {}
    federal_share: FederalShare | None = None
    well_supported_minimum: list[WellSupportedMinimum] = []
    expenditure: Expenditure = Expenditure()
    denials: Denials = Denials()

    @model_validator(mode="after")
    def _dates(self) -> Version:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        ids = [c.id for c in self.checks]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule ids repeat: {', '.join(dupes)}")
        return self

    def check_of(self, kind: str) -> CheckRule | None:
        """The first check of this kind in the version, if any."""
        by_kind = self.__dict__.get("_by_kind")
        if by_kind is None:
            by_kind = {}
            for rule in self.checks:
                by_kind.setdefault(rule.check, rule)
            self.__dict__["_by_kind"] = by_kind
        return by_kind.get(kind)

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def rate_for(self, procedure: str | None, program: str | None, modifiers: tuple[str, ...]) -> Rate | None:
        for rate in self.rates:
            if rate.procedure is not None and rate.procedure != procedure:
                continue
            if rate.program is not None and rate.program != program:
                continue
            if rate.with_modifier is not None and rate.with_modifier not in modifiers:
                continue
            return rate
        return None


class Pack(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    version: str = Field(min_length=1)
    title: str
    role: Literal["routing", "payer", "medicaid_837p", "iv_e_prevention"] = Field(
        "payer",
        description="routing: the payer order and the checks before any payer; medicaid_837p: a payer billed on "
        "X12 837P claims; iv_e_prevention: Title IV-E prevention, claimed on the CB-496 cost report; payer: a "
        "payer of another kind (a pack without a role is recognised by what it holds, see RuleSet.payers_in_role)",
    )
    payer: str | None = Field(None, pattern=r"^[a-z0-9_]+$")
    source: str | None = None
    reasons: dict[ReasonCode, str] = Field({}, description="explanations of reason codes this pack adds")
    versions: list[Version] = Field(min_length=1)

    @field_validator("versions")
    @classmethod
    def _contiguous(cls, versions: list[Version]) -> list[Version]:
        for before, after in pairwise(versions):
            if before.effective_to is None:
                raise ValueError(f"version {before.label!r} is open-ended but {after.label!r} follows it")
            if after.effective_from <= before.effective_to:
                raise ValueError(f"versions {before.label!r} and {after.label!r} overlap")
            if after.effective_from != before.effective_to + dt.timedelta(days=1):
                raise ValueError(
                    f"versions {before.label!r} and {after.label!r} leave a gap "
                    f"({before.effective_to + dt.timedelta(days=1)} .. {after.effective_from - dt.timedelta(days=1)})"
                )
        return versions

    @model_validator(mode="after")
    def _role(self) -> Pack:
        for v in self.versions:
            routing_only = [c.id for c in v.checks if c.check == "activity_billable"]
            if self.role == "routing":
                if not v.payer_order:
                    raise ValueError(f"version {v.label!r}: a routing pack needs payer_order")
                others = [c.id for c in v.checks if c.check != "activity_billable"]
                if others:
                    raise ValueError(
                        f"version {v.label!r}: a routing pack runs only activity_billable checks, "
                        f"not {', '.join(others)}"
                    )
                continue
            if v.practice_norms:
                raise ValueError(f"version {v.label!r}: practice_norms belong in the routing pack")
            if routing_only:
                raise ValueError(
                    f"version {v.label!r}: activity_billable belongs in the routing pack ({', '.join(routing_only)})"
                )
            if self.payer is None:
                raise ValueError("a payer pack needs payer")
            if v.units is None:
                raise ValueError(f"version {v.label!r}: a payer pack needs units")
            for code in self.emitted_codes(v):
                if v.reason_classes.class_of(code) is None:
                    raise ValueError(
                        f"version {v.label!r}: reason {code} is not in reason_classes (coverage, lapse, held or note)"
                    )
            for procedure in v.procedures.values() or [None]:
                if not any(r.procedure == procedure and r.with_modifier is None and r.program is None for r in v.rates):
                    what = f"procedure {procedure}" if procedure else "contacts (no procedure)"
                    raise ValueError(f"version {v.label!r}: no catch-all rate for {what}")
        return self

    @staticmethod
    def emitted_codes(version: Version) -> list[str]:
        codes: list[str] = []
        for c in version.checks:
            codes.extend(x for x in (c.failure_code, c.note_code) if x)
        return codes
