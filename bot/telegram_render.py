"""Turns the core's transport-neutral `Reply` (and the admin's reports) into Telegram HTML and keyboards.

Every piece of text is passed through `html.escape`, so nothing from the knowledge or from a user can
break a reply's markup. Only `<b>` is ever added. No I/O and no handlers here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import Button, Reply
from bot.state import Stats

MAX_TEXT = 4096  # Telegram's limit, counted on the text after the HTML is parsed
BUTTONS_PER_ROW = 2
MESSAGE_OUTCOMES = ("answer", "clarify", "fallback")


def render_html(reply: Reply) -> str:
    """The reply as Telegram HTML: the heading in bold, paragraphs separated by blank lines."""
    parts = [f"<b>{escape(reply.heading)}</b>"] if reply.heading else []
    parts.extend(escape(p) for p in reply.paragraphs if p)
    return "\n\n".join(parts)


def render_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard, two to a row; None when it has none."""
    return _keyboard(reply.buttons) if reply.buttons else None


@lru_cache(maxsize=1024)
def _keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup:
    """Cached: the same few keyboards (each topic's follow-ups, the menu) come back all the time, and PTB's
    objects are immutable, so one can be sent any number of times."""
    keys = [InlineKeyboardButton(b.label, callback_data=b.payload) for b in buttons]
    rows = [keys[i : i + BUTTONS_PER_ROW] for i in range(0, len(keys), BUTTONS_PER_ROW)]
    return InlineKeyboardMarkup(rows)


def fit_lines(title: str, lines: Sequence[str], *, limit: int = MAX_TEXT) -> str:
    """A bold title and as many escaped lines as fit in one message, then "… and N more"."""
    kept: list[str] = []
    used = len(title) + 1
    for index, line in enumerate(lines):
        more = f"… and {len(lines) - index} more"
        if used + len(line) + 1 + len(more) + 1 > limit:
            kept.append(more)
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join([f"<b>{escape(title)}</b>", *(escape(line) for line in kept)])


def render_stats(stats: Stats) -> str:
    """The admin's /stats report."""
    count = stats.outcomes.get
    asked = sum(count(action, 0) for action in MESSAGE_OUTCOMES)
    shares = ", ".join(f"{action} {_percent(count(action, 0), asked)}" for action in MESSAGE_OUTCOMES)
    lines = [
        f"Users: {stats.users}",
        f"Messages: {asked} ({shares})",
        f"Button presses: {count('button', 0) + count('stale', 0)} ({count('stale', 0)} stale)",
        f"Starts: {count('start', 0) + count('link', 0)} ({count('link', 0)} by deep link)",
        "",
        "Top topics:",
        *(f"• {intent} — {count}" for intent, count in stats.top_intents),
        *(["• none yet"] if not stats.top_intents else []),
        "",
        "Most frequent unanswered:",
        *(f"• {text} — {count}" for text, count in stats.top_unanswered),
        *(["• none yet"] if not stats.top_unanswered else []),
    ]
    return fit_lines("Bot statistics", lines)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"
