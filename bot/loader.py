"""Reads `knowledge/*.yaml` into a validated, frozen `KnowledgeBase`, or raises `KnowledgeError`.

Every problem in every file is collected and reported at once as `FILE:LINE: what — how to fix`.
The only I/O in the core is here: reading the knowledge files.
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import yaml

from bot.checks import check_knowledge
from bot.classifier import FILE_NAME, Classifier, loads
from bot.knowledge import AUDIENCES, TEXT_KEYS, Intent, Kind, KnowledgeBase, Source, Tip
from bot.normalize import Preparer, emoji_key, normalize, prepared_key
from bot.pattern_parts import KEY as PARTS_KEY
from bot.pattern_parts import PatternParts, read_parts
from bot.safety import KEYS_FILE, Parts, compiled, loads_keys
from bot.yaml_source import Doc, Problems, Where, read_documents

T = TypeVar("T")
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "knowledge"
TOP_LEVEL = (
    "sources", "intents", "synonyms", "emoji", "audiences", "out_of_scope", "domain_words", "texts", PARTS_KEY,
)  # fmt: skip
PREPARED_FILE = "prepared.json.gz"  # the knowledge's phrases as prepared, written by `python -m bot train`
INTENT_KEYS = (
    "id", "title", "kind", "examples", "keywords", "negative_examples", "tips", "answer", "follow_ups",
    "note", "patterns", "unless", "show_menu", "offer_topics",
)  # fmt: skip
TIP_KEYS = ("text", "source", "section", "audience")
SOURCE_KEYS = ("id", "title", "file", "sections")
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


class KnowledgeError(Exception):
    """The knowledge did not load; `problems` holds one `FILE:LINE: what — fix` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class _Collected:
    """What the files say, before the cross-file checks; `where` remembers each item's place."""

    intents: list[Intent] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)
    emoji: dict[str, str] = field(default_factory=dict)
    audiences: dict[str, str] = field(default_factory=dict)
    out_of_scope: list[str] = field(default_factory=list)
    domain_words: list[str] = field(default_factory=list)
    where: dict[tuple[str, str], Where] = field(default_factory=dict)
    example_where: dict[tuple[str, str], list[Where]] = field(default_factory=dict)  # every place, in order
    compiled_by_train: frozenset[str] = frozenset()  # patterns in the stored keys table: not compiled again
    parts: PatternParts | None = None  # the pattern parts of the file being read


def load_knowledge(directory: Path | str | None = None, *, classifier: bool = True) -> KnowledgeBase:
    """Load and validate every knowledge file in `directory` (default: the repository's knowledge/), and
    the classifier stored there unless `classifier` is false (`train` replaces it, readable or not)."""
    path = Path(directory) if directory is not None else DEFAULT_DIR
    problems = Problems()
    safety_keys = _read_safety_keys(path, problems)
    collected = _Collected(compiled_by_train=frozenset(safety_keys))
    for doc, root in read_documents(path, _display(path), problems):
        _read_file(doc, root, collected)
    if collected.texts or not problems:  # with no readable file at all, one problem says enough
        for key in (k for k in TEXT_KEYS if k not in collected.texts):
            problems.add(Where(_display(path), 0), f"no `texts.{key}`", f"add `{key}:` under `texts:`")
    kb = KnowledgeBase(
        intents=tuple(collected.intents),
        sources=tuple(collected.sources),
        texts=collected.texts,
        synonyms=collected.synonyms,
        emoji=collected.emoji,
        audiences=collected.audiences,
        out_of_scope=tuple(collected.out_of_scope),
        domain_words=tuple(collected.domain_words),
        classifier=_read_classifier(path, problems) if classifier else None,
        safety_keys=safety_keys,
    )
    if not problems:
        kb = replace(kb, prepared=_prepared_phrases(path, kb, problems))
        check_knowledge(kb, collected.where, collected.example_where, problems)
    if problems:
        raise KnowledgeError(problems.items)
    return kb


def _read_classifier(directory: Path, problems: Problems) -> Classifier | None:
    """The fitted classifier stored beside the knowledge, if there is one (the matcher works without it)."""
    fix = "fit it again: `python -m bot train`"
    return _read_derived(directory / FILE_NAME, lambda data: loads(gzip.decompress(data).decode()), fix, problems)


def _prepared_phrases(directory: Path, kb: KnowledgeBase, problems: Problems) -> dict[str, str]:
    """Each of the knowledge's phrases prepared: read back from what `train` stored where that holds for these
    synonyms and emoji (preparing 14,000 phrases is most of start-up), prepared now where it does not, as
    for a phrase edited since."""
    fix = "write it again: `python -m bot train`"
    stored = _read_derived(directory / PREPARED_FILE, lambda data: loads_prepared(gzip.decompress(data)), fix, problems)
    known = stored[1] if stored is not None and stored[0] == prepared_key(kb.synonyms, kb.emoji) else {}
    missing = {text for text in kb.phrases if text not in known}
    if missing:  # only then: compiling the synonyms costs 6 ms
        prepare = Preparer(kb.synonyms, kb.emoji)
        known = {**known, **{text: prepare(text) for text in missing}}
    # keyed by the knowledge's own strings, so the file's copies of them are let go
    return {text: known[text] for text in kb.phrases}


def loads_prepared(data: bytes) -> tuple[str, dict[str, str]]:
    """(key, phrases) from a file `dumps_prepared` wrote; ValueError for anything else."""
    stored = json.loads(data)
    if not isinstance(stored, dict) or not isinstance(stored.get("phrases"), dict):
        raise ValueError("not a table of prepared phrases")
    phrases = stored["phrases"]
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in phrases.items()):
        raise ValueError("not a table of prepared phrases")
    return str(stored.get("key", "")), phrases


def dumps_prepared(kb: KnowledgeBase, phrases: dict[str, str]) -> bytes:
    """The file `train` writes: the phrases with what they hold for; gzip with no time, so a rewrite of the
    same phrases gives the same bytes."""
    table = {"key": prepared_key(kb.synonyms, kb.emoji), "phrases": dict(sorted(phrases.items()))}
    return gzip.compress(json.dumps(table, ensure_ascii=False, separators=(",", ":")).encode(), mtime=0)


def _read_safety_keys(directory: Path, problems: Problems) -> dict[str, Parts]:
    """The safety patterns' keys stored beside the knowledge, if any (a pattern missing is analysed at start)."""
    fix = "write it again: `python -m bot train`"
    return _read_derived(directory / KEYS_FILE, lambda data: loads_keys(data.decode()), fix, problems) or {}


def _read_derived(path: Path, parse: Callable[[bytes], T], fix: str, problems: Problems) -> T | None:
    """A file `train` writes beside the knowledge: None when there is none, a problem when it is damaged."""
    try:
        return parse(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as error:  # BadGzipFile is an OSError
        problems.add(Where(_display(path), 0), f"cannot read it ({error})", fix)
        return None


def _display(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return relative if not relative.startswith("..") else str(path)


def _read_file(doc: Doc, root: yaml.Node, out: _Collected) -> None:
    entries = doc.mapping(root, "the file")
    if entries is None:
        return
    doc.unknown_keys(entries, TOP_LEVEL, "the file")
    out.parts = read_parts(doc, entries.get(PARTS_KEY))
    readers = {
        "sources": _read_sources,
        "intents": _read_intents,
        "synonyms": _read_synonyms,
        "emoji": _read_emoji,
        "audiences": _read_audiences,
        "out_of_scope": _read_out_of_scope,
        "domain_words": _read_domain_words,
        "texts": _read_texts,
    }
    for key, node in entries.items():
        if key in readers:
            readers[key](doc, node, out)
    out.parts.report_unused()


def _read_sources(doc: Doc, node: yaml.Node, out: _Collected) -> None:
    for item in doc.sequence(node, "`sources`"):
        entries = doc.mapping(item, "a source")
        if entries is None:
            continue
        doc.unknown_keys(entries, SOURCE_KEYS, "a source")
        values = {k: doc.string(n, f"`{k}`") for k, n in entries.items() if k in ("id", "title", "file")}
        for key in ("id", "title", "file"):
            doc.require(entries, key, item, "a source")
        sections_node = doc.require(entries, "sections", item, "a source")
        sections = tuple(s for s, _ in doc.strings(sections_node, "`sections`")) if sections_node else ()
        source_id, title, file = values.get("id"), values.get("title"), values.get("file")
        if source_id and title and file:
            if (("source", source_id)) in out.where:
                first = out.where["source", source_id]
                doc.error(item, f"source id `{source_id}` is used twice (first at {first})", "rename one")
                continue
            out.where["source", source_id] = doc.where(item)
            out.sources.append(Source(source_id, title, file, sections))


def _read_intents(doc: Doc, node: yaml.Node, out: _Collected) -> None:
    for item in doc.sequence(node, "`intents`"):
        intent = _read_intent(doc, item, out)
        if intent is None:
            continue
        if ("intent", intent.id) in out.where:
            first = out.where["intent", intent.id]
            doc.error(item, f"intent id `{intent.id}` is used twice (first at {first})", "rename one")
            continue
        out.where["intent", intent.id] = doc.where(item)
        out.intents.append(intent)


def _read_intent(doc: Doc, item: yaml.Node, out: _Collected) -> Intent | None:
    entries = doc.mapping(item, "an intent")
    if entries is None:
        return None
    doc.unknown_keys(entries, INTENT_KEYS, "an intent")
    fields = {k: doc.require(entries, k, item, "an intent") for k in ("id", "title", "kind", "examples")}
    intent_id = doc.string(fields["id"], "`id`") if fields["id"] else None
    title = doc.string(fields["title"], "`title`") if fields["title"] else None
    kind_text = doc.string(fields["kind"], "`kind`") if fields["kind"] else None
    if intent_id and not ID_PATTERN.fullmatch(intent_id):
        doc.error(fields["id"], f"intent id `{intent_id}` is not snake_case", "use a-z, 0-9 and _ only")
    kinds = [k.value for k in Kind]
    if kind_text and kind_text not in kinds:
        doc.error(fields["kind"], f"unknown kind `{kind_text}`", f"use one of: {', '.join(kinds)}")
        kind_text = None
    if not (intent_id and title and kind_text and fields["examples"]):
        return None
    kind = Kind(kind_text)
    examples = doc.strings(fields["examples"], "`examples`")
    for text, node in examples:
        out.example_where.setdefault((intent_id, text), []).append(doc.where(node))
    lists = {k: tuple(s for s, _ in doc.strings(entries[k], f"`{k}`")) for k in
             ("keywords", "negative_examples", "follow_ups") if k in entries}  # fmt: skip
    for key, n in entries.items():
        if key == "follow_ups":
            for target, target_node in doc.strings(n, "`follow_ups`"):
                out.where.setdefault(("follow_up", f"{intent_id}->{target}"), doc.where(target_node))
    _check_kind_fields(doc, entries, kind, item)
    return Intent(
        id=intent_id,
        title=title,
        kind=kind,
        examples=tuple(text for text, _ in examples),
        tips=_read_tips(doc, entries["tips"], intent_id, out) if "tips" in entries else (),
        answer=(doc.string(entries["answer"], "`answer`") or "") if "answer" in entries else "",
        note=(doc.string(entries["note"], "`note`") or "") if "note" in entries else "",
        show_menu=doc.boolean(entries["show_menu"], "`show_menu`") if "show_menu" in entries else False,
        offer_topics=doc.boolean(entries["offer_topics"], "`offer_topics`") if "offer_topics" in entries else False,
        patterns=_read_patterns(doc, entries["patterns"], out) if "patterns" in entries else (),
        unless=_read_patterns(doc, entries["unless"], out) if "unless" in entries else (),
        **lists,
    )


def _check_kind_fields(doc: Doc, entries: dict[str, yaml.Node], kind: Kind, item: yaml.Node) -> None:
    if kind is Kind.TOPIC:
        if "tips" not in entries:
            doc.error(item, "a topic intent has no `tips`", "add `tips:` with at least one tip")
        if "answer" in entries:
            doc.error(entries["answer"], "a topic intent has an `answer`", "turn it into `tips`")
    else:
        if "answer" not in entries:
            doc.error(item, f"a {kind} intent has no `answer`", "add `answer:` with the reply text")
        if "tips" in entries:
            doc.error(entries["tips"], f"a {kind} intent has `tips`", "use one `answer:` instead")
    if kind is not Kind.TOPIC and "note" in entries:
        doc.error(entries["note"], f"a {kind} intent has a `note`", "put the line in its `answer`")
    for key in ("patterns", "unless", "offer_topics"):
        if kind is not Kind.SAFETY and key in entries:
            doc.error(entries[key], f"only safety intents have `{key}`", f"remove `{key}:`")


def _read_patterns(doc: Doc, node: yaml.Node, out: _Collected) -> tuple[str, ...]:
    """Each pattern with its parts put in, checked to compile (those the stored keys table lists compiled
    when `train` wrote it, with this Python)."""
    patterns = []
    for text, item in doc.strings(node, "`patterns`"):
        pattern = out.parts.expand(text, item) if out.parts is not None else text
        if pattern is None:
            continue
        if pattern not in out.compiled_by_train:
            try:
                compiled(pattern)
            except re.error as err:
                doc.error(item, f"pattern `{text}` is not a valid regular expression ({err})", "fix the regex")
                continue
        patterns.append(pattern)
    return tuple(patterns)


def _read_tips(doc: Doc, node: yaml.Node, intent_id: str, out: _Collected) -> tuple[Tip, ...]:
    tips = []
    for index, item in enumerate(doc.sequence(node, "`tips`")):
        entries = doc.mapping(item, "a tip")
        if entries is None:
            continue
        doc.unknown_keys(entries, TIP_KEYS, "a tip")
        values = {}
        for key in ("text", "source", "section"):
            key_node = doc.require(entries, key, item, "a tip")
            values[key] = doc.string(key_node, f"`{key}`") if key_node else None
        audience = doc.strings(entries["audience"], "`audience`") if "audience" in entries else []
        for tag, tag_node in audience:
            if tag not in AUDIENCES:
                doc.error(tag_node, f"unknown audience `{tag}`", f"use one of: {', '.join(AUDIENCES)}")
        if values["text"] and values["source"] and values["section"]:
            out.where["tip", f"{intent_id}#{index}"] = doc.where(item)
            tips.append(Tip(values["text"], values["source"], values["section"], frozenset(t for t, _ in audience)))
    return tuple(tips)


def _read_synonyms(doc: Doc, node: yaml.Node, out: _Collected) -> None:
    entries = doc.mapping(node, "`synonyms`") or {}
    for canonical, variants_node in entries.items():
        for variant, variant_node in doc.strings(variants_node, f"the variants of `{canonical}`"):
            key = variant.casefold()
            if key in out.synonyms:
                first = out.where["synonym", key]
                doc.error(variant_node, f"synonym `{variant}` is listed twice (first at {first})", "keep one")
                continue
            out.where["synonym", key] = doc.where(variant_node)
            out.synonyms[key] = canonical


def _read_emoji(doc: Doc, node: yaml.Node, out: _Collected) -> None:
    entries = doc.mapping(node, "`emoji`") or {}
    for word, emoji_node in entries.items():
        if not normalize(word):
            doc.error(emoji_node, f"`{word}` has no word to read its emoji as", "name a word such as `hello`")
        for emoji, item in doc.strings(emoji_node, f"the emoji of `{word}`"):
            key = emoji_key(emoji)
            if not key or normalize(key):
                doc.error(item, f"`{emoji}` is not an emoji", "list emoji only; put words under `synonyms`")
            elif key in out.emoji:
                doc.error(item, f"emoji `{emoji}` is listed twice (first at {out.where['emoji', key]})", "keep one")
            else:
                out.where["emoji", key] = doc.where(item)
                out.emoji[key] = word


def _read_audiences(doc: Doc, node: yaml.Node, out: _Collected) -> None:
    entries = doc.mapping(node, "`audiences`") or {}
    for tag, phrases_node in entries.items():
        if tag not in AUDIENCES:
            doc.error(phrases_node, f"unknown audience `{tag}`", f"use one of: {', '.join(AUDIENCES)}")
            continue
        for phrase, _ in doc.strings(phrases_node, f"`audiences.{tag}`"):
            out.audiences[phrase] = tag


def _read_out_of_scope(doc: Doc, node: yaml.Node, out: _Collected) -> None:
    for text, item in doc.strings(node, "`out_of_scope`"):
        out.example_where.setdefault(("", text), []).append(doc.where(item))
        out.out_of_scope.append(text)


def _read_domain_words(doc: Doc, node: yaml.Node, out: _Collected) -> None:
    out.domain_words.extend(text for text, _ in doc.strings(node, "`domain_words`"))


def _read_texts(doc: Doc, node: yaml.Node, out: _Collected) -> None:
    entries = doc.mapping(node, "`texts`") or {}
    doc.unknown_keys(entries, TEXT_KEYS, "`texts`")
    for key, value_node in entries.items():
        if key not in TEXT_KEYS:
            continue
        if key in out.texts:
            doc.error(value_node, f"`texts.{key}` is defined in two files", "keep one")
            continue
        value = doc.string(value_node, f"`texts.{key}`")
        if value is not None:
            out.texts[key] = value
