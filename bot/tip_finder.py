"""Which of a topic's tips a message asks about, so that the answer can lead with it.

A topic has five or six tips and an answer shows three, in the maintainers' order. "Are there scholarships
for med school tuition?" is an education question, and the sixth education tip is about paying for a course:
it should come first, not after "More tips". A tip leads when it shares with the message words that are
specific twice over: specific in the knowledge (the matcher's weight of a word, log(phrase groups / groups
using it), at least MIN_SPECIFICITY, so "year", "take", "career" and "patient" never count) and specific
among the topic's tips (weighted by log(tips / tips using it)). Words of the topic's own title count for no
tip ("USMLE" in a USMLE question says nothing about which tip).
Measured by `python -m bot eval-tips` (messages written for one tip each, tests/data/tip_questions.yaml): of
those answered with their tip's topic, the tip asked about is shown first for 53.2% of the `test` half (the
maintainers' order: 20.2%) and on the first page for 78.0% (57.8%). MIN_SPECIFICITY was chosen on the `dev`
half: 1.0 showed it first for 47.2%, 0.7 for 50.0%, 0.4 for 54.7%, 0.25 for 55.7%, 0 for 53.8% (the `test`
half, printed alongside, ranked them alike); 0.4 rather than 0.25 keeps out words such as "take" and "next",
which led with unrelated tips when I read the evaluation set's answers.
Pure: no I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable

from bot.knowledge import Intent
from bot.normalize import stem

MIN_SPECIFICITY = 0.4  # a word used by at most 18 of the 27 phrase groups: log(27 / 18) = 0.41
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
