"""Turns cProfile statistics into short answers to "where does the time go": functions and packages.

Input is `pstats.Stats(...).stats` (key `(file, line, name)` → `(primitive calls, calls, own, cumulative,
callers)`); output is small frozen records the report prints. Time spent waiting in the event loop's
`select` is idle time, not cost, and is left out of every share.
"""

from __future__ import annotations

import cProfile
import pstats
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
Key = tuple[str, int, str]
StatsDict = dict[Key, tuple[Any, ...]]

_PACKAGES = (
    ("/telegram/", "python-telegram-bot"), ("/httpx/", "httpx"), ("/httpcore/", "httpcore"), ("/h11/", "h11"),
    ("/anyio/", "anyio"), ("/asyncio/", "asyncio"), ("/json/", "json"), ("/sqlite3/", "sqlite3"),
    ("/rapidfuzz/", "rapidfuzz"), ("<frozen importlib", "imports (failed look-ups)"),
    ("/_distutils_hack/", "imports (failed look-ups)"), ("__editable__", "imports (failed look-ups)"),
)  # fmt: skip
_BUILTINS = (
    ("sqlite3", "sqlite3"), ("rapidfuzz", "rapidfuzz"), ("json", "json"), ("_imp.", "imports (failed look-ups)"),
    ("posix.stat", "imports (failed look-ups)"), ("socket", "sockets"), ("re.Pattern", "re"), ("_sre", "re"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Hotspot:
    """One function: time per unit (message or update) in ms, own and with callees, and calls per unit."""

    name: str
    own_ms: float
    total_ms: float
    calls: float


def profile_calls(run: Callable[[], None]) -> StatsDict:
    """cProfile one call of `run` and return its raw statistics."""
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    return pstats.Stats(profiler).stats  # type: ignore[attr-defined]


def load_stats(path: Path) -> StatsDict:
    return pstats.Stats(str(path)).stats  # type: ignore[attr-defined]


def is_idle(key: Key) -> bool:
    return key[0] == "~" and ("poll" in key[2] or "select" in key[2])


def function_name(key: Key) -> str:
    file, line, name = key
    if file == "~":
        return name  # a built-in, e.g. <built-in method ...extractOne>
    path = Path(file)
    try:
        shown = str(path.relative_to(REPO))
    except ValueError:
        shown = "/".join(path.parts[-2:])
    return f"{shown}:{line} {name}"


def group_of(key: Key) -> str:
    """Which package a function's own time is charged to; our own code by module."""
    file, _, name = key
    if file == "~":
        return next((group for needle, group in _BUILTINS if needle in name), "other built-ins")
    path = Path(file)
    if path.parent == REPO / "bot":
        return f"bot.{path.stem}"
    return next((group for needle, group in _PACKAGES if needle in file), "other Python")


def busy_seconds(stats: StatsDict) -> float:
    return sum(v[2] for k, v in stats.items() if not is_idle(k))


def top_functions(stats: StatsDict, *, per: int, top: int, only: Callable[[Key], bool] | None = None,
                  by_total: bool = False) -> list[Hotspot]:  # fmt: skip
    """The `top` functions by own (or cumulative) time, idle time left out; times per `per` units."""
    count = max(1, per)
    rows = [(k, v) for k, v in stats.items() if not is_idle(k) and (only is None or only(k))]
    rows.sort(key=lambda kv: kv[1][3] if by_total else kv[1][2], reverse=True)
    return [Hotspot(function_name(k), v[2] * 1000 / count, v[3] * 1000 / count, v[1] / count) for k, v in rows[:top]]


def seconds_by_group(stats: StatsDict) -> dict[str, float]:
    """Each package's busy (non-idle) own time, in seconds."""
    totals: dict[str, float] = defaultdict(float)
    for key, value in stats.items():
        if not is_idle(key):
            totals[group_of(key)] += value[2]
    return dict(totals)


def is_ours(key: Key) -> bool:
    return Path(key[0]).parent == REPO / "bot"
