"""`python -m benchmarks --quick` still runs every part and writes the table with all of its rows.

A smoke test, not a benchmark: tiny sizes and traffic, and no assertion on any timing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

EXPECTED_ROWS = (
    "| routing | ours, 1× (",
    "| routing | ours, 2× (",
    "| routing | naive baseline, 1×",
    "| routing | speed-up over the baseline, 2×",
    "| throughput | messages routed per second, one core, 1×",
    "| start-up | `ask --json -` to its first answer, 1×",
    "| start-up | peak RSS of `ask`, 2×",
    "| start-up | python-telegram-bot imported by `ask` | no ",
    "| accuracy | `eval` figures, ",
    "| accuracy | real questions answered with a synthetic intent, 2× |",
    "| accuracy | synthetic intents elsewhere, 2× |",
    "| end to end | echo bot (ceiling), burst of ",
    "| end to end | ours, same burst, ",
    "| end to end | ours ÷ echo bot, updates per second |",
    "| end to end | ours, steady ",
    "| concurrent_updates | ours, burst of ",
    "| sniffio | ours, burst of ",
)


def test_quick_benchmark_writes_every_row(mini_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--knowledge", str(mini_dir), "--output", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    written = output.read_text(encoding="utf-8")
    for row in EXPECTED_ROWS:
        assert row in result.stdout, f"missing from the printed table: {row}"
        assert row in written, f"missing from RESULTS.md: {row}"
    assert "- CPU: " in written and "- Python 3." in written
    assert "## Where routing time goes at 1×" in written and "## Where routing time goes at 2×" in written
    assert "## Where end-to-end time goes" in written
