"""The records of an input bundle (the files of the README's "The input bundle"), one model per file.

Spans (eligibility, diagnoses, settings, plans, credentials) include both end
dates; ``end_date is None`` means open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args, overload

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from .fields import Code, Date, Flag, Icd10, PositiveInt, Text, Time, X12Ref, shown


def _split_keys(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return tuple(p.strip() for p in str(value).split(";") if p.strip())


KeyList = Annotated[tuple[str, ...], BeforeValidator(_split_keys)]
"""A ``;``-separated list of keys, e.g. the programs of a prevention plan."""


_R = TypeVar("_R")

# the enumerations of the contract: a field of one of these types must be one of its values (validated
# natively; the reader words the error)
Service = Literal["peer_parent_support", "peer_intervener"]
Activity = Literal[
    "individual", "family_team_meeting", "court", "group", "phone", "travel", "documentation", "outreach"
]
Modality = Literal["in_person", "video", "audio"]
SettingName = Literal["home", "kinship", "foster_care", "residential", "inpatient", "detention"]
Role = Literal["parent_partner", "peer_intervener", "youth_partner", "facilitator", "coordinator"]
Candidacy = Literal["candidate", "pregnant_parenting_youth"]
Sex = Literal["F", "M", "U"]
CostCategory = Literal["administration", "training", "kinship_navigator"]

SERVICES: tuple[str, ...] = get_args(Service)
ACTIVITIES: tuple[str, ...] = get_args(Activity)
MODALITIES: tuple[str, ...] = get_args(Modality)
SETTINGS: tuple[str, ...] = get_args(SettingName)


_CONFIG = ConfigDict(extra="ignore", str_strip_whitespace=False)

#: a reference file's record: a slotted, frozen dataclass that pydantic validates.  A month's reference rows
#: run to a million and more, and they are held while it is judged: as a model each would keep a dict of its
#: fields and a set of those given, several times the size of the values
record = dataclass(frozen=True, slots=True, config=_CONFIG)


class Record:
    """What the records of every file share."""

    __slots__ = ()

    def covers(self, day: dt.date) -> bool:
        """True when ``day`` lies in this record's span, both ends included.

        The checks a contact goes through test their records' spans in line instead (a start date is
        required there), without a call per span.
        """
        start, end = self.start_date, self.end_date  # type: ignore[attr-defined]
        return (start is None or start <= day) and (end is None or day <= end)


def _span(start: str, end: str) -> Any:
    """A validator of ``end``: a span ends on or after the day it starts (a row whose span ends first is left out)."""

    def check(cls: type, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        first = info.data.get(start)
        if value is not None and first is not None and value < first:
            raise PydanticCustomError("span", "is before {start}: the span ends before it starts", {"start": start})
        return value

    return field_validator(end)(classmethod(check))


@record
class Child(Record):
    child_id: Code
    first_name: Text | None = None
    last_name: Text | None = None
    birth_date: Date | None = None
    sex: Sex | None = None
    address_line1: Text | None = None
    city: Text | None = None
    state: Text | None = None
    zip: Text | None = None


@record
class Eligibility(Record):
    child_id: Code
    payer: Code
    member_id: Code
    start_date: Date
    end_date: Date | None = None

    _ends = _span("start_date", "end_date")


@record
class Diagnosis(Record):
    child_id: Code
    icd10: Icd10
    start_date: Date
    end_date: Date | None = None

    _ends = _span("start_date", "end_date")


@record
class Setting(Record):
    child_id: Code
    setting: SettingName
    start_date: Date
    end_date: Date | None = None

    _ends = _span("start_date", "end_date")


@record
class ServicePlan(Record):
    plan_id: Code
    child_id: Code
    service: Service
    icd10: Icd10
    start_date: Date
    end_date: Date | None = None
    authorized_units: PositiveInt | None = None
    auth_number: X12Ref | None = None

    _ends = _span("start_date", "end_date")


@record
class PreventionPlan(Record):
    plan_id: Code
    child_id: Code
    candidacy: Candidacy
    plan_date: Date
    end_date: Date | None = None
    programs: KeyList = ()

    _ends = _span("plan_date", "end_date")


@record
class Staff(Record):
    staff_id: Code
    first_name: Text | None = None
    last_name: Text | None = None
    npi: Code | None = None
    role: Role | None = None
    credential: Code | None = None
    credential_start: Date | None = None
    credential_end: Date | None = None

    _ends = _span("credential_start", "credential_end")

    def credentialed(self, credentials: Collection[str], day: dt.date) -> bool:
        return (
            self.credential in credentials
            and (self.credential_start is None or self.credential_start <= day)
            and (self.credential_end is None or day <= self.credential_end)
        )


class _Once(Generic[_R]):
    """A value of a record worked out from its fields when first asked for, and kept in the instance's
    ``__dict__`` beside the fields, where pydantic's dumps and comparisons do not look.

    As :class:`functools.cached_property`, without the lock that takes on every first use in Python 3.11.
    """

    def __init__(self, method: Callable[[Any], _R]):
        self._method, self._name = method, method.__name__
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, record: None, owner: type | None = None) -> _Once[_R]: ...

    @overload
    def __get__(self, record: object, owner: type | None = None) -> _R: ...

    def __get__(self, record: object | None, owner: type | None = None) -> _Once[_R] | _R:
        if record is None:
            return self
        value = record.__dict__[self._name] = self._method(record)
        return value


def _pos(value: object) -> str:
    text = str(value)
    if len(text) == 2 and text.isascii() and text.isdigit():
        return text
    raise PydanticCustomError("pos", "'{value}' is not a two-digit place-of-service code", {"value": shown(text)})


class Contact(BaseModel):
    contact_id: Code
    service_date: Date
    start_time: Time
    end_time: Time
    staff_id: Code
    child_id: Code
    caregiver_id: Code | None = None
    service: Service
    program: Code | None = None
    activity: Activity
    modality: Modality
    place_of_service: Annotated[str, BeforeValidator(_pos)] | None = None
    child_present: Flag
    group_id: Code | None = None
    group_size: PositiveInt = 1
    goal_id: Code | None = None
    note_signed_date: Date | None = None

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False, ignored_types=(_Once,))

    # worked out once each: the checks ask for them about six times a contact
    @_Once
    def start_minute(self) -> int:
        return self.start_time.hour * 60 + self.start_time.minute

    @_Once
    def end_minute(self) -> int:
        return self.end_time.hour * 60 + self.end_time.minute

    @_Once
    def minutes(self) -> int:
        return self.end_minute - self.start_minute


@record
class Payment(Record):
    """Optional payments.csv: when the provider was paid for a contact (the expenditure date, 45 CFR 95.13(b))."""

    contact_id: Code
    paid_date: Date


@record
class Cost(Record):
    """Optional costs.csv: Title IV-E prevention costs that are not contacts (administration, training, kinship
    navigator)."""

    quarter: Annotated[str, StringConstraints(pattern=r"^FY\d{4}Q[1-4]$")]
    category: CostCategory
    amount: Annotated[Decimal, Field(decimal_places=2)]
    note: Text | None = None


CONTACT_REQUIRED = (
    "contact_id",
    "service_date",
    "start_time",
    "end_time",
    "staff_id",
    "child_id",
    "service",
    "activity",
    "modality",
    "child_present",
)

# file name -> (model, columns in contract order)
FILES: dict[str, type[Record] | type[Contact]] = {
    "children.csv": Child,
    "eligibility.csv": Eligibility,
    "diagnoses.csv": Diagnosis,
    "settings.csv": Setting,
    "service_plans.csv": ServicePlan,
    "prevention_plans.csv": PreventionPlan,
    "staff.csv": Staff,
    "contacts.csv": Contact,
    "payments.csv": Payment,
    "costs.csv": Cost,
}


def fields_of(model: type[Record] | type[Contact]) -> dict[str, FieldInfo]:
    """The fields of a file's record, in contract order."""
    return model.__pydantic_fields__  # type: ignore[union-attr]


def columns(model: type[Record] | type[Contact]) -> tuple[str, ...]:
    """The contract's columns of a file, in contract order."""
    return tuple(fields_of(model))


def required(model: type[Record] | type[Contact]) -> tuple[str, ...]:
    """The columns a file's row cannot leave empty."""
    return tuple(n for n, f in fields_of(model).items() if f.is_required())


def validator(model: type[Record] | type[Contact]) -> Callable[[dict[str, Any]], Any]:
    """pydantic's validation of a record from its cells by column name, without a call to the class."""
    return model.__pydantic_validator__.validate_python  # type: ignore[union-attr]


def bare(model: type[_R], **values: object) -> _R:
    """A record that holds only ``values`` (unvalidated) and None elsewhere: the id of a row that could not
    be read, so that its child or staff member is known and its contacts held rather than judged."""
    made = object.__new__(model)
    for name in fields_of(model):  # type: ignore[arg-type]
        object.__setattr__(made, name, values.get(name))
    return made
