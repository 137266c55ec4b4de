"""A linear classifier over the knowledge's phrases: a second opinion for the matcher on wording it has not seen.

The matcher scores a message by the words it shares with an intent's phrases. This model has learned, from
the same phrases, which words and parts of words tell intents apart, so "licensure" leans towards the
licensing exams through the pieces it shares with "license". On held-out knowledge examples, blending its
probabilities into the matcher's scores (one part in five) answered 7 points more of them correctly at the
same rate of wrong answers.

Features of a prepared message: word stems, pairs of adjacent stems, and the four-character pieces of each
word padded with spaces, each block tf-idf weighted and scaled to unit length. `python -m bot train` fits the
weights (scikit-learn's logistic regression, see `bot/training.py`) and stores them beside the knowledge with
a fingerprint of the phrases they were fitted on; scoring here is pure Python. A model fitted on other phrases
is stale: the matcher then works without it and `python -m bot validate` says to retrain.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from bot.normalize import stem

FILE_NAME = "classifier.json.gz"
FORMAT = 1  # bump when features change: every stored model then reads as stale
PIECE = 4  # characters in a word piece; 3–5 together measured no better on held-out examples
WEIGHT_DIGITS = 3  # weights are stored rounded: the file stays small and the held-out figures do not move


@dataclass(frozen=True)
class Classifier:
    """A fitted model. Feature n has idf `idf[n]` and the weights that matter for it, at positions
    `starts[n]` to `starts[n + 1]` of `label_at` (which label) and `weight_at` (how much). Flat lists load
    from JSON in milliseconds; a feature's (label, weight) pairs are gathered the first time it is seen."""

    labels: tuple[str, ...]
    fingerprint: str
    intercepts: tuple[float, ...]
    features: tuple[str, ...]
    idf: tuple[float, ...]
    starts: tuple[int, ...]
    label_at: tuple[int, ...]
    weight_at: tuple[float, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _rows: dict[int, tuple[tuple[int, float], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {f: n for n, f in enumerate(self.features)})
        object.__setattr__(self, "_rows", {})

    def probabilities(self, prepared: str) -> dict[str, float]:
        """Each label's probability for a prepared message (they sum to 1)."""
        logits = list(self.intercepts)
        for feature, value in self.vector(prepared):
            for label, weight in self._row(feature):
                logits[label] += value * weight
        top = max(logits)
        exps = [math.exp(logit - top) for logit in logits]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.labels, exps, strict=True)}

    def vector(self, prepared: str) -> list[tuple[int, float]]:
        """(feature number, tf-idf value) for the message's known features; each block of unit length."""
        vector = []
        for block in extract(prepared):
            counts: dict[int, int] = {}
            for feature in block:
                n = self._index.get(feature)
                if n is not None:
                    counts[n] = counts.get(n, 0) + 1
            values = [(n, (1 + math.log(count)) * self.idf[n]) for n, count in counts.items()]
            norm = math.sqrt(sum(v * v for _, v in values)) or 1.0
            vector += [(n, v / norm) for n, v in values]
        return vector

    def _row(self, feature: int) -> tuple[tuple[int, float], ...]:
        row = self._rows.get(feature)
        if row is None:
            span = slice(self.starts[feature], self.starts[feature + 1])
            row = self._rows[feature] = tuple(zip(self.label_at[span], self.weight_at[span], strict=True))
        return row


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


def fingerprint(pairs: Iterable[tuple[str, str]]) -> str:
    """What a model was fitted on, in 16 hex digits: the same phrases and labels give the same fingerprint."""
    digest = hashlib.sha256(f"format {FORMAT}\n".encode())
    for label, text in sorted(pairs):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


def dumps(model: Classifier) -> str:
    """The model as JSON text; `loads` reads it back."""
    digits = WEIGHT_DIGITS
    return json.dumps(
        {
            "format": FORMAT,
            "fingerprint": model.fingerprint,
            "labels": model.labels,
            "intercepts": [round(b, digits) for b in model.intercepts],
            "features": model.features,
            "idf": [round(x, digits) for x in model.idf],
            "starts": model.starts,
            "label_at": model.label_at,
            "weight_at": [round(w, digits) for w in model.weight_at],
        },
        separators=(",", ":"),
    )


def loads(text: str) -> Classifier:
    """A model from `dumps` output; ValueError (with what is wrong) for anything else."""
    try:
        data = json.loads(text)
        model = Classifier(
            labels=tuple(map(str, data["labels"])),
            fingerprint=str(data["fingerprint"]) if data["format"] == FORMAT else "",
            intercepts=tuple(map(float, data["intercepts"])),
            features=tuple(map(str, data["features"])),
            idf=tuple(map(float, data["idf"])),
            starts=tuple(map(int, data["starts"])),
            label_at=tuple(map(int, data["label_at"])),
            weight_at=tuple(map(float, data["weight_at"])),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a classifier file ({type(error).__name__}: {error})") from error
    problem = _inconsistency(model)
    if problem:
        raise ValueError(f"not a classifier file ({problem})")
    return model


def _inconsistency(model: Classifier) -> str | None:
    """What makes the model's lists disagree with each other, if anything."""
    labels, features = len(model.labels), len(model.features)
    if len(model.intercepts) != labels:
        return f"{len(model.intercepts)} intercepts for {labels} labels"
    if len(model.idf) != features or len(model.starts) != features + 1:
        return f"idf or starts do not have one entry per feature ({features})"
    if len(model.label_at) != len(model.weight_at) or model.starts[-1] != len(model.weight_at):
        return "label_at, weight_at and starts disagree on the number of weights"
    if any(not 0 <= n < labels for n in model.label_at):
        return "a weight names a label the model does not have"
    return None
