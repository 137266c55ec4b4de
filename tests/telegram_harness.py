"""Runs the real bot against `FakeBotApi`: in this process (fast) or as `python -m bot run` (end to end).

Nothing of ours is mocked: the in-process runner builds the same `Application` the service runs and
starts it the way `run_polling` does; the subprocess runner starts the command a deployment runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bot.config import load_config
from bot.state import SqliteStateStore
from bot.telegram_app import ALLOWED_UPDATES, build_application
from bot.telegram_runtime import Runtime, build_engine
from tests.fake_bot_api import Call, FakeBotApi

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token-never-logged"
ADMIN_ID = 42
SECRET = "s3cret-Token_for-tests"


def write_config(directory: Path, api: FakeBotApi, knowledge: Path, **overrides: Any) -> Path:
    """A config.yaml pointing at the fake API, the given knowledge and a state file in `directory`."""
    config: dict[str, Any] = {
        "telegram": {"base_url": api.base_url},
        "knowledge_dir": str(knowledge),
        "state_path": str(directory / "state" / "bot.sqlite3"),
        "admin_ids": [ADMIN_ID],
        "log": {"level": "DEBUG"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def exchange(api: FakeBotApi, update: dict[str, Any], *, replies: int = 1) -> list[Call]:
    """Queue one update and return the `replies` messages the bot sends for it."""
    before = len(api.calls("sendMessage"))
    api.push_update(update)
    calls = await asyncio.to_thread(api.wait_for, "sendMessage", before + replies)
    return calls[before:]


class InProcessBot:
    """`async with InProcessBot(config_path):` runs the bot, polling the fake API, inside the test."""

    def __init__(self, config_path: Path) -> None:
        config = load_config(config_path, env={"TELEGRAM_BOT_TOKEN": TOKEN})
        self.runtime = Runtime(config, build_engine(config), SqliteStateStore(config.state_path))
        self.application = build_application(self.runtime)

    async def __aenter__(self) -> InProcessBot:
        app = self.application
        await app.initialize()
        if app.post_init:
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=1)
        await app.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        app = self.application
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        if app.post_shutdown:
            await app.post_shutdown(app)


class BotProcess:
    """`python -m bot run --config PATH` as a child process, with its stderr (the log) captured."""

    def __init__(self, config_path: Path, *, env: dict[str, str] | None = None) -> None:
        self.log_path = config_path.with_name(f"bot-{time.monotonic_ns()}.log")
        self._log = self.log_path.open("wb")
        environment = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config_path)],
            cwd=REPO,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, api: FakeBotApi, method: str = "getUpdates") -> None:
        """Wait until the bot has started polling (or set its webhook)."""
        before = len(api.calls(method))
        try:
            api.wait_for(method, before + 1, timeout=15)
        except AssertionError:
            self.kill()
            raise AssertionError(f"the bot did not start; its log:\n{self.log}") from None

    def terminate(self, sig: int = signal.SIGTERM, *, timeout: float = 5.0) -> tuple[int, float]:
        """Send SIGTERM (or `sig`); returns the exit code and how long the process took to exit."""
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout + 5)
        finally:
            self._log.close()
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()
