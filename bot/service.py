"""`python -m bot run --config PATH`: start the Telegram service and run it until SIGTERM or SIGINT.

Reads and checks the config, sets up logging (text or JSON lines; the token is never written), loads
the knowledge, opens the state store and runs python-telegram-bot in polling or webhook mode. Errors
become one log line and an exit code: 0 after a clean stop, 1 when the service cannot run, 2 for a bad
config. On a stop signal python-telegram-bot finishes the updates in flight; then the store is closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import sys
import warnings
from collections.abc import Sequence

from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application
from telegram.warnings import PTBDeprecationWarning

from bot.config import Config, ConfigError, LogConfig, load_config
from bot.loader import KnowledgeError
from bot.state import SqliteStateStore
from bot.telegram_app import ALLOWED_UPDATES, build_application
from bot.telegram_runtime import Runtime, build_engine

logger = logging.getLogger(__name__)

NOISY_LOGGERS = ("httpx", "httpcore")  # httpx logs every request URL, and the URL holds the token
BOOTSTRAP_RETRIES = 3
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and, if any, the exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RedactingFormatter(logging.Formatter):
    """Wraps another formatter and blanks out secrets wherever they would appear in the output."""

    def __init__(self, inner: logging.Formatter, secrets: Sequence[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure_logging(log: LogConfig, *, secrets: Sequence[str] = ()) -> None:
    """Send log lines to stderr in the configured format and level; keep httpx at WARNING."""
    inner = (
        JsonLineFormatter()
        if log.format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(inner, secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(log.level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)  # library warnings become log lines in the same format
    # python-telegram-bot warns on every 429 about a future type change we already handle
    warnings.filterwarnings("ignore", message=".*retry_after.*", category=PTBDeprecationWarning)


def main(config_path: str) -> int:
    """Run the bot until a stop signal; returns the process exit code."""
    try:
        config = load_config(config_path)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(config.log, secrets=config.secrets)
    return run(config)


def run(config: Config) -> int:
    """Load the knowledge, open the state and run Telegram in the configured mode."""
    try:
        engine = build_engine(config)
    except KnowledgeError as err:
        logger.error("the knowledge in %s does not load:\n%s", config.knowledge_dir, err)
        return EXIT_FAILED
    try:
        store = SqliteStateStore(config.state_path)
    except (OSError, sqlite3.Error) as err:
        logger.error("cannot open the state database %s: %s", config.state_path, err)
        return EXIT_FAILED
    application = build_application(Runtime(config, engine, store))
    asyncio.set_event_loop(asyncio.new_event_loop())
    logger.info(
        "starting in %s mode with %d intents; state in %s", config.mode, len(engine.kb.intents), config.state_path
    )
    try:
        _run_application(application, config)
    except InvalidToken:
        logger.error("Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN or telegram.token_file")
        return EXIT_FAILED
    except TelegramError as err:
        logger.error("cannot reach the Bot API at %s: %s", config.telegram.base_url, err)
        return EXIT_FAILED
    finally:
        store.close()
    return EXIT_OK


def _run_application(application: Application, config: Config) -> None:
    if config.mode == "webhook":
        hook = config.webhook
        application.run_webhook(
            listen=hook.listen,
            port=hook.port,
            url_path=hook.path,
            webhook_url=hook.public_url,
            secret_token=hook.secret_token,
            allowed_updates=ALLOWED_UPDATES,
            bootstrap_retries=BOOTSTRAP_RETRIES,
        )
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=BOOTSTRAP_RETRIES)
