"""The validator as a maintainer meets it: exact messages with file and line, all problems in one run."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.loader import PREPARED_FILE, KnowledgeError, load_knowledge
from bot.normalize import Preparer, prepared_key
from bot.safety import KEYS_FORMAT, PYTHON, dumps_keys
from tests.conftest import REPO


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return caught.value.problems


def relative(directory: Path, name: str) -> str:
    return str(directory / name)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_mini_knowledge_loads(mini_dir: Path) -> None:
    kb = load_knowledge(mini_dir)
    assert [i.id for i in kb.intents] == ["residency", "usmle", "greeting", "crisis"]


def test_yaml_syntax_error_names_file_and_line(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "    title: USMLE\n", "    title: USMLE: the exams\n")
    [problem] = problems_of(mini_dir)
    assert problem.startswith(f"{mini_dir}/intents.yaml:32: YAML syntax error: mapping values are not allowed")
    assert problem.endswith("— quote text that contains `: ` (a colon followed by a space)")


def test_duplicate_key_is_reported_not_silently_overwritten(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "    title: USMLE\n", "    title: USMLE\n    title: Exams\n")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/intents.yaml:33: duplicate key `title` (first at line 32) — keep only one of them"
    ]


def test_missing_field_and_wrong_type(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "    title: Hello\n", "")
    edit(mini_dir / "intents.yaml", "    answer: Please contact", "    answer:\n      - Please contact")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/intents.yaml:43: an intent has no `title` — add `title:`",
        f"{mini_dir}/intents.yaml:51: `answer` should be text — write a single string, not a list or mapping",
    ]


def test_unquoted_date_and_boolean(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "      - how to prepare for step 2 ck\n", "      - 2021-05-01\n      - yes\n")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/intents.yaml:35: an item of `examples` `2021-05-01` was read as a date — put it in quotes",
        f"{mini_dir}/intents.yaml:36: an item of `examples` `yes` was read as a true/false value — put it in quotes",
    ]


def test_unknown_key_suggests_the_right_one(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "    follow_ups: [usmle]\n", "    followups: [usmle]\n")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/intents.yaml:30: unknown key `followups` in an intent — did you mean `follow_ups`?"
    ]


def test_safety_only_fields_on_a_topic(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "    follow_ups: [usmle]\n", "    follow_ups: [usmle]\n    offer_topics: true\n")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/intents.yaml:31: only safety intents have `offer_topics` — remove `offer_topics:`"
    ]


def test_a_note_is_for_topics_only(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "    examples: [hi, hello, good morning]\n", "    examples: [hi]\n    note: Hi\n")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/intents.yaml:48: a conversation intent has a `note` — put the line in its `answer`"
    ]


def test_unless_is_for_safety_intents_and_must_compile(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "    follow_ups: [usmle]\n", "    follow_ups: [usmle]\n    unless: ['(dog']\n")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/intents.yaml:31: only safety intents have `unless` — remove `unless:`",
        f"{mini_dir}/intents.yaml:31: pattern `(dog` is not a valid regular expression (missing ), unterminated "
        "subpattern at position 0) — fix the regex",
    ]


def test_domain_words_must_be_a_list(mini_dir: Path) -> None:
    with (mini_dir / "texts.yaml").open("a", encoding="utf-8") as texts:
        texts.write("domain_words: nursing\n")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/texts.yaml:29: `domain_words` should be a list — write one `- item` per line, or `[a, b]`"
    ]


def test_emoji_entries_must_be_emoji_listed_once(mini_dir: Path) -> None:
    edit(mini_dir / "texts.yaml", "  hello: [👋]\n", "  hello: [👋, hi]\n  wave: ['👋🏽']\n")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/texts.yaml:22: `hi` is not an emoji — list emoji only; put words under `synonyms`",
        f"{mini_dir}/texts.yaml:23: emoji `👋🏽` is listed twice (first at {mini_dir}/texts.yaml:22) — keep one",
    ]


def test_duplicate_intent_id_across_files(mini_dir: Path) -> None:
    (mini_dir / "more.yaml").write_text(
        "intents:\n  - id: usmle\n    title: Exams\n    kind: conversation\n    answer: Hi\n    examples: [exams]\n"
    )
    assert problems_of(mini_dir) == [
        f"{mini_dir}/more.yaml:2: intent id `usmle` is used twice (first at {mini_dir}/intents.yaml:31) — rename one"
    ]


def test_unknown_follow_up_source_and_section(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "    follow_ups: [residency]\n", "    follow_ups: [residncy]\n")
    edit(mini_dir / "intents.yaml", "        source: s1\n        section: USMLE Step 2", "        source: s9\n"
         "        section: USMLE Step 2")  # fmt: skip
    edit(mini_dir / "intents.yaml", "section: Intro\n        audience", "section: Outro\n        audience")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/intents.yaml:20: section `Outro` is not a section of source `s1` — "
        "use one of: Intro; Residency Training; USMLE Step 2",
        f"{mini_dir}/intents.yaml:42: follow-up `residncy` is not an intent id — fix the id or add the intent",
        f"{mini_dir}/intents.yaml:39: unknown source `s9` — use a source id (s1)",
    ]


def test_example_listed_under_two_intents_after_normalising(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "      - best question bank for the boards\n",
         "      - best question bank for the boards\n      - What is residency like?\n")  # fmt: skip
    assert problems_of(mini_dir) == [
        f"{mini_dir}/intents.yaml:37: example `What is residency like?` is also listed under `residency` "
        f"(at {mini_dir}/intents.yaml:11) — keep the phrase under one intent only"
    ]


def test_telegram_limits(mini_dir: Path) -> None:
    long_id = "a_" + "x" * 60
    edit(mini_dir / "intents.yaml", "  - id: greeting\n    title: Hello\n",
         f"  - id: {long_id}\n    title: A greeting button label far too long for a phone\n")  # fmt: skip
    edit(mini_dir / "intents.yaml", "    answer: Please contact", "    answer: " + "x" * 4100 + " Please contact")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/intents.yaml:43: intent id `{long_id}` is too long for a button — shorten it (≤ 40 bytes)",
        f"{mini_dir}/intents.yaml:43: title `A greeting button label far too long for a phone` is over 32 characters"
        " — shorten the button label",
        f"{mini_dir}/intents.yaml:48: a reply of `crisis` is 4159 characters, over Telegram's 4096 — "
        "shorten its tips or answer",
    ]


def test_every_problem_in_one_run_via_cli(mini_dir: Path) -> None:
    edit(mini_dir / "intents.yaml", "    title: Hello\n", "")
    edit(mini_dir / "intents.yaml", "    kind: topic\n", "    kind: topik\n")
    (mini_dir / "broken.yaml").write_text("intents:\n  - id: x\n   title: bad indent\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "validate", str(mini_dir)], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{mini_dir}/broken.yaml:3: YAML syntax error")
    assert f"{mini_dir}/intents.yaml:9: unknown kind `topik` — use one of: topic, conversation, safety" in lines
    assert f"{mini_dir}/intents.yaml:43: an intent has no `title` — add `title:`" in lines
    assert "3 problem(s) found" in result.stderr


def test_shipped_knowledge_validates_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "validate"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("knowledge OK: ")
    assert " intents, " in result.stdout and " tips, 5 sources" in result.stdout


def test_a_damaged_safety_keys_table_names_itself_and_the_fix(mini_dir: Path) -> None:
    damaged = {"format": KEYS_FORMAT, "python": PYTHON, "keys": {"x": "kill"}}
    (mini_dir / "safety_keys.json").write_text(json.dumps(damaged), encoding="utf-8")
    [problem] = problems_of(mini_dir)
    assert problem.startswith(f"{mini_dir}/safety_keys.json: cannot read it (the keys of 'x' are not a list")
    assert problem.endswith("write it again: `python -m bot train`")


def test_phrases_train_prepared_are_read_back_only_for_the_synonyms_and_emoji_they_hold_for(mini_dir: Path) -> None:
    kb = load_knowledge(mini_dir)
    text = kb.intents[0].examples[0]
    as_prepared_now = Preparer(kb.synonyms, kb.emoji)(text)
    assert kb.prepared[text] == as_prepared_now and set(kb.prepared) == set(kb.phrases)  # no table: prepared now
    for key, expected in (("another key", as_prepared_now), (prepared_key(kb.synonyms, kb.emoji), "read back")):
        table = {"key": key, "phrases": {text: "read back", "a phrase the knowledge no longer has": "x"}}
        (mini_dir / PREPARED_FILE).write_bytes(gzip.compress(json.dumps(table).encode()))
        kb = load_knowledge(mini_dir)
        assert kb.prepared[text] == expected
        assert set(kb.prepared) == set(kb.phrases)  # the rest prepared now; nothing kept that it no longer has


def test_a_damaged_table_of_prepared_phrases_names_itself_and_the_fix(mini_dir: Path) -> None:
    (mini_dir / PREPARED_FILE).write_bytes(gzip.compress(b'{"key": "k", "phrases": ["not", "a", "mapping"]}'))
    [problem] = problems_of(mini_dir)
    assert problem.startswith(f"{mini_dir}/{PREPARED_FILE}: cannot read it (not a table of prepared phrases)")
    assert problem.endswith("write it again: `python -m bot train`")


def test_a_pattern_edited_after_train_is_still_checked(mini_dir: Path) -> None:
    """The stored keys table vouches only for the patterns `train` compiled; an edit since is compiled at load."""
    (mini_dir / "safety_keys.json").write_text(dumps_keys([r"\bkill myself\b", r"\bend my life\b"]), "utf-8")
    load_knowledge(mini_dir)
    edit(mini_dir / "intents.yaml", r"'\bend my life\b'", r"'\bend my (life\b'")
    [problem] = problems_of(mini_dir)
    assert problem.startswith(f"{mini_dir}/intents.yaml:")
    assert "pattern `\\bend my (life\\b` is not a valid regular expression (missing ), unterminated" in problem
    assert problem.endswith("— fix the regex")


def test_a_repeated_out_of_scope_phrase_is_reported_at_its_second_line(mini_dir: Path) -> None:
    with (mini_dir / "texts.yaml").open("a", encoding="utf-8") as texts:
        texts.write("  - How do I become an architect?\n")
    assert problems_of(mini_dir) == [
        f"{mini_dir}/texts.yaml:29: example `How do I become an architect?` is listed twice "
        f"(first at {mini_dir}/texts.yaml:27) — remove one",
    ]


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


def with_parts(directory: Path, parts: str, patterns: str) -> Path:
    """The mini knowledge's crisis patterns replaced by `patterns`, with `parts` under `pattern_parts:`."""
    intents = directory / "intents.yaml"
    edit(intents, r"patterns: ['\bkill myself\b', '\bend my life\b']", f"patterns: {patterns}")
    with intents.open("a", encoding="utf-8") as out:
        out.write(f"pattern_parts:\n{parts}")
    return intents


def test_a_pattern_part_is_written_once_and_used_in_patterns(mini_dir: Path) -> None:
    parts = "  myself: '(myself|my self|meself)'\n"
    with_parts(mini_dir, parts, r"['\bkill {{myself}}\b', '\bhurt {{ myself }}\b']")
    engine = Engine(load_knowledge(mini_dir))
    for text in ("i want to kill my self", "I might hurt meself tonight"):
        assert engine.handle_text(text).intent == "crisis", text
    assert engine.handle_text("What is residency like?").intent == "residency"


def test_a_misnamed_unused_or_broken_part_is_reported_where_it_is(mini_dir: Path) -> None:
    parts = "  myself: '(myself|my self)'\n  spare: '(a|b)'\n  broken: '(tonight|now'\n"
    intents = with_parts(mini_dir, parts, r"['\bkill {{myslef}}\b', '\bhurt {{myself}}\b']")
    patterns_line = line_of(intents, "{{myslef}}")
    assert problems_of(mini_dir) == [
        f"{intents}:{line_of(intents, 'broken:')}: part `broken` is not a regular expression on its own "
        "(missing ), unterminated subpattern at position 0) — make it a whole group, such as `(a|b)` or `(?!...)`",
        f"{intents}:{patterns_line}: `{{{{myslef}}}}` is not a part defined above it in this file — "
        "did you mean `{{myself}}`?",
        f"{intents}:{line_of(intents, 'spare:')}: part `spare` is used by no pattern — "
        "use it as `{{spare}}`, or remove it",
    ]
