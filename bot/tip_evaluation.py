"""`python -m bot eval-tips`: does a topic answer lead with the tip the question asked about?

`tests/data/tip_questions.yaml` holds messages written for one tip each (`topic`, and `tip`: the opening words
of that tip's text). Each message is routed as a user's would be; of those answered with the tip's topic,
the report counts where the asked-about tip lands in the order the bot shows it (the lead tip that
`bot.tip_finder` picks, then the audience order), first or on the first page, beside the maintainers' order
for the same audience (the baseline: what the bot showed before it picked a lead tip).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.engine import Engine
from bot.evaluate import QuestionsError
from bot.knowledge import KnowledgeBase, Tip
from bot.matcher import Action
from bot.replies import order_tips

BASELINE = "maintainers' order"
DEFAULT_TIP_QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "tip_questions.yaml"


@dataclass(frozen=True, slots=True)
class TipQuestion:
    text: str
    topic: str
    tip: Tip  # the tip the message asks about
    split: str


@dataclass(frozen=True, slots=True)
class TipReport:
    questions: int
    on_topic: int  # answered with the tip's topic: the ones the figures below count
    page_size: int
    first: int  # the asked-about tip shown first
    on_first_page: int
    baseline_first: int  # the same, in the maintainers' order
    baseline_on_first_page: int
    led: int  # answers whose first tip the tip finder chose
    led_elsewhere: int  # ... and chose another tip than the one asked about


def load_tip_questions(path: Path, kb: KnowledgeBase) -> list[TipQuestion]:
    """The questions, each with its tip found in the knowledge; QuestionsError naming FILE:LINE otherwise."""
    try:
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
        root = loader.get_single_node()
        entries = [(node.start_mark.line + 1, loader.construct_object(node, deep=True)) for node in root.value]
    except OSError as error:
        raise QuestionsError(f"{path}: cannot read it ({error.strerror})") from error
    except (yaml.YAMLError, AttributeError, TypeError) as error:
        raise QuestionsError(f"{path}: expected a YAML list of {{text, topic, tip, split}} entries") from error
    return [_tip_question(entry, f"{path}:{line}", kb) for line, entry in entries]


def _tip_question(entry: object, where: str, kb: KnowledgeBase) -> TipQuestion:
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("text", "topic", "tip")):
        raise QuestionsError(f"{where}: expected `text`, `topic` and `tip` (the opening words of the tip)")
    intent = kb.intent(entry["topic"])
    if intent is None or not intent.tips:
        raise QuestionsError(f"{where}: `{entry['topic']}` is not a topic with tips — use a topic id")
    found = [tip for tip in intent.tips if tip.text.startswith(entry["tip"])]
    if len(found) != 1:
        which = "no tip" if not found else f"{len(found)} tips"
        raise QuestionsError(f"{where}: {which} of `{intent.id}` start(s) with `{entry['tip']}` — quote more words")
    return TipQuestion(entry["text"], intent.id, found[0], str(entry.get("split", "dev")))


def score_tips(engine: Engine, questions: list[TipQuestion]) -> TipReport:
    counts = dict.fromkeys(("on_topic", "first", "page", "base_first", "base_page", "led", "elsewhere"), 0)
    page = engine.tips_per_reply
    for q in questions:
        turn = engine.handle_text(q.text)
        if turn.route is None or turn.route.action is not Action.ANSWER or turn.intent != q.topic:
            continue
        tips = engine.kb.intent(q.topic).tips  # type: ignore[union-attr]  # a topic: checked at load
        lead, audience = turn.session.lead_tip, turn.session.audience
        shown = order_tips(tips, audience, lead).index(q.tip)
        before = order_tips(tips, audience).index(q.tip)
        counts["on_topic"] += 1
        counts["first"] += shown == 0
        counts["page"] += shown < page
        counts["base_first"] += before == 0
        counts["base_page"] += before < page
        counts["led"] += lead is not None
        counts["elsewhere"] += lead is not None and tips[lead] != q.tip
    return TipReport(
        len(questions), counts["on_topic"], page, counts["first"], counts["page"], counts["base_first"],
        counts["base_page"], counts["led"], counts["elsewhere"],
    )  # fmt: skip


def format_tip_report(report: TipReport, title: str) -> str:
    def share(count: int) -> str:
        return f"{100 * count / report.on_topic:.1f}%" if report.on_topic else "—"

    def ratio(ours: int, theirs: int) -> str:
        return f"{ours / theirs:.2f}x" if theirs else "—"

    rows = (
        ("asked-about tip shown first", report.first, report.baseline_first),
        (f"... on the first page ({report.page_size} tips)", report.on_first_page, report.baseline_on_first_page),
    )
    lines = [
        f"{title}: {report.questions} messages, {report.on_topic} answered with their tip's topic (counted below)",
        f"{'':36}{'ours':>8}{BASELINE:>20}{'ratio':>8}",
        *(f"{name:36}{share(ours):>8}{share(theirs):>20}{ratio(ours, theirs):>8}" for name, ours, theirs in rows),
        f"a tip chosen to lead: {report.led}, another than the one asked about: {report.led_elsewhere}",
    ]
    return "\n".join(lines)
