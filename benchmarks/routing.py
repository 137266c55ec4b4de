"""Routing speed of the core at each knowledge size, beside the naive baseline, and accuracy at that size.

Ours is `Engine.route` (normalise, safety patterns, scoring, decision): timed one message at a time over the
evaluation messages repeated to the wanted count. The baseline is what a first implementation does:
`rapidfuzz.process.extractOne(message, all_example_phrases, scorer=fuzz.WRatio)` with the list of example
phrases rebuilt from the knowledge on every call; it is timed on an evenly spaced sample of the same
messages, since at 100× one call takes a good fraction of a second. Single-threaded: one core.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from benchmarks.stats import Latency
from bot.engine import Engine
from bot.evaluate import Outcome, Question, score
from bot.knowledge import KnowledgeBase
from bot.matcher import Action, Route

MIN_BASELINE_SAMPLE = 30


@dataclass(frozen=True, slots=True)
class Accuracy:
    """`eval` figures at one size; `stolen` counts real questions answered with a synthetic intent."""

    topic_correct: float
    topic_wrong: float
    topic_clarified: float
    out_of_scope_rejected: float
    safety_recall: float
    stolen: int  # distinct labelled (in-scope) messages answered with a synthetic intent
    out_of_scope_taken: int  # distinct out-of-scope messages answered with a synthetic intent
    clarified_with_synthetic: int  # distinct messages whose clarification offers a synthetic intent
    questions: int


@dataclass(frozen=True, slots=True)
class RoutingResult:
    factor: int
    intents: int
    examples: int
    build_seconds: float
    ours: Latency
    ours_per_second: float
    cold: Latency
    baseline: Latency
    baseline_per_second: float
    accuracy: Accuracy

    @property
    def speedup(self) -> float:
        """How many times faster ours is than the baseline, on mean time per message."""
        return self.baseline.mean / self.ours.mean if self.ours.mean else 0.0


def repeated(texts: Sequence[str], minimum: int) -> list[str]:
    """`texts` repeated in order until there are at least `minimum` of them."""
    if not texts:
        return []
    rounds = -(-minimum // len(texts))
    return list(texts) * rounds


def evenly_spaced(items: Sequence[str], count: int) -> list[str]:
    """A deterministic sample of `count` items spread over the whole sequence."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(n * step)] for n in range(count)]


def time_each(route: Callable[[str], Any], messages: Sequence[str]) -> tuple[list[float], float]:
    """Seconds per call, and the wall time of the whole loop."""
    durations = []
    clock = time.perf_counter
    started = clock()
    for message in messages:
        before = clock()
        route(message)
        durations.append(clock() - before)
    return durations, clock() - started


def naive_baseline(kb: KnowledgeBase) -> Callable[[str], Any]:
    """extractOne with WRatio over every example phrase, the list rebuilt per call as a first version would."""

    def route(message: str) -> Any:
        phrases = [text for intent in kb.intents for text in intent.examples]
        return process.extractOne(message, phrases, scorer=fuzz.WRatio)

    return route


def measure(
    kb: KnowledgeBase,
    factor: int,
    texts: Sequence[str],
    questions: Sequence[Question],
    *,
    min_messages: int,
    baseline_seconds: float,
    real_ids: frozenset[str],
) -> tuple[RoutingResult, Engine]:
    """Build the engine for `kb` and time ours and the baseline on the evaluation messages.

    The engine is warmed up as the service warms it before it takes updates (`Matcher.warm_up`: safety
    patterns compiled, indexes built). The first pass over the (distinct) messages is its first sight of each
    (its word-correction cache empty): it is reported on its own as well. The baseline gets as many evenly
    spaced messages as fit in `baseline_seconds` (at least MIN_BASELINE_SAMPLE).
    """
    unique = list(dict.fromkeys(texts))
    started = time.perf_counter()
    engine = Engine(kb)
    engine.matcher.warm_up()
    build = time.perf_counter() - started
    ours, ours_wall = time_each(engine.route, repeated(unique, min_messages))
    baseline = naive_baseline(kb)
    probe, _ = time_each(baseline, unique[:3])
    count = min(len(unique), max(MIN_BASELINE_SAMPLE, int(baseline_seconds / max(probe))))
    theirs, theirs_wall = time_each(baseline, evenly_spaced(unique, count))
    result = RoutingResult(
        factor=factor,
        intents=len(kb.intents),
        examples=sum(len(i.examples) for i in kb.intents),
        build_seconds=build,
        ours=Latency.of_seconds(ours),
        ours_per_second=len(ours) / ours_wall,
        cold=Latency.of_seconds(ours[: len(unique)]),
        baseline=Latency.of_seconds(theirs),
        baseline_per_second=len(theirs) / theirs_wall,
        accuracy=accuracy(engine, questions, real_ids),
    )
    return result, engine


def accuracy(engine: Engine, questions: Sequence[Question], real_ids: frozenset[str]) -> Accuracy:
    """The `eval` figures (all splits) for this engine, and how often synthetic intents took messages."""
    routes: dict[str, Route] = {}

    def route(text: str) -> Outcome:
        found = routes[text] = engine.route(text)
        return Outcome(found.action, found.intent)

    report = score(engine.kb, questions, route)
    in_scope = {q.text for q in questions if q.expect}
    stolen = taken = clarified = 0
    for text, found in routes.items():
        if found.action is Action.ANSWER and found.intent not in real_ids:
            stolen += text in in_scope
            taken += text not in in_scope
        elif found.action is Action.CLARIFY and any(c.intent not in real_ids for c in found.candidates):
            clarified += 1
    return Accuracy(
        topic_correct=report.rate(report.topic, "correct"),
        topic_wrong=report.rate(report.topic, "wrong"),
        topic_clarified=report.rate(report.topic, "clarified"),
        out_of_scope_rejected=report.rate(report.out_of_scope, "rejected"),
        safety_recall=report.rate(report.safety, "correct"),
        stolen=stolen,
        out_of_scope_taken=taken,
        clarified_with_synthetic=clarified,
        questions=len(questions),
    )
