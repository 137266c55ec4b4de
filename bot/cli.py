"""Command line: `python -m bot chat | ask | validate | train | eval | unanswered | run`.

Turns the core's errors into messages and exit codes; the core itself never prints or exits.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.classifier import FILE_NAME, ClassifierState
from bot.engine import Engine, Turn
from bot.loader import DEFAULT_DIR, PREPARED_FILE, KnowledgeError, dumps_prepared, load_knowledge
from bot.matcher import Matcher
from bot.normalize import Preparer
from bot.replies import Button
from bot.safety import KEYS_FILE, dumps_keys

DEFAULT_STATE = Path("state/medcareer.sqlite3")  # the config's default `state_path`
# glibc's malloc raises its mmap threshold to the size of each large block freed, up to 32 MB. Loading frees
# blocks of megabytes (the decompressed classifier and prepared phrases), so every later block below that
# size comes from the heap, and what loading frees there stays in the process: peak RSS of `ask` 78.5 MB,
# 71.5 MB with the threshold held at glibc's own starting value (512 KiB measured the same, 4 MiB 79.3 MB).
M_MMAP_THRESHOLD = -3  # mallopt's parameter number in malloc.h
MMAP_THRESHOLD = 128 * 1024


def main(argv: Sequence[str] | None = None) -> int:
    _hold_mmap_threshold()
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `eval | head`: the reader has gone, which is no error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so that the exit's flush does not fail again
        return 0


def _hold_mmap_threshold() -> None:
    """Keep large blocks mmapped, so that freeing them gives the memory back (glibc only: elsewhere,
    macOS or musl, there is no `mallopt` and nothing to do)."""
    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (AttributeError, OSError, TypeError):
        return


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medcareer-bot", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    chat = sub.add_parser("chat", help="chat with the bot in this terminal (no token needed)")
    _knowledge_option(chat)
    chat.set_defaults(func=_chat)

    ask = sub.add_parser("ask", help="answer one message, or one per line of stdin with `-`")
    ask.add_argument("text", nargs="+", help="the message; `-` reads one message per line from stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per message")
    _knowledge_option(ask)
    ask.set_defaults(func=_ask)

    validate = sub.add_parser("validate", help="check the knowledge files; exit 1 on any problem")
    validate.add_argument("directory", nargs="?", type=Path, help="knowledge directory (default: knowledge/)")
    validate.set_defaults(func=_validate)

    train = sub.add_parser("train", help="fit the classifier on the knowledge's phrases (after editing them)")
    train.add_argument("directory", nargs="?", type=Path, help="knowledge directory (default: knowledge/)")
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("eval", help="measure routing on the labelled questions, beside a baseline")
    evaluate.add_argument("file", nargs="?", type=Path, help="questions YAML (default tests/data/questions.yaml)")
    evaluate.add_argument(
        "--split",
        choices=("dev", "test", "all", "held-out"),
        default="all",
        help="held-out: the knowledge's own phrases, 5-fold, each routed without its fold",
    )
    evaluate.add_argument(
        "--typos",
        type=int,
        default=0,
        metavar="N",
        help="route N misspelt copies of each message instead (one typo each; not with held-out)",
    )
    evaluate.add_argument("--tune", action="store_true", help="grid-search thresholds on the dev half")
    evaluate.add_argument("--misses", action="store_true", help="list every message that went wrong")
    evaluate.add_argument(
        "--min-answered", "--min-accuracy", type=float, help="fail below this topic answered-correct rate"
    )
    evaluate.add_argument("--max-wrong", type=float, help="fail above this topic wrong-answer rate")
    evaluate.add_argument("--min-rejection", type=float, help="fail below this out-of-scope rejection rate")
    evaluate.add_argument("--min-safety", type=float, help="fail below this safety recall")
    evaluate.add_argument(
        "--max-false-alarms",
        type=int,
        default=0,
        help="with --min-safety: fail when more than N other messages get a safety reply (default 0)",
    )
    _knowledge_option(evaluate)
    evaluate.set_defaults(func=_eval)

    tips = sub.add_parser("eval-tips", help="measure whether answers lead with the tip the question asked about")
    tips.add_argument("file", nargs="?", type=Path, help="tip questions YAML (default tests/data/tip_questions.yaml)")
    tips.add_argument("--split", choices=("dev", "test", "all"), default="all")
    tips.add_argument("--min-first", type=float, help="fail when the asked-about tip comes first less often than this")
    _knowledge_option(tips)
    tips.set_defaults(func=_eval_tips)

    unanswered = sub.add_parser(
        "unanswered", help="the questions users asked that the bot could not answer, and how they route now"
    )
    unanswered.add_argument(
        "--state", type=Path, default=DEFAULT_STATE, help=f"state database (default: {DEFAULT_STATE})"
    )
    unanswered.add_argument("--top", type=int, default=20, help="how many of the most frequent to show (default: 20)")
    _knowledge_option(unanswered)
    unanswered.set_defaults(func=_unanswered)

    run = sub.add_parser("run", help="run the Telegram bot (token from TELEGRAM_BOT_TOKEN)")
    run.add_argument("--config", required=True, help="path to config.yaml (see config.example.yaml)")
    run.set_defaults(func=_run)
    return parser


def _unanswered(args: argparse.Namespace) -> int:
    """Most frequent unanswered questions (normalised, no user ids) with how today's knowledge routes them."""
    import sqlite3

    from bot.state import read_unanswered

    if not args.state.is_file():
        print(f"{args.state}: no state database there; pass --state with the bot's `state_path`", file=sys.stderr)
        return 2
    engine = _engine(args)
    if engine is None:
        return 1
    try:
        asked = read_unanswered(args.state, top=args.top)
    except sqlite3.Error as error:
        print(f"{args.state}: cannot read it as the bot's state database ({error})", file=sys.stderr)
        return 2
    if not asked:
        print("no unanswered questions recorded")
    for text, count in asked:
        route = engine.route(text)
        now = f"{route.action.value} {route.intent}" if route.intent else route.action.value
        print(f"{count:5}  {text}  → now: {now}")
    return 0


def _knowledge_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--knowledge", type=Path, help="knowledge directory (default: knowledge/)")


def _engine(args: argparse.Namespace) -> Engine | None:
    try:
        return Engine(load_knowledge(args.knowledge))
    except KnowledgeError as err:
        print(err, file=sys.stderr)
        print(f"{len(err.problems)} problem(s) in the knowledge; run `python -m bot validate`", file=sys.stderr)
        return None


def _chat(args: argparse.Namespace) -> int:
    from bot.console import chat

    engine = _engine(args)
    return chat(engine) if engine else 1


def turn_json(turn: Turn) -> dict[str, Any]:
    """The `ask --json` contract: intent, action, confidence, candidates, reply, buttons."""
    route = turn.route
    return {
        "intent": route.intent if route else turn.session.last_intent,
        "action": route.action.value if route else "answer",
        "confidence": route.confidence if route else 1.0,
        "candidates": [{"intent": c.intent, "score": c.score} for c in route.candidates] if route else [],
        "reply": turn.reply.text,
        "buttons": [_button_json(b) for b in turn.reply.buttons],
    }


def _button_json(button: Button) -> dict[str, Any]:
    """`{label, intent}`; the "More tips" button also carries `"more": true`."""
    data: dict[str, Any] = {"label": button.label, "intent": button.intent}
    if button.more:
        data["more"] = True
    return data


def _ask(args: argparse.Namespace) -> int:
    engine = _engine(args)
    if engine is None:
        return 1
    if args.text == ["-"]:
        return _ask_stream(engine, sys.stdin, sys.stdout, as_json=args.json)
    turn = engine.handle_text(" ".join(args.text))
    print(json.dumps(turn_json(turn), ensure_ascii=False) if args.json else _plain(turn))
    return 0


def _ask_stream(engine: Engine, lines: TextIO, out: TextIO, *, as_json: bool) -> int:
    for line in lines:
        turn = engine.handle_text(line.rstrip("\n"))
        out.write((json.dumps(turn_json(turn), ensure_ascii=False) if as_json else _plain(turn)) + "\n")
        out.flush()
    return 0


def _plain(turn: Turn) -> str:
    from bot.console import render

    return render(turn.reply)


def _validate(args: argparse.Namespace) -> int:
    try:
        kb = load_knowledge(args.directory)
    except KnowledgeError as err:
        print(err)
        print(f"{len(err.problems)} problem(s) found", file=sys.stderr)
        return 1
    examples = sum(len(i.examples) for i in kb.intents)
    tips = sum(len(i.tips) for i in kb.intents)
    directory = args.directory or DEFAULT_DIR
    model = directory / FILE_NAME
    state = Matcher(kb).classifier_state
    if state is ClassifierState.STALE:
        print(f"{model}: fitted on other phrases than the knowledge has now — refit it: `python -m bot train`")
        print("1 problem(s) found", file=sys.stderr)
        return 1
    print(f"knowledge OK: {len(kb.intents)} intents, {examples} examples, {tips} tips, {len(kb.sources)} sources")
    if state is ClassifierState.MISSING:
        print(f"no {model}: routing uses word matching alone (fit the classifier: `python -m bot train`)")
    unstored = sum(1 for intent in kb.intents for pattern in intent.patterns if pattern not in kb.safety_keys)
    if unstored:
        table = directory / KEYS_FILE
        print(f"{unstored} safety pattern(s) not in {table}: each start analyses them (store: `python -m bot train`)")
    return 0


def _train(args: argparse.Namespace) -> int:
    try:
        kb = load_knowledge(args.directory, classifier=False)
    except KnowledgeError as err:
        print(err, file=sys.stderr)
        print(f"{len(err.problems)} problem(s) in the knowledge; fix them first", file=sys.stderr)
        return 1
    directory = args.directory or DEFAULT_DIR
    patterns = [pattern for intent in kb.intents for pattern in intent.patterns]
    (directory / KEYS_FILE).write_text(dumps_keys(patterns), encoding="utf-8")
    print(f"stored the keys of {len(patterns)} safety patterns: {directory / KEYS_FILE}")
    try:
        from bot.training import train, write
    except ImportError as error:
        print(f"fitting the classifier needs scikit-learn ({error}): pip install -e '.[train]'", file=sys.stderr)
        return 1
    pairs = Matcher(kb).training_pairs()
    fresh = Preparer(kb.synonyms, kb.emoji)  # not `kb.prepared`: that may have been read back from the old file
    phrases = {text: fresh(text) for text in kb.phrases}
    (directory / PREPARED_FILE).write_bytes(dumps_prepared(kb, phrases))
    print(f"stored {len(phrases)} prepared phrases: {directory / PREPARED_FILE}")
    model = train(pairs)
    path = write(model, directory)
    print(
        f"fitted on {len(pairs)} phrases of {len(model.labels)} intents "
        f"({len(model.features)} features, {len(model.weight_at)} weights): "
        f"{path} ({path.stat().st_size / 1024:.0f} KB, fingerprint {model.fingerprint})"
    )
    return 0


def _eval_tips(args: argparse.Namespace) -> int:
    from bot.evaluate import QuestionsError
    from bot.tip_evaluation import DEFAULT_TIP_QUESTIONS, format_tip_report, load_tip_questions, score_tips

    engine = _engine(args)
    if engine is None:
        return 1
    try:
        questions = load_tip_questions(args.file or DEFAULT_TIP_QUESTIONS, engine.kb)
    except QuestionsError as error:
        print(error, file=sys.stderr)
        return 2
    chosen = [q for q in questions if args.split in ("all", q.split)]
    report = score_tips(engine, chosen)
    print(format_tip_report(report, f"split {args.split}"))
    first = report.first / report.on_topic if report.on_topic else 0.0
    if args.min_first is not None and first < args.min_first:
        print(f"FAIL: the asked-about tip came first for {first:.1%}, below {args.min_first:.1%}", file=sys.stderr)
        return 1
    return 0


def _eval(args: argparse.Namespace) -> int:
    from bot.evaluate import evaluate_command

    engine = _engine(args)
    return evaluate_command(engine, args) if engine else 1


def _run(args: argparse.Namespace) -> int:
    from bot.service import main as run_service

    return run_service(args.config)
