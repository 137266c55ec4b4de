"""`python -m bot eval --tune`: grid-search the routing thresholds on dev and on held-out knowledge examples.

Dev alone is a biased judge once maintainers have turned its misses into examples: every dev message then
has a near-copy in the knowledge, and the search rewards thresholds that are too low for wording nobody has
seen. So each candidate is also scored on 5-fold held-out knowledge: a fifth of every topic's examples and
of the out-of-scope phrases is left out of the knowledge and routed as if a user had typed it. Messages are
scored once per fold and coverage weight; each threshold combination then only re-runs `decide`. It prints
the best combinations by the sum of both merits; a maintainer copies one into config.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import NamedTuple

from bot.evaluate import Outcome, Question, Report, score
from bot.knowledge import Kind, KnowledgeBase
from bot.matcher import DEFAULT_THRESHOLDS, Action, Evidence, Matcher, Thresholds, decide

COVERAGE_WEIGHTS = (0.4, 0.5, 0.6)  # 0.3 was not among the best eight once the classifier came
CLASSIFIER_WEIGHTS = (0.15, 0.2, 0.25)  # nor were 0.1 and 0.3 (0.3 checked again once training left words out)
ANSWER = tuple(x / 100 for x in range(44, 80, 3))
MARGIN = tuple(x / 100 for x in range(0, 28, 3))
CLARIFY = tuple(x / 100 for x in range(40, 68, 3))
# The rules that trust the classifier's choice (matcher._trusted_choice) are searched only around the best
# combinations of the rest: (agreed_answer, agreed_probability, agreed_lead) and (confirmed_answer,
# confirmed_probability); "off" is a probability no classifier reaches.
AGREEMENT_OFF = (1.01, 1.01, 1.01)
AGREED = (AGREEMENT_OFF, *itertools.product((0.0, 0.5, 0.55), (0.6, 0.7, 0.75, 0.8), (0.35, 0.5)))
CONFIRMATION_OFF = (1.01, 1.01)
CONFIRMED = (CONFIRMATION_OFF, (0.55, 0.75), (0.55, 0.8), (0.5, 0.8))
BEST = 8
FOLDS = 5


class HeldOutRates(NamedTuple):
    """What a merit means on the held-out phrases (whole reports are too big to keep for every combination)."""

    correct: float
    wrong: float
    rejected: float


class Tuned(NamedTuple):
    """One combination's merits (held-out and dev) and its held-out rates."""

    on_held: float
    on_dev: float
    thresholds: Thresholds
    held: HeldOutRates

    def total(self) -> float:
        return self.on_held + self.on_dev


Scored = dict[str, Outcome | Evidence]  # message -> fixed outcome, or what decide weighs


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


def held_out_folds(
    kb: KnowledgeBase, folds: int = FOLDS, *, fit: bool = False
) -> Iterator[tuple[KnowledgeBase, list[Question]]]:
    """(knowledge without one fold, that fold as labelled questions), for each fold.

    The stored classifier has seen every phrase, so a fold's knowledge has none, or with `fit` (which needs
    scikit-learn and takes seconds a fold) one fitted on the fold's own phrases.
    """
    for fold in range(folds):
        intents, held = [], []
        for intent in kb.intents:
            if intent.kind is not Kind.TOPIC:
                intents.append(intent)
                continue
            kept, left_out = _split(intent.examples, fold, folds)
            held += [Question(e, frozenset([intent.id]), "held-out") for e in left_out]
            intents.append(replace(intent, examples=kept))
        out_of_scope, left_out = _split(kb.out_of_scope, fold, folds)
        held += [Question(e, frozenset(), "held-out") for e in left_out]
        fold_kb = replace(kb, intents=tuple(intents), out_of_scope=out_of_scope, classifier=None)
        yield (with_classifier(fold_kb) if fit else fold_kb), held


def with_classifier(kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge with a classifier fitted on its own phrases."""
    from bot.training import train

    return replace(kb, classifier=train(Matcher(kb).training_pairs()))


def _split(phrases: tuple[str, ...], fold: int, folds: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the phrases kept, the phrases of this fold): every `folds`-th phrase, starting at `fold`, is held out."""
    return tuple(p for n, p in enumerate(phrases) if n % folds != fold), phrases[fold::folds]


def _scored(matcher: Matcher, questions: list[Question]) -> Scored:
    scored: Scored = {}
    for q in questions:
        normalized = matcher.prepare(q.text)
        safety = matcher.safety_match(normalized) if normalized else None
        if not normalized:
            scored[q.text] = Outcome(Action.FALLBACK, None)
        elif safety:
            scored[q.text] = Outcome(Action.ANSWER, safety)
        else:
            scored[q.text] = matcher.evidence(normalized)
    return scored


def _router(scored: Scored, t: Thresholds, safety_ids: frozenset[str]) -> Callable[[str], Outcome]:
    def route(text: str) -> Outcome:
        found = scored[text]
        if isinstance(found, Outcome):
            return found
        decided = decide(found, "", t, safety_ids)
        return Outcome(decided.action, decided.intent)

    return route


def tune(kb: KnowledgeBase, questions: list[Question]) -> list[Tuned]:
    """The best combinations, best sum of merits first: the grid with the classifier's rules off, then each
    of its best BEST with every AGREED and CONFIRMED setting."""
    dev = [q for q in questions if q.split == "dev"]
    folds = list(held_out_folds(kb, fit=kb.classifier is not None))
    held = [q for _, fold in folds for q in fold]
    safety_ids = frozenset(i.id for i in kb.intents if i.kind is Kind.SAFETY)

    def judged(t: Thresholds, dev_scored: Scored, held_scored: Scored) -> Tuned:
        held_report = score(kb, held, _router(held_scored, t, safety_ids))
        on_dev = merit(score(kb, dev, _router(dev_scored, t, safety_ids)))
        return Tuned(merit(held_report), on_dev, t, _rates(held_report))

    off = dict(zip(("agreed_answer", "agreed_probability", "agreed_lead"), AGREEMENT_OFF, strict=True))
    off.update(zip(("confirmed_answer", "confirmed_probability"), CONFIRMATION_OFF, strict=True))
    results, scored = [], {}
    shares = CLASSIFIER_WEIGHTS if kb.classifier is not None else (DEFAULT_THRESHOLDS.classifier_weight,)
    for weight, share in itertools.product(COVERAGE_WEIGHTS, shares):
        base = replace(DEFAULT_THRESHOLDS, coverage_weight=weight, classifier_weight=share, **off)
        dev_scored = _scored(Matcher(kb, base), dev)
        held_scored: Scored = {}
        for fold_kb, fold in folds:
            held_scored.update(_scored(Matcher(fold_kb, base), fold))
        scored[weight, share] = dev_scored, held_scored
        for answer, margin, clarify in itertools.product(ANSWER, MARGIN, CLARIFY):
            if clarify <= answer:
                t = replace(base, answer=answer, margin=margin, clarify=clarify)
                results.append(judged(t, dev_scored, held_scored))
    best = sorted(results, key=Tuned.total, reverse=True)[:BEST]
    agreeing = [
        judged(
            replace(
                r.thresholds,
                agreed_answer=a,
                agreed_probability=p,
                agreed_lead=lead,
                confirmed_answer=confirmed_answer,
                confirmed_probability=confirmed_p,
            ),
            *scored[key],
        )
        for r in best
        for key in [(r.thresholds.coverage_weight, r.thresholds.classifier_weight)]
        for a, p, lead in AGREED
        for confirmed_answer, confirmed_p in CONFIRMED
    ]
    return sorted(agreeing, key=Tuned.total, reverse=True)


def _rates(report: Report) -> HeldOutRates:
    topic = report.topic
    return HeldOutRates(
        report.rate(topic, "correct"), report.rate(topic, "wrong"), report.rate(report.out_of_scope, "rejected")
    )


def print_tuning(kb: KnowledgeBase, questions: list[Question]) -> None:
    for on_held, on_dev, t, held in tune(kb, questions)[:BEST]:
        agreement = (
            "agreement off"
            if t.agreed_probability > 1
            else f"agreed_answer={t.agreed_answer:.2f} agreed_probability={t.agreed_probability:.2f} "
            f"agreed_lead={t.agreed_lead:.2f}"
        )
        confirmation = (
            "confirmation off"
            if t.confirmed_probability > 1
            else f"confirmed_answer={t.confirmed_answer:.2f} confirmed_probability={t.confirmed_probability:.2f}"
        )
        print(
            f"merit {on_held + on_dev:.3f} (held-out {on_held:.3f}, dev {on_dev:.3f}): answer={t.answer:.2f} "
            f"margin={t.margin:.2f} clarify={t.clarify:.2f} coverage_weight={t.coverage_weight:.2f} "
            f"classifier_weight={t.classifier_weight:.2f} {agreement} {confirmation}; "
            f"held-out correct {held.correct:.1%}, wrong {held.wrong:.1%}, out-of-scope rejected {held.rejected:.1%}"
        )
