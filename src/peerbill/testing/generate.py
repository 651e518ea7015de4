"""Generate valid, realistic input bundles of any size (for the demo and the benchmarks).

Deterministic: the same arguments and seed give byte-identical files.  Staff
work through a day of non-overlapping contacts with their own caseload of
children; most contacts bill, and a realistic share fails (unsigned or late
notes, travel time, court, audio-only intervener calls, children without
Medicaid who have a prevention plan instead).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import yaml

from ..calendar import parse_month
from ..identifiers.npi import check_digit
from ..model.records import Child, Contact, Diagnosis, Eligibility, PreventionPlan, ServicePlan, Setting, Staff, columns

FIRST = [
    "Avery",
    "Jordan",
    "Riley",
    "Morgan",
    "Casey",
    "Quinn",
    "Rowan",
    "Skyler",
    "Emerson",
    "Harper",
    "Jamie",
    "Kendall",
    "Logan",
    "Parker",
    "Reese",
    "Sawyer",
    "Taylor",
    "Dakota",
    "Elliot",
    "Finley",
    "Hayden",
    "Marlowe",
]
LAST = [
    "Abbott",
    "Baker",
    "Castillo",
    "Dunn",
    "Ellison",
    "Foster",
    "Garcia",
    "Hughes",
    "Ibarra",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreno",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quintero",
    "Ramirez",
    "Sorensen",
    "Tran",
    "Underwood",
    "Vance",
]
CITIES = [("Riverton", "50310"), ("Lakeside", "50317"), ("Cedar Falls", "50613"), ("Millbrook", "50021")]
QUALIFYING = ["F43.10", "F90.2", "F32.1", "F41.1", "F91.3", "F84.0", "F43.25", "F34.1", "F93.0"]
ACTIVITIES = (
    ["individual"] * 48
    + ["phone"] * 14
    + ["family_team_meeting"] * 12
    + ["group"] * 8
    + ["court"] * 3
    + ["travel"] * 7
    + ["documentation"] * 6
    + ["outreach"] * 2
)


def _npi(rng: random.Random) -> str:
    base = "1" + "".join(str(rng.randrange(10)) for _ in range(8))
    return base + check_digit(base)


def _write(path: Path, model, rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns(model))
        w.writerows(rows)


def agency_yaml() -> dict:
    return {
        "name": "Example Family Peer Network",
        "npi": "1234567893",
        "tax_id": "421234567",
        "taxonomy": "251S00000X",
        "address": {"line1": "100 Main Street", "city": "Riverton", "state": "IA", "zip": "503101234"},
        "contact": {"name": "Billing Office", "phone": "5155550100"},
        "submitter_id": "EFPN0001",
        "payers": [
            {
                "key": "medicaid",
                "name": "Example State Medicaid",
                "payer_id": "XSMCD",
                "receiver_id": "XSMCD",
                # the example agency is enrolled and sends production claims; a new trading partner starts on test
                "usage": "production",
            },
        ],
    }


def _workdays(months: list[str]) -> list[dt.date]:
    days = []
    for m in months:
        first, last = parse_month(m)
        d = first
        while d <= last:
            if d.weekday() < 5:
                days.append(d)
            d += dt.timedelta(days=1)
    return days


def month_range(start: str, count: int) -> list[str]:
    first, _ = parse_month(start)
    out = []
    y, m = first.year, first.month
    for _ in range(count):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _contact_row(
    rng: random.Random,
    p: str,
    n: int,
    when: tuple[dt.date, int, int],
    s: int,
    cid: str,
    service: str,
    activity: str,
    group_id: str,
    group_size: str,
) -> tuple[str, ...]:
    """The contacts.csv row of contact ``n`` with one child, at ``when`` (the day, its start and end minute)."""
    day, start, end = when
    modality = "in_person"
    if activity == "phone":
        modality = rng.choice(["audio", "audio", "video"])
    elif activity in ("individual", "family_team_meeting") and rng.random() < 0.2:
        modality = "video"
    pos = {"in_person": rng.choice(["12", "12", "11", "99"]), "video": "10", "audio": "02"}[modality]
    if service == "peer_parent_support":
        program = "iowa_parent_partner"
    else:
        program = rng.choice(["start", "start", "wraparound"])
    roll = rng.random()
    if roll < 0.03:
        signed = ""
    elif roll < 0.05:
        signed = (day + dt.timedelta(days=rng.randrange(8, 15))).isoformat()
    else:
        signed = (day + dt.timedelta(days=rng.randrange(0, 4))).isoformat()
    goal = "" if rng.random() < 0.02 else f"{cid}-G{rng.randrange(1, 4)}"
    return (
        f"{p}C{n:07d}",
        day.isoformat(),
        f"{start // 60:02d}:{start % 60:02d}",
        f"{end // 60:02d}:{end % 60:02d}",
        f"{p}S{s + 1:04d}",
        cid,
        f"{cid}-CG1",
        service,
        program,
        activity,
        modality,
        pos,
        rng.choice("YYN"),
        group_id,
        group_size,
        goal,
        signed,
    )


def generate(
    out: Path,
    contacts: int,
    seed: int = 1,
    start_month: str = "2026-09",
    months: int = 1,
    children: int | None = None,
    staff: int | None = None,
    id_prefix: str = "",
) -> dict[str, int]:
    """Write a bundle of about ``contacts`` contacts over ``months`` months starting ``start_month``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    month_list = month_range(start_month, months)
    days = _workdays(month_list)
    n_staff = staff or max(5, round(contacts / (len(days) * 6)))
    n_children = children or max(12, contacts // 33)
    p = id_prefix

    # ---- staff: mostly certified parent partners, some peer interveners
    staff_rows, roles = [], []
    for i in range(n_staff):
        role = "peer_intervener" if i % 4 == 3 else "parent_partner"
        roles.append(role)
        staff_rows.append(
            (
                f"{p}S{i + 1:04d}",
                rng.choice(FIRST),
                rng.choice(LAST),
                _npi(rng),
                role,
                "CFPS",
                f"{rng.choice([2022, 2023, 2024, 2025])}-0{rng.randrange(1, 10)}-15",
                "",
            )
        )
    _write(out / "staff.csv", Staff, staff_rows)

    # ---- children and their records
    child_rows, elig, dx, settings, plans, prev = [], [], [], [], [], []
    caseload: list[list[int]] = [[] for _ in range(n_staff)]
    child_info = []
    for i in range(n_children):
        cid = f"{p}K{i + 1:05d}"
        city, zip5 = rng.choice(CITIES)
        born = dt.date(2026 - rng.randrange(4, 17), rng.randrange(1, 13), rng.randrange(1, 29))
        child_rows.append(
            (
                cid,
                rng.choice(FIRST),
                rng.choice(LAST),
                born.isoformat(),
                rng.choice("FMU"),
                f"{rng.randrange(10, 9999)} {rng.choice(['Oak', 'Elm', 'Pine', 'Maple'])} Street",
                city,
                "IA",
                zip5 + f"{rng.randrange(10000):04d}",
            )
        )
        medicaid = rng.random() < 0.9
        if medicaid:
            elig.append((cid, "medicaid", f"XM{rng.randrange(10**8, 10**9)}", "2025-01-01", ""))
        code = rng.choice(QUALIFYING) if rng.random() < 0.95 else rng.choice(["F70", "Z63.8"])
        dx.append((cid, code, "2025-03-01", ""))
        if rng.random() < 0.3:
            dx.append((cid, rng.choice(QUALIFYING), "2025-06-01", ""))
        setting = rng.choice(["home"] * 6 + ["kinship", "foster_care"])
        settings.append((cid, setting, "2024-01-01", ""))
        s = i % n_staff
        caseload[s].append(i)
        service = "peer_intervener" if roles[s] == "peer_intervener" else "peer_parent_support"
        auth = "" if rng.random() < 0.6 else str(rng.choice([240, 320, 400]) * months)
        plans.append(
            (
                f"{p}SP{i + 1:05d}",
                cid,
                service,
                code,
                "2026-01-01",
                "2027-06-30",
                auth,
                f"A{rng.randrange(10**6, 10**7)}" if auth else "",
            )
        )
        has_prev = rng.random() < (0.35 if medicaid else 0.9)
        if has_prev:
            programs = "iowa_parent_partner" if service == "peer_parent_support" else "start;iowa_parent_partner"
            plan_date = dt.date(2026, rng.randrange(1, 7), rng.randrange(1, 29))
            prev.append((f"{p}PV{i + 1:05d}", cid, "candidate", plan_date.isoformat(), "", programs))
        child_info.append((cid, service))
    for s in range(n_staff):
        if not caseload[s]:
            caseload[s].append(rng.randrange(n_children))
    _write(out / "children.csv", Child, child_rows)
    _write(out / "eligibility.csv", Eligibility, elig)
    _write(out / "diagnoses.csv", Diagnosis, dx)
    _write(out / "settings.csv", Setting, settings)
    _write(out / "service_plans.csv", ServicePlan, plans)
    _write(out / "prevention_plans.csv", PreventionPlan, prev)

    # ---- contacts: each staff member works through their days
    per_day = max(1, contacts // max(1, len(days) * n_staff))
    extra = contacts - per_day * len(days) * n_staff
    written = 0
    n = 0
    with (out / "contacts.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns(Contact))
        for day in days:
            for s in range(n_staff):
                todo = per_day + (1 if extra > 0 else 0)
                extra -= 1 if extra > 0 else 0
                minute = 8 * 60 + rng.randrange(0, 60, 5)
                done = 0
                while done < todo and written < contacts:
                    activity = rng.choice(ACTIVITIES)
                    length = (
                        rng.choice([15, 20, 30, 30, 45, 45, 60, 60, 75, 90])
                        if activity != "phone"
                        else rng.choice([8, 10, 15, 20, 25])
                    )
                    if minute + length > 23 * 60 + 59:
                        minute = max(0, 23 * 60 + 59 - length)
                    start, end = minute, minute + length
                    minute = end + rng.choice([0, 5, 10, 15, 30])
                    group_children = [rng.choice(caseload[s])]
                    group_id, group_size = "", ""
                    if activity == "group":
                        k = min(len(caseload[s]), rng.randrange(2, 5), todo - done)
                        group_children = rng.sample(caseload[s], max(1, k))
                        group_id = f"{p}G{day:%m%d}{s:04d}{start:04d}"
                        group_size = str(rng.randrange(max(2, len(group_children)), 8))
                    for ci in group_children:
                        n += 1
                        cid, service = child_info[ci]
                        when = (day, start, end)
                        w.writerow(_contact_row(rng, p, n, when, s, cid, service, activity, group_id, group_size))
                        written += 1
                        done += 1
    with (out / "agency.yaml").open("w", encoding="utf-8") as f:
        yaml.safe_dump(agency_yaml(), f, sort_keys=False)
    return {"contacts": written, "children": n_children, "staff": n_staff}
