"""A linear classifier over the knowledge's phrases: a second opinion for the matcher on wording it has not seen.

The matcher scores a message by the words it shares with an intent's phrases. This model has learned, from
the same phrases, which words and parts of words tell intents apart, so "licensure" leans towards the
licensing exams through the pieces it shares with "license". On held-out knowledge examples, blending its
probabilities into the matcher's scores (one part in five, thresholds tuned again) answered 74.5% of them
correctly instead of 66.6%, with 1.0% wrong answers either way.

Features of a prepared message: word stems, pairs of adjacent stems, and the four-character pieces of each
word padded with spaces; each counts once, weighted by its idf, and each block is scaled to unit length. A
last, dense block is the direction of the message's word vectors (`bot/word_vectors.py`), so a word that
no phrase has still counts by what it means: with it, held-out examples answered correctly went from 79.6%
to 81.4% (wrong 1.3% to 1.4%, out-of-scope rejected 90.1% to 90.6%).
`python -m bot train` fits the weights (scikit-learn's logistic regression, see `bot/training.py`) and stores
them beside the knowledge with a fingerprint of the phrases they were fitted on; scoring here is pure Python.
A model fitted on other phrases is stale: the matcher then works without it and `validate` says to refit.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import sys
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from operator import mul

from bot.normalize import stem
from bot.word_vectors import WordVectors
from bot.word_vectors import load as load_word_vectors

FILE_NAME = "classifier.json.gz"
FORMAT = 2  # bump when features change: every stored model then reads as stale
# The word-vector block's length beside the unit-length sparse blocks. Held-out phrases, classifier alone:
# 81.3% without the block, 83.2% at 0.45, 83.3% at 0.7, 82.5% at 1.0, 81.4% at 1.5 right. Routed (held-out
# answered correctly / wrongly / out-of-scope rejected): 81.1 / 1.2 / 90.5% at 0.5, 80.9 / 1.4 / 90.1% at
# 0.7, 81.1 / 1.6 / 90.1% at 1.0.
DENSE_WEIGHT = 0.5
PIECE = 4  # characters in a word piece; pieces of 3, 4 and 5 came within half a point, with twice the features
# Scoring adds one integer per feature instead of one float per (feature, label): each feature's idf-scaled
# weights for all labels are packed into one Python int, FIELD_BITS to a label, in units of 1/SCALE and
# lifted by LIFT so that no field goes negative. With up to 2^15 features in a message no field can carry
# into the next, and per label the sum comes out exact to 1/SCALE per feature. Scoring took half the time
# of the plain float loop (about 50 instead of 95 µs a message).
FIELD_BITS = 48
SCALE = 1 << 12
LIFT = 1 << 28  # above any |idf × weight| × SCALE, or word-vector row's logit × SCALE, that `loads` accepts
BYTE_MAX = 128  # no word-vector value is larger


class ClassifierState(StrEnum):
    FRESH = "fresh"  # fitted on exactly the knowledge's phrases: the matcher uses it
    STALE = "stale"  # fitted on other phrases: left out until `python -m bot train`
    MISSING = "missing"  # no classifier file beside the knowledge


@dataclass(frozen=True)
class Classifier:
    """A fitted model. Feature n has idf `idf[n]` and the weights that matter for it, at positions
    `starts[n]` to `starts[n + 1]` of `label_at` (which label) and `weight_at` (how much). Label l weighs
    the word-vector direction's dimension d by `dense[l * dims + d]` (DENSE_WEIGHT included). Flat arrays
    load in milliseconds; a feature's packed weights are made the first time a message has it."""

    labels: tuple[str, ...]
    fingerprint: str
    intercepts: tuple[float, ...]
    features: tuple[str, ...]
    idf: Sequence[float]
    starts: Sequence[int]
    label_at: Sequence[int]
    weight_at: Sequence[float]
    dense: Sequence[float] = ()
    vectors: WordVectors = field(default_factory=load_word_vectors, repr=False, compare=False)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _packed: dict[int, int] = field(init=False, repr=False, compare=False)
    _packed_words: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {f: n for n, f in enumerate(self.features)})
        object.__setattr__(self, "_packed", {})
        object.__setattr__(self, "_packed_words", {})

    @classmethod
    def unfitted(cls, idf: dict[str, float]) -> Classifier:
        """Features and idf without weights: enough for `vector`, which fitting needs first."""
        names = tuple(sorted(idf))
        return cls((), "", (), names, tuple(idf[f] for f in names), (0,) * (len(names) + 1), (), (), ())

    def probabilities(self, prepared: str) -> dict[str, float]:
        """Each label's probability for a prepared message (they sum to 1)."""
        logits = list(self.intercepts)
        mask = (1 << FIELD_BITS) - 1
        for numbers in self.blocks(prepared):
            if not numbers:
                continue
            total = sum(map(self._packed_row, numbers))
            lift = LIFT * len(numbers)
            unit = 1 / (SCALE * math.hypot(*map(self.idf.__getitem__, numbers)))
            for label in range(len(logits)):
                logits[label] += (((total >> (FIELD_BITS * label)) & mask) - lift) * unit
        for label, logit in enumerate(self._dense_logits(prepared.split())):
            logits[label] += logit
        top = max(logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.labels, exps, strict=True)}

    def vector(self, prepared: str) -> list[tuple[int, float]]:
        """(feature number, idf value) for the message's known features, each block of unit length. A feature
        counts once however often it occurs (that measured the same as sublinear counts on held-out examples)."""
        vector = []
        for numbers in self.blocks(prepared):
            norm = math.hypot(*map(self.idf.__getitem__, numbers)) or 1.0
            vector += [(n, self.idf[n] / norm) for n in numbers]
        return vector

    def blocks(self, prepared: str) -> list[set[int]]:
        """The numbers of the message's known features, once each, block by block."""
        blocks = []
        for block in extract(prepared):
            numbers = set(map(self._index.get, block))
            numbers.discard(None)
            blocks.append(numbers)
        return blocks  # type: ignore[return-value]  # None was discarded

    def row(self, feature: int) -> list[tuple[int, float]]:
        """(label number, weight) for the weights that matter for one feature."""
        span = slice(self.starts[feature], self.starts[feature + 1])
        return list(zip(self.label_at[span], self.weight_at[span], strict=True))

    def _dense_logits(self, words: list[str]) -> list[float]:
        """Each label's logit from the words' vector direction (none when the table has none of the words).
        The direction's logits are the rows' logits summed and divided by the length of the rows' sum."""
        rows = self.vectors.rows(words)
        norm = math.hypot(*self.vectors.total(rows)) if rows and self.dense else 0.0
        if not norm:
            return []
        total = sum(map(self._packed_word, rows))
        mask, lift, unit = (1 << FIELD_BITS) - 1, LIFT * len(rows), 1 / (SCALE * norm)
        return [(((total >> (FIELD_BITS * label)) & mask) - lift) * unit for label in range(len(self.labels))]

    def _packed_word(self, row: int) -> int:
        """A word-vector row's logit for every label as one int (see FIELD_BITS); made on first use."""
        packed = self._packed_words.get(row)
        if packed is None:
            values, dims = self.vectors.row(row), self.vectors.dims
            packed = 0
            for label in range(len(self.labels)):
                logit = sum(map(mul, values, self.dense[label * dims : (label + 1) * dims]))
                packed += (round(logit * SCALE) + LIFT) << (FIELD_BITS * label)
            self._packed_words[row] = packed
        return packed

    def _packed_row(self, feature: int) -> int:
        """The feature's idf-scaled weights for every label as one int (see FIELD_BITS); made on first use."""
        packed = self._packed.get(feature)
        if packed is None:
            packed = sum(LIFT << (FIELD_BITS * label) for label in range(len(self.labels)))
            for label, weight in self.row(feature):
                packed += round(self.idf[feature] * weight * SCALE) << (FIELD_BITS * label)
            self._packed[feature] = packed
        return packed


def extract(prepared: str) -> tuple[list[str], list[str]]:
    """(stems and stem pairs, word pieces) of a prepared message; the blocks are weighted apart."""
    words = prepared.split()
    stems = [stem(w) for w in words]
    terms = [f"w {s}" for s in stems] + [f"w {a} {b}" for a, b in pairwise(stems)]
    pieces = []
    for word in words:
        padded = f" {word} "
        pieces += [f"c{padded[i : i + PIECE]}" for i in range(max(1, len(padded) - PIECE + 1))]
    return terms, pieces


def state(model: Classifier | None, pairs: Iterable[tuple[str, str]]) -> ClassifierState:
    """Whether `model` was fitted on exactly these (label, prepared phrase) pairs."""
    if model is None:
        return ClassifierState.MISSING
    return ClassifierState.FRESH if model.fingerprint == fingerprint(pairs) else ClassifierState.STALE


def fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """What a model was fitted on, in 16 hex digits: the same phrases and labels (and word vectors) give the
    same fingerprint."""
    digest = hashlib.sha256(f"format {FORMAT}\nvectors {load_word_vectors().digest}\n".encode())
    for label, text in sorted(pairs):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


# The long lists are stored as base64 of little-endian arrays of these type codes: the file loads in about
# 20 ms where JSON numbers took 70.
_ARRAYS = {"idf": "f", "starts": "I", "label_at": "H", "weight_at": "f", "dense": "f"}


def dumps(model: Classifier) -> str:
    """The model as JSON text; `loads` reads it back."""
    return json.dumps(
        {
            "format": FORMAT,
            "fingerprint": model.fingerprint,
            "labels": model.labels,
            "intercepts": model.intercepts,
            "features": model.features,
            **{name: _encode(code, getattr(model, name)) for name, code in _ARRAYS.items()},
        },
        separators=(",", ":"),
    )


def loads(text: str) -> Classifier:
    """A model from `dumps` output; ValueError (with what is wrong) for anything else."""
    try:
        data = json.loads(text)
        arrays = {name: _decode(code, data[name]) for name, code in _ARRAYS.items() if name in data}
        model = Classifier(
            labels=tuple(map(str, data["labels"])),
            fingerprint=str(data["fingerprint"]) if data["format"] == FORMAT else "",
            intercepts=tuple(map(float, data["intercepts"])),
            features=tuple(map(str, data["features"])),
            **arrays,  # a missing one is a TypeError; format 1 had no "dense"
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise ValueError(f"not a classifier file ({type(error).__name__}: {error})") from error
    problem = _inconsistency(model)
    if problem:
        raise ValueError(f"not a classifier file ({problem})")
    return model


def _encode(code: str, values: Sequence[float]) -> str:
    packed = array(code, values)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _decode(code: str, text: str) -> array:
    values = array(code, base64.b64decode(text, validate=True))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _largest_word_logit(dense: Sequence[float], dims: int) -> float:
    """The most any one row of the word-vector table can add to a label's logit."""
    return BYTE_MAX * max((sum(map(abs, dense[n : n + dims])) for n in range(0, len(dense), dims)), default=0.0)


def _inconsistency(model: Classifier) -> str | None:
    """What makes the model's lists disagree with each other, if anything."""
    labels, features = len(model.labels), len(model.features)
    if len(model.intercepts) != labels:
        return f"{len(model.intercepts)} intercepts for {labels} labels"
    if len(model.idf) != features or len(model.starts) != features + 1:
        return f"idf or starts do not have one entry per feature ({features})"
    if len(model.label_at) != len(model.weight_at) or model.starts[-1] != len(model.weight_at):
        return "label_at, weight_at and starts disagree on the number of weights"
    dims = model.vectors.dims
    if model.fingerprint and len(model.dense) != labels * dims:  # no fingerprint: another format, stale
        return f"{len(model.dense)} word-vector weights for {labels} labels of {dims} dimensions"
    if _largest_word_logit(model.dense, dims) * SCALE >= LIFT:
        return "a word-vector weight is too large to score"
    if model.label_at and max(model.label_at) >= labels:  # unsigned: none is below 0
        return "a weight names a label the model does not have"
    largest = max(map(abs, (min(model.weight_at, default=0), max(model.weight_at, default=0))))
    if largest * max(model.idf, default=0) * SCALE >= LIFT:
        return "a weight is too large to score"
    return None
