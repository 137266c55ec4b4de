"""What a Telegram user sees, through the real python-telegram-bot stack polling a fake Bot API.

The bot runs in this process (`InProcessBot` starts the same Application the service runs) on the small
knowledge base from conftest, so the assertions do not move when the shipped knowledge is edited.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.engine import Session
from tests.fake_bot_api import BOT_ID, BOT_USERNAME, Call, FakeBotApi
from tests.telegram_harness import ADMIN_ID, InProcessBot, exchange, write_config
from tests.telegram_updates import callback, message, sticker

USER = 1001
WELCOME = "Hi! I help with careers in medicine."
DISCLAIMER = "Career guidance only, not medical advice."
FALLBACK = "I can only help with careers in medicine and healthcare."
MENU = ["residency", "usmle"]

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")
Scenario = Callable[[InProcessBot, FakeBotApi], Awaitable[None]]


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


def run_bot(tmp_path: Path, api: FakeBotApi, knowledge: Path, scenario: Scenario, **config: Any) -> None:
    path = write_config(tmp_path, api, knowledge, **config)

    async def main() -> None:
        async with InProcessBot(path) as bot:
            await scenario(bot, api)

    asyncio.run(main())


async def ask(api: FakeBotApi, update: dict[str, Any]) -> Call:
    (reply,) = await exchange(api, update)
    return reply


async def recorded(bot: InProcessBot, *, turns: int) -> None:
    """Wait (up to 5 s) until the store has counted `turns` turns: under load a reply can arrive before the
    handler that sent it has recorded its turn."""
    for _ in range(500):
        if sum(bot.runtime.store.stats().outcomes.values()) >= turns:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {turns} turns recorded: {bot.runtime.store.stats()}")


def test_start_shows_welcome_disclaimer_and_topic_menu(tmp_path: Path, api: FakeBotApi, mini_dir: Path) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        reply = await ask(api, message(USER, "/start"))
        assert reply.text == f"{WELCOME}\n\n{DISCLAIMER}\n\nPick a topic."
        assert reply.buttons == MENU
        assert reply.params["parse_mode"] == "HTML"

    run_bot(tmp_path, api, mini_dir, scenario)
    commands = api.calls("setMyCommands")[0].json("commands")
    assert [c["command"] for c in commands] == ["start", "topics", "help", "about", "forget"]


def test_a_question_gets_tips_with_sources_and_follow_up_buttons(
    tmp_path: Path, api: FakeBotApi, mini_dir: Path
) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        reply = await ask(api, message(USER, "What is residency like?"))
        assert reply.params["text"].startswith("<b>Residency</b>\n\n• Ask current residents")
        assert reply.text.count("• ") == 3
        assert "Source: Source One (Residency Training)" in reply.text
        assert reply.buttons == ["more:residency", "usmle"]

    run_bot(tmp_path, api, mini_dir, scenario)


def test_buttons_answer_the_query_and_more_tips_pages_on(tmp_path: Path, api: FakeBotApi, mini_dir: Path) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        await ask(api, message(USER, "what is residency like"))
        more = await ask(api, callback(USER, "more:residency", query_id="q-more"))
        assert "Plan fellowship applications in your second year." in more.text
        assert "Ask current residents" not in more.text
        assert more.buttons == ["usmle"]
        follow_up = await ask(api, callback(USER, "usmle", query_id="q-usmle"))
        assert follow_up.text.startswith("USMLE\n\n• Step 2 CS ended in 2021")
        assert follow_up.buttons == ["residency"]

    run_bot(tmp_path, api, mini_dir, scenario)
    assert [c.params["callback_query_id"] for c in api.calls("answerCallbackQuery")] == ["q-more", "q-usmle"]


def test_the_tip_asked_about_leads_and_more_tips_keeps_that_order_across_updates(
    tmp_path: Path, api: FakeBotApi, mini_dir: Path
) -> None:
    """The lead tip's place is kept in the stored session (SQLite), so the second page follows the first."""

    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        first = await ask(api, message(USER, "how does the match work, and fellowship later?"))
        assert first.text.startswith("Residency\n\n• Plan fellowship applications in your second year.")
        more = await ask(api, callback(USER, "more:residency", query_id="q-more"))
        pages = first.text + more.text
        tips = ("Plan fellowship", "Ask current residents", "Nurses moving into", "Keep a log of procedures")
        assert [pages.count(tip) for tip in tips] == [1, 1, 1, 1]

    run_bot(tmp_path, api, mini_dir, scenario, tips_per_reply=2)


def test_one_users_quick_messages_are_answered_in_order_on_the_latest_session(
    tmp_path: Path, api: FakeBotApi, mini_dir: Path
) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        api.push_update(message(USER, "what is residency like"))
        api.push_update(callback(USER, "more:residency", query_id="q-more"))
        first, more = await asyncio.to_thread(api.wait_for, "sendMessage", 2)
        assert first.text.startswith("Residency\n\n• Ask current residents")
        assert "Plan fellowship applications in your second year." in more.text

    run_bot(tmp_path, api, mini_dir, scenario)


def test_deep_link_opens_the_topic_and_an_unknown_one_shows_the_menu(
    tmp_path: Path, api: FakeBotApi, mini_dir: Path
) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        linked = await ask(api, message(USER, "/start usmle"))
        assert linked.text.startswith("USMLE\n\n• Step 2 CS ended in 2021")
        unknown = await ask(api, message(USER, "/start no_such_topic"))
        assert unknown.text.startswith(WELCOME)
        assert unknown.buttons == MENU

    run_bot(tmp_path, api, mini_dir, scenario)


def test_a_stale_button_gets_a_note_and_the_menu(tmp_path: Path, api: FakeBotApi, mini_dir: Path) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        reply = await ask(api, callback(USER, "removed_topic", query_id="q-stale"))
        assert reply.text == "That button is out of date."
        assert reply.buttons == MENU

    run_bot(tmp_path, api, mini_dir, scenario)
    assert [c.params["callback_query_id"] for c in api.calls("answerCallbackQuery")] == ["q-stale"]


def test_stickers_photos_voice_and_locations_get_the_text_only_note(
    tmp_path: Path, api: FakeBotApi, mini_dir: Path
) -> None:
    photo = [{"file_id": "p", "file_unique_id": "pu", "width": 90, "height": 90}]
    others = [
        sticker(USER),
        message(USER, photo=photo),
        message(USER, voice={"file_id": "v", "file_unique_id": "vu", "duration": 3}),
        message(USER, location={"latitude": 51.5, "longitude": -0.1}),
        message(USER, document={"file_id": "d", "file_unique_id": "du", "file_name": "cv.pdf"}),
    ]

    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        for update in others:
            reply = await ask(api, update)
            assert reply.text == "I read text questions only."
            assert reply.buttons == MENU

    run_bot(tmp_path, api, mini_dir, scenario)


def test_html_in_user_text_and_in_knowledge_is_escaped(tmp_path: Path, api: FakeBotApi, mini_dir: Path) -> None:
    intents = mini_dir / "intents.yaml"
    tip = "Ask current residents about their call schedule."
    text = intents.read_text().replace(tip, "Ask <b>residents</b> about Q&A & call </i>rotas.")
    example = "      - what is residency like\n"
    intents.write_text(text.replace(example, example + "      - is residency & <b>the match</b> hard\n"))

    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        reply = await ask(api, message(USER, "Is residency & <b>the match</b> hard?"))
        assert "• Ask <b>residents</b> about Q&A & call </i>rotas." in reply.text
        assert "Ask &lt;b&gt;residents&lt;/b&gt; about Q&amp;A &amp; call &lt;/i&gt;rotas." in reply.params["text"]

    run_bot(tmp_path, api, mini_dir, scenario)


def test_a_long_message_is_matched_on_its_start(tmp_path: Path, api: FakeBotApi, mini_dir: Path) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        reply = await ask(api, message(USER, "what is residency like? " + "blah architect network " * 400))
        assert reply.text.startswith("Residency\n\n")

    run_bot(tmp_path, api, mini_dir, scenario, max_message_chars=len("what is residency like"))


@pytest.mark.parametrize("rate_limiter", [True, False])
def test_a_429_on_the_first_send_still_delivers(
    tmp_path: Path, api: FakeBotApi, mini_dir: Path, rate_limiter: bool
) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        api.fail_next("sendMessage", 1, status=429, retry_after=1)
        refused, delivered = await exchange(api, message(USER, "/start"), replies=2)
        assert refused.text == delivered.text
        assert delivered.text.startswith(WELCOME)

    run_bot(tmp_path, api, mini_dir, scenario, rate_limiter=rate_limiter)


def test_server_errors_on_sending_and_polling_are_ridden_out(tmp_path: Path, api: FakeBotApi, mini_dir: Path) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        api.fail_next("sendMessage", 2, status=500)
        *_, delivered = await exchange(api, message(USER, "/start"), replies=3)
        assert delivered.text.startswith(WELCOME)
        api.fail_next("getUpdates", 2, status=500)
        reply = await ask(api, message(USER, "what is residency like"))
        assert reply.text.startswith("Residency")

    run_bot(tmp_path, api, mini_dir, scenario)


def test_a_failed_reply_is_logged_without_the_text_and_the_user_gets_an_apology(
    tmp_path: Path, api: FakeBotApi, mini_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        api.fail_next("sendMessage", 1, status=400)
        _, apology = await exchange(api, message(USER, "what is residency like zebracorn"), replies=2)
        assert apology.text == "Sorry, something went wrong."

    with caplog.at_level(logging.DEBUG):
        run_bot(tmp_path, api, mini_dir, scenario)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["update 1 failed: BadRequest"]
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and "zebracorn" in r.getMessage()]


def test_a_user_who_blocked_the_bot_is_logged_once_at_info(
    tmp_path: Path, api: FakeBotApi, mini_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        api.fail_next("sendMessage", 2, status=403)
        await exchange(api, message(USER, "/start"))
        await exchange(api, message(USER, "/help"))
        reply = await ask(api, message(USER, "/start"))
        assert reply.text.startswith(WELCOME)

    with caplog.at_level(logging.INFO):
        run_bot(tmp_path, api, mini_dir, scenario, concurrent_updates=1)
    blocked = [r for r in caplog.records if "blocked" in r.getMessage()]
    assert [r.levelno for r in blocked] == [logging.INFO]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_in_groups_only_commands_mentions_and_replies_to_the_bot_are_answered(
    tmp_path: Path, api: FakeBotApi, mini_dir: Path
) -> None:
    group = -100200

    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        api.push_update(message(USER, "what is residency like", chat_id=group, message_id=5))
        api.push_update(sticker(USER, chat_id=group))
        mentioned = await ask(api, message(USER, f"@{BOT_USERNAME} what is residency like", chat_id=group,
                                           message_id=6))  # fmt: skip
        assert mentioned.text.startswith("Residency")
        assert mentioned.json("reply_parameters")["message_id"] == 6
        earlier = {"message_id": 90, "date": 0, "chat": {"id": group, "type": "group"},
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "MedCareer"}, "text": "Residency"}  # fmt: skip
        replied = await ask(api, message(USER, "how to prepare for step 2 ck", chat_id=group, reply_to_message=earlier))
        assert replied.text.startswith("USMLE")
        command = await ask(api, message(USER, f"/start@{BOT_USERNAME}", chat_id=group))
        assert command.text.startswith(WELCOME)

    run_bot(tmp_path, api, mini_dir, scenario, concurrent_updates=1)
    assert len(api.calls("sendMessage")) == 3


def test_help_topics_about_and_unknown_commands(tmp_path: Path, api: FakeBotApi, mini_dir: Path) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        topics = await ask(api, message(USER, "/topics"))
        assert (topics.text, topics.buttons) == ("Pick a topic.", MENU)
        about = await ask(api, message(USER, "/about"))
        assert about.text == f"I am a career bot.\n\n• Source One\n\n{DISCLAIMER}"
        helped = await ask(api, message(USER, "/help"))
        assert helped.buttons == MENU
        unknown = await ask(api, message(USER, "/frobnicate"))
        assert unknown.text.startswith(FALLBACK)

    run_bot(tmp_path, api, mini_dir, scenario)


def test_forget_deletes_what_is_stored_about_the_user(tmp_path: Path, api: FakeBotApi, mini_dir: Path) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        await ask(api, message(USER, "what is residency like"))
        reply = await ask(api, message(USER, "/forget"))
        assert reply.text == "I have deleted what I stored about you."
        assert bot.runtime.store.get_session(USER) == Session()
        assert bot.runtime.store.stats().users == 0
        more = await ask(api, callback(USER, "more:residency"))  # no memory of the first page
        assert more.text.startswith("Residency\n\n• Ask current residents")


def test_reload_with_a_broken_file_keeps_the_old_knowledge_answering(
    tmp_path: Path, api: FakeBotApi, mini_dir: Path
) -> None:
    intents = mini_dir / "intents.yaml"
    good = intents.read_text()

    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        intents.write_text(good.replace("    kind: topic\n", "    kind: topik\n", 1))
        failed = await ask(api, message(ADMIN_ID, "/reload"))
        assert failed.text.startswith("Reload failed: 1 problem(s). The old knowledge is still answering.")
        assert "intents.yaml:9:" in failed.text
        still = await ask(api, message(USER, "what is residency like"))
        assert still.text.startswith("Residency\n\n• Ask current residents")
        intents.write_text(good.replace("Ask current residents", "Ask the chief residents"))
        reloaded = await ask(api, message(ADMIN_ID, "/reload"))
        assert reloaded.text == "Reloaded: 2 topics, 4 intents, 1 sources."
        fresh = await ask(api, message(USER, "what is residency like"))
        assert fresh.text.startswith("Residency\n\n• Ask the chief residents")

    run_bot(tmp_path, api, mini_dir, scenario)


def test_a_non_admin_gets_the_fallback_for_admin_commands(tmp_path: Path, api: FakeBotApi, mini_dir: Path) -> None:
    intents = mini_dir / "intents.yaml"

    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        intents.write_text(intents.read_text().replace("Ask current residents", "Ask the chief residents"))
        for command in ("/reload", "/stats"):
            reply = await ask(api, message(USER, command))
            assert reply.text.startswith(FALLBACK)
            assert reply.buttons == MENU
        answer = await ask(api, message(USER, "what is residency like"))
        assert "Ask current residents" in answer.text

    run_bot(tmp_path, api, mini_dir, scenario)


def test_stats_show_users_outcomes_topics_and_unanswered(tmp_path: Path, api: FakeBotApi, mini_dir: Path) -> None:
    async def scenario(bot: InProcessBot, api: FakeBotApi) -> None:
        await ask(api, message(USER + 1, "How do I become an ARCHITECT?"))
        await ask(api, message(USER, "what is residency like"))
        await ask(api, callback(USER, "usmle"))
        await ask(api, callback(USER, "gone_topic"))
        await ask(api, message(USER, "/start"))
        await ask(api, message(USER, "how do I become an architect"))
        await recorded(bot, turns=6)  # a turn is recorded just after its reply is sent
        report = await ask(api, message(ADMIN_ID, "/stats"))
        assert report.text.splitlines()[:5] == [
            "Bot statistics",
            "Users: 2",
            "Messages: 3 (answer 33%, clarify 0%, fallback 67%)",
            "Button presses: 2 (1 stale)",
            "Starts: 1 (0 by deep link)",
        ]
        assert "• residency — 1" in report.text and "• usmle — 1" in report.text
        assert report.text.endswith("Most frequent unanswered:\n• how do i become an architect — 2")

    run_bot(tmp_path, api, mini_dir, scenario)
