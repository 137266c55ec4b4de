"""The one core every front end talks to: a message or a button press in, a `Reply` and new session out.

`Engine` holds a validated knowledge base and its matcher. It keeps no per-user state itself: the caller
passes a `Session` in and stores the one that comes back, so the console, the JSON command and Telegram
(with its SQLite store) share exactly the same behaviour.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from bot.knowledge import Intent, Kind, KnowledgeBase
from bot.matcher import DEFAULT_THRESHOLDS, STOPWORDS, Action, Matcher, Route, Thresholds
from bot.replies import (
    TIPS_PER_REPLY,
    Reply,
    about_reply,
    answer_reply,
    clarify_reply,
    fallback_reply,
    menu_reply,
    parse_payload,
    text_reply,
    topic_reply,
    welcome_reply,
    with_topic_buttons,
)
from bot.tip_finder import TipFinder
from bot.word_vectors import load as load_word_vectors

MAX_MESSAGE_CHARS = 1000
# A fallback's first buttons: of the held-out phrases that fell back, the topic scored first was the right
# one for 206 of 308 scored 0.5 or more, for 19 of 49 between 0.45 and 0.5, and for 5 of 24 below.
NEAR_TOPICS = 2
NEAR_TOPIC_SCORE = 0.5
# A safety intent leads a fallback from a much lower score, for recall: of the safety phrasings with a typo
# that fell back, every one with a safety intent among its closest scored it 0.3 or more. Below this floor
# are mostly figures of speech a negative example marks ("kill it at my interview": 0.57 x 0.3).
NEAR_SAFETY_SCORE = 0.25


@dataclass(frozen=True, slots=True)
class Session:
    """What the bot remembers about one user between messages: no message text."""

    audience: str | None = None
    last_intent: str | None = None
    next_tip: int = 0
    lead_tip: int | None = None  # the last topic's tip the question was about, shown first (bot.tip_finder)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        audience, last = data.get("audience"), data.get("last_intent")
        next_tip, lead = data.get("next_tip", 0), data.get("lead_tip")
        return cls(
            audience=audience if isinstance(audience, str) else None,
            last_intent=last if isinstance(last, str) else None,
            next_tip=next_tip if isinstance(next_tip, int) and next_tip >= 0 else 0,
            lead_tip=lead if isinstance(lead, int) and not isinstance(lead, bool) and lead >= 0 else None,
        )


@dataclass(frozen=True, slots=True)
class Turn:
    """The outcome of one message or button: the reply, how it was routed, the user's new session."""

    reply: Reply
    session: Session
    route: Route | None = None

    @property
    def intent(self) -> str | None:
        return self.route.intent if self.route else self.session.last_intent


class Engine:
    """Routes messages and button presses to replies over one knowledge base."""

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        tips_per_reply: int = TIPS_PER_REPLY,
        max_message_chars: int = MAX_MESSAGE_CHARS,
    ) -> None:
        self.kb = kb
        self.matcher = Matcher(kb, thresholds)
        self.tip_finder = TipFinder(
            kb.topics, self.matcher.prepare, self.matcher.specificity, STOPWORDS, load_word_vectors().direction
        )
        self.tips_per_reply = tips_per_reply
        self.max_message_chars = max_message_chars

    def route(self, text: str) -> Route:
        """How a message routes, without building a reply (the evaluation command uses this)."""
        return self.matcher.route(text[: self.max_message_chars])

    def handle_text(self, text: str, session: Session = Session()) -> Turn:
        text = text[: self.max_message_chars]
        route = self.matcher.route(text)
        audience = self.matcher.audience(route.normalized) or session.audience
        session = replace(session, audience=audience)
        if route.action is Action.ANSWER and route.intent is not None:
            intent = self.kb.intent(route.intent)
            if intent is not None:
                session = replace(session, lead_tip=self.tip_finder.lead(intent.id, route.normalized))
                turn = self._reply_for(intent, session, start=0)
                also = tuple(c.intent for c in route.candidates if c.intent != intent.id)
                if intent.offer_topics and also:
                    turn = replace(turn, reply=with_topic_buttons(self.kb, turn.reply, also))
                return replace(turn, route=route)
        if route.action is Action.CLARIFY and route.candidates:
            reply = clarify_reply(self.kb, tuple(c.intent for c in route.candidates))
            return Turn(reply, session, route)
        fallback = replace(route, action=Action.FALLBACK, intent=None)
        return Turn(self._fallback_for(route), session, fallback)

    def _fallback_for(self, route: Route) -> Reply:
        """The fallback, nearest intents' buttons first: a safety intent among the closest ("i feel
        hopeless") unless it scored below NEAR_SAFETY_SCORE, so that someone in trouble whose words no
        pattern caught is one tap from the right answer, then up to NEAR_TOPICS topics scored at least
        NEAR_TOPIC_SCORE."""
        near = [(i, c.score) for c in route.candidates if (i := self.kb.intent(c.intent)) is not None]
        safety = next((i for i, score in near if i.kind is Kind.SAFETY and score >= NEAR_SAFETY_SCORE), None)
        topics = [i for i, score in near if i.kind is Kind.TOPIC and score >= NEAR_TOPIC_SCORE][:NEAR_TOPICS]
        return fallback_reply(self.kb, (safety, *topics) if safety else tuple(topics))

    def handle_button(self, payload: str, session: Session = Session()) -> Turn:
        """A button press: an intent id, or `more:<id>` for that topic's next tips."""
        intent_id, more = parse_payload(payload)
        intent = self.kb.intent(intent_id)
        if intent is None:
            return Turn(text_reply(self.kb, "stale_button", with_menu=True), session)
        if more and session.last_intent == intent_id:  # the next page, in the order the first one had
            return self._reply_for(intent, session, start=session.next_tip)
        return self._reply_for(intent, replace(session, lead_tip=None), start=0)

    def open_topic(self, intent_id: str, session: Session = Session()) -> Turn | None:
        """A deep link such as /start residency; None when no topic has that id."""
        intent = self.kb.intent(intent_id)
        if intent is None or intent.kind is not Kind.TOPIC:
            return None
        return self._reply_for(intent, replace(session, lead_tip=None), start=0)

    def _reply_for(self, intent: Intent, session: Session, *, start: int) -> Turn:
        if intent.kind is not Kind.TOPIC:
            return Turn(answer_reply(self.kb, intent), replace(session, last_intent=intent.id, next_tip=0))
        reply, next_tip = topic_reply(
            self.kb, intent, audience=session.audience, start=start, count=self.tips_per_reply, lead=session.lead_tip
        )
        return Turn(reply, replace(session, last_intent=intent.id, next_tip=next_tip))

    def welcome(self) -> Reply:
        return welcome_reply(self.kb)

    def fallback(self) -> Reply:
        """What the bot can help with, and the topic menu (unknown commands get this too)."""
        return fallback_reply(self.kb)

    def menu(self) -> Reply:
        return menu_reply(self.kb)

    def help(self) -> Reply:
        intent = self.kb.intent("help")
        return answer_reply(self.kb, intent) if intent else menu_reply(self.kb)

    def about(self) -> Reply:
        return about_reply(self.kb)

    def fixed(self, key: str, *, with_menu: bool = False) -> Reply:
        """A fixed text by its `texts` key: non_text, stale_button, error, forget_done."""
        return text_reply(self.kb, key, with_menu=with_menu)
