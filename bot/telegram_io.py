"""Telegram I/O helpers for the handlers: sending a reply reliably, and which group messages are for the bot.

`send` renders a `Reply` (or takes ready-made HTML), sends it to the update's chat (quoting the message
in groups) and rides out Bot API server errors and flood control. `addressed_text` decides whether a
message is meant for the bot. No handlers and no knowledge here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Message, MessageEntity, ReplyParameters, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import ContextTypes

from bot.replies import Reply
from bot.telegram_render import render_html, render_keyboard
from bot.telegram_runtime import Runtime

SEND_ATTEMPTS = 3
T = TypeVar("T")


def runtime_of(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The service's `Runtime`, kept in the application's bot_data."""
    return context.application.bot_data["runtime"]


async def _retrying(call: Callable[[], Awaitable[T]]) -> T:
    """Retry a Bot API call on server errors and on flood control the rate limiter did not absorb."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as err:
            if attempt == SEND_ATTEMPTS:
                raise
            wait = err.retry_after
            await asyncio.sleep((wait if isinstance(wait, int) else wait.total_seconds()) + 0.1)
        except (BadRequest, TimedOut):
            raise  # a bad request fails again; after a timeout the message may have arrived already
        except NetworkError:
            if attempt == SEND_ATTEMPTS:
                raise
            await asyncio.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply | str) -> None:
    """Send a reply (or ready-made HTML) to the update's chat; in groups, as a reply to the message."""
    chat = update.effective_chat
    if chat is None:
        return
    text = reply if isinstance(reply, str) else render_html(reply)
    markup = None if isinstance(reply, str) else render_keyboard(reply)
    message = update.message
    quote = (
        ReplyParameters(message.message_id, allow_sending_without_reply=True)
        if message is not None and chat.type != ChatType.PRIVATE
        else None
    )
    await _retrying(lambda: context.bot.send_message(chat.id, text, reply_markup=markup, reply_parameters=quote))


def addressed_text(message: Message, bot_id: int, bot_username: str | None) -> str | None:
    """The text meant for the bot, or None: all of a private message; in a group, a reply to one of the
    bot's messages, or a message mentioning it (without the mention)."""
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    mention = f"@{bot_username}".casefold() if bot_username else None
    found = message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
    for entity, value in found.items():
        if (entity.user is not None and entity.user.id == bot_id) or value.casefold() == mention:
            return (text[: entity.offset] + text[entity.offset + entity.length :]).strip()
    return None
