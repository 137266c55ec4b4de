"""Common English words: which unknown words in a message are real words, not misspellings.

The knowledge's own vocabulary (about 5,500 words) cannot tell "noise" from a typo of "noose". This is
pyspellchecker's English word list, keeping words counted more than MIN_COUNT times in its corpus: rare
words and the misspellings such lists pick up ("hurst", "overdoes") stay out. It is read once per process,
on first use (about 0.2 s and 3 MB), so start-up and messages of known words never pay for it.
"""

from __future__ import annotations

from functools import cache

MIN_COUNT = 100  # "quizzing" (283) and "braking" (1,021) are words; "overdoes" (84) is read as a typo


@cache
def common_words() -> frozenset[str]:
    """Lower-case alphabetic English words counted more than MIN_COUNT times."""
    from spellchecker import SpellChecker

    counts = SpellChecker(language="en", distance=1).word_frequency.dictionary
    return frozenset(word for word, count in counts.items() if count > MIN_COUNT and word.isalpha())
