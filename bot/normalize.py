"""The one text normaliser, applied to knowledge at load time and to every user message.

Pure functions only: no I/O, no knowledge of Telegram. `normalize` is idempotent and total (it never
raises on any string); `SynonymExpander` rewrites variants to their canonical phrase in a single pass;
`EmojiReader` puts the knowledge's words in place of emoji, which `normalize` would otherwise drop;
`Preparer` chains the three.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

import snowballstemmer

_CONTRACTIONS = {
    "won't": "will not",
    "can't": "cannot",
    "cant": "cannot",
    "shan't": "shall not",
    "ain't": "is not",
    "let's": "let us",
    "i'm": "i am",
    "im": "i am",
    "idk": "i do not know",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "isnt": "is not",
    "wont": "will not",
    "ive": "i have",
}
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"))
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_WORD_WITH_APOSTROPHE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_NOT_WORD = re.compile(r"[\W_]+")
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")


def _expand(token: str) -> str:
    if "'" not in token:  # most words: every suffix below has an apostrophe
        return _CONTRACTIONS.get(token, token)
    if token in _CONTRACTIONS:
        return _CONTRACTIONS[token]
    for suffix, replacement in _SUFFIXES:
        if token.endswith(suffix) and len(token) > len(suffix):
            return token[: -len(suffix)] + replacement
    return token.replace("'s", "") if token.endswith("'s") else token


def _strip_accents(text: str) -> str:
    if text.isascii():  # nothing to decompose: most knowledge phrases and messages
        return text
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """Lower-case ASCII-ish words separated by single spaces: the form all matching works on.

    NFKC, case folding, accents, apostrophe variants, contractions, emoji and punctuation (to spaces),
    letters repeated three or more times (to one). Not cached: it sees every message, and a cache would keep
    their text (knowledge phrases are kept once prepared, in `KnowledgeBase.prepared`).
    """
    if not text.isascii():  # NFKC leaves ASCII as it is
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold().translate(_APOSTROPHES)
    text = _strip_accents(text)
    text = _REPEATS.sub(r"\1", text)
    joined = " ".join(_expand(token) for token in _WORD_WITH_APOSTROPHE.findall(text))
    # Expansion yields words and single spaces; only an apostrophe left inside a word ("o'clock") needs more.
    return " ".join(_NOT_WORD.sub(" ", joined).split()) if "'" in joined else joined


class SynonymExpander:
    """Replaces whole-word variants with their canonical phrase, longest variant first, in one pass."""

    def __init__(self, canonical_by_variant: Mapping[str, str]) -> None:
        self._canonical = {normalize(v): normalize(c) for v, c in canonical_by_variant.items()}
        self._canonical = {v: c for v, c in self._canonical.items() if v and v != c}
        self._pattern = re.compile(rf"(?<!\S){_trie(self._canonical)}(?!\S)") if self._canonical else None

    def __call__(self, normalized: str) -> str:
        if self._pattern is None:
            return normalized
        return self._pattern.sub(lambda m: self._canonical[m.group(0)], normalized)


def _trie(words: Iterable[str]) -> str:
    """A regex matching exactly the words, written as a trie ("ms3", "msc", "ms" as `ms(?:3|c)?`), where at any
    position the longest word that fits is tried first, as in an alternation sorted longest first. `re` tries
    an alternation's branches one by one at every position; the trie checks a character or two. Synonym
    expansion of the knowledge's 14,000 phrases at start-up took 0.16 s as one alternation of 437 variants."""
    root: dict[str, dict] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def written(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + written(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        return f"(?:{'|'.join(branches)})" + ("?" if "" in node else "")  # greedy: the longer word first

    return written(root)


# Skin tones and the emoji presentation selector: "👋🏽" and "❤️" are read as "👋" and "❤".
_EMOJI_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def emoji_key(emoji: str) -> str:
    """An emoji as the knowledge and messages are compared: without skin tone or presentation selector."""
    return _EMOJI_MODIFIERS.sub("", emoji)


class EmojiReader:
    """Replaces each known emoji in raw text with its word ("👋" → "hello"), longest sequence first, so
    that "🧑‍⚕️" (person, joiner, staff of Aesculapius) is read whole; unknown emoji are left for `normalize`."""

    def __init__(self, word_by_emoji: Mapping[str, str]) -> None:
        self._word = {emoji_key(e): w for e, w in word_by_emoji.items() if emoji_key(e)}
        emoji = sorted(self._word, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(e) for e in emoji)) if emoji else None

    def __call__(self, text: str) -> str:
        if self._pattern is None or text.isascii():
            return text
        return self._pattern.sub(lambda m: f" {self._word[m.group(0)]} ", emoji_key(text))


class Preparer:
    """Emoji read as words, `normalize`, then synonyms: the one path both knowledge and messages take. It keeps
    nothing it prepared: the knowledge's phrases are kept prepared on the `KnowledgeBase`, messages nowhere."""

    def __init__(self, synonyms: Mapping[str, str], emoji: Mapping[str, str]) -> None:
        self._read_emoji = EmojiReader(emoji)
        self.expand = SynonymExpander(synonyms)  # the last step alone, for words put right afterwards

    def __call__(self, text: str) -> str:
        return self.expand(normalize(self._read_emoji(text)))


# Raise it whenever a change here changes what a text prepares to: stored phrases of another format are ignored.
# tests/test_knowledge_content.py checks the stored phrases against this code.
PREPARED_FORMAT = 1


def prepared_key(synonyms: Mapping[str, str], emoji: Mapping[str, str]) -> str:
    """What stored prepared phrases hold for: this code's format and the knowledge's synonyms and emoji. A
    phrase's own text is its key, so an example edited since is prepared anew and the rest still read back."""
    described = json.dumps([PREPARED_FORMAT, sorted(synonyms.items()), sorted(emoji.items())], ensure_ascii=False)
    return hashlib.sha256(described.encode()).hexdigest()[:16]


_STEMMERS = threading.local()  # a Snowball stemmer keeps state while it works: one per thread


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) English stem, so "certifications" meets "certification"."""
    if not hasattr(_STEMMERS, "english"):
        _STEMMERS.english = snowballstemmer.stemmer("english")
    return str(_STEMMERS.english.stemWord(word))
