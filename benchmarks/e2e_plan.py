"""The end-to-end part as a whole: which bots run, with which traffic, and what is kept of each run.

One fresh bot process per measurement: the echo bot (the ceiling), ours with the service's default
`concurrent_updates` (a burst, then a steady rate), ours at other `concurrent_updates` settings, ours with
sniffio in the other state than installed, and ours under cProfile (for where the time goes only: profiling
slows it down, so its rate is not reported).
"""

from __future__ import annotations

import importlib.util
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import hotspots
from benchmarks.e2e import BotSpec, Burst, Steady, burst, burst_and_steady, traffic
from bot.config import Config


@dataclass(frozen=True, slots=True)
class E2ePlan:
    users: int
    messages: int
    steady_rate: float
    steady_seconds: float
    sweep: tuple[int, ...]
    sniffio: bool
    profile: bool
    concurrency: int = Config().concurrent_updates  # the service's default


@dataclass(frozen=True, slots=True)
class Profile:
    busy_ms_per_update: float  # CPU-ish time of the bot process per update under the profiler
    shares: list[tuple[str, float]]
    top: list[hotspots.Hotspot]
    ours: list[hotspots.Hotspot]


@dataclass
class E2eResults:
    plan: E2ePlan
    echo: Burst
    ours: Burst
    steady: Steady
    sweep: dict[int, Burst] = field(default_factory=dict)
    sniffio_installed: bool = False
    sniffio_other: Burst | None = None  # ours with sniffio in the state other than installed
    profile: Profile | None = None

    @property
    def ratio(self) -> float:
        return self.ours.per_second / self.echo.per_second if self.echo.per_second else 0.0


def sniffio_installed() -> bool:
    return importlib.util.find_spec("sniffio") is not None


def measure(plan: E2ePlan, texts: Sequence[str], knowledge: Path | None) -> E2eResults:
    bodies = traffic(texts, users=plan.users, count=plan.messages)
    steady_count = max(1, round(plan.steady_rate * plan.steady_seconds))
    steady = traffic(texts[::-1], users=plan.users, count=steady_count, first_user=plan.users + 1)
    ours_spec = BotSpec(concurrent=plan.concurrency, knowledge=knowledge)
    echo = burst(BotSpec(echo=True, concurrent=plan.concurrency), bodies)
    ours, paced = burst_and_steady(ours_spec, bodies, steady, rate=plan.steady_rate)
    results = E2eResults(plan, echo, ours, paced, sniffio_installed=sniffio_installed())
    results.sweep[plan.concurrency] = ours
    for setting in plan.sweep:
        if setting != plan.concurrency:
            results.sweep[setting] = burst(BotSpec(concurrent=setting, knowledge=knowledge), bodies)
    if plan.sniffio:
        other = "absent" if results.sniffio_installed else "present"
        results.sniffio_other = burst(BotSpec(concurrent=plan.concurrency, sniffio=other, knowledge=knowledge), bodies)
    if plan.profile:
        results.profile = _profiled(plan, bodies, knowledge)
    return results


def _profiled(plan: E2ePlan, bodies: Sequence[dict[str, object]], knowledge: Path | None) -> Profile:
    with tempfile.TemporaryDirectory(prefix="medcareer-profile-") as tmp:
        out = Path(tmp) / "bot.prof"
        burst(BotSpec(concurrent=plan.concurrency, profile=out, knowledge=knowledge), bodies)
        stats = hotspots.load_stats(out)
    count = len(bodies)
    return Profile(
        busy_ms_per_update=hotspots.busy_seconds(stats) * 1000 / count,
        shares=hotspots.shares_by_group(stats),
        top=hotspots.top_functions(stats, per=count, top=12),
        ours=hotspots.top_functions(stats, per=count, top=8, only=hotspots.is_ours, by_total=True),
    )
