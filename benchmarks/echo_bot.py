"""A bare python-telegram-bot echo bot: the ceiling our stack can reach on the same fake server.

`python -m benchmarks.echo_bot --base-url URL --concurrent N` polls like the real bot (no rate limiter, the
same `concurrent_updates`) and answers each text with `send_message(chat_id, text)`: no core, no state, no
HTML. The token comes from TELEGRAM_BOT_TOKEN.
"""

from __future__ import annotations

import argparse
import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    if update.effective_chat is not None and update.message is not None and update.message.text:
        await context.bot.send_message(update.effective_chat.id, update.message.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--concurrent", type=int, default=8)
    args = parser.parse_args()
    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(args.base_url)
        .concurrent_updates(args.concurrent)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
