"""The service's config: defaults, every key read, and one clear line for each kind of mistake."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from bot.config import DEFAULT_BASE_URL, Config, ConfigError, load_config
from bot.matcher import Thresholds

TOKEN = {"TELEGRAM_BOT_TOKEN": "123:abc"}
REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text), env=TOKEN if env is None else env)
    message = str(caught.value)
    assert "\n" not in message
    return message.removeprefix(f"{tmp_path / 'config.yaml'}")


def test_an_empty_file_gives_the_documented_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), env=TOKEN)
    assert config.telegram.base_url == DEFAULT_BASE_URL == "https://api.telegram.org/bot"
    assert config.telegram.base_file_url == "https://api.telegram.org/file/bot"
    assert config.telegram.token == "123:abc"
    assert (config.mode, config.knowledge_dir, config.state_path) == (
        "polling",
        Path("knowledge"),
        Path("state/medcareer.sqlite3"),
    )
    assert config.matcher == Thresholds()
    assert (config.tips_per_reply, config.max_message_chars, config.concurrent_updates) == (3, 1000, 8)
    assert config.rate_limiter is True and config.admin_ids == frozenset()
    assert (config.log.level, config.log.format) == ("INFO", "text")


def test_the_example_config_documents_every_key_and_loads(tmp_path: Path) -> None:
    example = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(example)
    assert set(data) == {f for f in Config.__slots__}
    config = load_config(REPO / "config.example.yaml", env=TOKEN)
    assert config == Config(telegram=config.telegram), "config.example.yaml must show the defaults"
    nested = ("base_url", "token_file", "listen", "port", "path", "public_url", "secret_token", "level", "format")
    for key in (*nested, *(f.name for f in fields(Thresholds))):
        assert f"\n  {key}:" in example, f"config.example.yaml does not document {key}"


def test_every_key_is_read(tmp_path: Path) -> None:
    text = """
telegram: {base_url: "http://127.0.0.1:8081/bot"}
mode: webhook
webhook: {listen: 0.0.0.0, port: 8080, path: hook, public_url: "https://bot.example.org/hook", secret_token: abc-1}
knowledge_dir: /srv/knowledge
state_path: /var/lib/medcareer-bot/state.sqlite3
admin_ids: [1, 2]
matcher: {answer: 0.8, margin: 0.1, clarify: 0.4, safety: 0.95}
tips_per_reply: 2
max_message_chars: 500
concurrent_updates: 4
rate_limiter: false
log: {level: DEBUG, format: json}
"""
    config = load_config(write(tmp_path, text), env=TOKEN)
    assert config.telegram.base_file_url == "http://127.0.0.1:8081/file/bot"
    hook = config.webhook
    assert (hook.listen, hook.port, hook.path, hook.public_url, hook.secret_token) == (
        "0.0.0.0", 8080, "/hook", "https://bot.example.org/hook", "abc-1",
    )  # fmt: skip
    assert config.knowledge_dir == Path("/srv/knowledge")
    assert config.admin_ids == {1, 2}
    assert config.matcher == Thresholds(answer=0.8, margin=0.1, clarify=0.4, safety=0.95)
    assert (config.tips_per_reply, config.max_message_chars, config.concurrent_updates) == (2, 500, 4)
    assert config.rate_limiter is False and (config.log.level, config.log.format) == ("DEBUG", "json")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mdoe: polling", ": mdoe: unknown key — did you mean 'mode'?"),
        ("telegram: {base_ur: x}", ": telegram.base_ur: unknown key — did you mean 'base_url'?"),
        ("matcher: {answr: 0.5}", ": matcher.answr: unknown key — did you mean 'answer'?"),
        ("colour: blue", ": colour: unknown key — known keys: telegram, mode, webhook, knowledge_dir, "
                         "state_path, admin_ids, matcher, tips_per_reply, max_message_chars, concurrent_updates, "
                         "rate_limiter, log"),
        ("mode: poll", ": mode: must be one of polling, webhook, got 'poll'"),
        ("matcher: {answer: 1.5}", ": matcher.answer: must be a number from 0 to 1, got 1.5"),
        ("tips_per_reply: many", ": tips_per_reply: must be a whole number from 1 to 10, got 'many'"),
        ("rate_limiter: 'no'", ": rate_limiter: must be true or false, got 'no'"),
        ("admin_ids: [alice]", ": admin_ids: must be a list of Telegram user ids (numbers), got ['alice']"),
        ("telegram: {base_url: api.telegram.org}",
         ": telegram.base_url: must start with http:// or https://, got 'api.telegram.org'"),
        ("log: {level: LOUD}", ": log.level: must be one of DEBUG, INFO, WARNING, ERROR, got 'LOUD'"),
        ("- a list", ": must be a mapping of keys (see config.example.yaml)"),
        ("mode: [unclosed", ":1: expected ',' or ']', but got '<stream end>' — fix the YAML syntax"),
    ],
)  # fmt: skip
def test_a_bad_key_names_itself(tmp_path: Path, text: str, expected: str) -> None:
    assert error_for(tmp_path, text) == expected


def test_webhook_mode_needs_a_public_url_and_a_secret(tmp_path: Path) -> None:
    assert error_for(tmp_path, "mode: webhook") == (
        ": webhook.public_url: webhook mode needs the https:// URL Telegram posts updates to"
    )
    hook = "mode: webhook\nwebhook: {public_url: 'https://x.example/hook'}\n"
    assert error_for(tmp_path, hook) == (
        ": webhook.secret_token: webhook mode needs a secret token (or set TELEGRAM_WEBHOOK_SECRET)"
    )
    assert error_for(tmp_path, hook, {**TOKEN, "TELEGRAM_WEBHOOK_SECRET": "no spaces"}) == (
        ": webhook.secret_token: must be 1–256 characters from A-Z, a-z, 0-9, _ and -"
    )
    config = load_config(write(tmp_path, hook), env={**TOKEN, "TELEGRAM_WEBHOOK_SECRET": "from-env"})
    assert config.webhook.secret_token == "from-env"


def test_the_token_comes_from_the_environment_or_a_file_and_never_shows(tmp_path: Path) -> None:
    assert error_for(tmp_path, "", env={}) == (
        ": no bot token — set the TELEGRAM_BOT_TOKEN environment variable or telegram.token_file"
    )
    token_file = tmp_path / "token"
    token_file.write_text("999:from-file\n")
    config = load_config(write(tmp_path, f"telegram: {{token_file: {token_file}}}"), env=TOKEN)
    assert config.telegram.token == "999:from-file"
    assert "from-file" not in repr(config)
    assert config.secrets == ("999:from-file",)
    missing = tmp_path / "nope"
    assert error_for(tmp_path, f"telegram: {{token_file: {missing}}}") == (
        f": telegram.token_file: cannot read {missing}: No such file or directory"
    )


def test_a_missing_config_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found — copy config.example.yaml and edit it"):
        load_config(tmp_path / "missing.yaml", env=TOKEN)
