"""Benchmark of `peerbill check`: contacts per second and peak memory for generated bundles.

    python bench/check_bench.py                      # 10k, 100k and 1M contacts
    python bench/check_bench.py --sizes 10000 100000

Bundles are generated once into bench/data/ (seed 1, one month, 2026-09).
Each size runs in a fresh process; its memory is sampled as the PSS of that
process and its worker processes together (shared pages counted once).
Prints a table and writes bench/results/check.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MONTH, AS_OF = "2026-09", dt.date(2026, 11, 15)


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class TreeMemory:
    """Samples the proportional memory (PSS) of a process and all its descendants: shared pages count once.

    ``root`` is this process by default; ``samples`` keeps (time, kB, CPU seconds) for benchmarks that split a run
    in stages, the CPU seconds (user and system) the tree has used so far, processes that have ended included as
    last seen (a process that ends between two samples loses at most the time since the last one).
    """

    def __init__(self, every: float = 0.2, root: int | None = None):
        self.every, self.root, self.peak_kb, self.samples = every, root or os.getpid(), 0, []
        self._cpu: dict[int, float] = {}  # pid -> CPU seconds last seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[int]:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    pass
        tree, grew = {self.root}, True
        while grew:
            grew = False
            for pid, parent in parents.items():
                if parent in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        return sorted(tree)

    @staticmethod
    def _cpu_s(pid: int) -> float | None:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime

    @staticmethod
    def _pss_kb(pid: int) -> int:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                return sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except OSError:
            return 0

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            tree = self._tree()
            kb = sum(self._pss_kb(p) for p in tree)
            for p in tree:
                cpu = self._cpu_s(p)
                if cpu is not None:
                    self._cpu[p] = cpu
            self.samples.append((time.time(), kb, sum(self._cpu.values())))
            self.peak_kb = max(self.peak_kb, kb)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def one(data: Path, out: Path) -> dict:
    """Run check in this process, timing each stage."""
    from peerbill.jobs.check import judge
    from peerbill.jobs.month import Month, load_rules, read

    with TreeMemory() as memory:
        result = _one(data, out, judge, Month, load_rules, read)
    result["peak_tree_pss_mb"] = round(memory.peak_kb / 1024)
    return result


def _one(data: Path, out: Path, judge, Month, load_rules, read) -> dict:
    t0 = time.perf_counter()
    rules = load_rules(None)
    bundle = read(data, rules)
    t1 = time.perf_counter()
    result = judge(Month(data, MONTH, AS_OF, rules, bundle), out)
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
    from peerbill.testing.generate import generate

    sitting = Sitting()
    rows = []
    for size in args.sizes:
        data = HERE / "data" / f"check-{size}"
        if not (data / "contacts.csv").exists():
            print(f"generating {size} contacts ...", file=sys.stderr)
            generate(data, size, seed=1, start_month=MONTH)
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(data)], capture_output=True, text=True, check=True
        )
        rows.append(json.loads(proc.stdout))
        r = rows[-1]
        print(
            f"{r['contacts']:>9} contacts  read {r['read_s']:>6.2f}s  judge+write {r['judge_write_s']:>7.2f}s  "
            f"total {r['total_s']:>7.2f}s  {r['contacts_per_s']:>7} contacts/s  "
            f"memory of all processes (PSS) {r['peak_tree_pss_mb']:>5} MB"
        )
    sitting.end()
    write_results("check", rows, sitting)


def interpreter() -> dict:
    """The Python the benchmark runs peerbill with: its figures depend on it, not only on peerbill's code.

    The same code on the same machine ran a 1M month 10-20% faster under Debian's python3.11 than under
    a pyenv build configured without ``--enable-optimizations`` (bench/HISTORY.md): the executable and its
    build are part of what a figure was measured with.
    """
    return {
        "python": platform.python_version(),
        "executable": os.path.realpath(sys.executable),
        "venv": sys.prefix != sys.base_prefix,
        "build": " ".join(platform.python_build()),
        "compiler": platform.python_compiler(),
    }


def describe_interpreter() -> str:
    """One line naming the interpreter, printed before a benchmark's figures."""
    i = interpreter()
    return f"Python {i['python']} from {i['executable']} ({i['build']}, {i['compiler']}), {os.cpu_count()} cores"


def yardstick(rounds: int = 3) -> float:
    """Seconds of a fixed piece of Python work of the kind peerbill does (the fastest of ``rounds``).

    This machine's speed varies by a quarter or more from one sitting to the next, in the
    memory-bound work most (a 1M run of similar code: 91-97 s one day, 108-130 s the next); a figure
    compares with another only when their yardsticks are close.  The work makes 200,000 rows of
    short strings and numbers, indexes them in a dict, sorts them by a key of two cells and looks
    each up again, with the collector off as in a run: 0.47-0.86 s here on 2026-12-03.
    """
    best = float("inf")
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            rows = [(f"C{i:07d}", i % 30_011, f"2026-09-{i % 30 + 1:02d}") for i in range(200_000)]
            by_id = {row[0]: row for row in rows}
            rows.sort(key=lambda row: (row[2], row[1]))
            sum(by_id[row[0]][1] for row in rows)
            del rows, by_id
            best = min(best, time.perf_counter() - started)
    finally:
        if collecting:
            gc.enable()
    return round(best, 3)


class Sitting:
    """What a benchmark's figures were measured with: the interpreter, and the yardstick before and after.

    Made at the start (prints a line naming both), told at the end (:meth:`end`, prints the yardstick
    again); :func:`write_results` stores both with the runs.
    """

    def __init__(self):
        self.before = yardstick()
        self.after: float | None = None
        print(f"{describe_interpreter()}; yardstick {self.before:.2f} s (see check_bench.yardstick)", flush=True)

    def end(self) -> None:
        self.after = yardstick()
        print(f"yardstick {self.before:.2f} s before the runs, {self.after:.2f} s after")

    def as_json(self) -> dict:
        return {**interpreter(), "yardstick_s": {"before": self.before, "after": self.after}}


def write_results(name: str, runs: list[dict], sitting: Sitting | None = None) -> None:
    """bench/results/NAME.json: the runs, with the Python and machine they ran on (and the ``sitting``'s yardstick)."""
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"{name}.json").write_text(
        json.dumps(
            {
                **(sitting.as_json() if sitting is not None else interpreter()),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
