"""The word-vector table the classifier reads (`bot/word_vectors.py`): what it holds and what it refuses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bot.word_vectors import FORMAT, load, parse


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.hypot(*a) / math.hypot(*b)


def test_words_of_like_meaning_point_the_same_way() -> None:
    table = load()
    exhausted, tired, exam = (table.direction([w]) for w in ("exhausted", "tired", "exam"))
    assert exhausted and tired and exam
    assert cosine(exhausted, tired) > cosine(exhausted, exam) + 0.2


def test_a_direction_is_unit_length_and_skips_words_the_table_lacks() -> None:
    table = load()
    direction = table.direction(["burnout", "qwzxv", "nurse"])
    assert direction is not None and math.hypot(*direction) == pytest.approx(1.0)
    assert direction == table.direction(["nurse", "burnout"])  # a mean: order does not matter
    assert table.direction(["qwzxv"]) is None and table.direction([]) is None
    assert table.direction(["nurse"] * 1000) == pytest.approx(table.direction(["nurse"]))  # no field carries


def test_the_table_covers_common_english_and_leaves_out_stopwords() -> None:
    words = set(load().words)
    assert len(words) > 30_000
    assert {"residency", "burnout", "knackered", "stethoscope"} <= words
    assert not {"the", "and", "i"} & words


def test_a_damaged_table_is_refused_with_what_is_wrong(tmp_path: Path) -> None:
    header = json.dumps({"format": FORMAT, "dims": 4}).encode()
    assert parse(header + b"\nab cd\n" + bytes(8)).words == ("ab", "cd")
    with pytest.raises(ValueError, match="2 words of 4 bytes"):
        parse(header + b"\nab cd\n" + bytes(7))
    with pytest.raises(ValueError, match="not a word-vector table"):
        parse(b"no header here")
    (tmp_path / "table.bin").write_bytes(header + b"\nab\n" + bytes([1, 2, 3, 0xFF]))
    table = load(tmp_path / "table.bin")
    assert table.values.tolist() == [1, 2, 3, -1] and table.total([0, 0]) == [2, 4, 6, -2]
