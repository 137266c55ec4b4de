"""`python -m bot eval --tune`: grid-search the routing thresholds on the dev half of the labelled set.

Scores are computed once per coverage weight; each threshold combination then only re-runs `decide`,
so the search is cheap. It prints the best combinations; a maintainer copies them into config.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace

from bot.evaluate import Outcome, Question, Report, score
from bot.knowledge import KnowledgeBase
from bot.matcher import DEFAULT_THRESHOLDS, Action, Matcher, Thresholds, decide

COVERAGE_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
ANSWER = tuple(x / 100 for x in range(40, 82, 2))
MARGIN = tuple(x / 100 for x in range(0, 22, 3))
CLARIFY = tuple(x / 100 for x in range(25, 62, 3))


def merit(report: Report) -> float:
    """Right answers and rejections count, a clarification half; a wrong answer costs five right ones."""
    return (
        report.rate(report.topic, "correct")
        + 0.5 * report.rate(report.topic, "clarified")
        + report.rate(report.conversation, "correct")
        + report.rate(report.out_of_scope, "rejected")
        - 5 * report.rate(report.topic, "wrong")
        - 2 * report.safety_false_alarms
    )


def _router(matcher: Matcher, cached: dict[str, Outcome | list[tuple[str, float]]], t: Thresholds,
            safety_ids: frozenset[str]) -> Callable[[str], Outcome]:  # fmt: skip
    def route(text: str) -> Outcome:
        found = cached[text]
        if isinstance(found, Outcome):
            return found
        decided = decide(found, "", t, safety_ids)
        return Outcome(decided.action, decided.intent)

    return route


def tune(kb: KnowledgeBase, questions: list[Question]) -> list[tuple[float, Thresholds]]:
    dev = [q for q in questions if q.split == "dev"]
    results: list[tuple[float, Thresholds]] = []
    for weight in COVERAGE_WEIGHTS:
        matcher = Matcher(kb, replace(DEFAULT_THRESHOLDS, coverage_weight=weight))
        cached: dict[str, Outcome | list[tuple[str, float]]] = {}
        for q in dev:
            normalized = matcher.prepare(q.text)
            safety = matcher.safety_match(normalized) if normalized else None
            if not normalized:
                cached[q.text] = Outcome(Action.FALLBACK, None)
            elif safety:
                cached[q.text] = Outcome(Action.ANSWER, safety)
            else:
                cached[q.text] = matcher.ranked(normalized)
        safety_ids = frozenset(i.id for i in kb.intents if i.patterns)
        for answer, margin, clarify in itertools.product(ANSWER, MARGIN, CLARIFY):
            if clarify > answer:
                continue
            t = replace(DEFAULT_THRESHOLDS, answer=answer, margin=margin, clarify=clarify, coverage_weight=weight)
            results.append((merit(score(kb, dev, _router(matcher, cached, t, safety_ids))), t))
    return sorted(results, key=lambda r: r[0], reverse=True)


def print_tuning(kb: KnowledgeBase, questions: list[Question]) -> None:
    for value, t in tune(kb, questions)[:8]:
        print(
            f"merit {value:.3f}: answer={t.answer:.2f} margin={t.margin:.2f} clarify={t.clarify:.2f} "
            f"coverage_weight={t.coverage_weight:.2f}"
        )
