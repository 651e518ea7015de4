"""Benchmark of judging a month (what `peerbill check` does): contacts per second and peak memory.

    python bench/check_bench.py                      # 10k, 100k and 1M contacts
    python bench/check_bench.py --sizes 10000 100000

Bundles are generated once into bench/data/ (seed 1, one month, 2026-09).  Each size runs in a
fresh process; its memory is sampled as the PSS of that process and its worker processes
together (shared pages counted once).  Each figure is printed beside the floor measured in the
same run (every CSV of the bundle read with the standard library's csv module).  Writes
bench/results/check.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import AS_OF, MONTH, TreeMemory, bundle, describe_interpreter, floor, write_results  # noqa: E402


def one(data: Path, out: Path) -> dict:
    """Read the bundle and judge the month in this process, timing each stage."""
    from peerbill.jobs.check import judge
    from peerbill.jobs.month import Month, load_rules, read

    with TreeMemory() as memory:
        t0 = time.perf_counter()
        rules = load_rules(None)
        bundle_read = read(data, rules)
        t1 = time.perf_counter()
        result = judge(Month(data, MONTH, AS_OF, rules, bundle_read), out)
        t2 = time.perf_counter()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "contacts": result.summary.rows_read,
        "read_s": round(t1 - t0, 2),
        "judge_write_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "contacts_per_s": round(result.summary.rows_read / (t2 - t0)),
        "peak_rss_mb": round(own / 1024),
        "worker_peak_rss_mb": round(workers / 1024),
        "peak_tree_pss_mb": round(memory.peak_kb / 1024),
        "billable": result.summary.by_status["billable"].count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.one / "out")))
        return
    print(describe_interpreter(), flush=True)
    rows = []
    for size in args.sizes:
        data = bundle(size)
        below = floor(data)
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(data)], capture_output=True, text=True, check=True
        )
        r = {**json.loads(proc.stdout), "floor_s": below}
        r["floor_ratio"] = round(r["total_s"] / below, 1)
        rows.append(r)
        print(
            f"{r['contacts']:>9} contacts  read {r['read_s']:>6.2f}s  judge+write {r['judge_write_s']:>7.2f}s  "
            f"total {r['total_s']:>7.2f}s = {r['floor_ratio']:>5} x the floor ({below:.2f}s)  "
            f"{r['contacts_per_s']:>7} contacts/s  memory of all processes (PSS) {r['peak_tree_pss_mb']:>5} MB"
        )
    print(f"wrote {write_results('check', rows)}")


if __name__ == "__main__":
    main()
