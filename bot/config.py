"""The Telegram service's configuration: one YAML file, validated at start-up into frozen dataclasses.

`load_config(path)` returns a `Config` or raises `ConfigError` with one line naming the bad, missing or
unknown key. Secrets (the bot token, the webhook secret) come from the environment or a token file, never
from the committed config, and are kept out of every `repr`. Relative paths (knowledge_dir, state_path,
telegram.token_file) resolve against the working directory, like every other command of the bot.
This module does not import `telegram` and does no logging.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from bot.matcher import Thresholds

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
SECRET_ENV = "TELEGRAM_WEBHOOK_SECRET"
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_MISSING = object()


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line that names the key and the fix."""


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    base_url: str = DEFAULT_BASE_URL
    token: str = field(default="", repr=False)
    token_file: Path | None = None

    @property
    def base_file_url(self) -> str:
        """The file URL that goes with `base_url` (…/bot → …/file/bot), as the Bot API lays them out."""
        root, sep, _ = self.base_url.rstrip("/").rpartition("/")
        return f"{root}/file/bot" if sep else f"{self.base_url}/file/bot"


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = "/telegram"
    public_url: str = ""
    secret_token: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class LogConfig:
    level: str = "INFO"
    format: str = "text"


@dataclass(frozen=True, slots=True)
class Config:
    telegram: TelegramConfig = TelegramConfig()
    mode: str = "polling"
    webhook: WebhookConfig = WebhookConfig()
    knowledge_dir: Path = Path("knowledge")
    state_path: Path = Path("state/medcareer.sqlite3")
    admin_ids: frozenset[int] = frozenset()
    matcher: Thresholds = field(default_factory=Thresholds)
    tips_per_reply: int = 3
    max_message_chars: int = 1000
    concurrent_updates: int = 8
    rate_limiter: bool = True
    log: LogConfig = LogConfig()

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never appear in a log line."""
        return tuple(s for s in (self.telegram.token, self.webhook.secret_token) if s)


_DEFAULT = Config()
_HOOK = WebhookConfig()


# --- reading values -------------------------------------------------------------------------------


class _Reader:
    """Pops typed values out of one mapping of the YAML file; whatever is left over is an unknown key."""

    def __init__(self, data: Mapping[str, Any], prefix: str, where: str) -> None:
        self.data = dict(data)
        self.prefix = prefix
        self.where = where

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: {self.prefix}{key}: {problem}")

    def take(self, key: str, default: Any, kind: str, check: Callable[[Any], bool]) -> Any:
        value = self.data.pop(key, _MISSING)
        if value is _MISSING or value is None:
            return default
        if not check(value):
            raise self.fail(key, f"must be {kind}, got {value!r}")
        return value

    def string(self, key: str, default: str) -> str:
        value = self.take(key, default, "a string", lambda v: isinstance(v, str))
        return str(value).strip()

    def integer(self, key: str, default: int, *, low: int, high: int) -> int:
        def ok(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool) and low <= v <= high

        return int(self.take(key, default, f"a whole number from {low} to {high}", ok))

    def number(self, key: str, default: float) -> float:
        def ok(v: Any) -> bool:
            return isinstance(v, int | float) and not isinstance(v, bool) and 0.0 <= v <= 1.0

        return float(self.take(key, default, "a number from 0 to 1", ok))

    def boolean(self, key: str, default: bool) -> bool:
        return bool(self.take(key, default, "true or false", lambda v: isinstance(v, bool)))

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def section(self, key: str) -> _Reader:
        value = self.take(key, {}, "a mapping of keys", lambda v: isinstance(v, dict))
        return _Reader(value, f"{self.prefix}{key}.", self.where)

    def done(self, known: tuple[str, ...]) -> None:
        for key in self.data:
            if key in known:
                continue
            hint = difflib.get_close_matches(str(key), known, n=1)
            advice = f"did you mean '{hint[0]}'?" if hint else f"known keys: {', '.join(known)}"
            raise self.fail(str(key), f"unknown key — {advice}")


# --- the sections ---------------------------------------------------------------------------------


def _telegram(reader: _Reader, env: Mapping[str, str]) -> TelegramConfig:
    section = reader.section("telegram")
    base_url = section.string("base_url", DEFAULT_BASE_URL)
    if not base_url.startswith(("http://", "https://")):
        raise section.fail("base_url", f"must start with http:// or https://, got {base_url!r}")
    token_file_text = section.string("token_file", "")
    section.done(("base_url", "token_file"))
    token_file = Path(token_file_text) if token_file_text else None
    return TelegramConfig(base_url=base_url, token=_token(token_file, env, reader.where), token_file=token_file)


def _token(token_file: Path | None, env: Mapping[str, str], where: str) -> str:
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(f"{where}: telegram.token_file: cannot read {token_file}: {err.strerror}") from None
        if not token:
            raise ConfigError(f"{where}: telegram.token_file: {token_file} is empty — put the bot token in it")
        return token
    token = env.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(f"{where}: no bot token — set the {TOKEN_ENV} environment variable or telegram.token_file")
    return token


def _webhook(reader: _Reader, env: Mapping[str, str], mode: str) -> WebhookConfig:
    section = reader.section("webhook")
    listen = section.string("listen", _HOOK.listen)
    port = section.integer("port", _HOOK.port, low=1, high=65535)
    path = "/" + section.string("path", _HOOK.path).lstrip("/")
    public_url = section.string("public_url", "")
    secret = section.string("secret_token", "") or env.get(SECRET_ENV, "").strip()
    section.done(("listen", "port", "path", "public_url", "secret_token"))
    if mode != "webhook":
        return WebhookConfig(listen, port, path, public_url, secret)
    if not public_url.startswith("https://"):
        raise section.fail("public_url", "webhook mode needs the https:// URL Telegram posts updates to")
    if not secret:
        raise section.fail("secret_token", f"webhook mode needs a secret token (or set {SECRET_ENV})")
    if not SECRET_PATTERN.fullmatch(secret):
        raise section.fail("secret_token", "must be 1–256 characters from A-Z, a-z, 0-9, _ and -")
    return WebhookConfig(listen, port, path, public_url, secret)


def _thresholds(reader: _Reader) -> Thresholds:
    section = reader.section("matcher")
    default = Thresholds()
    names = tuple(f.name for f in fields(Thresholds))
    values = {name: section.number(name, getattr(default, name)) for name in names}
    section.done(names)
    return Thresholds(**values)


def _admin_ids(reader: _Reader) -> frozenset[int]:
    def ok(v: Any) -> bool:
        return isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in v)

    return frozenset(reader.take("admin_ids", [], "a list of Telegram user ids (numbers)", ok))


def _log(reader: _Reader) -> LogConfig:
    section = reader.section("log")
    level = section.choice("level", "INFO", LOG_LEVELS)
    fmt = section.choice("format", "text", ("text", "json"))
    section.done(("level", "format"))
    return LogConfig(level=level, format=fmt)


TOP_LEVEL = (
    "telegram", "mode", "webhook", "knowledge_dir", "state_path", "admin_ids", "matcher", "tips_per_reply",
    "max_message_chars", "concurrent_updates", "rate_limiter", "log",
)  # fmt: skip


def parse_config(data: Mapping[str, Any], *, where: str, env: Mapping[str, str]) -> Config:
    """Validate an already-parsed mapping; `where` names the file in error messages."""
    reader = _Reader(data, "", where)
    reader.done(TOP_LEVEL)  # unknown keys first: a typo explains most other errors
    mode = reader.choice("mode", "polling", ("polling", "webhook"))
    return Config(
        telegram=_telegram(reader, env),
        mode=mode,
        webhook=_webhook(reader, env, mode),
        knowledge_dir=Path(reader.string("knowledge_dir", "knowledge") or "knowledge"),
        state_path=Path(reader.string("state_path", str(_DEFAULT.state_path)) or str(_DEFAULT.state_path)),
        admin_ids=_admin_ids(reader),
        matcher=_thresholds(reader),
        tips_per_reply=reader.integer("tips_per_reply", _DEFAULT.tips_per_reply, low=1, high=10),
        max_message_chars=reader.integer("max_message_chars", _DEFAULT.max_message_chars, low=1, high=100_000),
        concurrent_updates=reader.integer("concurrent_updates", _DEFAULT.concurrent_updates, low=1, high=256),
        rate_limiter=reader.boolean("rate_limiter", _DEFAULT.rate_limiter),
        log=_log(reader),
    )


def load_config(path: Path | str, *, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file; `env` defaults to the process environment."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found — copy config.example.yaml and edit it") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the config file: {err.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise ConfigError(f"{path}{line}: {problem} — fix the YAML syntax") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of keys (see config.example.yaml)")
    return parse_config(data, where=str(path), env=os.environ if env is None else env)
