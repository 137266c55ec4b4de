"""The Telegram front end: python-telegram-bot handlers that translate between Telegram and the core.

One handler per user action. Each reads the user's `Session` from the state store, asks the current
`Engine` for a `Turn`, stores the new session and counters, and sends the rendered reply. What users
read comes from the knowledge; this module only decides which reply and where it goes. It never logs
message text above DEBUG.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.engine import Engine, Session, Turn
from bot.loader import KnowledgeError
from bot.matcher import Action
from bot.replies import parse_payload
from bot.telegram_io import addressed_text, runtime_of, send
from bot.telegram_render import fit_lines, render_stats
from bot.telegram_runtime import Runtime

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")
COMMANDS = (
    ("start", "Welcome and the topic menu"),
    ("topics", "The topic menu"),
    ("help", "What I can help with"),
    ("about", "What this bot is and its sources"),
    ("forget", "Delete everything stored about you"),
)
RATE_LIMIT_RETRIES = 3
NON_TEXT = (
    filters.Sticker.ALL | filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE
    | filters.ANIMATION | filters.Document.ALL | filters.LOCATION | filters.VENUE | filters.CONTACT
    | filters.POLL | filters.Dice.ALL
)  # fmt: skip


async def _converse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, act: Callable[[Engine, Session], tuple[Turn, str]]
) -> None:
    """Run one turn for the user: their session in, reply out, then the turn recorded in one transaction.

    `act` returns the turn and what kind of turn it was: text, button, stale, link or start. The counters
    are recorded even when sending fails; the new session only once the reply is delivered, so "More tips"
    never skips tips the user did not get.
    """
    user = update.effective_user
    if user is None:
        return
    rt = runtime_of(context)
    rt.unblocked(user.id)
    async with rt.locks.hold(user.id):
        turn, kind = act(rt.engine, rt.store.get_session(user.id))
        delivered = False
        try:
            await send(update, context, turn.reply)
            delivered = True
        finally:
            _record(rt, user.id, turn, kind, update.update_id, delivered=delivered)


def _record(rt: Runtime, user_id: int, turn: Turn, kind: str, update_id: int, *, delivered: bool) -> None:
    session = turn.session if delivered else None
    route = turn.route
    if route is None:
        intent = turn.session.last_intent if kind in ("button", "link") else None
        rt.store.record_turn(user_id, session, intent=intent, action=kind)
        logger.debug("update %s: %s → %s", update_id, kind, intent)
        return
    unanswered = route.normalized if route.action in (Action.CLARIFY, Action.FALLBACK) else ""
    rt.store.record_turn(user_id, session, intent=route.intent, action=route.action.value, unanswered=unanswered)
    logger.debug(
        "update %s: %r → %s %s (%.2f)", update_id, route.normalized, route.action, route.intent, route.confidence
    )


# --- handlers -------------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: welcome, disclaimer and menu; /start <topic> (a deep link) opens that topic."""
    topic = context.args[0] if context.args else ""

    def act(engine: Engine, session: Session) -> tuple[Turn, str]:
        turn = engine.open_topic(topic, session) if topic else None
        return (turn, "link") if turn else (Turn(engine.welcome(), session), "start")

    await _converse(update, context, act)


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/topics: the topic menu."""
    await send(update, context, runtime_of(context).engine.menu())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what the bot can help with."""
    await send(update, context, runtime_of(context).engine.help())


async def about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/about: what the bot is, its sources, and that it gives no medical advice."""
    await send(update, context, runtime_of(context).engine.about())


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: delete everything stored about this user."""
    rt = runtime_of(context)
    if update.effective_user is not None:
        async with rt.locks.hold(update.effective_user.id):
            rt.store.forget_user(update.effective_user.id)
    await send(update, context, rt.engine.fixed("forget_done"))


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text: in private chats always; in groups only when it mentions or replies to the bot."""
    message = update.message
    if message is None or message.text is None:
        return
    text = addressed_text(message, context.bot.id, context.bot.username)
    if text is None:
        return
    await _converse(update, context, lambda engine, session: (engine.handle_text(text, session), "text"))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An inline button: always answer the callback query, then send that topic (or the stale note)."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer()
    except TelegramError as err:  # e.g. "query is too old": the reply below still matters
        logger.debug("update %s: could not answer the callback query: %s", update.update_id, err)
    data = query.data or ""

    def act(engine: Engine, session: Session) -> tuple[Turn, str]:
        stale = engine.kb.intent(parse_payload(data)[0]) is None
        return engine.handle_button(data, session), "stale" if stale else "button"

    await _converse(update, context, act)


async def non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, files, locations…: say the bot reads text questions, show the menu."""
    await send(update, context, runtime_of(context).engine.fixed("non_text", with_menu=True))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have: the ordinary fallback."""
    await send(update, context, runtime_of(context).engine.fallback())


async def _admin_or_fallback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for an admin; anyone else gets the ordinary fallback, as for an unknown command."""
    user = update.effective_user
    if runtime_of(context).is_admin(user.id if user else None):
        return True
    await unknown_command(update, context)
    return False


async def reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload (admins): re-read the knowledge and swap it in whole, or keep the old one and show why not."""
    rt = runtime_of(context)
    if not await _admin_or_fallback(update, context):
        return
    try:
        kb = await rt.reload()
    except KnowledgeError as err:
        logger.error("reload failed, the old knowledge keeps serving:\n%s", err)
        title = f"Reload failed: {len(err.problems)} problem(s). The old knowledge is still answering."
        await send(update, context, fit_lines(title, err.problems))
        return
    logger.info("knowledge reloaded: %d intents, %d sources", len(kb.intents), len(kb.sources))
    await send(
        update, context, f"Reloaded: {len(kb.topics)} topics, {len(kb.intents)} intents, {len(kb.sources)} sources."
    )


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): users, messages, outcome shares, top topics, most frequent unanswered questions."""
    if await _admin_or_fallback(update, context):
        await send(update, context, render_stats(runtime_of(context).store.stats()))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with the update id (never the message text), then apologise to the user."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    user = update.effective_user if isinstance(update, Update) else None
    if isinstance(error, Forbidden):
        if runtime_of(context).first_block(user.id if user else None):
            logger.info("update %s: the user has blocked the bot or left the chat; not replying", update_id)
        return
    logger.error("update %s failed: %s", update_id, type(error).__name__, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        await send(update, context, runtime_of(context).engine.fixed("error"))
    except TelegramError as err:
        logger.warning("update %s: could not send the apology either: %s", update_id, type(err).__name__)


# --- the application ------------------------------------------------------------------------------


async def _post_init(application: Application) -> None:
    """Register the command menu with Telegram; a failure here is logged, not fatal."""
    try:
        await application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
    except TelegramError as err:
        logger.warning("could not register the bot's commands: %s", err)
    logger.info("connected as @%s", application.bot.username)


async def _post_shutdown(application: Application) -> None:
    """Flush and close the state store once every in-flight update has finished."""
    application.bot_data["runtime"].store.close()
    logger.info("stopped; state saved")


def add_handlers(application: Application) -> None:
    message = filters.UpdateType.MESSAGE
    for name, callback in (
        ("start", start), ("topics", topics), ("help", help_command), ("about", about), ("forget", forget),
        ("reload", reload), ("stats", stats),
    ):  # fmt: skip
        application.add_handler(CommandHandler(name, callback, filters=message))
    application.add_handler(CallbackQueryHandler(button))
    application.add_handler(MessageHandler(message & filters.TEXT & ~filters.COMMAND, text_message))
    application.add_handler(MessageHandler(message & filters.ChatType.PRIVATE & filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(message & filters.ChatType.PRIVATE & NON_TEXT, non_text))
    application.add_error_handler(on_error)


def build_application(runtime: Runtime) -> Application:
    """A python-telegram-bot Application wired to the runtime, ready for run_polling or run_webhook."""
    config = runtime.config
    defaults = Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
    builder = (
        ApplicationBuilder()
        .token(config.telegram.token)
        .base_url(config.telegram.base_url)
        .base_file_url(config.telegram.base_file_url)
        .defaults(defaults)
        .concurrent_updates(config.concurrent_updates)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
    )
    if config.rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
    application = builder.build()
    application.bot_data["runtime"] = runtime
    add_handlers(application)
    return application
