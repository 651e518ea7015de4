"""Checks of who and what a payer covers: eligibility, setting, diagnosis, plan, staff, activity."""

from __future__ import annotations

from ..rules import schema as s
from .case import Case, Outcome, fail


def eligibility(rule: s.EligibilityRule, case: Case) -> Outcome | None:
    payer = rule.payer or case.payer
    day = case.day
    for e in case.ref.eligibility.get(case.contact.child_id, ()):
        if e.payer == payer and e.start_date <= day and (e.end_date is None or day <= e.end_date):
            return None
    return fail(f"no {payer} eligibility span covers {case.day}")


def excluded_setting(rule: s.ExcludedSetting, case: Case) -> Outcome | None:
    day = case.day
    for st in case.ref.settings.get(case.contact.child_id, ()):  # rule.settings: a list of a few names
        if st.setting in rule.settings and st.start_date <= day and (st.end_date is None or day <= st.end_date):
            return fail(f"the child is in a {st.setting} setting on {case.day}")
    return None


def qualifying_diagnosis(rule: s.QualifyingDiagnosis, case: Case) -> Outcome | None:
    if case.qualifying_diagnoses():
        return None
    return fail(f"no qualifying diagnosis is active on {case.day}")


def service_plan(rule: s.ServicePlanRule, case: Case) -> Outcome | None:
    if case.service_plan() is not None:
        return None
    return fail(f"no {case.contact.service} service plan is active on {case.day}")


def diagnosis_link(rule: s.DiagnosisLink, case: Case) -> Outcome | None:
    plan = case.service_plan()
    if plan is None or plan.icd10 in case.qualifying_diagnoses():
        return None
    return fail(f"plan {plan.plan_id}'s diagnosis is not a qualifying diagnosis active on {case.day}")


def credential(rule: s.CredentialRule, case: Case) -> Outcome | None:
    staff = case.ref.staff.get(case.contact.staff_id)
    if staff is not None and staff.credentialed(rule.credentials, case.day):
        return None
    held = staff.credential if staff and staff.credential else "none"
    return fail(
        f"staff {case.contact.staff_id} holds credential {held}, "
        f"not {'/'.join(rule.credentials)} in force on {case.day}"
    )


def activity_covered(rule: s.ActivityCovered, case: Case) -> Outcome | None:
    if case.contact.activity in rule.not_covered:
        return fail(f"activity {case.contact.activity} is not covered")
    return None


def modality_allowed(rule: s.ModalityAllowed, case: Case) -> Outcome | None:
    c = case.contact
    if c.modality in rule.not_allowed.get(c.service, ()):
        return fail(f"{c.modality} is not allowed for {c.service}")
    return None


def group_size(rule: s.GroupSize, case: Case) -> Outcome | None:
    if case.contact.group_size > rule.maximum:
        return fail(f"group of {case.contact.group_size} is over the maximum of {rule.maximum}")
    return None
