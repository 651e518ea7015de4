"""Benchmark of `peerbill bill`: claims per second, and the 837P writer's share of the whole run.

    python bench/bill_bench.py                      # 100k and 1M contacts
    python bench/bill_bench.py --sizes 100000

Uses the bundles of the other benchmarks (generated once into bench/data/), a fresh SQLite store
each time, and one process per size.  Prints a line per size, beside the floor measured in the
same run (every CSV of the bundle read with the standard library's csv module), and writes
bench/results/bill.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import AS_OF, MONTH, TreeMemory, bundle, describe_interpreter, floor, write_results  # noqa: E402


def one(data: Path) -> dict:
    import peerbill.jobs.bill as billing
    from peerbill.store import Store

    spent = {"render": 0.0}
    real_render = billing.render_parts

    def timed_render(*args, **kwargs):  # the file is rendered as it is written: time each part
        parts = real_render(*args, **kwargs)
        while True:
            t = time.perf_counter()
            part = next(parts, None)
            spent["render"] += time.perf_counter() - t
            if part is None:
                return
            yield part

    billing.render_parts = timed_render
    with tempfile.TemporaryDirectory() as tmp, TreeMemory() as memory:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        t0 = time.perf_counter()
        result = billing.bill(data, MONTH, Path(tmp) / "out", None, AS_OF, store)
        total = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (Path(tmp) / "out").glob("*.837"))
    claims = sum(b.claims for b in result.batches)
    return {
        "contacts": result.check.summary.rows_read,
        "claims": claims,
        "billed_contacts": sum(b.contacts for b in result.batches),
        "total_s": round(total, 2),
        "render_837p_s": round(spent["render"], 2),
        "render_share": round(spent["render"] / total, 3),
        "claims_per_s": round(claims / total),
        "file_mb": round(size / 1e6, 1),
        "peak_tree_pss_mb": round(memory.peak_kb / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    print(describe_interpreter(), flush=True)
    runs = []
    for size in args.sizes:
        data = bundle(size)
        below = floor(data)
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(data)], capture_output=True, text=True, check=True
        )
        r = {**json.loads(proc.stdout), "floor_s": below}
        r["floor_ratio"] = round(r["total_s"] / below, 1)
        runs.append(r)
        print(
            f"{r['contacts']:>9} contacts  {r['claims']:>7} claims  total {r['total_s']:>7.2f}s = {r['floor_ratio']} x "
            f"the floor ({below:.2f}s)  837P writing {r['render_837p_s']:>6.2f}s ({r['render_share']:.0%} of the run)  "
            f"{r['claims_per_s']:>6} claims/s  {r['file_mb']} MB of 837P  memory (PSS) {r['peak_tree_pss_mb']} MB"
        )
    print(f"wrote {write_results('bill', runs)}")


if __name__ == "__main__":
    main()
