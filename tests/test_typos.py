"""Misspelt copies for `eval --typos`: one typo a copy, in a long word, the same on every run."""

from __future__ import annotations

from rapidfuzz.distance import OSA

from bot.typos import misspelt


def test_a_copy_has_one_typo_in_one_long_word() -> None:
    text = "I am exhausted after a run of nights"
    for copy in range(40):
        copied = misspelt(text, copy)
        assert copied is not None
        changed = [(a, b) for a, b in zip(text.split(), copied.split(), strict=True) if a != b]
        assert len(changed) == 1, copied
        word, typo = changed[0]
        assert len(word) >= 5 and OSA.distance(word, typo) == 1 and typo[0] == word[0]


def test_copies_differ_from_each_other_and_repeat_from_run_to_run() -> None:
    copies = [misspelt("should I take a gap year before med school", n) for n in range(10)]
    assert len(set(copies)) >= 8
    assert copies == [misspelt("should I take a gap year before med school", n) for n in range(10)]


def test_a_message_of_short_words_takes_no_typo() -> None:
    assert misspelt("hi, can u help") is None
