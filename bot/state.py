"""What the Telegram service remembers between messages and restarts, behind a small `StateStore` interface.

`SqliteStateStore` keeps, in one SQLite file (WAL; a whole turn is written in one transaction):
- per user: the core's `Session` (audience, last topic, next tip), never any message text;
- counters per intent and per outcome (answer / clarify / fallback / button);
- a bounded log of questions the bot could not answer: normalised text and time only, no user ids.
A missing database is created with its folder; an unreadable or corrupt one is moved aside (logged as an
error) and a fresh one started, so the bot never crash-loops on its own state. No Telegram here.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.engine import Session

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
UNANSWERED_LIMIT = 1000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    user_id INTEGER PRIMARY KEY,
    data TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS intent_counts (intent TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outcome_counts (action TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS unanswered (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Stats:
    """Totals for the admin's /stats: counts only, no user ids."""

    users: int
    outcomes: dict[str, int]
    top_intents: list[tuple[str, int]]
    top_unanswered: list[tuple[str, int]]


class StateStore(Protocol):
    """Where sessions and counters live; SQLite today, something else tomorrow."""

    def get_session(self, user_id: int) -> Session: ...

    def record_turn(
        self, user_id: int, session: Session | None, *, intent: str | None, action: str, unanswered: str = ""
    ) -> None:
        """One turn, all or nothing: the user's new session (None keeps the stored one), the outcome
        counters (`intent` may be None), and the normalised text of an unanswered question (empty: none)."""
        ...

    def forget_user(self, user_id: int) -> None: ...

    def stats(self, *, top: int = 5) -> Stats: ...

    def close(self) -> None: ...


class SqliteStateStore:
    """A `StateStore` in one SQLite file; every call that writes is one transaction."""

    def __init__(self, path: Path | str, *, unanswered_limit: int = UNANSWERED_LIMIT) -> None:
        self.path = Path(path)
        self.unanswered_limit = unanswered_limit
        self._db = _open_or_replace(self.path)

    # sessions

    def get_session(self, user_id: int) -> Session:
        row = self._db.execute("SELECT data FROM sessions WHERE user_id = ?", (user_id,)).fetchone()
        if row is None:
            return Session()
        try:
            data = json.loads(row[0])
        except ValueError:
            return Session()
        return Session.from_dict(data) if isinstance(data, dict) else Session()

    def record_turn(
        self, user_id: int, session: Session | None, *, intent: str | None, action: str, unanswered: str = ""
    ) -> None:
        """Everything one turn changes, in one transaction (a commit costs more than the statements in it)."""
        text = unanswered.strip()[:500]
        now = time.time()
        with self._transaction() as db:
            if session is not None:
                db.execute(
                    "INSERT INTO sessions (user_id, data, updated_at) VALUES (?, ?, ?) ON CONFLICT(user_id) "
                    "DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                    (user_id, json.dumps(session.to_dict(), sort_keys=True), now),
                )
            _bump(db, "outcome_counts", "action", action)
            if intent:
                _bump(db, "intent_counts", "intent", intent)
            if text:
                cursor = db.execute("INSERT INTO unanswered (text, at) VALUES (?, ?)", (text, now))
                db.execute("DELETE FROM unanswered WHERE id <= ?", (cursor.lastrowid - self.unanswered_limit,))

    def forget_user(self, user_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    def stats(self, *, top: int = 5) -> Stats:
        db = self._db
        users = db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
        outcomes = dict(db.execute("SELECT action, count FROM outcome_counts ORDER BY action").fetchall())
        intents = db.execute(
            "SELECT intent, count FROM intent_counts ORDER BY count DESC, intent LIMIT ?", (top,)
        ).fetchall()
        return Stats(users, outcomes, [tuple(r) for r in intents], _top_unanswered(db, top))

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close; safe to call twice."""
        if self._db is None:
            return
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            logger.warning("could not checkpoint %s on close", self.path, exc_info=True)
        self._db.close()
        self._db = None  # type: ignore[assignment]

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._db:
            yield self._db


def read_unanswered(path: Path, *, top: int) -> list[tuple[str, int]]:
    """The most frequent unanswered questions in a state database, opened read-only: a maintainers' tool
    must neither migrate nor move aside the live bot's file."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return _top_unanswered(db, top)
    finally:
        db.close()


def _top_unanswered(db: sqlite3.Connection, top: int) -> list[tuple[str, int]]:
    rows = db.execute(
        "SELECT text, COUNT(*) AS n FROM unanswered GROUP BY text ORDER BY n DESC, MAX(id) DESC LIMIT ?", (top,)
    ).fetchall()
    return [tuple(r) for r in rows]


def _bump(db: sqlite3.Connection, table: str, column: str, key: str) -> None:
    db.execute(
        f"INSERT INTO {table} ({column}, count) VALUES (?, 1) ON CONFLICT({column}) DO UPDATE SET count = count + 1",
        (key,),
    )


def _connect(path: Path) -> sqlite3.Connection:
    """Open, check and migrate the database; raises sqlite3.DatabaseError if it is unusable."""
    db = sqlite3.connect(path, check_same_thread=False)
    try:
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("quick_check failed")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"schema version {version} is newer than this bot's {SCHEMA_VERSION}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        if version < SCHEMA_VERSION:  # one transaction: tables and version land together or not at all
            db.executescript(f"BEGIN;{_SCHEMA}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;")
    except BaseException:
        db.close()
        raise
    return db


def _open_or_replace(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _connect(path)
    except sqlite3.DatabaseError as err:
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        logger.error("state database %s is unusable (%s); moved it to %s and started a fresh one", path, err, aside)
        for suffix in ("", "-wal", "-shm"):
            old = path.with_name(path.name + suffix)
            if old.exists():
                old.replace(aside.with_name(aside.name + suffix))
        return _connect(path)
