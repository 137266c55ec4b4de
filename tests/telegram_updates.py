"""Updates as Telegram sends them, for tests to queue on `FakeBotApi` or POST to the bot's webhook.

Commands and @mentions carry their entities (python-telegram-bot's CommandHandler needs them), with
offsets in UTF-16 code units as the Bot API counts them.
"""

from __future__ import annotations

import re
import time
from typing import Any

from tests.fake_bot_api import bot_user


def user(user_id: int, name: str = "Ann") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "en"}


def chat(chat_id: int) -> dict[str, Any]:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Ann"}
    return {"id": chat_id, "type": "group", "title": "Study group"}


def message(user_id: int, text: str | None = None, *, chat_id: int | None = None, message_id: int = 1,
            **extra: Any) -> dict[str, Any]:  # fmt: skip
    """A `message` update body; commands and @mentions get their entities, as Telegram adds them."""
    body: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "from": user(user_id),
                            "chat": chat(chat_id if chat_id is not None else user_id), **extra}  # fmt: skip
    if text is not None:
        body["text"] = text
        entities = _entities(text)
        if entities:
            body["entities"] = entities
    return {"message": body}


def _entities(text: str) -> list[dict[str, Any]]:
    found = []
    command = re.match(r"/\w+(?:@\w+)?", text)
    if command:
        found.append({"type": "bot_command", "offset": 0, "length": len(command.group())})
    for mention in re.finditer(r"@\w+", text):
        if not (command and mention.start() < command.end()):
            found.append({"type": "mention", "offset": _utf16(text[: mention.start()]),
                          "length": _utf16(mention.group())})  # fmt: skip
    return found


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def sticker(user_id: int, *, chat_id: int | None = None) -> dict[str, Any]:
    body = {"file_id": "CAACAgIAAxk", "file_unique_id": "AgADsticker", "type": "regular", "width": 512,
            "height": 512, "is_animated": False, "is_video": False}  # fmt: skip
    return message(user_id, chat_id=chat_id, sticker=body)


def callback(user_id: int, data: str, *, message_id: int = 101, query_id: str = "q1") -> dict[str, Any]:
    """A button press on one of the bot's earlier messages."""
    bot_message = {"message_id": message_id, "date": int(time.time()), "chat": chat(user_id), "from": bot_user(),
                   "text": "earlier reply"}  # fmt: skip
    return {"callback_query": {"id": query_id, "from": user(user_id), "chat_instance": "ci-1", "data": data,
                               "message": bot_message}}  # fmt: skip
