"""Start-up of `python -m bot ask --json -`: process start to its first answer, and the process's peak RSS.

Each run starts a fresh interpreter, writes one question to its stdin at once and times until the first JSON
line comes back (so the time covers interpreter start, imports, loading and validating the knowledge,
building the matcher and answering). Peak RSS is the child's own high-water mark (VmHWM) read once it has
answered, while it waits for its next line (`ru_maxrss` from `os.wait4` where /proc is missing). One extra run
under `python -X importtime` lists what `ask` imports, to check that python-telegram-bot is not among them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIRST_QUESTION = "how do I prepare for step 2 ck?"


@dataclass(frozen=True, slots=True)
class Startup:
    factor: int
    seconds: float  # median over the runs
    runs: tuple[float, ...]
    peak_rss_mb: float  # the largest over the runs


@dataclass(frozen=True, slots=True)
class Imports:
    telegram_imported: bool
    modules: int
    slowest: tuple[tuple[str, float], ...]  # packages other than ours by cumulative import time, in ms


def ask_command(knowledge: Path | None, *, python_options: tuple[str, ...] = ()) -> list[str]:
    command = [sys.executable, *python_options, "-m", "bot", "ask", "--json", "-"]
    return command + (["--knowledge", str(knowledge)] if knowledge is not None else [])


def run_once(command: list[str]) -> tuple[float, float, str]:
    """Seconds to the first answer, peak RSS in MB, and the child's stderr."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors)
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(FIRST_QUESTION.encode() + b"\n")
        child.stdin.flush()
        line = child.stdout.readline()
        elapsed = time.perf_counter() - started
        peak = _peak_rss_mb(child.pid)  # read while it waits for its next line: the peak of all it did
        child.stdin.close()
        child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if child.returncode != 0 or not line:
        raise RuntimeError(f"`{' '.join(command)}` failed ({child.returncode}):\n{stderr[-2000:]}")
    json.loads(line)  # a real answer, not a traceback
    return elapsed, peak or usage.ru_maxrss / 1024, stderr


def _peak_rss_mb(pid: int) -> float | None:
    """The process's own high-water RSS (VmHWM). Linux's ru_maxrss for a child is no good here: it also
    counts the RSS its parent (this benchmark, holding the big knowledge bases) had when it forked."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def measure(factor: int, knowledge: Path | None, runs: int) -> Startup:
    results = [run_once(ask_command(knowledge)) for _ in range(runs)]
    times = tuple(seconds for seconds, _, _ in results)
    return Startup(factor, statistics.median(times), times, max(rss for _, rss, _ in results))


def imports_of_ask(knowledge: Path | None, *, top: int = 5) -> Imports:
    """What `ask` imports (python -X importtime), whether telegram is among them, and the slowest packages."""
    _, _, stderr = run_once(ask_command(knowledge, python_options=("-X", "importtime")))
    names: list[str] = []
    packages: dict[str, float] = {}
    for line in stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].strip()
        names.append(name)
        root = name.split(".")[0]
        packages[root] = max(packages.get(root, 0.0), int(parts[1]) / 1000)  # the outermost import is largest
    packages.pop("bot", None)
    slowest = tuple(sorted(packages.items(), key=lambda kv: kv[1], reverse=True)[:top])
    telegram = any(n == "telegram" or n.startswith("telegram.") for n in names)
    return Imports(telegram, len(names), slowest)
