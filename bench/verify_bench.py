"""Benchmark of `peerbill ledger verify`: the auditor's check of a store holding a billed month.

    python bench/verify_bench.py                    # 100k and 1M contacts
    python bench/verify_bench.py --sizes 100000

For each size, bills the month of the other benchmarks' bundle (bench/data/) into a fresh SQLite
store with `peerbill run`, then times `peerbill ledger verify` on it in a fresh process: every
entry's row digests recomputed, and the billed contacts, claim statuses and current versions
re-derived.  Prints each time beside the floor measured in the same run (every CSV of the bundle
read with the standard library's csv module), with the peak memory of the verifying process, and
writes bench/results/verify.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import AS_OF, MONTH, TreeMemory, bundle, describe_interpreter, floor, write_results  # noqa: E402


def peerbill(*args: str) -> list[str]:
    return [sys.executable, "-m", "peerbill", *args]


def one(size: int) -> dict:
    data = bundle(size)
    below = floor(data)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        subprocess.run(
            peerbill("run", "--data", str(data), "--month", MONTH, "--out", f"{tmp}/out", "--db", db)
            + ["--as-of", AS_OF.isoformat()],
            check=False,
            capture_output=True,
        )
        t0 = time.perf_counter()
        with TreeMemory() as memory:
            done = subprocess.run(peerbill("ledger", "verify", "--db", db), capture_output=True, text=True)
        spent = time.perf_counter() - t0
    assert done.returncode == 0, done.stdout + done.stderr
    return {
        "contacts": size,
        "verify_s": round(spent, 2),
        "floor_s": below,
        "floor_ratio": round(spent / below, 1),
        "peak_tree_pss_mb": round(memory.peak_kb / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    print(describe_interpreter(), flush=True)
    runs = []
    for size in args.sizes:
        r = one(size)
        runs.append(r)
        print(
            f"{r['contacts']:>9,} contacts: ledger verify {r['verify_s']:.2f} s = {r['floor_ratio']} x the floor "
            f"({r['floor_s']:.2f} s), memory (PSS) {r['peak_tree_pss_mb']} MB",
            flush=True,
        )
    print(f"wrote {write_results('verify', runs)}")


if __name__ == "__main__":
    main()
