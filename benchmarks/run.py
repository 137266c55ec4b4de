"""`python -m benchmarks`: runs every part in turn, prints the table and writes benchmarks/RESULTS.md.

`--quick` runs the same parts on tiny sizes and little traffic (seconds, for the smoke test); `--skip`
leaves parts out while working on another. The order keeps the machine quiet for each measurement: routing
(in this process), start-up (child processes, one at a time), then end to end (one bot process at a time).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks import e2e_plan, hotspots, routing, startup, synthetic
from benchmarks.e2e_plan import E2ePlan
from benchmarks.hotspots import Hotspot
from benchmarks.report import Results, write_results
from bot.engine import Engine
from bot.evaluate import DEFAULT_QUESTIONS, Question, load_questions
from bot.knowledge import KnowledgeBase
from bot.loader import DEFAULT_DIR, KnowledgeError, load_knowledge

PARTS = ("routing", "startup", "e2e")


@dataclass(frozen=True, slots=True)
class Plan:
    factors: tuple[int, ...]
    min_messages: int
    baseline_seconds: dict[int, float]  # factor -> time the baseline may take (it is timed on a sample)
    startup_runs: dict[int, int]  # factor -> runs of `ask`
    profile_messages: int
    e2e: E2ePlan


FULL = Plan(
    factors=(1, 10, 100),
    min_messages=5000,
    baseline_seconds={1: 3, 10: 5, 100: 12},
    startup_runs={1: 5, 10: 3, 100: 1},
    profile_messages=300,
    e2e=E2ePlan(users=200, messages=2000, steady=((200, 3), (50, 3)), sweep=(1, 4, 8, 32, 256),
                sweep_messages=500, sniffio=True, profile_messages=300, repeats=2),
)  # fmt: skip
QUICK = Plan(
    factors=(1, 2),
    min_messages=300,
    baseline_seconds={1: 0.1, 2: 0.1},
    startup_runs={1: 1, 2: 1},
    profile_messages=30,
    e2e=E2ePlan(users=10, messages=60, steady=((50, 1),), sweep=(), sweep_messages=30, sniffio=True,
                profile_messages=30),
)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    try:
        kb = load_knowledge(args.knowledge)
    except KnowledgeError as err:
        print(f"{err}\nthe knowledge does not load; run `python -m bot validate`", file=sys.stderr)
        return 1
    questions = load_questions(args.questions)
    results = Results("quick" if args.quick else "full", len(kb.intents), len(questions))
    parts = [p for p in PARTS if p not in (args.skip or ())]
    with tempfile.TemporaryDirectory(prefix="medcareer-bench-kb-") as tmp:
        scaled = {f: synthetic.scaled(kb, f) for f in plan.factors}
        if "routing" in parts:
            with _part("routing", results):
                _routing(plan, scaled, questions, results)
        if "startup" in parts:
            with _part("start-up", results):
                _startup(plan, kb, scaled, args.knowledge, Path(tmp), results)
    if "e2e" in parts:
        e2e = replace(plan.e2e, concurrency=args.concurrency) if args.concurrency else plan.e2e
        _say(f"end to end: {e2e.messages} messages from {e2e.users} users, several bot processes")
        with _part("end to end", results):
            results.e2e = e2e_plan.measure(e2e, [q.text for q in questions], args.knowledge)
    results.seconds = time.perf_counter() - started
    table = write_results(results, args.output)
    print(table)
    _say(f"written to {args.output} ({results.seconds:.0f} s)")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and traffic: seconds, not minutes")
    parser.add_argument("--knowledge", type=Path, default=DEFAULT_DIR, help="knowledge directory (default: knowledge/)")
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="labelled evaluation messages")
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent / "RESULTS.md",
                        help="where to write the results (default: benchmarks/RESULTS.md)")  # fmt: skip
    parser.add_argument("--skip", action="append", choices=PARTS, help="leave a part out (repeatable)")
    parser.add_argument("--concurrency", type=int, help="concurrent_updates for the end-to-end headline runs")
    return parser


@contextmanager
def _part(name: str, results: Results) -> Iterator[None]:
    """Note the load average as a part starts and how long it took."""
    results.load[name] = os.getloadavg()[0]
    started = time.perf_counter()
    yield
    results.part_seconds[name] = time.perf_counter() - started
    _say(f"{name} took {results.part_seconds[name]:.0f} s")


def _say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _routing(plan: Plan, scaled: dict[int, KnowledgeBase], questions: list[Question], results: Results) -> None:
    texts = [q.text for q in questions]
    real_ids = frozenset(i.id for i in scaled[plan.factors[0]].intents)
    for factor, kb in scaled.items():
        _say(f"routing at {factor}×: {len(kb.intents)} intents")
        result, engine = routing.measure(
            kb, factor, texts, questions, min_messages=plan.min_messages,
            baseline_seconds=plan.baseline_seconds[factor], real_ids=real_ids,
        )  # fmt: skip
        results.routing.append(result)
        if factor in (plan.factors[0], plan.factors[-1]):
            results.routing_profiles[factor] = _profile_routing(engine, texts, plan.profile_messages)


def _profile_routing(engine: Engine, texts: list[str], count: int) -> list[Hotspot]:
    sample = routing.evenly_spaced(texts, count)

    def route_sample() -> None:
        for text in sample:
            engine.route(text)

    return hotspots.top_functions(hotspots.profile_calls(route_sample), per=len(sample), top=12)


def _startup(
    plan: Plan, kb: KnowledgeBase, scaled: dict[int, KnowledgeBase], source: Path, tmp: Path, results: Results
) -> None:
    for factor, big in scaled.items():
        _say(f"start-up at {factor}×: {plan.startup_runs[factor]} run(s) of `ask`")
        directory = source
        if factor > 1:
            directory = synthetic.write_scaled_dir(source, big.intents[len(kb.intents) :], tmp / f"x{factor}")
        results.startup.append(startup.measure(factor, directory, plan.startup_runs[factor]))
    results.imports = startup.imports_of_ask(source)
