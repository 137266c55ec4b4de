"""End to end: `python -m bot run --config …` as a deployment runs it, with the fake Bot API as Telegram.

The shipped knowledge answers here. Assertions name intent ids and read titles and tips from the loaded
knowledge, so editing a tip's wording does not break them.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.knowledge import KnowledgeBase
from bot.loader import load_knowledge
from bot.service import JsonLineFormatter, RedactingFormatter
from tests.fake_bot_api import Call, FakeBotApi
from tests.telegram_harness import ADMIN_ID, REPO, SECRET, TOKEN, BotProcess, free_port, write_config
from tests.telegram_updates import callback, message, sticker

USER = 5150
QUESTIONS = {  # three questions whose routing is unambiguous
    "usmle": "any tips for the USMLE?",
    "residency": "how does the residency match work",
    "mentorship": "how do I find a mentor in medicine",
}
Deliver = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(REPO / "knowledge")


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


def send_and_wait(api: FakeBotApi, deliver: Deliver, update: dict[str, Any], *, replies: int = 1) -> Call:
    """Deliver an update (queued for polling, or POSTed to the webhook); return the last reply."""
    before = len(api.calls("sendMessage"))
    deliver(update)
    return api.wait_for("sendMessage", before + replies)[-1]


def post_update(port: int, path: str, update: dict[str, Any], secret: str | None) -> int:
    """POST one update to the bot's webhook as Telegram would; returns the HTTP status."""
    body = json.dumps({"update_id": int(time.monotonic_ns() % 10**9), **update}).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", body, headers, method="POST")
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as err:
            return err.code
        except urllib.error.URLError:  # the server binds just after setWebhook
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def check_journey(api: FakeBotApi, deliver: Deliver, kb: KnowledgeBase) -> None:
    """A new user's /start, three questions, two button presses and a sticker."""
    menu = [t.id for t in kb.topics]
    welcome = send_and_wait(api, deliver, message(USER, "/start"))
    assert welcome.text == "\n\n".join([kb.text("welcome"), kb.text("disclaimer"), kb.text("menu")])
    assert welcome.buttons == menu

    api.fail_next("sendMessage", 1, status=429, retry_after=1)
    for number, (intent_id, question) in enumerate(QUESTIONS.items()):
        intent = kb.intent(intent_id)
        assert intent is not None
        reply = send_and_wait(api, deliver, message(USER, question), replies=2 if number == 0 else 1)
        assert reply.params["text"].startswith(f"<b>{intent.title}</b>\n\n• ")
        assert f"• {intent.tips[0].text}" in reply.text
        assert reply.buttons == ["more:" + intent_id, *intent.follow_ups]

    mentorship = kb.intent("mentorship")
    assert mentorship is not None
    api.fail_next("sendMessage", 1, status=500)
    more = send_and_wait(api, deliver, callback(USER, "more:mentorship", query_id="q1"), replies=2)
    assert more.text.startswith(f"{mentorship.title}\n\n• {mentorship.tips[3].text}")
    assert mentorship.tips[0].text not in more.text

    follow_up = mentorship.follow_ups[0]
    pressed = send_and_wait(api, deliver, callback(USER, follow_up, query_id="q2"))
    assert pressed.text.startswith(kb.intent(follow_up).title + "\n\n• ")  # type: ignore[union-attr]
    assert [c.params["callback_query_id"] for c in api.calls("answerCallbackQuery")] == ["q1", "q2"]

    note = send_and_wait(api, deliver, sticker(USER))
    assert (note.text, note.buttons) == (kb.text("non_text"), menu)


def test_polling_journey_then_sigterm_exits_cleanly(tmp_path: Path, api: FakeBotApi, kb: KnowledgeBase) -> None:
    bot = BotProcess(write_config(tmp_path, api, REPO / "knowledge"))
    try:
        bot.wait_ready(api)
        check_journey(api, api.push_update, kb)
    finally:
        code, seconds = bot.terminate()
    assert code == 0, bot.log
    assert seconds <= 5
    assert api.calls("deleteWebhook") and api.calls("setMyCommands")
    assert TOKEN not in bot.log and "TEST-token" not in bot.log
    assert "stopped; state saved" in bot.log


def test_webhook_journey_and_the_secret_token_check(tmp_path: Path, api: FakeBotApi, kb: KnowledgeBase) -> None:
    port = free_port()
    hook = {"listen": "127.0.0.1", "port": port, "path": "/tg-hook", "public_url": "https://bot.example.org/tg"}
    log = {"level": "DEBUG", "format": "json"}
    config = write_config(tmp_path, api, REPO / "knowledge", mode="webhook", webhook=hook, log=log)
    bot = BotProcess(config, env={"TELEGRAM_WEBHOOK_SECRET": SECRET})
    try:
        bot.wait_ready(api, "setWebhook")
        (registered,) = api.calls("setWebhook")
        assert (registered.params["url"], registered.params["secret_token"]) == ("https://bot.example.org/tg", SECRET)
        assert post_update(port, "/tg-hook", message(USER, "/start"), secret=None) == 403
        assert post_update(port, "/tg-hook", message(USER, "/start"), secret="wrong") == 403
        assert not api.calls("sendMessage")

        def deliver(update: dict[str, Any]) -> None:
            assert post_update(port, "/tg-hook", update, secret=SECRET) == 200

        check_journey(api, deliver, kb)
    finally:
        code, seconds = bot.terminate(signal.SIGINT)
    assert code == 0, bot.log
    assert seconds <= 5
    assert SECRET not in bot.log and TOKEN not in bot.log
    entries = [json.loads(line) for line in bot.log.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(e["message"] == "stopped; state saved" for e in entries)


def test_state_survives_sigterm_mid_reply_and_a_restart(tmp_path: Path, api: FakeBotApi, kb: KnowledgeBase) -> None:
    usmle = kb.intent("usmle")
    assert usmle is not None and len(usmle.tips) >= 3
    config = write_config(tmp_path, api, REPO / "knowledge", tips_per_reply=1)
    first = BotProcess(config)
    try:
        first.wait_ready(api)
        page_1 = send_and_wait(api, api.push_update, message(USER, QUESTIONS["usmle"]))
        assert f"• {usmle.tips[0].text}" in page_1.text
        api.delay("sendMessage", 1.5)  # the next reply is still in flight when SIGTERM arrives
        api.push_update(callback(USER, "more:usmle"))
        api.wait_for("sendMessage", 2)
    finally:
        code, seconds = first.terminate()
    assert code == 0, first.log
    assert seconds <= 5
    assert f"• {usmle.tips[1].text}" in api.calls("sendMessage")[1].text

    api.delay("sendMessage", 0)
    second = BotProcess(config)
    try:
        second.wait_ready(api)
        page_3 = send_and_wait(api, api.push_update, callback(USER, "more:usmle"))
        assert f"• {usmle.tips[2].text}" in page_3.text
        # The bot records a turn once its reply is delivered; /stats comes from another user, so it may be
        # handled before that write: ask again until it shows up (or 5 s pass).
        expected = "Users: 1\nMessages: 1 (answer 100%, clarify 0%, fallback 0%)\nButton presses: 2"
        deadline = time.monotonic() + 5
        report = send_and_wait(api, api.push_update, message(ADMIN_ID, "/stats"))
        while expected not in report.text and time.monotonic() < deadline:
            time.sleep(0.1)
            report = send_and_wait(api, api.push_update, message(ADMIN_ID, "/stats"))
        assert expected in report.text
    finally:
        code, _ = second.terminate()
    assert code == 0, second.log


def run_command(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", "run", "--config", str(config)]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=30)


def test_a_bad_config_or_missing_token_stops_start_up_with_one_line(tmp_path: Path, api: FakeBotApi) -> None:
    config = write_config(tmp_path, api, REPO / "knowledge")
    base_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    missing_token = run_command(config, base_env)
    assert missing_token.returncode == 2
    assert missing_token.stderr == (
        f"error: {config}: no bot token — set the TELEGRAM_BOT_TOKEN environment variable or telegram.token_file\n"
    )
    config.write_text(config.read_text() + "mdoe: webhook\n")
    typo = run_command(config, {**base_env, "TELEGRAM_BOT_TOKEN": TOKEN})
    assert typo.returncode == 2
    assert typo.stderr == f"error: {config}: mdoe: unknown key — did you mean 'mode'?\n"
    assert not api.calls()


def test_broken_knowledge_or_a_rejected_token_stop_start_up_with_exit_1(
    tmp_path: Path, api: FakeBotApi, shipped_copy: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TELEGRAM_BOT_TOKEN": TOKEN}
    config = write_config(tmp_path, api, shipped_copy)
    api.fail_next("getMe", 1, status=401)
    rejected = run_command(config, env)
    assert rejected.returncode == 1
    assert "Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN or telegram.token_file" in rejected.stderr
    assert TOKEN not in rejected.stderr

    texts = shipped_copy / "texts.yaml"
    texts.write_text(texts.read_text(encoding="utf-8") + "\ntexts: {}\n", encoding="utf-8")
    broken = run_command(config, env)
    assert broken.returncode == 1
    assert f"the knowledge in {shipped_copy} does not load:" in broken.stderr
    assert "texts.yaml:" in broken.stderr
    assert [c.method for c in api.calls()] == ["getMe"]


def test_log_lines_as_json_with_secrets_redacted() -> None:
    formatter = RedactingFormatter(JsonLineFormatter(), [TOKEN, ""])
    try:
        raise ValueError(f"POST {TOKEN}/sendMessage failed")
    except ValueError:
        args = (f"/bot{TOKEN}/getMe",)
        record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "url %s", args, sys.exc_info())
    entry = json.loads(formatter.format(record))
    assert (entry["level"], entry["logger"], entry["message"]) == ("ERROR", "bot.x", "url /bot[redacted]/getMe")
    assert "ValueError: POST [redacted]/sendMessage failed" in entry["exception"]
    assert TOKEN not in formatter.format(record)


def test_deployment_files_run_the_same_command() -> None:
    unit = (REPO / "deploy" / "medcareer-bot.service").read_text(encoding="utf-8")
    command = "ExecStart=/opt/medcareer-bot/.venv/bin/python -m bot run --config /etc/medcareer-bot/config.yaml"
    for line in ("Restart=on-failure", "EnvironmentFile=/etc/medcareer-bot/env", "User=medcareer-bot",
                 "WorkingDirectory=/opt/medcareer-bot", "StateDirectory=medcareer-bot", "RestartPreventExitStatus=2",
                 command):  # fmt: skip
        assert f"\n{line}\n" in unit
    docker = (REPO / "Dockerfile").read_text(encoding="utf-8")
    for line in ("FROM python:3.11-slim", "RUN pip install .", "USER bot", 'VOLUME ["/state"]',
                 'CMD ["python", "-m", "bot", "run", "--config", "/config/config.yaml"]'):  # fmt: skip
        assert f"\n{line}\n" in docker
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "\n## Deploying\n" in readme and "deploy/medcareer-bot.service" in readme
