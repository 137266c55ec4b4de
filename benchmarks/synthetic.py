"""Synthetic knowledge, 10× or 100× the shipped intents, grown deterministically from the real knowledge.

Method (also written into RESULTS.md): every synthetic intent copies the example phrases of a real topic
(its template, taken in turn) and, for about a third of them, of a second real topic drawn at random; in
each phrase the template's own topic words (the words of its keywords that fewer than a fifth of the real
intents use, such as "usmle", "mentor", "burnout") are replaced by a vocabulary of four invented,
medical-sounding words of its own ("regliorium", "taskium"). Everything else in the phrase stays: function
words, general words ("career", "medical", "school"), lengths and structure. Phrases with no topic word are
left out (they would read the same in every copy). Invented words are unique and unlike every real word
(rapidfuzz ratio below 75), so the synthetic intents are distinct from each other and from the real ones.
Tips, sources and sections are the template's; follow-ups point at neighbouring synthetic intents; a fixed
seed makes every run build the same intents.

Built in memory for routing (`scaled`) and, for the start-up measurement, written as YAML beside a copy of
the real files (`write_scaled_dir`), which `python -m bot validate` accepts. Nothing here writes into the
repository.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from bot.knowledge import Intent, Kind, KnowledgeBase
from bot.matcher import STOPWORDS
from bot.normalize import normalize

SEED = 20261122
WORDS_PER_INTENT = 4
SECOND_TEMPLATE_SHARE = 0.3  # of a synthetic intent's examples, the share phrased like a second real topic
GENERAL_SHARE = 0.2  # a keyword word used by at least this share of the real intents is general: kept
MIN_EXAMPLES = 5
MAX_SIMILARITY = 75  # an invented word's rapidfuzz ratio to every real word stays below this
SYNTHETIC_FILE = "zz_synthetic.yaml"

_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "gl", "k", "kr", "l", "m", "n", "p", "pl", "qu", "r", "s", "sk",
           "st", "t", "tr", "v", "vr", "z")  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "io")
_ENDINGS = ("ology", "iatry", "ics", "ine", "ase", "ent", "ium", "ar", "on", "ery", "opy", "ist")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What the generator keeps of the real knowledge: topic templates, their topic words, every real word."""

    topics: tuple[Intent, ...]
    topic_words: dict[str, frozenset[str]]  # intent id -> the words of its keywords that few intents use
    examples: dict[str, tuple[tuple[str, ...], ...]]  # intent id -> its examples, normalised and split
    keywords: dict[str, tuple[tuple[str, ...], ...]]  # intent id -> its keywords, normalised and split
    real_words: tuple[str, ...]


def analyse(kb: KnowledgeBase) -> Vocabulary:
    """Find each real topic's own words (swapped in its copies) among the words many intents share (kept)."""
    topics = tuple(i for i in kb.intents if i.kind is Kind.TOPIC and i.tips)
    if not topics:
        raise ValueError("the knowledge has no topic intent with tips to grow synthetic intents from")
    frequency: Counter[str] = Counter()
    for intent in kb.intents:
        frequency.update({w for text in (*intent.examples, *intent.keywords) for w in normalize(text).split()})
    threshold = max(3, GENERAL_SHARE * len(kb.intents))

    def own(intent: Intent) -> frozenset[str]:
        words = {w for k in intent.keywords for w in normalize(k).split()}
        return frozenset(w for w in words if frequency[w] < threshold and w.isalpha() and w not in STOPWORDS)

    def split(texts: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(normalize(t).split()) for t in texts)

    real = set(frequency) | {w for text in kb.out_of_scope for w in normalize(text).split()}
    return Vocabulary(
        topics=topics,
        topic_words={i.id: own(i) for i in topics},
        examples={i.id: split(i.examples) for i in topics},
        keywords={i.id: split(i.keywords) for i in topics},
        real_words=tuple(sorted(real)),
    )


class WordMaker:
    """Invents pronounceable, medical-sounding words, each new and unlike every real word."""

    def __init__(self, rng: random.Random, real_words: Iterable[str]) -> None:
        self._rng = rng
        self._real = [w for w in real_words if len(w) >= 3]
        self._used: set[str] = set(self._real)

    def word(self) -> str:
        while True:
            candidate = self._candidate()
            if candidate in self._used:
                continue
            if self._real and process.extractOne(candidate, self._real, scorer=fuzz.ratio, score_cutoff=MAX_SIMILARITY):
                continue
            self._used.add(candidate)
            return candidate

    def _candidate(self) -> str:
        pick = self._rng.choice
        syllables = "".join(pick(_ONSETS) + pick(_VOWELS) for _ in range(1 + (self._rng.random() < 0.3)))
        return syllables + pick(_ONSETS) + pick(_ENDINGS)


def synthetic_intents(kb: KnowledgeBase, count: int, *, seed: int = SEED) -> tuple[Intent, ...]:
    """`count` new topic intents grown from `kb`; the same `kb`, count and seed give the same intents."""
    if count <= 0:
        return ()
    vocabulary = analyse(kb)
    rng = random.Random(seed)
    maker = WordMaker(rng, vocabulary.real_words)
    intents = []
    for n in range(count):
        template = vocabulary.topics[n % len(vocabulary.topics)]
        second = rng.choice(vocabulary.topics)
        words = [maker.word() for _ in range(WORDS_PER_INTENT)]
        intents.append(_grow(template, second, words, f"syn{n:05d}_{words[0]}"[:40], vocabulary, rng))
    return tuple(_link(intents))


def _grow(
    template: Intent, second: Intent, words: list[str], intent_id: str, vocabulary: Vocabulary, rng: random.Random
) -> Intent:
    swap: dict[str, str] = {}

    def rewritten(source: Intent, phrases: tuple[tuple[str, ...], ...]) -> list[str]:
        own = vocabulary.topic_words[source.id]
        out = []
        for found in phrases:
            if own.intersection(found):  # without a topic word it would read the same in every copy: left out
                out.append(" ".join(swap.setdefault(w, words[len(swap) % len(words)]) if w in own else w
                                    for w in found))  # fmt: skip
        return out

    own_phrases = rewritten(template, vocabulary.examples[template.id])
    borrowed = rewritten(second, vocabulary.examples[second.id])
    target = max(MIN_EXAMPLES, len(template.examples))
    wanted = min(len(borrowed), round(target * SECOND_TEMPLATE_SHARE))
    chosen = own_phrases[: target - wanted] + rng.sample(borrowed, wanted) + own_phrases[target - wanted :]
    head, second_word, third = words[:3]
    fillers = (f"tell me about {head}", f"{head} {second_word} career advice", f"how do i get into {head}",
               f"is {head} {third} a good path", f"{head} jobs")  # fmt: skip
    examples = list(dict.fromkeys((*chosen, *fillers)))[:target]
    keywords = rewritten(template, vocabulary.keywords[template.id])
    return Intent(
        id=intent_id,
        title=f"{words[0].capitalize()} {template.title}"[:32].strip(),
        kind=Kind.TOPIC,
        examples=tuple(examples),
        keywords=tuple(dict.fromkeys([words[0], *keywords])),
        tips=template.tips,
    )


def _link(intents: list[Intent]) -> list[Intent]:
    """Follow-ups to the two neighbouring synthetic intents (none when there is only one)."""
    if len(intents) == 1:
        return intents
    ids = [i.id for i in intents]
    count = len(ids)
    return [replace(i, follow_ups=tuple(dict.fromkeys(ids[(n + d) % count] for d in (1, -1))))
            for n, i in enumerate(intents)]  # fmt: skip


def scaled(kb: KnowledgeBase, factor: int, *, seed: int = SEED) -> KnowledgeBase:
    """`kb` plus synthetic intents, so that it has `factor` times as many intents in all."""
    extra = synthetic_intents(kb, (factor - 1) * len(kb.intents), seed=seed)
    return replace(kb, intents=kb.intents + extra)


def write_scaled_dir(source: Path, extra: tuple[Intent, ...], dest: Path) -> Path:
    """A knowledge directory: a copy of the real YAML files in `source` plus one file of the `extra` intents."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.yaml")):
        shutil.copy(path, dest / path.name)
    if extra:
        data = {"intents": [_intent_yaml(i) for i in extra]}
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(data, Dumper=dumper, sort_keys=False, width=200, allow_unicode=True)
        (dest / SYNTHETIC_FILE).write_text(text, encoding="utf-8")
    return dest


def _intent_yaml(intent: Intent) -> dict[str, Any]:
    tips = []
    for tip in intent.tips:
        entry: dict[str, Any] = {"text": tip.text, "source": tip.source, "section": tip.section}
        if tip.audience:
            entry["audience"] = sorted(tip.audience)
        tips.append(entry)
    data: dict[str, Any] = {
        "id": intent.id,
        "title": intent.title,
        "kind": intent.kind.value,
        "examples": list(intent.examples),
        "keywords": list(intent.keywords),
        "tips": tips,
    }
    if intent.follow_ups:
        data["follow_ups"] = list(intent.follow_ups)
    return data
