"""The safety check's second look: readings of a prepared message with its misspelt words put right.

A word of four or more letters that is neither a known word (a phrase's word, a stopword, a word the
patterns spell or a synonym's variant) nor a common English word ("noise" must not become "noose") is read
as each known word one edit away, a swap of two letters counting as one (OSA distance). So is a known word
that one phrase alone uses (it may be that phrase's typo, "pateint"), as the known words one edit away that
more phrases use. A variant put right is expanded as the knowledge's synonyms say ("wana" reads as "wanna",
which is "want to").
Most typos are one edit; allowing two turned "quizzing on ssris" into "quitting on ssris". The topics'
correction (`Matcher`'s CORRECTION_CUTOFF) cannot reach "want" from "wnat": its similarity counts a swap as
two. Every reading is tried, as "wnat" is "want" as likely as "what" (safety favours recall), longer words
first (typing drops a letter more often than it adds one: "realy" is "really", not "ready").

Words one edit apart share a form with one letter (or none) deleted ("wnat" and "want" both give "wat"), so
candidates come from an index of those forms, built at the first unknown word, and only they are measured:
about 10 µs a word instead of 1 ms for measuring every known word. The matcher's topic correction uses the
same index for a word its similarity cut-off misses (`nearest`, among the topics' words only). Pure: no I/O
but the common words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import cached_property, lru_cache
from itertools import islice, product
from typing import NamedTuple

from rapidfuzz.distance import OSA

from bot.english import common_words

MIN_LENGTH = 4  # shorter words are too easily read as a different word
MOST_READINGS = 8  # a message with many misspelt words is read with the likeliest few combinations only


class Reading(NamedTuple):
    text: str  # the prepared message with its misspelt words put right
    to_words: bool  # every word put right became a real word, not a piece a pattern spells ("unaliv")


class Respeller:
    """Readings of prepared messages, from the words the knowledge knows."""

    def __init__(
        self,
        known: frozenset[str],
        real: frozenset[str],
        expand: Callable[[str], str],
        lone: frozenset[str] = frozenset(),
    ) -> None:
        """`known`: every word a reading may use; `real`: those of them that are words, not pieces of
        patterns; `expand`: the synonym expansion a prepared message has had; `lone`: known words that one
        phrase alone uses, which may be its writer's typo ("pateint")."""
        self._known = known
        self._real = real
        self._lone = lone
        self._expand = expand
        self._readings = lru_cache(maxsize=8192)(self._word_readings)

    def __call__(self, normalized: str) -> Iterator[Reading]:
        """Up to MOST_READINGS readings, none the message itself; nothing when every word is known."""
        words = normalized.split()
        choices = [self._readings(w) for w in words]
        if all(c == (w,) for c, w in zip(choices, words, strict=True)):
            return iter(())
        return (self._reading(words, chosen) for chosen in islice(product(*choices), MOST_READINGS))

    def nearest(self, word: str, among: frozenset[str]) -> str:
        """The likeliest reading of one word that is one of `among` (some of the known words); the word itself
        when it is known, a common word, or not one edit from any of them."""
        return next((w for w in self._readings(word) if w in among), word)

    def warm_up(self) -> None:
        common_words()
        self._by_deletion  # noqa: B018 - built now, not at the first misspelt word

    def _reading(self, words: list[str], chosen: tuple[str, ...]) -> Reading:
        pairs = list(zip(words, chosen, strict=True))
        put_right = [new for old, new in pairs if old != new]
        to_words = all(word in self._real or word in common_words() for word in put_right)
        return Reading(" ".join(self._expand(new) if old != new else old for old, new in pairs), to_words)

    @cached_property
    def _by_deletion(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for word in sorted(w for w in self._known if len(w) >= MIN_LENGTH - 1):
            for form in _with_one_deleted(word):
                index[form].append(word)
        return dict(index)

    def _word_readings(self, word: str) -> tuple[str, ...]:
        """The word's readings, likeliest first; just the word when it is known.

        A word only the patterns spell stays as it is although it may be a typo the patterns list ("wana"):
        read as its real neighbours, a guard's word would be lost too ("workers comp" read as "come")."""
        if len(word) < MIN_LENGTH or (word in self._known and word not in self._lone):
            return (word,)
        if not word.isalpha() or word in common_words():  # the common words load at the first word not known, or lone
            return (word,)
        near = {w for form in _with_one_deleted(word) for w in self._by_deletion.get(form, ())}
        near = {w for w in near if OSA.distance(word, w, score_cutoff=1) <= 1}
        if word in self._known:  # a lone word is read as the words more phrases use, if one is an edit away
            near = {w for w in near if w != word and w not in self._lone}
        return tuple(sorted(near, key=lambda w: (-min(len(w) - len(word), 1), w))) or (word,)


def _with_one_deleted(word: str) -> set[str]:
    """The word itself and each form of it with one letter deleted."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}
