"""Which of a topic's tips a message asks about, so that the answer can lead with it.

A topic has five or six tips and an answer shows three, in the maintainers' order. "Are there scholarships
for med school tuition?" is an education question, and the sixth education tip is about paying for a course:
it should come first, not after "More tips". A tip leads when it shares with the message words that are
specific twice over: specific in the knowledge (the matcher's weight of a word used by few intents, so
"year", "take" and "career" never count) and specific among the topic's tips (used by few of them, weighted
by log(tips / tips using it)).
Words of the topic's own title count for no tip ("USMLE" in a USMLE question says nothing about which tip).
Of the topic answers to the evaluation set, 104 of 459 (dev) and 91 of 399 (test) lead with another tip
than the first; reading the dev ones, most lead with the tip the question asked about ("ADN or BSN?", "MBA
for physicians, worth it?", "is it ethical to accept gifts from patients"), a few with a tip that only
shares a word ("how often should I meet my mentor").
Pure: no I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable

from bot.knowledge import Intent
from bot.normalize import stem

MIN_SPECIFICITY = 1.0  # the matcher's weight of a word used by at most 9 of the 27 phrase groups: log(27 / 9)
MIN_LEAD = 1.0  # one shared word that at most about a third of the topic's tips use: log(6 / 2) = 1.1


class TipFinder:
    """For each topic, the specific stems of each tip; `lead` picks the tip a prepared message is about."""

    def __init__(
        self,
        topics: Iterable[Intent],
        prepare: Callable[[str], str],
        specificity: Callable[[str], float],
        stopwords: frozenset[str],
    ) -> None:
        self._stopwords = stopwords
        self._specificity = specificity
        self._tips = {t.id: [self._specific_stems(prepare(tip.text)) for tip in t.tips] for t in topics}
        self._titles = {t.id: self._specific_stems(prepare(t.title)) for t in topics}
        self._weights = {topic: _within_topic_weights(tips) for topic, tips in self._tips.items()}

    def lead(self, topic_id: str, prepared: str) -> int | None:
        """The position of the topic's tip the message is clearly most about, or None: no tip shares enough
        specific words with it, or two share as much."""
        tips = self._tips.get(topic_id)
        if not tips:
            return None
        asked = self._specific_stems(prepared) - self._titles[topic_id]
        weights = self._weights[topic_id]
        shared = [sum(weights[s] for s in asked & tip) for tip in tips]
        best = max(range(len(tips)), key=shared.__getitem__)
        runner_up = max((w for n, w in enumerate(shared) if n != best), default=0.0)
        return best if shared[best] >= MIN_LEAD and shared[best] > runner_up else None

    def _specific_stems(self, prepared: str) -> frozenset[str]:
        words = (w for w in prepared.split() if w not in self._stopwords and not w.isdigit())
        return frozenset(s for s in map(stem, words) if self._specificity(s) >= MIN_SPECIFICITY)


def _within_topic_weights(tips: list[frozenset[str]]) -> dict[str, float]:
    """Each stem's weight among one topic's tips: log(tips / tips that use it)."""
    uses = Counter(s for tip in tips for s in tip)
    return {s: math.log(len(tips) / count) for s, count in uses.items()}
