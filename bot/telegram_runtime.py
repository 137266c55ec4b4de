"""The running Telegram service's shared parts: the current `Engine`, the state store, per-user locks.

`Runtime.reload()` builds and validates a whole new knowledge base and engine off the event loop and swaps
it in with one assignment; on `KnowledgeError` the old engine keeps serving. Handlers read `runtime.engine`
once per update, so an update never sees half of one knowledge base and half of another.
Nothing here imports `telegram`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.classifier import ClassifierState
from bot.config import Config
from bot.engine import Engine
from bot.knowledge import KnowledgeBase
from bot.loader import load_knowledge
from bot.state import StateStore

logger = logging.getLogger(__name__)


def build_engine(config: Config) -> Engine:
    """Load and validate the knowledge named in the config; raises `KnowledgeError`."""
    kb = load_knowledge(config.knowledge_dir)
    engine = Engine(
        kb,
        thresholds=config.matcher,
        tips_per_reply=config.tips_per_reply,
        max_message_chars=config.max_message_chars,
    )
    engine.matcher.warm_up()  # so that no user's first message waits for it
    if engine.matcher.classifier_state is ClassifierState.STALE:
        logger.warning(
            "the classifier in %s was fitted on other phrases than the knowledge has now: routing uses word "
            "matching alone until it is refitted (`python -m bot train`)",
            config.knowledge_dir,
        )
    return engine


class UserLocks:
    """One asyncio lock per user with updates in flight, so a user's session is read and written in turn."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: Counter[int] = Counter()

    @asynccontextmanager
    async def hold(self, user_id: int) -> AsyncIterator[None]:
        lock = self._locks.setdefault(user_id, asyncio.Lock())
        self._holders[user_id] += 1
        try:
            async with lock:
                yield
        finally:
            self._holders[user_id] -= 1
            if not self._holders[user_id]:
                del self._holders[user_id]
                del self._locks[user_id]

    def __len__(self) -> int:
        return len(self._locks)


class Runtime:
    """What every handler needs: config, the current engine, the store, and per-user locks."""

    def __init__(self, config: Config, engine: Engine, store: StateStore) -> None:
        self.config = config
        self.engine = engine
        self.store = store
        self.locks = UserLocks()
        self._blocked: set[int] = set()

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.config.admin_ids

    async def reload(self) -> KnowledgeBase:
        """Re-read the knowledge and swap in a new engine; on `KnowledgeError` nothing changes."""
        engine = await asyncio.to_thread(build_engine, self.config)
        self.engine = engine
        return engine.kb

    def first_block(self, user_id: int | None) -> bool:
        """True the first time a user is seen to have blocked the bot (so it is logged once)."""
        key = user_id if user_id is not None else 0
        if key in self._blocked:
            return False
        self._blocked.add(key)
        return True

    def unblocked(self, user_id: int) -> None:
        """The user wrote again, so they no longer block the bot."""
        self._blocked.discard(user_id)
