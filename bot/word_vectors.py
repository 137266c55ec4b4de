"""A small vector for each of about 31,000 English words: what a message means beyond the words it shares
with the knowledge.

The classifier learns from the knowledge's phrases which words tell intents apart, so a word no phrase has
("weary", "sleepy") tells it nothing. These vectors place words of like meaning close together; the
classifier also learns from the mean vector of a phrase's words (`bot/classifier.py`). They were distilled
once from a sentence model by `tools/distill_word_vectors.py` and are read here in pure Python: 4 MB of
signed bytes, stored as they are (gzip saved a fifth of the size and cost 26 ms a load; the load is now
about 15 ms, the bytes read in place).
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import count
from pathlib import Path

FORMAT = 1
PATH = Path(__file__).resolve().parent / "data" / "word_vectors.bin"
# A sum of rows is one Python int addition per word: each row is packed into one int, FIELD_BITS to a
# dimension and lifted by LIFT so that no field is negative. MOST_WORDS rows cannot carry into the next field.
FIELD_BITS = 16
LIFT = 128
MOST_WORDS = 255  # a longer message is read by its first 255 words the table has


@dataclass(frozen=True)
class WordVectors:
    """Word `words[n]` has the vector at `values[n * dims : (n + 1) * dims]`."""

    words: tuple[str, ...]
    dims: int
    values: Sequence[int]  # a view of the file's bytes as signed bytes, not a copy
    digest: str  # tells a classifier which table it was fitted with
    _row: dict[str, int] = field(init=False, repr=False, compare=False)
    _packed: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_row", dict(zip(self.words, count())))
        object.__setattr__(self, "_packed", {})

    def rows(self, words: Iterable[str]) -> list[int]:
        """The row numbers of the words the table has, in order (a word that repeats counts again), at most
        MOST_WORDS of them."""
        return [n for n in map(self._row.get, words) if n is not None][:MOST_WORDS]

    def row(self, n: int) -> Sequence[int]:
        """Row n's values."""
        return self.values[n * self.dims : (n + 1) * self.dims]

    def total(self, rows: list[int]) -> list[int]:
        """The sum of the rows, dimension by dimension."""
        packed = sum(map(self._packed_row, rows))
        fields = array("H", packed.to_bytes(self.dims * FIELD_BITS // 8, "little"))
        if sys.byteorder == "big":
            fields.byteswap()
        lift = LIFT * len(rows)
        return [value - lift for value in fields]

    def direction(self, words: Iterable[str]) -> list[float] | None:
        """The unit-length mean of the vectors of the words the table has; None if it has none of them."""
        rows = self.rows(words)
        total = self.total(rows) if rows else []
        norm = math.hypot(*total)
        return [value / norm for value in total] if norm else None

    def _packed_row(self, n: int) -> int:
        packed = self._packed.get(n)
        if packed is None:
            fields = array("H", (value + LIFT for value in self.row(n)))
            if sys.byteorder == "big":
                fields.byteswap()
            packed = self._packed[n] = int.from_bytes(fields.tobytes(), "little")
        return packed


def parse(data: bytes) -> WordVectors:
    """A table from the bytes `tools/distill_word_vectors.py` writes; ValueError if they are damaged."""
    try:
        header_end = data.index(b"\n")
        words_end = data.index(b"\n", header_end + 1)
        header = json.loads(data[:header_end])
        dims, words = int(header["dims"]), tuple(data[header_end + 1 : words_end].decode().split())
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"not a word-vector table ({type(error).__name__}: {error})") from error
    values = memoryview(data)[words_end + 1 :].cast("b")
    if header.get("format") != FORMAT or len(values) != len(words) * dims:
        raise ValueError(f"not a word-vector table of format {FORMAT} with {len(words)} words of {dims} bytes")
    return WordVectors(words, dims, values, hashlib.sha256(data).hexdigest()[:16])


@cache
def load(path: Path = PATH) -> WordVectors:
    """The table at `path` (the committed one by default), read once per process."""
    return parse(path.read_bytes())
