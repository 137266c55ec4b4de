"""Transport-neutral replies: what the bot says and which buttons it offers, built from the knowledge.

A `Reply` is plain data. Front ends render it: the console prints it, the JSON command serialises it and
the Telegram adapter turns it into escaped HTML and an inline keyboard. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.knowledge import Intent, Kind, KnowledgeBase, Tip

MORE_PREFIX = "more:"
TIPS_PER_REPLY = 3
MAX_REPLY_CHARS = 4096


@dataclass(frozen=True, slots=True)
class Button:
    """A button that asks for an intent's reply (or, with `more`, its next tips)."""

    label: str
    intent: str
    more: bool = False

    @property
    def payload(self) -> str:
        """Callback data: the intent id, or `more:<id>`; both well under Telegram's 64 bytes."""
        return f"{MORE_PREFIX}{self.intent}" if self.more else self.intent


def parse_payload(payload: str) -> tuple[str, bool]:
    """Split callback data into (intent id, wants more tips)."""
    if payload.startswith(MORE_PREFIX):
        return payload[len(MORE_PREFIX) :], True
    return payload, False


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: an optional heading, paragraphs of plain text, and buttons."""

    paragraphs: tuple[str, ...]
    heading: str = ""
    buttons: tuple[Button, ...] = ()

    @property
    def text(self) -> str:
        """The reply as plain text, exactly as a user reads it."""
        parts = (self.heading, *self.paragraphs) if self.heading else self.paragraphs
        return "\n\n".join(p for p in parts if p)


def order_tips(tips: tuple[Tip, ...], audience: str | None, lead: int | None = None) -> tuple[Tip, ...]:
    """The tip at position `lead` (the one the question asked about) first, then tips for the user's audience,
    then general ones, then those for other audiences.

    Without a known audience the maintainers' order stands: they put the best tip first.
    """
    if lead is not None and 0 <= lead < len(tips):
        return (tips[lead], *order_tips(tips[:lead] + tips[lead + 1 :], audience))
    if audience is None:
        return tips

    def rank(tip: Tip) -> int:
        if audience in tip.audience:
            return 0
        return 1 if not tip.audience else 2

    return tuple(sorted(tips, key=rank))


def format_tip(kb: KnowledgeBase, tip: Tip) -> str:
    source = kb.source(tip.source)
    title = source.title if source else tip.source
    return f"• {tip.text}\n{kb.text('source_prefix')} {title} ({tip.section})"


def menu_buttons(kb: KnowledgeBase) -> tuple[Button, ...]:
    return tuple(Button(i.title, i.id) for i in kb.topics)


def follow_up_buttons(kb: KnowledgeBase, intent: Intent) -> tuple[Button, ...]:
    found = (kb.intent(i) for i in intent.follow_ups)
    return tuple(Button(f.title, f.id) for f in found if f is not None)


def topic_reply(
    kb: KnowledgeBase,
    intent: Intent,
    *,
    audience: str | None,
    start: int = 0,
    count: int = TIPS_PER_REPLY,
    lead: int | None = None,
) -> tuple[Reply, int]:
    """A page of tips from `start` (in `order_tips` order) ending with the topic's note, if it has one, and
    where the next page begins (len(tips) when none are left)."""
    tips = order_tips(intent.tips, audience, lead)
    page = tips[start : start + count]
    end = start + len(page)
    buttons = list(follow_up_buttons(kb, intent))
    if end < len(tips):
        buttons.insert(0, Button(kb.text("more_tips"), intent.id, more=True))
    paragraphs = tuple(format_tip(kb, t) for t in page) if page else (kb.text("no_more_tips"),)
    if intent.note:
        paragraphs = (*paragraphs, intent.note)
    return Reply(paragraphs, heading=intent.title, buttons=tuple(buttons)), end


def answer_reply(kb: KnowledgeBase, intent: Intent) -> Reply:
    """The fixed reply of a conversation or safety intent."""
    buttons = menu_buttons(kb) if intent.show_menu else follow_up_buttons(kb, intent)
    return Reply((intent.answer,), buttons=buttons)


def with_topic_buttons(kb: KnowledgeBase, reply: Reply, intent_ids: tuple[str, ...]) -> Reply:
    """The reply with a button for each of these topics after its own (none repeated)."""
    have = {b.intent for b in reply.buttons}
    extra = tuple(Button(i.title, i.id) for i in map(kb.intent, intent_ids) if i and i.id not in have)
    return replace(reply, buttons=reply.buttons + extra)


def clarify_reply(kb: KnowledgeBase, intent_ids: tuple[str, ...]) -> Reply:
    """ "Which of these do you mean?" with a button each, or "is this what you mean?" for one."""
    found = [f for f in map(kb.intent, intent_ids) if f]
    text = kb.text("clarify_one" if len(found) == 1 else "clarify")
    return Reply((text,), buttons=tuple(Button(f.title, f.id) for f in found))


def menu_reply(kb: KnowledgeBase, lead: str = "") -> Reply:
    paragraphs = (lead, kb.text("menu")) if lead else (kb.text("menu"),)
    return Reply(paragraphs, buttons=menu_buttons(kb))


def fallback_reply(kb: KnowledgeBase, near: tuple[Intent, ...] = ()) -> Reply:
    """The topic menu with the intents the message came nearest to first, and a lead that says so; when one
    of them is a safety intent, a gentler lead."""
    lead = "fallback_safety" if any(i.kind is Kind.SAFETY for i in near) else "fallback_near" if near else "fallback"
    reply = menu_reply(kb, kb.text(lead))
    first = tuple(Button(i.title, i.id) for i in near)
    rest = tuple(b for b in reply.buttons if b not in first)
    return replace(reply, buttons=first + rest)


def welcome_reply(kb: KnowledgeBase) -> Reply:
    return Reply((kb.text("welcome"), kb.text("disclaimer"), kb.text("menu")), buttons=menu_buttons(kb))


def about_reply(kb: KnowledgeBase) -> Reply:
    titles = "\n".join(f"• {s.title}" for s in kb.sources)
    return Reply((kb.text("about"), titles, kb.text("disclaimer")))


def text_reply(kb: KnowledgeBase, key: str, *, with_menu: bool = False) -> Reply:
    """A fixed text from `texts`, optionally with the topic menu (non-text messages, stale buttons)."""
    return Reply((kb.text(key),), buttons=menu_buttons(kb) if with_menu else ())
