"""The command line as scripts and people use it: `ask`, `ask --json -`, `chat`, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, cwd=REPO, timeout=60
    )


def questions_file(tmp_path: Path, *entries: str) -> Path:
    """A labelled-questions file holding the YAML `entries` (each a line, or lines, of a list)."""
    questions = tmp_path / "questions.yaml"
    questions.write_text("".join(entries), encoding="utf-8")
    return questions


def test_ask_json_has_the_contract_fields(mini_dir: Path) -> None:
    result = run("ask", "--knowledge", str(mini_dir), "--json", "what is residency like")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["intent", "action", "confidence", "candidates", "reply", "buttons"]
    assert data["intent"] == "residency" and data["action"] == "answer"
    assert 0 < data["confidence"] <= 1
    assert data["candidates"][0] == {"intent": "residency", "score": data["confidence"]}
    assert data["reply"].startswith("Residency\n\n• Ask current residents")
    assert data["buttons"] == [
        {"label": "More tips", "intent": "residency", "more": True},
        {"label": "USMLE", "intent": "usmle"},
    ]


def test_ask_json_stream_answers_line_by_line_in_order(mini_dir: Path) -> None:
    lines = ["what is residency like", "", "how do I become an architect", "I want to kill myself"]
    result = run("ask", "--knowledge", str(mini_dir), "--json", "-", stdin="\n".join(lines) + "\n")
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["action"] for a in answers] == ["answer", "fallback", "fallback", "answer"]
    assert [a["intent"] for a in answers] == ["residency", None, None, "crisis"]


def test_ask_plain_prints_reply_and_numbered_buttons(mini_dir: Path) -> None:
    result = run("ask", "--knowledge", str(mini_dir), "hello")
    assert result.stdout == "Hello! Ask me about careers in medicine.\n"


def test_chat_follows_numbered_buttons_and_commands(mini_dir: Path) -> None:
    result = run("chat", "--knowledge", str(mini_dir), stdin="what is residency like\n2\n/topics\n/quit\n")
    assert result.returncode == 0
    out = result.stdout
    assert out.startswith("Hi! I help with careers in medicine.")
    assert "  [1] More tips\n  [2] USMLE" in out
    assert "USMLE\n\n• Step 2 CS ended in 2021; plan for Step 2 CK." in out
    assert out.rstrip().endswith("Pick a topic.\n\n  [1] Residency\n  [2] USMLE\n\nyou>")


def test_chat_forgets_its_session_on_forget(mini_dir: Path) -> None:
    result = run("chat", "--knowledge", str(mini_dir), stdin="what is residency like\n/forget\n/quit\n")
    assert result.returncode == 0
    assert "/topics  /help  /about  /forget  /quit" in result.stdout
    assert "\nI have deleted what I stored about you.\n" in result.stdout


def test_broken_knowledge_stops_ask_with_the_problems(mini_dir: Path) -> None:
    (mini_dir / "bad.yaml").write_text("intents: [\n")
    result = run("ask", "--knowledge", str(mini_dir), "hello")
    assert result.returncode == 1
    assert f"{mini_dir}/bad.yaml:2: YAML syntax error" in result.stderr
    assert "run `python -m bot validate`" in result.stderr


def test_validate_exit_codes(mini_dir: Path) -> None:
    clean = run("validate", str(mini_dir))
    assert clean.returncode == 0
    assert clean.stdout == (
        "knowledge OK: 4 intents, 9 examples, 5 tips, 1 sources\n"
        f"no {mini_dir}/classifier.json.gz: routing uses word matching alone "
        "(fit the classifier: `python -m bot train`)\n"
        f"2 safety pattern(s) not in {mini_dir}/safety_keys.json: each start analyses them "
        "(store: `python -m bot train`)\n"
    )
    (mini_dir / "texts.yaml").write_text("texts:\n  welcome: Hi\n  welcome: Hello\n")
    assert run("validate", str(mini_dir)).returncode == 1


def test_eval_prints_our_figures_beside_the_baseline_and_gates_on_the_bars(mini_dir: Path, tmp_path: Path) -> None:
    questions = questions_file(
        tmp_path,
        "- {text: what is residency like, expect: [residency]}\n",
        '- {text: "resdency hours??", expect: [residency]}\n',
        "- {text: best qbank for step 2 ck, expect: [usmle]}\n",
        "- {text: how do i become an architect, expect: []}\n",
        "- {text: ethics of eating meat, expect: []}\n",
    )
    passing = run("eval", str(questions), "--knowledge", str(mini_dir), "--min-accuracy", "0.6")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    header, *rows = passing.stdout.splitlines()[1:9]
    assert header.split() == ["ours", "baseline", "ratio"]
    assert rows[0].startswith("topic answered correctly") and "100.0%" in rows[0]
    assert any(r.startswith("out-of-scope rejected") for r in rows)
    assert "per-intent recall: residency 2/2, usmle 1/1" in passing.stdout
    assert "clarifications offering the right topic among their buttons: 0 of 0" in passing.stdout

    failing = run("eval", str(questions), "--knowledge", str(mini_dir), "--min-rejection", "1.01")
    assert failing.returncode == 1
    assert "FAIL: out-of-scope rejection 100.0% is below the bar 101.0%" in failing.stdout


def test_eval_fails_on_a_safety_reply_to_another_message_unless_allowed(mini_dir: Path, tmp_path: Path) -> None:
    questions = questions_file(
        tmp_path,
        "- {text: i want to kill myself, expect: [crisis]}\n"
        "- {text: a play where the hero wants to end my life story, expect: []}\n",
    )
    strict = run("eval", str(questions), "--knowledge", str(mini_dir), "--min-safety", "1.0")
    assert strict.returncode == 1
    assert "FAIL: 1 non-safety message(s) answered as a safety intent (at most 0 allowed)" in strict.stdout
    allowed = ("--min-safety", "1.0", "--max-false-alarms", "1")
    assert run("eval", str(questions), "--knowledge", str(mini_dir), *allowed).returncode == 0


def test_eval_names_the_line_of_a_broken_questions_file(mini_dir: Path, tmp_path: Path) -> None:
    questions = questions_file(tmp_path, "- {text: fine, expect: []}\n- {text: what?? now, expect: []}\n")
    result = run("eval", str(questions), "--knowledge", str(mini_dir))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{questions}:2: not valid YAML — quote texts that contain ':', '#', '?' or braces"
    )


def test_eval_tune_prints_the_best_thresholds_with_both_merits(mini_dir: Path, tmp_path: Path) -> None:
    questions = questions_file(
        tmp_path,
        "- {text: what is residency like, expect: [residency], split: dev}\n"
        "- {text: how do i become an architect, expect: [], split: dev}\n",
    )
    result = run("eval", str(questions), "--knowledge", str(mini_dir), "--tune")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 8
    assert all(line.startswith("merit ") and "(held-out " in line and "coverage_weight=" in line for line in lines)
    # with no classifier the settings of its rules tie; both switched off come first
    assert "agreement off confirmation off" in lines[0]
    assert "agreement off confirmed_answer=0.55 confirmed_probability=0.75" in lines[1]


def test_eval_held_out_routes_every_knowledge_phrase_without_its_fold(mini_dir: Path, tmp_path: Path) -> None:
    questions = questions_file(tmp_path, "- {text: what is residency like, expect: [residency], split: dev}\n")
    result = run("eval", str(questions), "--knowledge", str(mini_dir), "--split", "held-out")
    assert result.returncode == 0, result.stderr
    # the mini knowledge has 5 topic examples (its keywords stay in every fold) and 2 out-of-scope phrases
    assert result.stdout.startswith("split held-out: 5 topic, 0 conversation, 0 safety, 2 out-of-scope messages")
    assert "topic answered correctly" in result.stdout


def test_eval_typos_routes_misspelt_copies_of_the_messages_with_a_long_word(mini_dir: Path, tmp_path: Path) -> None:
    questions = questions_file(
        tmp_path,
        "- {text: what is residency like, expect: [residency], split: dev}\n",
        "- {text: hi, expect: [greeting]}\n",
    )
    result = run("eval", str(questions), "--knowledge", str(mini_dir), "--split", "dev", "--typos", "3")
    assert result.returncode == 0, result.stderr
    first = "split dev, 3 misspelt copies of each message with a long word: 3 topic, 0 conversation"
    assert result.stdout.startswith(first)
    refused = run("eval", str(questions), "--knowledge", str(mini_dir), "--split", "held-out", "--typos", "1")
    assert refused.returncode == 2 and "choose --split dev, test or all" in refused.stderr


def test_eval_tips_counts_where_the_asked_about_tip_lands_beside_the_maintainers_order(
    mini_dir: Path, tmp_path: Path
) -> None:
    tips = tmp_path / "tips.yaml"
    tips.write_text(
        "- text: how does the match work, and fellowship later?\n  topic: residency\n  tip: Plan fellowship\n"
        "- text: long hours and procedures\n  topic: residency\n  tip: Keep a log\n"
        "- text: how do I become an architect\n  topic: residency\n  tip: Ask current\n  split: test\n",
        encoding="utf-8",
    )
    result = run("eval-tips", str(tips), "--knowledge", str(mini_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "split all: 3 messages, 2 answered with their tip's topic (counted below)"
    assert "asked-about tip shown first           100.0%                0.0%" in result.stdout
    assert "... on the first page (3 tips)        100.0%               50.0%   2.00x" in result.stdout
    dev = run("eval-tips", str(tips), "--split", "dev", "--knowledge", str(mini_dir))
    assert dev.stdout.startswith("split dev: 2 messages, 2 answered")
    gated = run("eval-tips", str(tips), "--split", "test", "--min-first", "0.5", "--knowledge", str(mini_dir))
    assert gated.returncode == 1 and "FAIL: the asked-about tip came first for 0.0%, below 50.0%" in gated.stderr


def test_eval_tips_names_the_line_of_a_tip_it_cannot_find(mini_dir: Path, tmp_path: Path) -> None:
    tips = tmp_path / "tips.yaml"
    tips.write_text("- text: long hours\n  topic: residency\n  tip: Keep a log\n"
                    "- text: what now\n  topic: residency\n  tip: No such tip\n", encoding="utf-8")  # fmt: skip
    result = run("eval-tips", str(tips), "--knowledge", str(mini_dir))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tips}:4: no tip of `residency` start(s) with `No such tip` — quote more words"


def test_unanswered_lists_what_users_asked_with_how_it_routes_now(mini_dir: Path, tmp_path: Path) -> None:
    from bot.state import SqliteStateStore

    state = tmp_path / "state.sqlite3"
    store = SqliteStateStore(state)
    for user, text in [(1, "how do i become an architect"), (2, "how do i become an architect"), (3, "long hours")]:
        store.record_turn(user, None, intent=None, action="fallback", unanswered=text)
    store.close()
    result = run("unanswered", "--state", str(state), "--knowledge", str(mini_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "    2  how do i become an architect  → now: fallback",
        "    1  long hours  → now: answer residency",
    ]
    missing = run("unanswered", "--state", str(tmp_path / "nope.sqlite3"), "--knowledge", str(mini_dir))
    assert missing.returncode == 2 and "no state database there" in missing.stderr
    broken = tmp_path / "broken.sqlite3"
    broken.write_text("not a database", encoding="utf-8")
    unreadable = run("unanswered", "--state", str(broken), "--knowledge", str(mini_dir))
    assert unreadable.returncode == 2 and "cannot read it as the bot's state database" in unreadable.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("broken")) == ["broken.sqlite3"]


def test_a_reader_that_stops_early_gets_no_traceback(mini_dir: Path) -> None:
    """`python -m bot ask - | head -1`: the closed pipe ends the command quietly."""
    command = [sys.executable, "-m", "bot", "ask", "--knowledge", str(mini_dir), "-"]
    process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdin.write(b"what is residency like\n" * 300)  # fits the pipe; its replies do not
    process.stdin.close()
    assert process.stdout.readline().startswith(b"Residency")
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert b"Traceback" not in process.stderr.read()
