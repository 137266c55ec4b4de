"""Which of a topic's tips a message asks about, so that the answer can lead with it.

A topic has five or six tips and an answer shows three, in the maintainers' order. "Are there scholarships
for med school tuition?" is an education question, and the sixth education tip is about paying for a course:
it should come first, not after "More tips".

A tip may lead only when the question shares with it a word that is specific twice over: specific in the
knowledge (the matcher's weight of a word, log(phrase groups / groups using it), at least MIN_SPECIFICITY, so
"year", "take", "career" and "patient" never count) and among the topic's tips (weighted log(tips / tips
using it), at least MIN_SHARED); words of the topic's title count for no tip ("USMLE" in a USMLE question says
nothing about which tip). A question that names nothing specific ("what is residency like?") keeps the
maintainers' order. Among the tips that may lead, the shared words' weights are added to how much closer in
meaning (the word vectors' direction, `bot/word_vectors.py`) each tip is to the question than the topic's
tips are on average, and the clear best leads.
Measured by `python -m bot eval-tips` (messages written for one tip each, tests/data/tip_questions.yaml): of
those answered with their tip's topic, the tip asked about is shown first for 54.1% of the `test` half (the
maintainers' order: 19.8%) and on the first page for 78.4% (60.4%; stop 19's knowledge). Chosen on the `dev`
half (stop 17), where the shared words alone showed it first for 54.7% (MIN_SPECIFICITY 0.4; 1.0: 47.2%, 0.25:
55.7%, 0: 53.8%) and with their meaning 59.4% (MEANING_WEIGHT 5, 10 and 20 alike). Letting meaning alone
choose a lead scored higher still on these messages (70.8%), but then nearly every answer led with some tip:
"what is residency like?" opened with the tip for nurses, and the set has no generic questions to count that
against.
Pure: no I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable

from bot.knowledge import Intent
from bot.normalize import stem

MIN_SPECIFICITY = 0.4  # a word used by at most 18 of the 27 phrase groups: log(27 / 18) = 0.41
MIN_SHARED = 1.0  # a tip may lead from one shared word that at most about a third of its topic's tips use
MEANING_WEIGHT = 10.0  # per unit of cosine above the topic's mean: 0.07 weighs as a word in half the tips


class TipFinder:
    """For each topic, the specific stems and the meaning of each tip; `lead` picks the tip a prepared message
    is about."""

    def __init__(
        self,
        topics: Iterable[Intent],
        prepare: Callable[[str], str],
        specificity: Callable[[str], float],
        stopwords: frozenset[str],
        direction: Callable[[list[str]], list[float] | None] = lambda words: None,
    ) -> None:
        self._stopwords = stopwords
        self._specificity = specificity
        self._direction = direction
        topics = tuple(topics)
        self._tips = {t.id: [self._specific_stems(prepare(tip.text)) for tip in t.tips] for t in topics}
        self._meanings = {t.id: [self._meaning(prepare(tip.text)) for tip in t.tips] for t in topics}
        self._titles = {t.id: self._specific_stems(prepare(t.title)) for t in topics}
        self._weights = {topic: _within_topic_weights(tips) for topic, tips in self._tips.items()}

    def lead(self, topic_id: str, prepared: str) -> int | None:
        """The position of the topic's tip the message is clearly most about, or None: no tip shares a word
        specific enough with it, or two of those score as high."""
        tips = self._tips.get(topic_id)
        if not tips:
            return None
        asked = self._specific_stems(prepared) - self._titles[topic_id]
        weights = self._weights[topic_id]
        shared = [sum(weights[s] for s in asked & tip) for tip in tips]
        may_lead = [n for n, weight in enumerate(shared) if weight >= MIN_SHARED]
        if not may_lead:
            return None
        scores = self._with_meaning(shared, topic_id, prepared)
        best = max(may_lead, key=scores.__getitem__)
        runner_up = max((scores[n] for n in may_lead if n != best), default=-math.inf)
        return best if scores[best] > runner_up else None

    def _with_meaning(self, shared: list[float], topic_id: str, prepared: str) -> list[float]:
        """The shared words' weights plus how much closer in meaning each tip is than the topic's average."""
        meaning = self._meaning(prepared)
        if meaning is None:
            return shared
        likeness = [_cosine(meaning, tip) for tip in self._meanings[topic_id]]
        mean = sum(likeness) / len(likeness)
        return [weight + MEANING_WEIGHT * (like - mean) for weight, like in zip(shared, likeness, strict=True)]

    def _meaning(self, prepared: str) -> list[float] | None:
        """The direction of the text's word vectors (stopwords left out); None without a word the table has."""
        return self._direction([w for w in prepared.split() if w not in self._stopwords])

    def _specific_stems(self, prepared: str) -> frozenset[str]:
        words = (w for w in prepared.split() if w not in self._stopwords and not w.isdigit())
        return frozenset(s for s in map(stem, words) if self._specificity(s) >= MIN_SPECIFICITY)


def _cosine(a: list[float], b: list[float] | None) -> float:
    """Of two unit-length directions (0 when the tip has none)."""
    return sum(x * y for x, y in zip(a, b, strict=True)) if b is not None else 0.0


def _within_topic_weights(tips: list[frozenset[str]]) -> dict[str, float]:
    """Each stem's weight among one topic's tips: log(tips / tips that use it)."""
    uses = Counter(s for tip in tips for s in tip)
    return {s: math.log(len(tips) / count) for s, count in uses.items()}
