"""The end-to-end part as a whole: which bots run, with which traffic, and what is kept of each run.

One fresh bot process per measurement: the echo bot (the ceiling) and ours, both with the service's default
`concurrent_updates`, on the same burst (ours then also gets steady rates); ours at several
`concurrent_updates` settings on a smaller burst; ours with sniffio in the other state than installed on that
smaller burst; and ours under cProfile (for where the time goes only: profiling slows it, so its rate is not
reported).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks import hotspots
from benchmarks.e2e import REPO, BotSpec, Burst, Steady, burst, burst_and_steady, traffic
from bot.config import Config

LOCK_SETUP = ("httpcore/_synchronization.py", "current_async_library")


@dataclass(frozen=True, slots=True)
class E2ePlan:
    users: int
    messages: int  # the headline burst, for ours and the echo bot
    steady: tuple[tuple[float, float], ...]  # (updates per second, seconds) for ours after the burst
    sweep: tuple[int, ...]  # concurrent_updates settings compared
    sweep_messages: int  # the burst each of those (and the sniffio comparison) gets
    sniffio: bool
    profile_messages: int  # 0: no profile
    repeats: int = 1  # headline bursts of each bot, taking turns; the best of each is kept
    concurrency: int = Config().concurrent_updates  # the service's default


@dataclass(frozen=True, slots=True)
class Profile:
    """One bot under cProfile during a burst; times are per update, idle waiting left out."""

    busy_ms_per_update: float
    lock_setups: float  # calls per update of httpcore's current_async_library (one sniffio import each)
    groups: dict[str, float]  # package -> own ms per update
    top: list[hotspots.Hotspot]
    ours: list[hotspots.Hotspot]  # our own functions, by time with callees


@dataclass
class E2eResults:
    plan: E2ePlan
    echo: Burst
    ours: Burst
    steady: list[Steady]
    sweep: dict[int, Burst] = field(default_factory=dict)
    sniffio_installed: bool = False
    sniffio_other: Burst | None = None  # ours with sniffio in the state other than installed (sweep burst)
    sniffio_call_us: dict[str, float] = field(default_factory=dict)  # "absent"/"present" -> µs per call
    profile: Profile | None = None
    echo_profile: Profile | None = None

    @property
    def ratio(self) -> float:
        return self.ours.per_second / self.echo.per_second if self.echo.per_second else 0.0

    @property
    def cpu_ratio(self) -> float:
        """Echo's CPU per update over ours: the share of the ceiling our code leaves, measured in CPU time."""
        return self.echo.cpu_ms_per_update / self.ours.cpu_ms_per_update if self.ours.cpu_ms_per_update else 0.0


def sniffio_installed() -> bool:
    return importlib.util.find_spec("sniffio") is not None


def measure(plan: E2ePlan, texts: Sequence[str], knowledge: Path | None) -> E2eResults:
    bodies = traffic(texts, users=plan.users, count=plan.messages)
    smaller = bodies[: plan.sweep_messages]
    steady = []
    for n, (rate, seconds) in enumerate(plan.steady):
        first_user = (n + 1) * plan.users + 1  # users of their own, who have nothing left in flight
        updates = traffic(texts[::-1], users=plan.users, count=round(rate * seconds), first_user=first_user)
        steady.append((rate, updates))
    echo, ours, paced = _headline(plan, bodies, steady, knowledge)
    results = E2eResults(plan, echo, ours, paced, sniffio_installed=sniffio_installed())
    settings = set(plan.sweep) | ({plan.concurrency} if plan.sniffio else set())  # sniffio compares with it
    for setting in sorted(settings):
        results.sweep[setting] = burst(BotSpec(concurrent=setting, knowledge=knowledge), smaller)
    if plan.sniffio:
        other = "absent" if results.sniffio_installed else "present"
        results.sniffio_other = burst(BotSpec(concurrent=plan.concurrency, sniffio=other, knowledge=knowledge), smaller)
        results.sniffio_call_us = {state: _lock_setup_cost(state) for state in ("absent", "present")}
    if plan.profile_messages:
        profiled = bodies[: plan.profile_messages]
        results.echo_profile = _profiled(BotSpec(echo=True, concurrent=plan.concurrency), profiled)
        results.profile = _profiled(BotSpec(concurrent=plan.concurrency, knowledge=knowledge), profiled)
    return results


def _headline(
    plan: E2ePlan,
    bodies: Sequence[dict[str, Any]],
    steady: list[tuple[float, list[dict[str, Any]]]],
    knowledge: Path | None,
) -> tuple[Burst, Burst, list[Steady]]:
    """The echo bot and ours on the same burst, taking turns `plan.repeats` times; the best run of each.

    Taking turns and keeping the best keeps a moment of load from other programs out of the comparison.
    Ours gets the steady rates after its last burst, in the same process.
    """
    echoes, ours, paced = [], [], []
    for turn in range(plan.repeats):
        echoes.append(burst(BotSpec(echo=True, concurrent=plan.concurrency), bodies))
        spec = BotSpec(concurrent=plan.concurrency, knowledge=knowledge)
        if turn < plan.repeats - 1:
            ours.append(burst(spec, bodies))
        else:
            last, paced = burst_and_steady(spec, bodies, steady)
            ours.append(last)
    best = max(echoes, key=lambda b: b.per_second), max(ours, key=lambda b: b.per_second)
    return best[0], best[1], paced


def _lock_setup_cost(state: str) -> float:
    """Microseconds per `current_async_library()` call with sniffio absent or present (a child process)."""
    command = [sys.executable, "-m", "benchmarks.child", "--sniffio", state, "benchmarks.sniffio_cost"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    return float(done.stdout.strip())


def _profiled(spec: BotSpec, bodies: Sequence[dict[str, Any]]) -> Profile:
    with tempfile.TemporaryDirectory(prefix="medcareer-profile-") as tmp:
        out = Path(tmp) / "bot.prof"
        burst(replace(spec, profile=out), bodies)
        stats = hotspots.load_stats(out)
    count = len(bodies)
    setups = sum(v[1] for k, v in stats.items() if k[0].endswith(LOCK_SETUP[0]) and k[2] == LOCK_SETUP[1])
    return Profile(
        busy_ms_per_update=hotspots.busy_seconds(stats) * 1000 / count,
        lock_setups=setups / count,
        groups={group: seconds * 1000 / count for group, seconds in hotspots.seconds_by_group(stats).items()},
        top=hotspots.top_functions(stats, per=count, top=12),
        ours=hotspots.top_functions(stats, per=count, top=10, only=hotspots.is_ours, by_total=True),
    )
