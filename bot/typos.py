"""Misspelt copies of labelled messages, for `python -m bot eval --typos N`: how routing holds up when people
type on a phone.

Each copy has one typo in one word of five or more letters: two letters swapped, one dropped, one doubled, or
one struck as, or together with, its neighbour on a QWERTY keyboard. The word, the kind and the place are
drawn from a generator seeded with the message and the copy's number, so every run makes the same copies.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
NEIGHBOURS = {
    key: "".join(row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)) for row in _ROWS for i, key in enumerate(row)
}
MIN_LENGTH = 5  # shorter words ("the", "step") read as other words too often to count as typos of themselves


def misspelt(text: str, copy: int = 0) -> str | None:
    """The text with one typo, or None when it has no word long enough to take one."""
    words = text.split(" ")
    long_words = [n for n, word in enumerate(words) if len(word) >= MIN_LENGTH and word.isalpha()]
    if not long_words:
        return None
    rng = random.Random(zlib.crc32(f"{copy}:{text}".encode()))
    n = rng.choice(long_words)
    words[n] = rng.choice(_TYPOS)(words[n], rng)
    return " ".join(words)


def _swapped(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word) - 1)  # the first letter is typed with more care than the rest
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def _dropped(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word))
    return word[:at] + word[at + 1 :]


def _doubled(word: str, rng: random.Random) -> str:
    at = rng.randrange(1, len(word))
    return word[: at + 1] + word[at:]


def _struck(word: str, rng: random.Random) -> str:
    at, neighbour = _key_beside(word, rng)
    return word[:at] + neighbour + word[at + 1 :]


def _struck_too(word: str, rng: random.Random) -> str:
    at, neighbour = _key_beside(word, rng)
    return word[:at] + neighbour + word[at:]


def _key_beside(word: str, rng: random.Random) -> tuple[int, str]:
    """A place in the word and a key beside the one its letter is on."""
    at = rng.randrange(1, len(word))
    return at, rng.choice(NEIGHBOURS.get(word[at].lower(), word[at]))


_TYPOS: tuple[Callable[[str, random.Random], str], ...] = (_swapped, _dropped, _doubled, _struck, _struck_too)
