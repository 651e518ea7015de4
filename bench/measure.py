"""What the benchmarks share: the bundles they run on, the floor each figure is set beside, memory sampling,
and the record of what the figures were measured with.

A time measured on a shared machine moves with the machine; a ratio to work measured in the same
run on the same data does not, or much less.  The floor is reading every CSV file of the bundle
with the standard library's ``csv`` module: the least any program that reads the bundle must do.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MONTH, AS_OF = "2026-09", dt.date(2026, 11, 15)
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def bundle(size: int, children: int | None = None) -> Path:
    """The generated bundle of ``size`` contacts (seed 1, one month), made into bench/data/ once for each version
    of the generator: a bundle a changed generator would make otherwise (another agency.yaml, other columns) is
    made again, named by the SHA-256 of the generator's source in ``NAME.generator`` beside it."""
    from peerbill.testing import generate as generator

    name = f"check-{size}" if children is None else f"check-{size}-children-{children}"
    data = HERE / "data" / name
    stamp = data.with_name(f"{name}.generator")
    version = hashlib.sha256(Path(generator.__file__).read_bytes()).hexdigest()
    if not (data / "contacts.csv").exists() or not stamp.exists() or stamp.read_text() != version:
        print(f"generating {size:,} contacts ...", file=sys.stderr, flush=True)
        shutil.rmtree(data, ignore_errors=True)
        generator.generate(data, size, seed=1, start_month=MONTH, children=children)
        stamp.write_text(version)
    return data


def floor(data: Path, rounds: int = 3) -> float:
    """Seconds to read every CSV file of the bundle with the standard library's ``csv`` module (the median of
    ``rounds``): the floor a figure of the same run is set beside."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for path in sorted(data.glob("*.csv")):
            with path.open(encoding="utf-8", newline="") as f:
                for _row in csv.reader(f):
                    pass
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


class TreeMemory:
    """Samples the proportional memory (PSS) of a process and all its descendants: shared pages count once.

    ``root`` is this process by default; ``samples`` keeps (time, kB, CPU seconds) for benchmarks that split a run
    in stages, the CPU seconds (user and system) the tree has used so far, processes that have ended included as
    last seen (a process that ends between two samples loses at most the time since the last one).
    """

    def __init__(self, every: float = 0.2, root: int | None = None):
        self.every, self.root, self.peak_kb = every, root or os.getpid(), 0
        self.samples: list[tuple[float, int, float]] = []
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

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def interpreter() -> dict:
    """The Python the benchmark runs peerbill with: its figures depend on the executable and its build too."""
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


def write_results(name: str, runs: list[dict]) -> Path:
    """bench/results/NAME.json: the runs, each with its floor, and the Python and machine they ran on."""
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / f"{name}.json"
    record = {**interpreter(), "machine": platform.machine(), "cpus": os.cpu_count(), "runs": runs}
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
