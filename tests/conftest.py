"""Shared fixtures: a small knowledge base written into tmp_path, and the shipped one loaded once."""

from __future__ import annotations

import gc
import shutil
import types
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.knowledge import KnowledgeBase
from bot.loader import load_knowledge

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "knowledge"

MINI_TEXTS = """\
texts:
  welcome: Hi! I help with careers in medicine.
  disclaimer: Career guidance only, not medical advice.
  fallback: I can only help with careers in medicine and healthcare.
  fallback_safety: If this is about your health or how you are coping, the first button is for that.
  fallback_near: If this is about a career in medicine, the nearest topics come first.
  clarify: "Did you mean one of these?"
  clarify_one: "Did you mean this?"
  menu: Pick a topic.
  more_tips: More tips
  no_more_tips: That is all I have on this.
  about: I am a career bot.
  non_text: I read text questions only.
  stale_button: That button is out of date.
  error: Sorry, something went wrong.
  forget_done: I have deleted what I stored about you.
  source_prefix: "Source:"
synonyms:
  medical school: [med school, medschool]
  step 2 ck: [ck]
emoji:
  hello: [👋]
audiences:
  nurse: [nurse]
  resident: [resident, pgy1]
out_of_scope:
  - how do i become an architect
  - my network switch keeps dropping
"""

MINI_INTENTS = """\
sources:
  - id: s1
    title: Source One
    file: 000_test.txt
    sections: [Intro, Residency Training, USMLE Step 2]
intents:
  - id: residency
    title: Residency
    kind: topic
    examples:
      - what is residency like
      - how does the match work
      - long hours as a resident
    keywords: [residency, match, fellowship]
    negative_examples: [residence permit]
    tips:
      - text: Ask current residents about their call schedule.
        source: s1
        section: Residency Training
      - text: Nurses moving into residency-style programmes should ask about preceptors.
        source: s1
        section: Intro
        audience: [nurse]
      - text: Keep a log of procedures from day one.
        source: s1
        section: Residency Training
      - text: Plan fellowship applications in your second year.
        source: s1
        section: Residency Training
    follow_ups: [usmle]
  - id: usmle
    title: USMLE
    kind: topic
    examples:
      - how to prepare for step 2 ck
      - best question bank for the boards
    keywords: [usmle, qbank]
    tips:
      - text: Step 2 CS ended in 2021; plan for Step 2 CK.
        source: s1
        section: USMLE Step 2
    follow_ups: [residency]
  - id: greeting
    title: Hello
    kind: conversation
    answer: Hello! Ask me about careers in medicine.
    examples: [hi, hello, good morning]
  - id: crisis
    title: Urgent support
    kind: safety
    answer: Please contact emergency services or call or text 988 now.
    patterns: ['\\bkill myself\\b', '\\bend my life\\b']
    examples: [i want to die]
"""


def write_mini(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "texts.yaml").write_text(MINI_TEXTS, encoding="utf-8")
    (directory / "intents.yaml").write_text(MINI_INTENTS, encoding="utf-8")
    return directory


@pytest.fixture
def mini_dir(tmp_path: Path) -> Path:
    return write_mini(tmp_path / "knowledge")


@pytest.fixture
def mini_engine(mini_dir: Path) -> Engine:
    return Engine(load_knowledge(mini_dir))


@pytest.fixture(scope="session")
def shipped_kb() -> KnowledgeBase:
    return load_knowledge(SHIPPED)


@pytest.fixture(scope="session")
def shipped_engine(shipped_kb: KnowledgeBase) -> Engine:
    return Engine(shipped_kb)


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge, for tests that break it."""
    return Path(shutil.copytree(SHIPPED, tmp_path / "knowledge"))


def strings_reachable_from(root: object) -> set[str]:
    """Every string the object holds, however deep (classes, modules and functions are not followed)."""
    seen: set[int] = set()
    strings: set[str] = set()
    stack = [root]
    while stack:
        held = stack.pop()
        if id(held) in seen or isinstance(held, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(held))
        if isinstance(held, str):
            strings.add(held)
        elif isinstance(held, dict):  # the gc leaves out a dict's string keys: they make no cycle
            stack += [*held.keys(), *held.values()]
        else:
            stack += gc.get_referents(held)
    return strings
