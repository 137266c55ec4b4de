"""Works out what a message is asking about: safety checks first, then fuzzy scoring over the knowledge.

Everything that can be computed from the knowledge is computed once, in `Matcher.__init__`; a message
costs one normalisation, a few regex searches and one rapidfuzz pass over the examples. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.knowledge import Kind, KnowledgeBase
from bot.normalize import SynonymExpander, normalize

OUT_OF_SCOPE = "__out_of_scope__"
MIN_CORRECTABLE = 4  # shorter words are too easily "corrected" into the wrong word


class Action(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Routing cut-offs on the 0–1 intent score; defaults tuned on the dev half of the evaluation set."""

    answer: float = 0.70
    margin: float = 0.06
    clarify: float = 0.50
    safety: float = 0.90


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Candidate:
    intent: str
    score: float


@dataclass(frozen=True, slots=True)
class Route:
    action: Action
    intent: str | None
    confidence: float
    candidates: tuple[Candidate, ...]
    normalized: str


class Matcher:
    """Scores a message against every intent; decides answer, clarify or fallback."""

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> None:
        self.thresholds = thresholds
        self.prepare = _Preparer(kb)
        self._safety = [
            (i.id, [re.compile(p) for p in i.patterns]) for i in kb.intents if i.kind is Kind.SAFETY
        ]
        self._safety_ids = frozenset(i for i, _ in self._safety)
        phrases: list[str] = []
        owners: list[str] = []
        for intent in kb.intents:
            for text in (*intent.examples, *intent.keywords):
                phrases.append(self.prepare(text))
                owners.append(intent.id)
        for text in kb.out_of_scope:
            phrases.append(self.prepare(text))
            owners.append(OUT_OF_SCOPE)
        self._phrases = phrases
        self._owners = owners
        self._negatives = {
            i.id: [self.prepare(t) for t in i.negative_examples] for i in kb.intents if i.negative_examples
        }
        self._keywords = [(i.id, [self.prepare(k) for k in i.keywords]) for i in kb.intents]
        self._vocabulary = sorted({w for p in phrases for w in p.split()})
        self._known = frozenset(self._vocabulary)
        df = Counter(w for p in set(phrases) for w in set(p.split()))
        self._idf = {w: math.log(1 + len(phrases) / n) for w, n in df.items()}
        self._correct = lru_cache(maxsize=4096)(self._correct_word)
        self._audience_of = {self.prepare(p): tag for p, tag in kb.audiences.items()}
        alternation = "|".join(re.escape(p) for p in sorted(self._audience_of, key=len, reverse=True) if p)
        self._self_description = (
            re.compile(rf"\b(?:i am|as|i work as)(?: an?)?(?: \w+){{0,2}}? ({alternation})\b")
            if alternation
            else None
        )

    def audience(self, text: str) -> str | None:
        """The audience tag of a self-description such as "I'm a nurse" or "as a PGY-2", if any."""
        if self._self_description is None:
            return None
        found = self._self_description.search(self.prepare(text))
        return self._audience_of[found.group(1)] if found else None

    def route(self, text: str) -> Route:
        normalized = self.prepare(text)
        if not normalized:
            return Route(Action.FALLBACK, None, 0.0, (), normalized)
        for intent_id, patterns in self._safety:
            if any(p.search(normalized) for p in patterns):
                return Route(Action.ANSWER, intent_id, 1.0, (Candidate(intent_id, 1.0),), normalized)
        corrected = " ".join(self._correct(w) for w in normalized.split())
        scores = self._score(corrected)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        candidates = tuple(Candidate(i, round(s, 3)) for i, s in ranked if i != OUT_OF_SCOPE)[:3]
        return self._decide(ranked, candidates, normalized)

    def _decide(
        self, ranked: list[tuple[str, float]], candidates: tuple[Candidate, ...], normalized: str
    ) -> Route:
        t = self.thresholds
        if not ranked or ranked[0][0] == OUT_OF_SCOPE or ranked[0][1] < t.clarify:
            confidence = 0.0 if not ranked else ranked[0][1]
            return Route(Action.FALLBACK, None, round(confidence, 3), candidates, normalized)
        best_id, best = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if best_id in self._safety_ids and best < t.safety:
            return Route(Action.CLARIFY, None, round(best, 3), candidates, normalized)
        if best >= t.answer and best - runner_up >= t.margin:
            return Route(Action.ANSWER, best_id, round(best, 3), candidates, normalized)
        return Route(Action.CLARIFY, None, round(best, 3), candidates, normalized)

    def _score(self, query: str) -> dict[str, float]:
        scores: dict[str, float] = {}
        for _, score, index in process.extract(
            query, self._phrases, scorer=fuzz.token_set_ratio, limit=None, score_cutoff=40
        ):
            owner = self._owners[index]
            if score > scores.get(owner, 0.0):
                scores[owner] = score
        result = {owner: s / 100 for owner, s in scores.items()}
        for intent_id, negatives in self._negatives.items():
            if intent_id in result and negatives:
                worst = process.extractOne(query, negatives, scorer=fuzz.token_set_ratio)
                if worst and worst[1] / 100 >= result[intent_id]:
                    result[intent_id] = worst[1] / 100 * 0.5
        return result

    def _correct_word(self, word: str) -> str:
        if len(word) < MIN_CORRECTABLE or word in self._known or word.isdigit():
            return word
        found = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=80)
        return found[0] if found else word


class _Preparer:
    """normalize() then synonym expansion: the one path both knowledge and messages take."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._expand = SynonymExpander(kb.synonyms)

    def __call__(self, text: str) -> str:
        return self._expand(normalize(text))
