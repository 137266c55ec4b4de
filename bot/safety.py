"""The safety check: which safety intent's pattern a prepared message matches, found with fewer regex searches.

`SafetyCheck.match` returns exactly what searching every pattern in order returns (safety favours recall,
so it must never miss), but skips a pattern when a string that every match of it contains is absent from
the message. Each pattern's keys are read from its parse tree (`re._parser`): in `\\bkill(ing)? myself\\b`
every match contains "killing" or "myself". A pattern the analysis cannot read has no keys and is always
searched. A pattern of top-level alternatives (`noose|bought a rope`) is checked as one pattern per
alternative, each with its own keys: a message with "noose" in it is searched for `noose` alone, not for
every alternative at every position.

`python -m bot train` stores the alternatives and keys (KEYS_FILE), so start-up analyses only patterns
missing from that table; nor does it compile those it lists (the loader trusts the table for that: `train`
compiled them with this Python). An alternative is compiled when a message first needs it. Per message
that is a set of the message's three-letter windows, a few substring tests, and a search of only the
alternatives whose keys it contains, instead of all the patterns (796 today). Pure: no I/O.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache
from itertools import product
from typing import Any

from bot.knowledge import Intent

try:  # the parser behind re.compile: private, so a surprise anywhere below means "always search"
    from re import _parser
except ImportError:  # pragma: no cover - every supported Python has them
    _parser = None  # type: ignore[assignment]

KEYS_FILE = "safety_keys.json"  # each pattern's keys, stored beside the knowledge by `python -m bot train`
KEYS_FORMAT = 3  # raise it whenever the analysis below changes: a table of another format is then ignored
# A table lists only patterns that compiled when `train` wrote it, and holds for the Python that wrote it
# (`re`'s syntax and parser change between versions): with another Python it is ignored.
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
MOST_ALTERNATIVES = 256  # larger sets of alternatives are not worth testing one by one
_WORD_RUN = re.compile(r"\w+")
_ESCAPE = re.compile(r"\\.")  # "\bkill" must not read as the word "bkill"
_LETTERS = re.compile(r"[a-z]{4,}")

# A pattern (a|b or more) can be split at top-level bars unless its parts would mean something else alone:
# global flags apply to the whole, and a backreference or conditional needs the group it names.
_UNSPLITTABLE = re.compile(r"^\(\?[aiLmsux]+\)|\\[1-9]|\(\?P=|\(\?\(")

Strings = frozenset[str]
Analysis = tuple[Strings | None, Strings | None]  # (every string it can match, keys one of which every match has)
Parts = tuple[tuple[str, Strings | None], ...]  # a pattern's alternatives, each with its keys


def alternatives(pattern: str) -> tuple[str, ...]:
    """The pattern's top-level alternatives, each a pattern of its own (`a|b(c|d)` gives `a` and `b(c|d)`):
    it matches a message exactly when one of them does. Just the pattern when it has one or cannot be split."""
    if _UNSPLITTABLE.search(pattern):
        return (pattern,)
    parts, start, depth, class_from, at = [], 0, 0, -1, 0  # class_from: where the set's members start
    while at < len(pattern):
        char = pattern[at]
        if char == "\\":
            at += 1  # the escaped character is a literal, whatever it is
        elif class_from >= 0:
            class_from = -1 if char == "]" and at > class_from else class_from  # "[]" and "[^]" hold a "]"
        elif char == "[":
            class_from = at + 2 if pattern[at + 1 : at + 2] == "^" else at + 1
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:at])
            start = at + 1
        at += 1
    return (*parts, pattern[start:]) if depth == 0 and class_from < 0 else (pattern,)


def analysed(pattern: str) -> Parts:
    """The pattern's alternatives, each with its keys (`required_keys`)."""
    return tuple((part, required_keys(part)) for part in alternatives(pattern))


def required_keys(pattern: str) -> Strings | None:
    """Strings of which every match of `pattern` contains at least one; None when nothing useful is known."""
    if _parser is None:
        return None
    try:
        parsed = _parser.parse(pattern)
    except Exception:  # the loader reports bad patterns; here it only means "always search"
        return None
    if parsed.state.flags & re.IGNORECASE:  # keys are compared case-sensitively with the message
        return None
    return _analyse(parsed)[1]


def _analyse(items: Iterable) -> Analysis:  # type: ignore[type-arg]
    """A sequence of parse items, each visited once.

    Its strings are known while every item is literal and they stay few. Its key candidates are each run of
    literal items (`kill(ing)? myself` gives "kill myself" and "killing myself") and each item with keys of
    its own (a group, a repeat of at least once, a lookahead, alternatives that all have keys).
    """
    strings: Strings | None = frozenset({""})
    run: Strings = frozenset({""})
    candidates: list[Strings | None] = []
    for name, arg in _joined_literals(items):
        options, keys = _analyse_item(name, arg)
        candidates.append(keys)
        if options is not None and len(run) * len(options) <= MOST_ALTERNATIVES:
            run = _concatenations(run, options)
        else:  # a class, a repeat or `.*` ends the run; the next one starts after it
            candidates.append(_run_keys(run))
            run = options or frozenset({""})
        if strings is not None:
            fits = options is not None and len(strings) * len(options) <= MOST_ALTERNATIVES
            strings = _concatenations(strings, options) if fits else None  # type: ignore[arg-type]
    candidates.append(_run_keys(run))
    usable = [keys for keys in candidates if keys]
    # the rarer the keys, the fewer searches: prefer the longest shortest key, then the fewest keys
    return strings, max(usable, key=lambda keys: (min(map(len, keys)), -len(keys)), default=None)


def _joined_literals(items: Iterable) -> Iterator[tuple[str, Any]]:  # type: ignore[type-arg]
    """The parse items with each run of single characters joined into one TEXT item (far fewer products)."""
    text = ""
    for op, arg in items:
        if str(op) == "LITERAL":
            text += chr(arg)
            continue
        if text:
            yield "TEXT", text
            text = ""
        yield str(op), arg
    if text:
        yield "TEXT", text


def _analyse_item(name: str, arg: Any) -> Analysis:
    if name == "TEXT":
        return frozenset({arg}), None
    if name in ("AT", "ASSERT_NOT"):
        return frozenset({""}), None
    if name == "ASSERT":  # (?=...) and (?<=...): zero width, but what they see is in the message too
        return frozenset({""}), _analyse(arg[1])[1]
    if name == "SUBPATTERN":
        return _analyse(arg[3]) if not arg[1] and not arg[2] else (None, None)
    if name == "BRANCH":
        branches = [_analyse(branch) for branch in arg[1]]
        strings = [s for s, _ in branches if s is not None]
        all_strings = frozenset().union(*strings) if len(strings) == len(branches) else None
        if all_strings is not None and len(all_strings) > MOST_ALTERNATIVES:
            all_strings = None
        keys = [k for _, k in branches if k is not None]
        return all_strings, frozenset().union(*keys) if len(keys) == len(branches) else None
    if name in ("MAX_REPEAT", "MIN_REPEAT"):
        least, most, inner = arg
        strings, keys = _analyse(inner)
        if (least, most) == (0, 1):
            return (strings | {""} if strings is not None else None), None
        return None, keys if least >= 1 else None
    return None, None


def _concatenations(heads: Strings, tails: Strings) -> Strings:
    return frozenset(a + b for a, b in product(heads, tails))


def _run_keys(run: Strings) -> Strings | None:
    """The longest word in each string of a literal run, if each is three characters or more."""
    keys = frozenset(max(_WORD_RUN.findall(s), key=len, default="") for s in run)
    return keys if min(map(len, keys)) >= 3 else None


@cache
def compiled(pattern: str) -> re.Pattern[str]:
    """`re.compile`, kept for good: the loader checks a pattern with it and the check then reuses it, which
    `re`'s own cache (512 entries, shared with every other regex) cannot promise for 800 patterns."""
    return re.compile(pattern)


def dumps_keys(patterns: Iterable[str]) -> str:
    """The keys table of these patterns as JSON, so that start-up need neither parse nor compile them;
    re.error if one does not compile. It lists each alternative's keys, and the alternatives of each pattern
    that has more than one."""
    keys: dict[str, list[str] | None] = {}
    split: dict[str, list[str]] = {}
    for pattern in patterns:
        compiled(pattern)
        parts = analysed(pattern)
        for part, part_keys in parts:
            compiled(part)
            keys[part] = None if part_keys is None else sorted(part_keys)
        if len(parts) > 1:
            split[pattern] = [part for part, _ in parts]
    return (
        f'{{"format": {KEYS_FORMAT}, "python": "{PYTHON}",\n'
        f'"keys": {_json_lines(keys)},\n"alternatives": {_json_lines(split)}}}\n'
    )


def _json_lines(table: Mapping[str, Any]) -> str:
    """A JSON object with an entry a line, in key order: a pattern edited is a line changed."""
    lines = ",\n".join(
        f"  {json.dumps(k, ensure_ascii=False)}: {json.dumps(table[k], ensure_ascii=False)}" for k in sorted(table)
    )
    return f"{{\n{lines}\n}}" if lines else "{}"


def loads_keys(text: str) -> dict[str, Parts]:
    """The table `dumps_keys` wrote, as each pattern's alternatives with their keys: empty if another
    analysis or Python wrote it; ValueError if damaged."""
    stored = json.loads(text)
    if not isinstance(stored, dict) or not isinstance(stored.get("keys"), dict):
        raise ValueError("not a keys table")
    if stored.get("format") != KEYS_FORMAT or stored.get("python") != PYTHON:
        return {}
    keys: dict[str, Strings | None] = {}
    for part, part_keys in stored["keys"].items():
        if part_keys is not None and not (isinstance(part_keys, list) and all(isinstance(k, str) for k in part_keys)):
            raise ValueError(f"the keys of {part!r} are not a list of strings")
        keys[part] = None if part_keys is None else frozenset(part_keys)
    split = stored.get("alternatives", {})
    if not isinstance(split, dict) or any(
        not isinstance(parts, list) or not set(parts) <= keys.keys() for parts in split.values()
    ):
        raise ValueError("an entry of alternatives is not a list of patterns the table has keys for")
    table = {pattern: ((pattern, part_keys),) for pattern, part_keys in keys.items()}
    table.update({pattern: tuple((part, keys[part]) for part in parts) for pattern, parts in split.items()})
    return table


def pattern_words(patterns: Iterable[str]) -> frozenset[str]:
    """The words of four or more letters the patterns spell out (guards' words included): what a misspelt
    word in a message may be put right to before a second check."""
    return frozenset(word for p in patterns for word in _LETTERS.findall(_ESCAPE.sub(" ", p)))


class SafetyCheck:
    """Safety intents' patterns in order, split into their alternatives, and for each key the alternatives
    that cannot match without it."""

    def __init__(self, intents: Sequence[Intent], known_keys: Mapping[str, Parts] | None = None) -> None:
        """`known_keys`: a stored table (`loads_keys`); patterns missing from it are analysed here."""
        known_keys = known_keys or {}
        self._patterns = [(intent.id, p) for intent in intents for p in intent.patterns]  # compiled when needed
        self._parts: list[tuple[str, str]] = []  # (intent id, alternative), in the patterns' order
        self._always: list[int] = []  # alternatives with no known key: searched for every message
        self._parts_by_key: dict[str, list[int]] = {}
        for intent_id, pattern in self._patterns:
            for part, keys in known_keys[pattern] if pattern in known_keys else analysed(pattern):
                index = len(self._parts)
                self._parts.append((intent_id, part))
                for key in keys or ():
                    self._parts_by_key.setdefault(key, []).append(index)
                if keys is None:
                    self._always.append(index)
        by_start: dict[str, list[str]] = {}
        for key in sorted(self._parts_by_key):
            by_start.setdefault(key[:3], []).append(key)
        self._keys_by_start = by_start  # every key is 3+ characters: test only those whose start is present
        self.intent_ids = frozenset(intent.id for intent in intents)
        self.words = pattern_words(p for intent in intents for p in (*intent.patterns, *intent.unless))
        self._unless = {intent.id: intent.unless for intent in intents if intent.unless}

    def compile_all(self) -> None:
        """Compile every alternative, and every `unless` pattern, now rather than when a message first needs it."""
        for _, part in self._parts:
            compiled(part)
        for patterns in self._unless.values():
            for pattern in patterns:
                compiled(pattern)

    def match(self, normalized: str) -> str | None:
        """The first safety intent (in knowledge order) one of whose patterns matches the prepared message."""
        for index in self._to_search(normalized):
            intent_id, part = self._parts[index]
            if compiled(part).search(normalized) and not self.taken_back(intent_id, normalized):
                return intent_id
        return None

    def taken_back(self, intent_id: str, normalized: str) -> bool:
        """Whether one of the intent's `unless` patterns matches: "can i give my dog ibuprofen" names a medicine
        and asks what to take, but not for the user."""
        return any(compiled(p).search(normalized) for p in self._unless.get(intent_id, ()))

    def searched(self, normalized: str) -> list[str]:
        """The alternatives `match` would search for this message if none matched, in order."""
        return [self._parts[index][1] for index in self._to_search(normalized)]

    def _to_search(self, normalized: str) -> list[int]:
        starts = {normalized[i : i + 3] for i in range(len(normalized) - 2)}
        candidates = set(self._always)
        for start in starts & self._keys_by_start.keys():
            for key in self._keys_by_start[start]:
                if key in normalized:
                    candidates.update(self._parts_by_key[key])
        return sorted(candidates)

    def match_every_pattern(self, normalized: str) -> str | None:
        """The same answer without the prefilter or the split: every whole pattern searched. For tests and
        benchmarks."""
        return next(
            (
                i
                for i, pattern in self._patterns
                if compiled(pattern).search(normalized) and not self.taken_back(i, normalized)
            ),
            None,
        )
