"""End to end: the real Telegram service against the tests' fake Bot API server, beside a bare echo bot.

The fake server runs in this process (its own core, in effect); the bot runs as a child process, started the
way a deployment starts it (`python -m bot run --config …`) with the rate limiter switched off and a given
`concurrent_updates`. A burst queues all its updates at once, as fast as the server takes them; a steady run
queues them at a fixed rate. Latency is from an update becoming available (queued for getUpdates) to the
`sendMessage` for it arriving at the server; each chat's replies are matched to its updates in order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.fake_api import TimedFakeBotApi
from benchmarks.stats import Latency

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456:BENCH-token-not-a-secret"
WARMUP_USER = 9_000_000
READY_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Burst:
    updates: int
    answered: int
    seconds: float
    latency: Latency
    cpu_seconds: float  # the bot process's user + system time while the updates were handled

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_update(self) -> float:
        """The bot's CPU cost per update: unlike the rate, barely moved by other programs on the machine."""
        return self.cpu_seconds * 1000 / self.answered if self.answered else 0.0


@dataclass(frozen=True, slots=True)
class Steady:
    target_rate: float
    achieved_rate: float
    answered: int
    latency: Latency


@dataclass(frozen=True, slots=True)
class BotSpec:
    """Which bot to run: ours (with its config knobs and benchmark variations) or the echo bot."""

    echo: bool = False
    concurrent: int = 8
    sniffio: str = "as-installed"
    profile: Path | None = None
    knowledge: Path | None = None


def text_update(user_id: int, text: str, message_id: int) -> dict[str, Any]:
    """A private text message as Telegram sends it in an update (without the update_id)."""
    person = {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"}
    chat = {"id": user_id, "type": "private", "first_name": "Ann"}
    return {"message": {"message_id": message_id, "date": int(time.time()), "from": person, "chat": chat,
                        "text": text}}  # fmt: skip


def traffic(texts: Sequence[str], *, users: int, count: int, first_user: int = 1) -> list[dict[str, Any]]:
    """`count` private text messages, user after user in turn, texts taken in order (repeating)."""
    return [text_update(first_user + n % users, texts[n % len(texts)], n + 1) for n in range(count)]


def match_latencies(pushed: Sequence[tuple[float, int]], arrivals: Sequence[tuple[float, int]]) -> list[float]:
    """Seconds from each update's push to the reply for it: the k-th reply in a chat answers its k-th update."""
    waiting: dict[int, deque[float]] = defaultdict(deque)
    for at, chat_id in pushed:
        waiting[chat_id].append(at)
    latencies = []
    for at, chat_id in arrivals:
        if waiting[chat_id]:
            latencies.append(at - waiting[chat_id].popleft())
    return latencies


class RunningBot:
    """A bot child process polling a fresh `TimedFakeBotApi`; use `running_bot()` to get one."""

    def __init__(self, api: TimedFakeBotApi, process: subprocess.Popen[bytes], log: Path) -> None:
        self.api = api
        self.process = process
        self.log = log

    def send_and_wait(self, bodies: Sequence[dict[str, Any]], *, timeout: float, pace: float = 0.0) -> Burst:
        """Queue the updates (all at once, or one per `pace` seconds) and wait for every reply."""
        start = self.api.sent_count()
        cpu_before = self.cpu_seconds()
        times = self._paced(bodies, pace) if pace else self.api.push_all(bodies)
        self.api.wait_sent(start + len(bodies), timeout=timeout)
        cpu = self.cpu_seconds() - cpu_before
        arrivals = self.api.sent_since(start)
        chats = [int(b["message"]["chat"]["id"]) for b in bodies]
        latencies = match_latencies(list(zip(times, chats, strict=True)), arrivals)
        seconds = (arrivals[-1][0] - times[0]) if arrivals else 0.0
        return Burst(len(bodies), len(latencies), seconds, Latency.of_seconds(latencies), cpu)

    def cpu_seconds(self) -> float:
        """User + system CPU time the bot process has used so far (Linux /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _paced(self, bodies: Sequence[dict[str, Any]], pace: float) -> list[float]:
        times = []
        begin = time.perf_counter()
        for n, body in enumerate(bodies):
            delay = begin + n * pace - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            times.extend(self.api.push_all([body]))
        return times

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def _command(spec: BotSpec, api: TimedFakeBotApi, workdir: Path) -> list[str]:
    if spec.echo:
        module = ["benchmarks.echo_bot", "--base-url", api.base_url, "--concurrent", str(spec.concurrent)]
    else:
        module = ["bot", "run", "--config", str(_write_config(spec, api, workdir))]
    if spec.sniffio == "as-installed" and spec.profile is None:
        return [sys.executable, "-m", *module]  # for ours exactly what a deployment runs
    extra = ["--profile", str(spec.profile)] if spec.profile else []
    return [sys.executable, "-m", "benchmarks.child", "--sniffio", spec.sniffio, *extra, *module]


def _write_config(spec: BotSpec, api: TimedFakeBotApi, workdir: Path) -> Path:
    config = {
        "telegram": {"base_url": api.base_url},
        "knowledge_dir": str(spec.knowledge or REPO / "knowledge"),
        "state_path": str(workdir / "state" / "bench.sqlite3"),
        "concurrent_updates": spec.concurrent,
        "rate_limiter": False,
    }
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@contextmanager
def running_bot(spec: BotSpec, *, warmup: int = 20) -> Iterator[RunningBot]:
    """Start the fake server and the bot, wait until it polls, warm it up, and stop both afterwards."""
    with tempfile.TemporaryDirectory(prefix="medcareer-bench-") as tmp, TimedFakeBotApi() as api:
        workdir = Path(tmp)
        log = workdir / "bot.log"
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
        with log.open("wb") as log_file:
            process = subprocess.Popen(_command(spec, api, workdir), cwd=REPO, env=env,
                                       stdout=subprocess.DEVNULL, stderr=log_file)  # fmt: skip
        bot = RunningBot(api, process, log)
        try:
            _wait_ready(bot)
            if warmup:
                bot.send_and_wait(traffic(["hello", "what is residency like"], users=warmup, count=warmup,
                                          first_user=WARMUP_USER), timeout=READY_TIMEOUT)  # fmt: skip
            yield bot
        finally:
            bot.stop()


def _wait_ready(bot: RunningBot) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not bot.api.calls("getUpdates"):
        if bot.process.poll() is not None or time.monotonic() > deadline:
            bot.stop()
            log = bot.log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"the bot did not start polling; its log:\n{log}")
        time.sleep(0.02)


def burst(spec: BotSpec, bodies: Sequence[dict[str, Any]], *, timeout: float = 120.0) -> Burst:
    """One bot, one burst of `bodies`, all queued at once; profiled when the spec asks for it."""
    with running_bot(spec) as bot:
        if spec.profile is not None:
            bot.signal(signal.SIGUSR1)
        result = bot.send_and_wait(bodies, timeout=timeout)
        if spec.profile is not None:
            bot.signal(signal.SIGUSR2)
        return result


def burst_and_steady(
    spec: BotSpec, bodies: Sequence[dict[str, Any]], steady: Sequence[tuple[float, Sequence[dict[str, Any]]]]
) -> tuple[Burst, list[Steady]]:
    """One bot: a burst, then each `(rate, updates)` of `steady` queued at that rate per second."""
    with running_bot(spec) as bot:
        first = bot.send_and_wait(bodies, timeout=120.0)
        paced = [(rate, bot.send_and_wait(updates, timeout=120.0, pace=1 / rate)) for rate, updates in steady]
    return first, [Steady(rate, run.per_second, run.answered, run.latency) for rate, run in paced]
