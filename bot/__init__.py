"""medcareer-bot: career guidance for medicine and healthcare, over Telegram, a console chat and JSON.

The core (knowledge, normalize, matcher, replies, engine) knows nothing about Telegram; the front ends
(console, cli, telegram_app) are thin adapters over `bot.engine.Engine`.
"""

__version__ = "0.1.0"
