"""The stable reason codes and their one-line explanations (part of the public contract: codes are only ever added).

Rule packs may add codes of their own with an explanation (a pack's ``reasons``).
"""

from __future__ import annotations

ROW = {
    "INVALID_ROW": "A required value is missing or a value does not parse (dates, times, numbers, enumerations).",
    "DUPLICATE_CONTACT_ID": "The contact_id was used by an earlier row of contacts.csv; the first row is judged.",
    "UNKNOWN_CHILD": "The child_id is not in children.csv.",
    "UNKNOWN_STAFF": "The staff_id is not in staff.csv.",
    "ACTIVITY_NOT_BILLABLE": "Travel, documentation and outreach are not direct services and bill no payer.",
}

PAYER = {
    "NOT_MEDICAID_ELIGIBLE": "No Medicaid eligibility span of the child covers the service date.",
    "CHILD_IN_EXCLUDED_SETTING": "The child lives in a setting the payer excludes (e.g. residential) on the date.",
    "NO_QUALIFYING_DIAGNOSIS": "The child has no qualifying diagnosis active on the service date.",
    "NO_SERVICE_PLAN": "No service plan of the child orders this service on the date (held until one is supplied).",
    "DIAGNOSIS_NOT_LINKED": "The service plan's diagnosis is not one of the child's qualifying diagnoses on the date.",
    "STAFF_NOT_CREDENTIALED": "The staff member does not hold the required credential on the date.",
    "ACTIVITY_NOT_COVERED": "The payer does not cover this activity (e.g. court).",
    "MODALITY_NOT_ALLOWED": "The payer does not allow this modality for this service (e.g. audio-only).",
    "GROUP_TOO_LARGE": "The group is larger than the payer's maximum.",
    "BELOW_MINIMUM_DURATION": "The contact is shorter than the minimum that makes a unit.",
    "NOTE_UNSIGNED": "The contact note is not signed (held until it is).",
    "NOTE_LATE": "The contact note was signed after the payer's deadline.",
    "NO_GOAL_LINKED": "No plan goal is linked to the contact (held until one is).",
    "TIMELY_FILING_EXPIRED": "The timely-filing limit has passed for the service date.",
    "OVERLAPPING_CONTACT": (
        "The staff member has an earlier-judged contact that overlaps in time (held until corrected)."
    ),
    "DAILY_UNIT_CAP": "The child's units for this procedure already reach the daily cap on the date.",
    "UNITS_REDUCED_BY_CAP": "Note: units were reduced to what the daily cap leaves.",
    "AUTH_UNITS_EXHAUSTED": "The plan's authorised units are used up (held until a new authorisation).",
    "UNITS_REDUCED_BY_AUTH": "Note: units were reduced to what the authorisation leaves.",
    "ALREADY_BILLED": "Note: the contact is already on a submitted claim; billing skips it.",
    "NO_PREVENTION_PLAN": "The child has no Title IV-E prevention plan dated on or before the service date.",
    "CHILD_IN_FOSTER_CARE": (
        "The prevention plan names a candidate for foster care, and the child is in foster care on the date "
        "(SSA 471(e)(2))."
    ),
    "NOT_IN_FOSTER_CARE": (
        "The prevention plan names a pregnant or parenting youth, and the youth is not in foster care on the date "
        "(SSA 471(e)(2))."
    ),
    "OUTSIDE_PREVENTION_PERIOD": (
        "The service date is after the prevention plan's period: 12 months from its date, or its end date when earlier."
    ),
    "PROGRAM_NOT_IN_PLAN": "The contact's program is not listed in the prevention plan.",
    "PROGRAM_NOT_APPROVED": "The program is not in the state's plan or not rated by the Clearinghouse on the date.",
    "CLAIM_PERIOD_EXPIRED": "The two-year claiming limit after the expenditure quarter has passed.",
}

#: what holds a readable contact before any payer judges it: dates or reference data that contradict each other
HOLD = {
    "SERVICE_IN_FUTURE": "The service date is after the as-of date (held: correct the date, or judge it later).",
    "NOTE_SIGNED_BEFORE_SERVICE": "The note is signed before the service date (held until the dates are corrected).",
    "REFERENCE_CONFLICT": (
        "The child's or staff member's reference rows contradict each other (a second row with other values, "
        "overlapping eligibility with two member ids, a member id shared by two children, a payer that is not a "
        "payer key, a birth after the service); held until corrected (see problems.csv)."
    ),
    "REFERENCE_ROW_INVALID": (
        "A row of the child's eligibility, diagnoses, settings or plans could not be read and was left out; "
        "held until it is corrected (see problems.csv)."
    ),
}

#: what a claim needs of the reference data (837P), checked when the contact is judged: held until supplied
CLAIM = {
    "SUBSCRIBER_DATA_MISSING": (
        "The child's row lacks what the 837P subscriber needs (last name, birth date, address) or could not be "
        "read; held until children.csv is corrected."
    ),
    "SUBSCRIBER_DATA_INVALID": (
        "The child's member id, state or ZIP cannot be written to an 837P (missing, an X12 delimiter, "
        "non-ASCII, the wrong length); held until corrected."
    ),
    "RENDERING_DATA_MISSING": (
        "The staff member's row lacks a last name for the 837P or could not be read; held until staff.csv is corrected."
    ),
    "RENDERING_NPI_INVALID": "The staff member's NPI is missing or fails its check digit; held until corrected.",
}

ENGINE = {
    "NO_RULE_VERSION": "No version of the payer's rule pack is in force on the service date (treated as not covered).",
    "SERVICE_NOT_COVERED": "The payer's rule pack has no procedure code for this service (treated as not covered).",
    "FILING_DEADLINE_NEAR": "Note: fewer than the pack's warning days are left before the filing limit.",
    "AWAITING_ADJUDICATION": (
        "Note: a billed contact's row changed, but its claim's correction waits until an 835 gives the payer's "
        "claim number a replacement or void must cite (peerbill receive); problems.csv lists the claims."
    ),
    "DENIED_FIXABLE": (
        "The payer denied the contact's claim for a reason that can be fixed (its 835's CARC, as the pack classes "
        "it): held until the contact is corrected, when a replacement carries it; peerbill denials says what to fix."
    ),
    "DENIED_LAPSED": "The payer denied the contact's claim as filed too late (its 835's CARC): it will not bill.",
    "PAYER_DENIED": (
        "The payer denied the contact's claim for a coverage reason (recorded from its remittance advice): "
        "the contact is judged for the next payer."
    ),
}

CATALOGUE: dict[str, str] = {**ROW, **HOLD, **PAYER, **CLAIM, **ENGINE}

#: the held reasons the staff member who logged the contact fixes, in the contact's own row (a note to sign, a
#: goal to link, times or dates to correct); every other held reason (a plan, an authorisation, eligibility,
#: reference rows, an 837P's data, a payer's denial) is the billing office's to fix
FIXED_BY_STAFF = frozenset(
    {"NOTE_UNSIGNED", "NO_GOAL_LINKED", "OVERLAPPING_CONTACT", "SERVICE_IN_FUTURE", "NOTE_SIGNED_BEFORE_SERVICE"}
)
#: who fixes a held contact: its staff member, or the billing office
STAFF, BILLING_OFFICE = "staff", "billing office"


def fixed_by(codes: tuple[str, ...]) -> str:
    """Who can release a contact held for ``codes``: its staff member when every one is theirs to fix (see
    :data:`FIXED_BY_STAFF`), else the billing office, which also sees what the staff member must fix."""
    return STAFF if codes and all(code in FIXED_BY_STAFF for code in codes) else BILLING_OFFICE


def catalogue(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Every known code with its explanation; pack-added codes after the stable ones."""
    out = dict(CATALOGUE)
    for code, text in (extra or {}).items():
        out.setdefault(code, text)
    return out
