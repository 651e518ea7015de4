"""Benchmark of the monthly job, `peerbill run`, stage by stage, with SQLite and with PostgreSQL.

    python bench/run_bench.py                                  # 100k and 1M contacts, SQLite and PostgreSQL
    python bench/run_bench.py --sizes 100000 --stores sqlite
    python bench/run_bench.py --again                          # each month also run again, then judged again
    python bench/run_bench.py --matrix                         # 100k and 1M, three caseload shapes, both stores

Generates the bundles once into bench/data/ (seed 1, one month, 2026-09), then, for each size and
store, measures the floor (every CSV of the bundle read with the standard library's csv module)
and runs `peerbill --log-level info run` in a fresh process on an empty store (a SQLite file, or a
new database on a throwaway PostgreSQL 15 server the benchmark starts with initdb/pg_ctl, as the
tests do).  Each run's time is printed beside its floor, and as the ratio of the two: the ratio
is what compares across machines and days.  The stages are read from the log's timestamps;
memory is the PSS of peerbill's process and its worker processes together, sampled every 0.2 s
(the PostgreSQL server's own memory and CPU are not counted; it runs with fsync off, as in the
tests).  With each stage's time goes the CPU time its processes used, and how many cores that
kept busy on average.  With ``--again`` the month is then run a second time on the same store into
the same folder, with nothing changed (peerbill finds it unchanged since the first run), and a third
time with ``--judge-again``: the import finds every row unchanged, every billable contact is already
on a submitted claim, and bill sends nothing.  With ``--matrix``, every size is run at three caseload
shapes (children = contacts / 33, the generator's default; contacts / 8; contacts / 4: a statewide
month, a claim for nearly every child), and the table ends with each run against its targets: at most
15 times the floor (20 at contacts / 4), under 1 GB, 1M within 10.5 times 100k, PostgreSQL within 1.5
times SQLite.  Writes bench/results/run.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

from measure import AS_OF, MONTH, TreeMemory, bundle, describe_interpreter, floor, write_results  # noqa: E402

#: the log line that ends each stage, in order ("exit": from the last line to the end of the process).
#: `run` imports while its workers judge, then records each part's verdicts as it is judged: "import + judge +
#: record" ends when the last part is judged; "finish record" is the run's summary, ledger entry and commit.
STAGES = [
    ("read", r"INFO peerbill: read "),
    ("import + judge + record", r"INFO peerbill: judged "),
    ("finish record", r"INFO peerbill: run \d+ recorded"),
    ("bill (plan, record, 837P)", r"INFO peerbill: (batch \d+|no batch) "),
    ("cost report", r"INFO peerbill: cost report "),
    ("coverage", r"INFO peerbill: coverage of "),
    ("exit", None),
]


def _stamp(line: str) -> float:
    return dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


#: the runs of a month with --again, each after the one before on the same store and into the same folder:
#: the run, the run with nothing changed, and the run judged again in full (name -> extra arguments)
AGAIN = {"run": [], "again": [], "judged again": ["--judge-again"]}


def one(data: Path, url: str, work: Path, name: str = "run") -> dict:
    log = work / f"{name.replace(' ', '-')}.log"
    argv = [
        sys.executable,
        "-m",
        "peerbill",
        "--log-level",
        "info",
        "--log-file",
        str(log),
        "run",
        "--data",
        str(data),
        "--month",
        MONTH,
        "--out",
        str(work / "out"),
        "--db",
        url,
        "--as-of",
        AS_OF.isoformat(),
        *AGAIN.get(name, []),
    ]
    started, used = time.time(), _children_cpu()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with TreeMemory(root=proc.pid) as sampler:
        _, err = proc.communicate()
    ended, used = time.time(), _children_cpu() - used
    if proc.returncode not in (0, 1):
        raise SystemExit(f"peerbill run failed ({proc.returncode}): {err.decode()[-2000:]}")
    lines = log.read_text(encoding="utf-8").splitlines()
    bounds, t = [], started
    for stage, pattern in STAGES:
        hit = next((_stamp(l) for l in lines if pattern and re.search(pattern, l)), None) if pattern else ended
        end = hit if hit is not None else t  # a stage with nothing to do (no batch) takes no time
        bounds.append((stage, t, end))
        t = end
    text = "\n".join(lines)
    read = re.search(r"read \S+: (\d+) contact rows|unchanged since run \d+ \((\d+) contacts\)", text)
    contacts = int(read[1] or read[2])
    claims = sum(int(n) for n in re.findall(r"INFO peerbill: batch \d+ for \S+ \S+: (\d+) claims", text))

    def cpu_at(when: float) -> float:  # the tree's CPU seconds by then (the last sample before it)
        return max((cpu for at, _, cpu in sampler.samples if at <= when), default=0.0)

    stages = []
    for stage, a, b in bounds:
        inside = [kb for when, kb, _ in sampler.samples if a <= when <= b]
        cpu = cpu_at(b) - cpu_at(a)
        stages.append(
            {
                "stage": stage,
                "seconds": round(b - a, 2),
                "cpu_s": round(cpu, 1),
                "cores": round(cpu / (b - a), 2) if b > a else 0.0,
                "peak_pss_mb": round(max(inside, default=0) / 1024),
            }
        )
    total = ended - started
    return {
        "contacts": contacts,
        "claims": claims,
        "total_s": round(total, 1),
        "cpu_s": round(used, 1),
        "contacts_per_s": round(contacts / total),
        "peak_pss_mb": round(max((kb for _, kb, _ in sampler.samples), default=0) / 1024),
        "stages": stages,
    }


def _children_cpu() -> float:
    """CPU seconds (user and system) of this process's ended children and theirs: a run's workers included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--stores", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument(
        "--matrix",
        action="store_true",
        help="each size at three caseload shapes: children = contacts / 33, / 8 and / 4, then the targets table",
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="then run the month again on the same store with nothing changed, and then with --judge-again",
    )
    args = parser.parse_args()
    print(describe_interpreter(), flush=True)
    server = None
    if "postgresql" in args.stores:
        from pg import PostgresServer, find_bin

        try:
            import psycopg  # noqa: F401 - peerbill's PostgreSQL driver, an extra
        except ImportError:
            raise SystemExit(
                "psycopg is not installed: pip install -e '.[postgres]' (or '.[test]'), or run with --stores sqlite"
            ) from None

        bin_dir = find_bin()
        if bin_dir is None:
            raise SystemExit("PostgreSQL 15's initdb is not installed (see .ci/run)")
        server = PostgresServer(bin_dir).start()
    runs = []
    shapes = SHAPES if args.matrix else (None,)
    try:
        for size in args.sizes:
            for per_child in shapes:
                data = bundle(size, None if per_child in (None, 33) else size // per_child)
                for store in args.stores:
                    work = Path(tempfile.mkdtemp(prefix=f"peerbill-bench-{size}-{store}-"))
                    name_db = f"bench{size}s{per_child or 33}"
                    url = f"sqlite:///{work / 'store.db'}" if store == "sqlite" else server.create_database(name_db)
                    for name in AGAIN if args.again else ("run",):
                        below = floor(data)
                        r = {
                            "store": store,
                            "run": name,
                            "shape": f"contacts/{per_child or 33}",
                            "floor_s": below,
                            **one(data, url, work, name),
                        }
                        r["floor_ratio"] = round(r["total_s"] / below, 1)
                        runs.append(r)
                        _print_run(r)
                    shutil.rmtree(work, ignore_errors=True)
    finally:
        if server is not None:
            server.stop()
    if args.matrix:
        for line in matrix_table(runs):
            print(line)
    for store in args.stores:
        mine = sorted(
            (r for r in runs if r["store"] == store and r["run"] == "run" and r["shape"] == "contacts/33"),
            key=lambda r: r["contacts"],
        )
        if len(mine) > 1:
            small, large = mine[0], mine[-1]
            print(
                f"{store}: {large['contacts']:,} contacts took {large['total_s'] / small['total_s']:.1f}x the time of "
                f"{small['contacts']:,} ({large['floor_ratio']} and {small['floor_ratio']} times their floors)"
            )
    print(f"wrote {write_results('run', runs)}")


#: the caseload shapes of --matrix: contacts per child (33 is the generator's default)
SHAPES = (33, 8, 4)
#: the targets of a run on two cores: times the floor (by shape), peak memory of all processes together
TARGET_RATIO = {"contacts/33": 15, "contacts/8": 15, "contacts/4": 20}
TARGET_MB = 1024
#: 1M contacts within this many times 100k; PostgreSQL within this many times SQLite
TARGET_LINEAR, TARGET_POSTGRES = 10.5, 1.5


def matrix_table(runs: list[dict]) -> list[str]:
    """The matrix as a table, each first run against its targets."""
    first = [r for r in runs if r["run"] == "run"]
    out = [
        "",
        f"{'shape':<12} {'contacts':>9} {'store':<10} {'claims':>8} {'run s':>7} {'floor s':>7} {'x floor':>7} "
        f"{'peak MB':>8}  targets",
    ]
    for r in first:
        misses = []
        if r["floor_ratio"] > TARGET_RATIO[r["shape"]]:
            misses.append(f"over {TARGET_RATIO[r['shape']]}x the floor")
        if r["peak_pss_mb"] >= TARGET_MB:
            misses.append("1 GB or more")
        small = next(
            (
                s
                for s in first
                if s["shape"] == r["shape"] and s["store"] == r["store"] and s["contacts"] < r["contacts"]
            ),
            None,
        )
        if small is not None and r["total_s"] > TARGET_LINEAR * small["total_s"]:
            misses.append(f"{r['total_s'] / small['total_s']:.1f}x the smaller size")
        lite = next(
            (
                s
                for s in first
                if s["store"] == "sqlite" and s["shape"] == r["shape"] and s["contacts"] == r["contacts"]
            ),
            None,
        )
        if r["store"] == "postgresql" and lite is not None and r["total_s"] > TARGET_POSTGRES * lite["total_s"]:
            misses.append(f"{r['total_s'] / lite['total_s']:.1f}x SQLite")
        out.append(
            f"{r['shape']:<12} {r['contacts']:>9,} {r['store']:<10} {r['claims']:>8,} {r['total_s']:>7} "
            f"{r['floor_s']:>7} {r['floor_ratio']:>7} {r['peak_pss_mb']:>8,}  " + ("; ".join(misses) or "met")
        )
    return out


def _print_run(r: dict) -> None:
    again = {"again": ", run again", "judged again": ", judged again"}.get(r["run"], "")
    shape = f", {r['shape']}" if r.get("shape") else ""
    print(
        f"\n{r['contacts']:,} contacts{shape}, {r['store']}{again}: {r['total_s']} s = {r['floor_ratio']} x the floor "
        f"({r['floor_s']} s), {r['contacts_per_s']:,} contacts/s, {r['cpu_s']} CPU s, "
        f"peak memory {r['peak_pss_mb']:,} MB"
    )
    for s in r["stages"]:
        print(
            f"  {s['stage']:<28} {s['seconds']:>7.2f} s   CPU {s['cpu_s']:>6.1f} s ({s['cores']:.2f} cores)"
            f"   peak {s['peak_pss_mb']:>6,} MB"
        )


if __name__ == "__main__":
    main()
