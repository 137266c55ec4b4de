"""Prints the cost of one `httpcore._synchronization.current_async_library()` call, in microseconds.

httpcore calls it each time it sets up one of its locks or events (several times per request); without
sniffio installed, each call is a failed import that searches sys.path. Run through `benchmarks.child` to
choose the sniffio state: `python -m benchmarks.child --sniffio absent benchmarks.sniffio_cost`.
"""

from __future__ import annotations

import asyncio
import time

from httpcore._synchronization import current_async_library

CALLS = 2000


async def _measure() -> float:
    current_async_library()
    started = time.perf_counter()
    for _ in range(CALLS):
        current_async_library()
    return (time.perf_counter() - started) / CALLS * 1e6


if __name__ == "__main__":
    print(f"{asyncio.run(_measure()):.2f}")
