"""The safety prefilter never changes what the safety check finds: it only skips searches that cannot match."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge import Intent, Kind, KnowledgeBase
from bot.matcher import Matcher
from bot.safety import (
    KEYS_FILE,
    KEYS_FORMAT,
    PYTHON,
    SafetyCheck,
    alternatives,
    analysed,
    dumps_keys,
    loads_keys,
    required_keys,
)
from tests.conftest import REPO

QUESTIONS = REPO / "tests" / "data" / "questions.yaml"


@pytest.fixture(scope="module")
def check(shipped_kb: KnowledgeBase) -> SafetyCheck:
    return SafetyCheck([i for i in shipped_kb.intents if i.kind is Kind.SAFETY])


def test_required_keys_are_in_every_match() -> None:
    assert required_keys(r"\bkill(ing)? myself\b") == {"killing", "myself"}
    assert required_keys(r"\bself ?harm") == {"self", "selfharm"}
    assert required_keys(r"^(?!.*\bpatients?).*\bsuicid") == {"suicid"}
    assert required_keys(r"\bnoose\b|\bbought a rope\b") == {"noose", "bought"}
    assert required_keys(r"\b\w+ ?mg\b") is None  # nothing of three letters or more is certain


def test_required_keys_look_inside_groups_lookaheads_and_alternatives() -> None:
    assert required_keys(r"\b(a|the) (rope|noose)\b.*\bme\b|\bbought a rope\b") == {"rope", "noose", "bought"}
    assert required_keys(r"^(?=.*\b(pills|meds)\b).*\b(take|od)\b") == {"pills", "meds"}
    assert required_keys(r"(?<!wrong )\b(dose|dosage) of\b") == {"dose", "dosage"}
    assert required_keys(r"\b(\w+ )?(ached|hurt)+") == {"ached", "hurt"}
    assert required_keys(r"(?i)kill myself") is None  # keys are compared with the message as written


def test_the_stored_keys_table_is_complete_and_current(shipped_kb: KnowledgeBase) -> None:
    patterns = [p for i in shipped_kb.intents for p in i.patterns]
    stored = shipped_kb.safety_keys
    missing = [p for p in patterns if p not in stored]
    assert not missing, f"{len(missing)} pattern(s) not in knowledge/{KEYS_FILE}: run `python -m bot train`"
    assert {p: stored[p] for p in patterns} == {p: analysed(p) for p in patterns}, "raise KEYS_FORMAT"


def test_a_table_of_another_format_or_python_is_ignored_and_a_damaged_one_refused() -> None:
    assert loads_keys(dumps_keys([r"\bnoose\b"])) == {r"\bnoose\b": ((r"\bnoose\b", {"noose"}),)}
    both = r"\bnoose\b|\bbought a rope\b"
    assert loads_keys(dumps_keys([both]))[both] == ((r"\bnoose\b", {"noose"}), (r"\bbought a rope\b", {"bought"}))
    assert loads_keys('{"format": 0, "keys": {"x": ["y"]}}') == {}
    assert loads_keys(f'{{"format": {KEYS_FORMAT}, "python": "2.7", "keys": {{"x": ["y"]}}}}') == {}
    with pytest.raises(ValueError, match="not a list of strings"):
        loads_keys(f'{{"format": {KEYS_FORMAT}, "python": "{PYTHON}", "keys": {{"x": "noose"}}}}')
    with pytest.raises(ValueError, match="not a list of patterns the table has keys for"):
        loads_keys(f'{{"format": {KEYS_FORMAT}, "python": "{PYTHON}", "keys": {{}}, "alternatives": {{"x|y": ["x"]}}}}')
    with pytest.raises(re.error):  # the table lists only patterns that compile
        dumps_keys([r"\bnoose(\b"])


def test_a_pattern_splits_at_its_top_level_bars_only() -> None:
    assert alternatives(r"\bnoose\b|the (rope|cord)\b|[|]|\|x") == (r"\bnoose\b", r"the (rope|cord)\b", "[|]", r"\|x")
    assert alternatives(r"[]|]|a|[^]|]") == ("[]|]", "a", "[^]|]")  # "]" first in a set is one of its members
    assert alternatives(r"^(?!.*\bpatients?).*\bsuicid") == (r"^(?!.*\bpatients?).*\bsuicid",)


@pytest.mark.parametrize("pattern", [r"(?i)noose|rope", r"(a)\1|noose", r"(?P<w>a)(?P=w)|noose", r"(a)?(?(1)b|c)|d"])
def test_a_pattern_whose_parts_mean_something_else_alone_is_not_split(pattern: str) -> None:
    assert alternatives(pattern) == (pattern,)


def test_only_the_alternatives_whose_words_a_message_has_are_searched() -> None:
    crisis = Intent("crisis", "Crisis", Kind.SAFETY, (), patterns=(r"\bnoose\b|\bbought a rope\b|\bpills\b",))
    check = SafetyCheck([crisis])
    assert check.searched("i bought a rope") == [r"\bbought a rope\b"]
    assert check.match("i bought a rope") == "crisis"
    assert check.searched("my career") == []


def test_one_long_pattern_per_intent_gets_the_same_answers_as_the_patterns_apart(shipped_kb: KnowledgeBase) -> None:
    """What a maintainer who writes `a|b|c` instead of three patterns gets: the same answers, as fast."""
    intents = [i for i in shipped_kb.intents if i.kind is Kind.SAFETY]
    apart = SafetyCheck(intents, shipped_kb.safety_keys)
    joined = SafetyCheck([dataclasses.replace(i, patterns=("|".join(i.patterns),)) for i in intents])
    prepare = Matcher(shipped_kb).prepare
    texts = [prepare(t) for t in re.findall(r"text: (.+)", QUESTIONS.read_text(encoding="utf-8"))]
    texts += [prepare(e) for i in shipped_kb.intents for e in (*i.examples, *i.negative_examples)]
    assert [joined.match(t) for t in texts] == [apart.match(t) for t in texts]
    assert [joined.searched(t) for t in texts] == [apart.searched(t) for t in texts]


def test_prefilter_agrees_with_searching_every_pattern_on_real_messages(
    shipped_kb: KnowledgeBase, check: SafetyCheck
) -> None:
    prepare = Matcher(shipped_kb).prepare
    texts = re.findall(r"text: (.+)", QUESTIONS.read_text(encoding="utf-8"))
    texts += [e for i in shipped_kb.intents for e in (*i.examples, *i.negative_examples)]
    found = {prepare(t): check.match_every_pattern(prepare(t)) for t in texts}
    assert sum(1 for hit in found.values() if hit) >= 50  # the comparison covers real safety hits
    assert {text: check.match(text) for text in found} == found


@pytest.fixture(scope="module")
def safety_words(shipped_kb: KnowledgeBase) -> list[str]:
    return sorted({w for i in shipped_kb.intents for p in i.patterns for w in re.findall(r"[a-z]{2,}", p)})


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_prefilter_agrees_on_messages_made_of_pattern_words(
    check: SafetyCheck, safety_words: list[str], data: st.DataObject
) -> None:
    words = data.draw(st.lists(st.sampled_from(["i", "my", "a", "me", "to", *safety_words]), max_size=9))
    text = " ".join(words)
    assert check.match(text) == check.match_every_pattern(text)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_prefilter_agrees_on_strings_each_pattern_matches(
    shipped_kb: KnowledgeBase, check: SafetyCheck, data: st.DataObject
) -> None:
    pattern = data.draw(st.sampled_from([p for i in shipped_kb.intents for p in i.patterns]))
    text = data.draw(st.from_regex(pattern, alphabet=st.characters(codec="ascii")))
    assert check.match(text) == check.match_every_pattern(text)
