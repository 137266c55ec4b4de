"""The SQLite state store: sessions survive reopening, counters add up, the unanswered log stays bounded
and anonymous, and a missing or corrupt database never stops the bot."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from bot.engine import Session
from bot.state import SCHEMA_VERSION, SqliteStateStore, StateStore


def test_a_missing_database_and_its_folder_are_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "state.sqlite3"
    store = SqliteStateStore(path)
    assert path.exists()
    assert store.get_session(1) == Session()
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_sessions_survive_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store: StateStore = SqliteStateStore(path)
    store.record_turn(7, Session(audience="nurse", last_intent="residency", next_tip=3), intent=None, action="text")
    store.record_turn(7, Session("nurse", "usmle", next_tip=2, lead_tip=4), intent=None, action="text")
    store.close()
    store.close()  # twice is harmless
    again = SqliteStateStore(path)
    assert again.get_session(7) == Session(audience="nurse", last_intent="usmle", next_tip=2, lead_tip=4)
    assert again.get_session(8) == Session()
    again.close()


def test_sessions_hold_no_message_text(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    store.record_turn(7, Session(audience="resident", last_intent="usmle", next_tip=3), intent="usmle", action="answer")
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        (data,) = db.execute("SELECT data FROM sessions").fetchone()
    assert data == '{"audience": "resident", "last_intent": "usmle", "lead_tip": null, "next_tip": 3}'
    store.close()


def test_forget_user_removes_only_that_user(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    store.record_turn(1, Session(last_intent="usmle"), intent="usmle", action="answer")
    store.record_turn(2, Session(last_intent="residency"), intent="residency", action="answer")
    store.forget_user(1)
    assert store.get_session(1) == Session()
    assert store.get_session(2).last_intent == "residency"
    assert store.stats().users == 1
    store.close()


def test_counters_and_stats(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    turns = [
        (1, "usmle", "answer", ""),
        (1, "usmle", "answer", ""),
        (2, "residency", "button", ""),
        (2, None, "fallback", "how do i become an architect"),
        (3, None, "clarify", "zzz"),
        (3, None, "fallback", "how do i become an architect"),
        (3, None, "fallback", "  "),
    ]
    for user, intent, action, unanswered in turns:
        store.record_turn(user, Session(last_intent=intent), intent=intent, action=action, unanswered=unanswered)
    stats = store.stats(top=5)
    assert stats.users == 3
    assert stats.outcomes == {"answer": 2, "button": 1, "clarify": 1, "fallback": 3}
    assert stats.top_intents == [("usmle", 2), ("residency", 1)]
    assert stats.top_unanswered == [("how do i become an architect", 2), ("zzz", 1)]
    store.close()


def test_a_turn_without_a_session_counts_but_keeps_the_stored_session(tmp_path: Path) -> None:
    """An undelivered reply: its outcome is counted, the user's session stays as it was (or absent)."""
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    store.record_turn(1, Session(last_intent="usmle", next_tip=3), intent="usmle", action="answer")
    store.record_turn(1, None, intent="usmle", action="button")
    store.record_turn(2, None, intent=None, action="fallback", unanswered="lol")
    assert store.get_session(1) == Session(last_intent="usmle", next_tip=3)
    stats = store.stats()
    assert (stats.users, stats.outcomes) == (1, {"answer": 1, "button": 1, "fallback": 1})
    assert stats.top_unanswered == [("lol", 1)]
    store.close()


def test_a_turn_is_written_in_one_transaction(tmp_path: Path) -> None:
    """Session, counters and unanswered text land together: one commit per turn."""
    store = SqliteStateStore(tmp_path / "state.sqlite3")
    commits: list[str] = []
    store._db.set_trace_callback(lambda sql: commits.append(sql) if sql.upper().startswith("COMMIT") else None)
    store.record_turn(1, Session(last_intent="usmle"), intent="usmle", action="clarify", unanswered="usmle when")
    store._db.set_trace_callback(None)
    assert commits == ["COMMIT"]
    store.close()


def test_the_unanswered_log_is_bounded_and_has_only_text_and_time(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.sqlite3", unanswered_limit=3)
    for n in range(10):
        store.record_turn(n, None, intent=None, action="fallback", unanswered=f"question {n}")
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        rows = db.execute("SELECT text FROM unanswered ORDER BY id").fetchall()
        columns = [r[1] for r in db.execute("PRAGMA table_info(unanswered)")]
    assert rows == [("question 7",), ("question 8",), ("question 9",)]
    assert columns == ["id", "text", "at"]
    store.close()


def test_a_corrupt_database_is_moved_aside_and_a_fresh_one_started(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not a database, it is a shopping list " * 100)
    with caplog.at_level(logging.ERROR, logger="bot.state"):
        store = SqliteStateStore(path)
    store.record_turn(1, Session(last_intent="usmle"), intent="usmle", action="answer")
    assert store.get_session(1).last_intent == "usmle"
    store.close()
    (aside,) = tmp_path.glob("state.sqlite3.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    (record,) = caplog.records
    assert record.getMessage().startswith(f"state database {path} is unusable (")
    assert f"moved it to {aside} and started a fresh one" in record.getMessage()


def test_a_database_from_a_newer_version_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store = SqliteStateStore(path)
    assert store.get_session(1) == Session()
    store.close()
    assert len(list(tmp_path.glob("state.sqlite3.corrupt-*"))) == 1


def test_a_session_stored_before_lead_tips_or_damaged_reads_back_safely() -> None:
    assert Session.from_dict({"audience": "nurse", "last_intent": "usmle", "next_tip": 3}).lead_tip is None
    for damaged in (-1, "2", True, 2.5):
        assert Session.from_dict({"last_intent": "usmle", "lead_tip": damaged}) == Session(last_intent="usmle")
