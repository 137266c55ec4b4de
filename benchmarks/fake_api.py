"""The Telegram tests' fake Bot API server, with what a benchmark needs on top: arrival times of every
`sendMessage`, batches of updates pushed with their times, and `getUpdates` capped at `limit` (100 when not
given), as Telegram caps it.

A subclass, not a copy: `tests/fake_bot_api.py` stays the one fake of Telegram. Runs in the benchmark's own
process, so every time here is on one clock (`time.perf_counter`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from tests.fake_bot_api import FakeBotApi

TELEGRAM_UPDATES_LIMIT = 100


class TimedFakeBotApi(FakeBotApi):
    """`FakeBotApi` that timestamps each `sendMessage` on arrival, before answering it."""

    def __init__(self) -> None:
        super().__init__()
        self._sent_lock = threading.Lock()
        self._sent: list[tuple[float, int]] = []  # (arrival time, chat id)
        self._arrived = threading.Condition(self._sent_lock)

    def handle(self, method: str, params: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
        if method == "sendMessage":
            with self._arrived:
                self._sent.append((time.perf_counter(), int(params.get("chat_id", 0))))
                self._arrived.notify_all()
        return super().handle(method, params, token)

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        limit = int(params.get("limit") or TELEGRAM_UPDATES_LIMIT)
        return super()._get_updates(params)[:limit]

    def push_all(self, bodies: Sequence[dict[str, Any]]) -> list[float]:
        """Queue updates one after another as fast as possible; the time each became available."""
        times = []
        for body in bodies:
            self.push_update(body)
            times.append(time.perf_counter())
        return times

    def sent_count(self) -> int:
        with self._sent_lock:
            return len(self._sent)

    def sent_since(self, start: int) -> list[tuple[float, int]]:
        with self._sent_lock:
            return self._sent[start:]

    def wait_sent(self, count: int, *, timeout: float) -> bool:
        """Wait until `count` messages have been sent in all; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._sent) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
            return True
