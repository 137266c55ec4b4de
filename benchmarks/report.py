"""The benchmark's one table, its targets (met or not) and RESULTS.md, built from the parts' results.

Formatting only: no measuring here. `table_rows` is what both the terminal and RESULTS.md show.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks import synthetic
from benchmarks.e2e import Burst
from benchmarks.e2e_plan import E2eResults, Profile
from benchmarks.hotspots import Hotspot
from benchmarks.routing import RoutingResult
from benchmarks.startup import Imports, Startup
from benchmarks.stats import fmt_ms, fmt_rate

HERE = Path(__file__).resolve().parent
FINDINGS = HERE / "findings.md"
TELEGRAM_SEND_LIMIT = 30  # messages per second Telegram lets one bot send
METHOD = "Method (also written into RESULTS.md): "


@dataclass
class Results:
    """Everything one run measured; parts that were skipped stay empty."""

    mode: str
    knowledge_intents: int
    questions: int
    routing: list[RoutingResult] = field(default_factory=list)
    routing_profiles: dict[int, list[Hotspot]] = field(default_factory=dict)  # factor -> hotspots
    startup: list[Startup] = field(default_factory=list)
    imports: Imports | None = None
    e2e: E2eResults | None = None
    seconds: float = 0.0
    load: dict[str, float] = field(default_factory=dict)  # part -> 1-minute load average when it started
    part_seconds: dict[str, float] = field(default_factory=dict)  # part -> how long it took


@dataclass(frozen=True, slots=True)
class Row:
    part: str
    measure: str
    value: str
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return "" if self.met is None else ("met" if self.met else "**not met**")


# --- rows -----------------------------------------------------------------------------------------


def table_rows(results: Results) -> list[Row]:
    largest = max((r.factor for r in results.routing), default=0)
    rows = []
    for r in results.routing:
        rows += _routing_rows(r, largest)
    for s in results.startup:
        rows += _startup_rows(s)
    if results.imports is not None:
        imports = results.imports
        rows.append(Row("start-up", "python-telegram-bot imported by `ask`",
                        f"{'yes' if imports.telegram_imported else 'no'} ({imports.modules} modules)",
                        "no", not imports.telegram_imported))  # fmt: skip
        slowest = ", ".join(f"{name} {ms:.0f}" for name, ms in imports.slowest)
        rows.append(Row("start-up", "slowest imports of `ask` but ours (`-X importtime`, cumulative)", f"{slowest} ms"))
    for r in results.routing:
        rows += _accuracy_rows(r)
    if results.e2e is not None:
        rows += _e2e_rows(results.e2e)
    return rows


def _size(r: RoutingResult) -> str:
    return f"{r.factor}× ({r.intents:,} intents, {r.examples:,} examples)"


def _routing_rows(r: RoutingResult, largest: int) -> list[Row]:
    target, met = "", None
    if r.factor == 1:
        target, met = "p99 ≤ 1 ms", r.ours.p99 <= 1.0
    elif r.factor == largest and largest >= 100:
        target, met = "p99 ≤ 20 ms", r.ours.p99 <= 20.0
    speed_target, speed_met = ("≥ 20×", r.speedup >= 20) if r.factor == largest and largest >= 100 else ("", None)
    return [
        Row("routing", f"ours, {_size(r)}, {r.ours.count:,} msgs", r.ours.brief(), target, met),
        Row("routing", f"ours, {r.factor}×, first pass (cold caches), {r.cold.count:,} msgs", r.cold.brief()),
        Row("routing", f"naive baseline, {r.factor}×, sample of {r.baseline.count:,} msgs", r.baseline.brief()),
        Row(
            "routing",
            f"speed-up over the baseline, {r.factor}×",
            f"{r.speedup:,.0f}× (mean time per message)",
            speed_target,
            speed_met,
        ),
        Row(
            "throughput",
            f"messages routed per second, one core, {r.factor}×",
            f"ours {fmt_rate(r.ours_per_second)}/s · baseline {fmt_rate(r.baseline_per_second)}/s",
        ),
    ]


def _startup_rows(s: Startup) -> list[Row]:
    runs = ", ".join(f"{t:.2f}" for t in s.runs)
    one = s.factor == 1
    return [
        Row(
            "start-up",
            f"`ask --json -` to its first answer, {s.factor}×",
            f"{s.seconds:.2f} s (median of {len(s.runs)}: {runs})",
            "≤ 0.5 s" if one else "",
            s.seconds <= 0.5 if one else None,
        ),
        Row(
            "start-up",
            f"peak RSS of `ask`, {s.factor}×",
            f"{s.peak_rss_mb:.0f} MB",
            "≤ 80 MB" if one else "",
            s.peak_rss_mb <= 80 if one else None,
        ),
    ]


def _accuracy_rows(r: RoutingResult) -> list[Row]:
    a = r.accuracy
    figures = (
        f"topic correct {a.topic_correct:.1%} · wrong {a.topic_wrong:.1%} · clarified {a.topic_clarified:.1%}"
        f" · out-of-scope rejected {a.out_of_scope_rejected:.1%} · safety recall {a.safety_recall:.1%}"
    )
    rows = [Row("accuracy", f"`eval` figures, {a.questions} labelled messages, {r.factor}×", figures)]
    if r.factor > 1:
        rows.append(Row("accuracy", f"real questions answered with a synthetic intent, {r.factor}×", f"{a.stolen}",
                        "none", a.stolen == 0))  # fmt: skip
        rows.append(Row("accuracy", f"synthetic intents elsewhere, {r.factor}×",
                        f"{a.out_of_scope_taken} out-of-scope messages answered with one · "
                        f"{a.clarified_with_synthetic} clarifications offer one"))  # fmt: skip
    return rows


def _e2e_rows(e: E2eResults) -> list[Row]:
    p = e.plan
    load = f"{p.messages:,} msgs from {p.users} users" + (f", best of {p.repeats}" if p.repeats > 1 else "")
    rows = [
        Row("end to end", f"echo bot (ceiling), burst of {load}, concurrent_updates {p.concurrency}", _burst(e.echo)),
        Row("end to end", f"ours, same burst, concurrent_updates {p.concurrency}", _burst(e.ours)),
        Row("end to end", "ours ÷ echo bot, updates per second", f"{e.ratio:.0%}", "≥ 80%", e.ratio >= 0.8),
        Row("end to end", "echo bot's CPU per update ÷ ours (the same comparison in CPU time)", f"{e.cpu_ratio:.0%}"),
        Row("end to end", "ours ÷ Telegram's send limit (~30 messages/s per bot)",
            f"{e.ours.per_second / TELEGRAM_SEND_LIMIT:.1f}×", "far above 1× (≥ 3×)",
            e.ours.per_second >= 3 * TELEGRAM_SEND_LIMIT),
    ]  # fmt: skip
    for steady in e.steady:
        seconds = steady.answered / steady.target_rate
        target, met = ("p99 ≤ 50 ms", steady.latency.p99 <= 50) if steady.target_rate >= 200 else ("", None)
        latency = steady.latency
        value = (f"answered {fmt_rate(steady.achieved_rate)}/s · p50 {fmt_ms(latency.p50)} · "
                 f"p99 {fmt_ms(latency.p99)} · max {fmt_ms(latency.max)} ms")  # fmt: skip
        measure = f"ours, steady {fmt_rate(steady.target_rate)} updates/s for {seconds:.0f} s"
        rows.append(Row("end to end", measure, value, target, met))
    best = max(e.sweep, key=lambda c: e.sweep[c].per_second) if len(e.sweep) > 1 else None
    for setting in sorted(e.sweep):
        mark = " (fastest)" if setting == best else ""
        measure = f"ours, burst of {p.sweep_messages:,} msgs, concurrent_updates {setting}{mark}"
        rows.append(Row("concurrent_updates", measure, _burst(e.sweep[setting])))
    if e.sniffio_other is not None and p.concurrency in e.sweep:
        state, other = ("installed", "hidden") if e.sniffio_installed else ("not installed", "stand-in module")
        base = f"ours, burst of {p.sweep_messages:,} msgs, concurrent_updates {p.concurrency}"
        rows.append(Row("sniffio", f"{base}, sniffio {state} (as above)", _burst(e.sweep[p.concurrency])))
        rows.append(Row("sniffio", f"{base}, sniffio {other}", _burst(e.sniffio_other)))
    rows += _sniffio_cost_rows(e)
    return rows


def _sniffio_cost_rows(e: E2eResults) -> list[Row]:
    costs = e.sniffio_call_us
    if not costs:
        return []
    rows = [Row("sniffio", "httpcore's `current_async_library()`, one call (it imports sniffio)",
                f"sniffio absent {costs['absent']:.1f} µs · present {costs['present']:.1f} µs")]  # fmt: skip
    if e.profile is not None and e.ours.cpu_ms_per_update:
        saved = e.profile.lock_setups * (costs["absent"] - costs["present"]) / 1000
        share = saved / e.ours.cpu_ms_per_update
        value = (f"{e.profile.lock_setups:.1f} calls × {costs['absent'] - costs['present']:.0f} µs = "
                 f"{saved:.2f} ms ({share:.0%} of our bot's CPU per update)")  # fmt: skip
        rows.append(Row("sniffio", "what sniffio's absence costs ours, per update", value))
    return rows


def _burst(b: Burst) -> str:
    missing = f" · {b.updates - b.answered} unanswered" if b.answered < b.updates else ""
    return (f"{fmt_rate(b.per_second)} updates/s · p50 {fmt_ms(b.latency.p50)} · p99 {fmt_ms(b.latency.p99)} ms"
            f" · bot CPU {b.cpu_ms_per_update:.2f} ms/update{missing}")  # fmt: skip


# --- output ---------------------------------------------------------------------------------------


def markdown_table(rows: list[Row]) -> str:
    lines = ["| part | measure | value | target | met? |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.part} | {r.measure} | {r.value} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


def machine(load: dict[str, float]) -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{name} {_version(name)}" for name in ("python-telegram-bot", "rapidfuzz", "PyYAML",
                                                                   "httpx", "httpcore", "sniffio"))  # fmt: skip
    return [
        f"- CPU: {cpu}, {cores} cores available",
        f"- Python {platform.python_version()} ({sys.implementation.name}) on {platform.system()} {platform.release()}",
        f"- Packages: {versions}",
        f"- Code measured: {code_version()}",
        "- Load average (1 min) as each part started: "
        + (", ".join(f"{part} {value:.2f}" for part, value in load.items()) or "not recorded")
        + " (the machine is shared: above 0 means other programs were using CPU at the same time)",
    ]


def code_version() -> str:
    """The commit measured, and which of the bot's files differed from it (a shared working tree moves)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True, timeout=10,
                              check=True).stdout  # fmt: skip

    try:
        head = git("rev-parse", "--short", "HEAD").strip()
        changed = git("status", "--porcelain", "--", "bot", "knowledge", "pyproject.toml").splitlines()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    files = [line[3:] for line in changed if line.strip()]
    return f"commit {head}" + (f" with uncommitted changes to {', '.join(files)}" if files else "")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def targets_summary(rows: list[Row]) -> list[str]:
    judged = [r for r in rows if r.met is not None]
    return [f"- {'met' if r.met else '**not met**'}: {r.measure} — {r.value} (target {r.target})" for r in judged]


def profile_sections(results: Results) -> list[str]:
    out: list[str] = []
    for factor, spots in results.routing_profiles.items():
        out += [f"## Where routing time goes at {factor}× (cProfile, this run)", "",
                "Per message, functions by own time (cProfile's overhead inflates the absolute figures):", "",
                "| function | own ms/msg | with callees ms/msg | calls/msg |", "| --- | --- | --- | --- |"]  # fmt: skip
        out += [f"| `{h.name}` | {h.own_ms:.3f} | {h.total_ms:.3f} | {h.calls:.1f} |" for h in spots]
        out.append("")
    e2e = results.e2e
    if e2e is not None and e2e.profile is not None:
        out += _e2e_profile_section(e2e.profile, e2e.echo_profile)
    return out


def _e2e_profile_section(ours: Profile, echo: Profile | None) -> list[str]:
    out = ["## Where end-to-end time goes (each bot under cProfile during a burst, this run)", "",
           f"Busy time of the bot process per update under the profiler (idle waiting left out): ours "
           f"{ours.busy_ms_per_update:.2f} ms" + (f", echo bot {echo.busy_ms_per_update:.2f} ms." if echo else "."),
           "By package, own time per update:", "",
           "| package | echo bot ms/update | ours ms/update | ours − echo |", "| --- | --- | --- | --- |"]  # fmt: skip
    theirs = echo.groups if echo else {}
    for group in sorted(ours.groups.keys() | theirs.keys(), key=lambda g: ours.groups.get(g, 0.0), reverse=True):
        mine, other = ours.groups.get(group, 0.0), theirs.get(group, 0.0)
        if max(mine, other) >= 0.05:
            out.append(f"| {group} | {other:.2f} | {mine:.2f} | {mine - other:+.2f} |")
    out += ["", "Our bot's functions by own time, per update:", "",
            "| function | own ms/update | with callees ms/update | calls/update |",
            "| --- | --- | --- | --- |"]  # fmt: skip
    out += [f"| `{h.name}` | {h.own_ms:.3f} | {h.total_ms:.3f} | {h.calls:.1f} |" for h in ours.top]
    out += ["", "Our own functions by time including callees, per update (a coroutine counts once per resumption):",
            "", "| function | with callees ms/update | calls/update |", "| --- | --- | --- |"]  # fmt: skip
    out += [f"| `{h.name}` | {h.total_ms:.3f} | {h.calls:.1f} |" for h in ours.ours]
    return [*out, ""]


def method_notes(results: Results) -> list[str]:
    factors = ", ".join(f"{r.factor}×" for r in results.routing) or "—"
    notes = [
        "## How it was measured", "",
        f"- Knowledge: the shipped `knowledge/` ({results.knowledge_intents} intents) and synthetic knowledge "
        f"bases grown from it ({factors}). Evaluation messages: `tests/data/questions.yaml` ({results.questions}).",
        "- Synthetic knowledge: " + " ".join(synthetic.__doc__.split("\n\n")[1].split()).removeprefix(METHOD),
        "- Routing: `Engine.route` (normalising, safety patterns, scoring, the decision; no reply) timed per "
        "message with `time.perf_counter`, one core, the distinct evaluation messages in order, repeated to the "
        "count shown, on an engine warmed up as the service warms it (`Matcher.warm_up`). The first-pass row is "
        "the first of those passes on its own: the engine's first sight of each message (its word-correction "
        "cache empty). Throughput = messages ÷ wall time of the loop.",
        "- Naive baseline: `rapidfuzz.process.extractOne(message, all_example_phrases, scorer=fuzz.WRatio)`, the "
        "list of example phrases rebuilt from the knowledge on every call, as a first implementation would. It is "
        "timed on an evenly spaced sample of the messages, as many as fit in a few seconds per size (at "
        "least 30): at 100× one call takes about half a second, so a full pass would not fit in the run. The "
        "speed-up compares mean times per message.",
        "- Start-up: a fresh `python -m bot ask --json - [--knowledge DIR]` per run, one question written at once, "
        "timed from process start to its first JSON line; peak RSS is that child's high-water mark (`VmHWM` in "
        "/proc, read right after its answer; Linux's `ru_maxrss` would include this benchmark's own RSS at fork). "
        "Larger sizes load YAML written to a temporary directory: the real files plus one file of synthetic "
        "intents, which `python -m bot validate` accepts.",
        "- Accuracy at size: `bot.evaluate.score` over every labelled message (both splits) with the synthetic "
        "intents added; a real question answered with a synthetic intent counts as taken.",
    ]  # fmt: skip
    return [*notes, *_e2e_notes(results.e2e), ""]


def _e2e_notes(e2e: E2eResults | None) -> list[str]:
    if e2e is None:
        return []
    p = e2e.plan
    return [
        f"- End to end: `tests/fake_bot_api.py`'s server runs in the benchmark process, each bot in a process of "
        f"its own: ours as `python -m bot run --config …` (the deployment command) with **the rate limiter "
        f"switched off** (`rate_limiter: false`) and `concurrent_updates: {p.concurrency}` (the service's default) "
        f"unless a row says otherwise. A burst queues private text messages (the evaluation messages in turn, "
        f"users in turn) all at once for long polling; getUpdates hands out at most 100 per call, as Telegram "
        f"does. Rate = updates answered ÷ time from the first update queued to the last `sendMessage` arriving; "
        f"latency = an update queued → the `sendMessage` for it arriving (a chat's k-th reply answers its k-th "
        f"update). Bot CPU = the bot process's user + system time during the burst ÷ updates (from /proc): other "
        f"programs on the machine move it less than they move the rate. Steady runs queue updates at a fixed "
        f"rate from users of their own. Every bot is warmed up with a few messages first. The headline burst runs "
        f"{p.repeats} time(s) per bot, the echo bot and ours taking turns, and the best run of each is shown.",
        "- The echo bot is a bare python-telegram-bot `Application` with the same `concurrent_updates` and no rate "
        "limiter, answering each text with `send_message(chat_id, text)`: no core, no state, no HTML, no buttons.",
        "- The fake server's handler writes headers and body in two sends, so it switches Nagle's algorithm off on "
        "its sockets; otherwise every request waits ~40 ms for the client's delayed ACK and no bot gets past "
        "~200 updates/s.",
        "- sniffio: httpcore runs `import sniffio` in `current_async_library()` whenever it sets up a lock or an "
        "event; the run times one such call in each state, counts the calls per update (cProfile), and runs a "
        "burst in the state other than installed (hidden with an import hook that costs what a missing package "
        "costs, or provided by a stand-in module that follows sniffio's logic).",
        "- Profiles: each bot runs a burst under cProfile (started and stopped by signals around the burst); "
        "cProfile slows Python code several-fold, so only the shares and the differences mean much.",
    ]  # fmt: skip


def write_results(results: Results, path: Path) -> str:
    rows = table_rows(results)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results", "",
        f"Written by `python -m benchmarks{' --quick' if results.mode == 'quick' else ''}` on {when}; "
        f"the run took {results.seconds:.0f} s ("
        + ", ".join(f"{part} {seconds:.0f} s" for part, seconds in results.part_seconds.items()) + ").", "",
        *machine(results.load), "",
        markdown_table(rows), "",
        "## Targets", "",
        *targets_summary(rows), "",
        "Why those not met are not, and what would meet them: the profiles below and the findings at the end.", "",
        *method_notes(results),
        *profile_sections(results),
    ]  # fmt: skip
    if FINDINGS.exists():
        lines += [FINDINGS.read_text(encoding="utf-8").rstrip(), ""]
    text = "\n".join(lines)
    path.write_text(text, encoding="utf-8")
    return markdown_table(rows)
