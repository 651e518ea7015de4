"""One small pure function per kind of check.  A pack's version lists which run, in which order."""

from collections.abc import Callable
from typing import Any

from ..model.records import Contact
from . import coverage, documentation, prevention, timing, units
from .case import Case, Outcome, PriorUsage, RunState
from .routing import activity_billable

#: a check of a payer's: (its rule, the contact's case) -> a failure, a note, or None when it passes
PayerCheck = Callable[[Any, Case], Outcome | None]
#: a check before any payer: (its rule, the contact) -> why the contact is not billable, or None
PreCheck = Callable[[Any, Contact], str | None]

PAYER_CHECKS: dict[str, PayerCheck] = {
    "eligibility": coverage.eligibility,
    "excluded_setting": coverage.excluded_setting,
    "qualifying_diagnosis": coverage.qualifying_diagnosis,
    "service_plan": coverage.service_plan,
    "diagnosis_link": coverage.diagnosis_link,
    "credential": coverage.credential,
    "activity_covered": coverage.activity_covered,
    "modality_allowed": coverage.modality_allowed,
    "group_size": coverage.group_size,
    "minimum_duration": documentation.minimum_duration,
    "note_signed": documentation.note_signed,
    "note_deadline": documentation.note_deadline,
    "goal_linked": documentation.goal_linked,
    "timely_filing": timing.timely_filing,
    "claim_period": timing.claim_period,
    "overlap": timing.overlap,
    "daily_cap": units.daily_cap,
    "authorization": units.authorization,
    "prevention_plan": prevention.prevention_plan,
    "candidacy": prevention.candidacy,
    "prevention_period": prevention.prevention_period,
    "program_in_plan": prevention.program_in_plan,
    "program_approved": prevention.program_approved,
}

PRE_CHECKS: dict[str, PreCheck] = {"activity_billable": activity_billable}

__all__ = ["PAYER_CHECKS", "PRE_CHECKS", "Case", "Outcome", "PriorUsage", "RunState"]
