"""Typed, frozen knowledge: what the loader builds from `knowledge/*.yaml` and the rest of the core reads.

No parsing and no I/O here; see `bot.loader` for how files become these objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.classifier import Classifier
    from bot.safety import Parts


class Kind(StrEnum):
    TOPIC = "topic"
    CONVERSATION = "conversation"
    SAFETY = "safety"


AUDIENCES = ("student", "resident", "nurse", "allied_health", "physician", "career_changer")

TEXT_KEYS = (
    "welcome",
    "disclaimer",
    "fallback",
    "fallback_safety",
    "fallback_near",
    "clarify",
    "clarify_one",
    "menu",
    "more_tips",
    "no_more_tips",
    "about",
    "non_text",
    "stale_button",
    "error",
    "forget_done",
    "source_prefix",
)


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    title: str
    file: str
    sections: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Tip:
    text: str
    source: str
    section: str
    audience: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Intent:
    id: str
    title: str
    kind: Kind
    examples: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    tips: tuple[Tip, ...] = ()
    answer: str = ""
    follow_ups: tuple[str, ...] = ()
    note: str = ""  # topics only: a line that ends every page of the topic's tips
    patterns: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()  # safety only: a match of one takes back a match of `patterns`
    show_menu: bool = False
    offer_topics: bool = False  # safety only: also offer the career topic the message reads most like


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the bot knows, validated. Intents keep their file order."""

    intents: tuple[Intent, ...]
    sources: tuple[Source, ...]
    texts: Mapping[str, str] = field(default_factory=_frozen)
    synonyms: Mapping[str, str] = field(default_factory=_frozen)  # variant -> canonical
    emoji: Mapping[str, str] = field(default_factory=_frozen)  # emoji -> the word it is read as
    audiences: Mapping[str, str] = field(default_factory=_frozen)  # self-description -> audience tag
    out_of_scope: tuple[str, ...] = ()
    domain_words: tuple[str, ...] = ()  # words that make a message about healthcare whatever else it says
    classifier: Classifier | None = field(default=None, compare=False)  # fitted by `python -m bot train`
    # each safety pattern's alternatives and their keys as `python -m bot train` stored them (bot/safety.py)
    safety_keys: Mapping[str, Parts] = field(default_factory=dict, compare=False)
    # each of `phrases` as `bot.normalize.Preparer` makes it, filled in by the loader (read back from what
    # `python -m bot train` stored, where that still holds); the matcher prepares any phrase missing here
    prepared: Mapping[str, str] = field(default_factory=_frozen, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_intents_by_id", {i.id: i for i in self.intents})
        object.__setattr__(self, "_sources_by_id", {s.id: s for s in self.sources})

    def intent(self, intent_id: str) -> Intent | None:
        return self._intents_by_id.get(intent_id)  # type: ignore[attr-defined]

    def source(self, source_id: str) -> Source | None:
        return self._sources_by_id.get(source_id)  # type: ignore[attr-defined]

    @property
    def phrases(self) -> tuple[str, ...]:
        """Every example, keyword and out-of-scope phrase: what the matcher prepares and `train` stores prepared."""
        return (*(t for i in self.intents for t in (*i.examples, *i.keywords)), *self.out_of_scope)

    @property
    def topics(self) -> tuple[Intent, ...]:
        return tuple(i for i in self.intents if i.kind is Kind.TOPIC)

    def text(self, key: str) -> str:
        return self.texts.get(key, "")
