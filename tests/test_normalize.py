"""The normaliser: what it does to real messages, and that it is total and idempotent."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.normalize import EmojiReader, Preparer, SynonymExpander, normalize
from tests.conftest import strings_reachable_from


def test_case_accents_punctuation_and_emoji() -> None:
    assert normalize("Café RÉSUMÉ!!! 😩🙏") == "cafe resume"


def test_repeated_letters_and_contractions() -> None:
    assert normalize("Helloooo, I’m sooo tired & can't sleep") == "hello i am so tired cannot sleep"


def test_full_width_and_control_characters() -> None:
    assert normalize("ＵＳＭＬＥ\x00\x07 step\t2") == "usmle step 2"


def test_right_to_left_text_is_kept() -> None:
    assert normalize("مرحبا، كيف؟") == "مرحبا كيف"


def test_synonyms_replace_whole_words_only() -> None:
    expand = SynonymExpander({"med school": "medical school", "ck": "step 2 ck"})
    assert expand(normalize("Is med school hard? CK prep")) == "is medical school hard step 2 ck prep"
    assert expand("check the clock") == "check the clock"


def test_known_emoji_are_read_as_words_whatever_their_skin_tone() -> None:
    read = EmojiReader({"👋": "hello", "👩‍⚕️": "health worker", "💊": "pills"})
    assert normalize(read("👋🏽")) == "hello"
    assert normalize(read("👩🏾‍⚕️ or 👩?")) == "health worker or"  # the whole sequence, not its first person
    assert normalize(read("all my💊💊 😩")) == "all my pills pills"  # unknown emoji are still dropped
    assert read("plain ascii") == "plain ascii"


def test_the_preparer_reads_emoji_before_synonyms() -> None:
    prepare = Preparer({"ck": "step 2 ck"}, {"💊": "pills"})
    assert prepare("CK prep 💊!") == "step 2 ck prep pills"


def test_the_preparer_keeps_no_message() -> None:
    """The knowledge's phrases are kept prepared on the knowledge base; what users type is not held on to."""
    prepare = Preparer({"ck": "step 2 ck"}, {"💊": "pills"})
    assert prepare("my private message about CK 💊") == "my private message about step 2 ck pills"
    assert [text for text in strings_reachable_from(prepare) if "private" in text] == []
    assert not hasattr(normalize, "cache_info")  # nor does the normaliser keep what it saw


def test_synonyms_take_the_longest_variant_that_fits_and_only_whole_words() -> None:
    """The variants are one trie-shaped regex; it must behave as an alternation sorted longest first."""
    expand = SynonymExpander({"ms": "master of science", "ms3": "third year medical student", "ms 3": "ms3x"})
    assert expand("ms3 here") == "third year medical student here"
    assert expand("ms 3 here") == "ms3x here"
    assert expand("an ms in nursing") == "an master of science in nursing"
    assert expand("ms4 msx ms") == "ms4 msx master of science"


@given(st.text())
def test_normalize_is_idempotent_and_total(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip() and "  " not in once
