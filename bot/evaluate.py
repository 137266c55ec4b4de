"""`python -m bot eval`: routing accuracy on labelled questions, beside a naive rapidfuzz baseline.

The labelled file is a YAML list of `{text, expect: [ids] or [], persona, split: dev|test}`.
Figures: answered-correct, clarified, wrong and missed rates for topics; conversation accuracy; safety
recall and false alarms; out-of-scope rejection; per-intent recall; the most confused pairs.
`--typos N` routes N misspelt copies of each message instead (`bot/typos.py`): the same figures for people
typing on a phone.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process, utils

from bot.engine import Engine
from bot.knowledge import Kind, KnowledgeBase
from bot.matcher import Action
from bot.typos import misspelt

DEFAULT_QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "questions.yaml"
BASELINE_CUTOFFS = tuple(range(50, 100, 2))


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    expect: frozenset[str]
    split: str


@dataclass(frozen=True, slots=True)
class Outcome:
    action: Action
    intent: str | None
    offered: tuple[str, ...] = ()  # the topics a clarification offers as buttons


Router = Callable[[str], Outcome]


@dataclass
class Report:
    """Counts over one run of a router; rates are derived on demand."""

    topic: Counter[str] = field(default_factory=Counter)
    conversation: Counter[str] = field(default_factory=Counter)
    safety: Counter[str] = field(default_factory=Counter)
    out_of_scope: Counter[str] = field(default_factory=Counter)
    recall: dict[str, Counter[str]] = field(default_factory=dict)
    confused: Counter[tuple[str, str]] = field(default_factory=Counter)
    safety_false_alarms: int = 0
    misses: list[tuple[Question, Outcome]] = field(default_factory=list)

    def rate(self, group: Counter[str], key: str) -> float:
        return group[key] / group["total"] if group["total"] else 0.0


class QuestionsError(ValueError):
    """A labelled-questions file that cannot be read; the message names the file (and line) and the fix."""


def load_questions(path: Path) -> list[Question]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except OSError as error:
        raise QuestionsError(f"{path}: cannot read it ({error.strerror})") from error
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise QuestionsError(f"{where}: not valid YAML — quote texts that contain ':', '#', '?' or braces") from error
    if not isinstance(data, list) or not all(isinstance(q, dict) and "text" in q for q in data):
        raise QuestionsError(f"{path}: expected a list of {{text: ..., expect: [intent ids]}} entries")
    return [Question(str(q["text"]), frozenset(q.get("expect") or ()), str(q.get("split", "dev"))) for q in data]


def score(kb: KnowledgeBase, questions: Iterable[Question], route: Callable[[str], Outcome]) -> Report:
    kinds = {i.id: i.kind for i in kb.intents}
    report = Report()
    for question in questions:
        outcome = route(question.text)
        expected_kinds = {kinds.get(i) for i in question.expect}
        correct = outcome.action is Action.ANSWER and outcome.intent in question.expect
        answered_safety = outcome.intent is not None and kinds.get(outcome.intent) is Kind.SAFETY
        if answered_safety and Kind.SAFETY not in expected_kinds:
            report.safety_false_alarms += 1
        if not question.expect:
            group = report.out_of_scope
            key = "rejected" if outcome.action is Action.FALLBACK else str(outcome.action)
        else:
            kind = Kind.SAFETY if Kind.SAFETY in expected_kinds else next(iter(expected_kinds))
            group = {Kind.SAFETY: report.safety, Kind.CONVERSATION: report.conversation}.get(kind, report.topic)
            key = (
                "correct"
                if correct
                else {Action.ANSWER: "wrong", Action.CLARIFY: "clarified"}.get(outcome.action, "missed")
            )
            label = sorted(question.expect)[0]
            report.recall.setdefault(label, Counter())["total"] += 1
            report.recall[label]["correct"] += correct
            if not correct:
                report.confused[label, outcome.intent or str(outcome.action)] += 1
        group["total"] += 1
        group[key] += 1
        if key == "clarified" and question.expect & set(outcome.offered):
            group["clarified with the right topic"] += 1
        if key not in ("correct", "rejected"):
            report.misses.append((question, outcome))
    return report


def engine_router(engine: Engine) -> Callable[[str], Outcome]:
    def route(text: str) -> Outcome:
        found = engine.route(text)
        offered = tuple(c.intent for c in found.candidates) if found.action is Action.CLARIFY else ()
        return Outcome(found.action, found.intent, offered)

    return route


BaselineBest = Callable[[str], tuple[str, float] | None]


def baseline_best(kb: KnowledgeBase) -> BaselineBest:
    """The naive first implementation's best example for a text: extractOne over every example phrase with
    WRatio, as (its intent, its score) before any cutoff. Remembered per text, so that trying every cutoff on
    dev costs one pass instead of one per cutoff (with 12,800 examples, minutes per eval)."""
    owners = [i.id for i in kb.intents for _ in i.examples]
    phrases = [utils.default_process(text) for i in kb.intents for text in i.examples]

    @cache
    def best(text: str) -> tuple[str, float] | None:
        found = process.extractOne(utils.default_process(text), phrases, scorer=fuzz.WRatio, processor=None)
        return (owners[found[2]], found[1]) if found else None

    return best


def baseline_router(kb: KnowledgeBase, cutoff: float, best: BaselineBest | None = None) -> Router:
    """The baseline's answer: the best example's intent when its score reaches the cutoff."""
    best = best or baseline_best(kb)

    def route(text: str) -> Outcome:
        found = best(text)
        return Outcome(Action.ANSWER, found[0]) if found and found[1] >= cutoff else Outcome(Action.FALLBACK, None)

    return route


def best_baseline_cutoff(kb: KnowledgeBase, questions: list[Question], best: BaselineBest | None = None) -> float:
    """The baseline's fairest single cutoff: the one that does best on the dev half."""
    dev = [q for q in questions if q.split == "dev"] or questions
    best = best or baseline_best(kb)

    def merit(cutoff: float) -> float:
        r = score(kb, dev, baseline_router(kb, cutoff, best))
        return r.rate(r.topic, "correct") + r.rate(r.out_of_scope, "rejected") - 2 * r.rate(r.topic, "wrong")

    return max(BASELINE_CUTOFFS, key=merit)


def format_report(ours: Report, baseline: Report, cutoff: float, title: str) -> str:
    rows = [
        ("topic answered correctly", ours.rate(ours.topic, "correct"), baseline.rate(baseline.topic, "correct")),
        ("topic clarified", ours.rate(ours.topic, "clarified"), baseline.rate(baseline.topic, "clarified")),
        ("topic wrong answer", ours.rate(ours.topic, "wrong"), baseline.rate(baseline.topic, "wrong")),
        ("topic missed (fallback)", ours.rate(ours.topic, "missed"), baseline.rate(baseline.topic, "missed")),
        ("conversation correct", ours.rate(ours.conversation, "correct"),
         baseline.rate(baseline.conversation, "correct")),
        ("safety recall", ours.rate(ours.safety, "correct"), baseline.rate(baseline.safety, "correct")),
        ("out-of-scope rejected", ours.rate(ours.out_of_scope, "rejected"),
         baseline.rate(baseline.out_of_scope, "rejected")),
    ]  # fmt: skip
    counts = f"{ours.topic['total']} topic, {ours.conversation['total']} conversation, "
    counts += f"{ours.safety['total']} safety, {ours.out_of_scope['total']} out-of-scope messages"
    lines = [f"{title}: {counts}", f"{'':28}{'ours':>8}{'baseline':>10}{'ratio':>8}"]
    for name, mine, theirs in rows:
        ratio = f"{mine / theirs:.2f}x" if theirs else "—"
        lines.append(f"{name:28}{mine:8.1%}{theirs:10.1%}{ratio:>8}")
    right = ours.topic["clarified with the right topic"]
    lines.append(f"clarifications offering the right topic among their buttons: {right} of {ours.topic['clarified']}")
    lines.append(f"safety false alarms: ours {ours.safety_false_alarms}, baseline {baseline.safety_false_alarms}")
    lines.append(f"baseline: extractOne(WRatio) over all examples, cutoff {cutoff:g} (best on dev)")
    lines.append("per-intent recall: " + ", ".join(
        f"{i} {c['correct']}/{c['total']}" for i, c in sorted(ours.recall.items())))  # fmt: skip
    confused = ", ".join(f"{a}→{b} ×{n}" for (a, b), n in ours.confused.most_common(5)) or "none"
    lines.append(f"most confused: {confused}")
    return "\n".join(lines)


def evaluate_command(engine: Engine, args: argparse.Namespace) -> int:
    try:
        questions = load_questions(args.file or DEFAULT_QUESTIONS)
    except QuestionsError as error:
        print(error, file=sys.stderr)
        return 2
    if args.tune:
        from bot.tuning import print_tuning

        print_tuning(engine.kb, questions)
        return 0
    if args.typos and args.split == "held-out":
        print("--typos works on the labelled questions: choose --split dev, test or all", file=sys.stderr)
        return 2
    best = baseline_best(engine.kb)
    cutoff = best_baseline_cutoff(engine.kb, questions, best)
    title = f"split {args.split}"
    if args.split == "held-out":
        chosen, ours_router, baseline_router_ = _held_out_routers(engine, cutoff)
    else:
        chosen = [q for q in questions if args.split in ("all", q.split)]
        ours_router, baseline_router_ = engine_router(engine), baseline_router(engine.kb, cutoff, best)
    if args.typos:
        chosen = with_typos(chosen, args.typos)
        title += f", {args.typos} misspelt cop{'y' if args.typos == 1 else 'ies'} of each message with a long word"
    ours = score(engine.kb, chosen, ours_router)
    baseline = score(engine.kb, chosen, baseline_router_)
    print(format_report(ours, baseline, cutoff, title))
    if args.misses:
        for question, outcome in ours.misses:
            got = outcome.intent or outcome.action
            print(f"  {sorted(question.expect) or 'out of scope'} got {got}: {question.text}")
    return _gate(ours, args)


def with_typos(questions: list[Question], copies: int) -> list[Question]:
    """`copies` misspelt copies of each question that has a word long enough to take a typo (bot/typos.py)."""
    misspellings = ((q, misspelt(q.text, copy)) for q in questions for copy in range(copies))
    return [Question(text, q.expect, q.split) for q, text in misspellings if text is not None]


def _held_out_routers(engine: Engine, cutoff: float) -> tuple[list[Question], Router, Router]:
    """The knowledge's own phrases as questions, each routed by knowledge without its fold (5-fold): wording
    the bot has not seen, without the bias of a labelled half whose misses became examples. With a fitted
    classifier each fold gets its own, fitted on the fold's phrases (scikit-learn; about half a minute)."""
    from bot.tuning import held_out_folds

    questions: list[Question] = []
    ours: dict[str, Router] = {}
    baseline: dict[str, Router] = {}
    for fold_kb, held in held_out_folds(engine.kb, fit=engine.kb.classifier is not None):
        fold_ours = engine_router(Engine(fold_kb, thresholds=engine.matcher.thresholds))
        fold_baseline = baseline_router(fold_kb, cutoff)
        questions += held
        ours |= dict.fromkeys((q.text for q in held), fold_ours)
        baseline |= dict.fromkeys((q.text for q in held), fold_baseline)
    return questions, lambda text: ours[text](text), lambda text: baseline[text](text)


def _gate(report: Report, args: argparse.Namespace) -> int:
    failures = []
    checks = [
        (args.min_answered, report.rate(report.topic, "correct"), "topic answered-correct", True),
        (args.max_wrong, report.rate(report.topic, "wrong"), "topic wrong answers", False),
        (args.min_rejection, report.rate(report.out_of_scope, "rejected"), "out-of-scope rejection", True),
        (args.min_safety, report.rate(report.safety, "correct"), "safety recall", True),
    ]
    for bar, value, name, at_least in checks:
        if bar is not None and (value < bar if at_least else value > bar):
            failures.append(f"{name} {value:.1%} is {'below' if at_least else 'above'} the bar {bar:.1%}")
    if args.min_safety is not None and report.safety_false_alarms > args.max_false_alarms:
        failures.append(
            f"{report.safety_false_alarms} non-safety message(s) answered as a safety intent"
            f" (at most {args.max_false_alarms} allowed)"
        )
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0
