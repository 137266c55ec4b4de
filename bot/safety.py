"""The safety check: which safety intent's pattern a prepared message matches, found with fewer regex searches.

`SafetyCheck.match` returns exactly what searching every pattern in order returns (safety favours recall,
so it must never miss), but skips a pattern when a string that every match of it contains is absent from
the message. At load each pattern is parsed (`re._parser`) and its literal runs collected: in
`\\bkill(ing)? myself\\b` every match contains "kill" and " myself". A pattern the analysis cannot read
has no requirement and is always searched. Per message that is a set of the message's three-letter
windows, a few substring tests and about 20 regex searches instead of over 200. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import product

from bot.knowledge import Intent

try:  # the parser behind re.compile: private, so a surprise anywhere below means "always search"
    from re import _parser
except ImportError:  # pragma: no cover - every supported Python has them
    _parser = None  # type: ignore[assignment]

MOST_ALTERNATIVES = 256  # larger sets of alternatives are not worth testing one by one
_ZERO_WIDTH = ("AT", "ASSERT", "ASSERT_NOT")
_WORD_RUN = re.compile(r"\w+")


def _alternatives(items: list) -> set[str] | None:  # type: ignore[type-arg]
    """Every string a purely literal piece of pattern can match (None: not purely literal, or too many)."""
    found = {""}
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            options = {chr(arg)}
        elif name in _ZERO_WIDTH:
            continue
        elif name == "SUBPATTERN" and not arg[1] and not arg[2]:
            options = _alternatives(arg[3])
        elif name == "BRANCH":
            branches = [_alternatives(branch) for branch in arg[1]]
            options = None if any(b is None for b in branches) else set().union(*branches)  # type: ignore[arg-type]
        elif name == "MAX_REPEAT" and arg[0] == 0 and arg[1] == 1:
            inner = _alternatives(arg[2])
            options = None if inner is None else inner | {""}
        else:
            return None
        if options is None or len(found) * len(options) > MOST_ALTERNATIVES:
            return None
        found = {a + b for a, b in product(found, options)}
    return found


def _requirements(items: list) -> list[set[str]]:  # type: ignore[type-arg]
    """Sets of strings of which every match contains at least one, one set per run of literal pieces."""
    runs, current = [], {""}
    for item in items:
        options = _alternatives([item])
        if options is not None and len(current) * len(options) <= MOST_ALTERNATIVES:
            current = {a + b for a, b in product(current, options)}
            continue
        runs.append(current)  # anything else (a repeat, a class, `.*`) ends the run; the next one starts after it
        current = options or {""}
    return [*runs, current]


def _key(text: str) -> str:
    """The longest run of word characters in a required string: it too is in every match."""
    return max(_WORD_RUN.findall(text), key=len, default="")


def required_keys(pattern: str) -> frozenset[str] | None:
    """Strings of which every match of `pattern` contains at least one; None when nothing useful is known."""
    if _parser is None or pattern.startswith("(?"):
        return None
    try:
        items = list(_parser.parse(pattern))
    except Exception:  # the loader reports bad patterns; here it only means "always search"
        return None
    if len(items) == 1 and str(items[0][0]) == "BRANCH":  # `a|b`: every match contains a key of one branch
        per_branch = [_best_keys(list(branch)) for branch in items[0][1][1]]
        return None if any(keys is None for keys in per_branch) else frozenset().union(*per_branch)  # type: ignore[arg-type]
    return _best_keys(items)


def _best_keys(items: list) -> frozenset[str] | None:  # type: ignore[type-arg]
    best: frozenset[str] | None = None
    for run in _requirements(items):
        keys = frozenset(_key(s) for s in run)
        if min(map(len, keys), default=0) < 3:
            continue
        if best is None or min(map(len, keys)) > min(map(len, best)):
            best = keys
    return best


class SafetyCheck:
    """Safety intents' patterns in order, each with the keys that must be in a message it can match."""

    def __init__(self, intents: Sequence[Intent]) -> None:
        self._patterns = [(intent.id, re.compile(p), required_keys(p)) for intent in intents for p in intent.patterns]
        by_start: dict[str, list[str]] = {}
        for key in sorted({k for _, _, keys in self._patterns if keys for k in keys}):
            by_start.setdefault(key[:3], []).append(key)
        self._keys_by_start = by_start  # every key is 3+ characters: test only those whose start is present
        self.intent_ids = frozenset(intent.id for intent in intents)

    def match(self, normalized: str) -> str | None:
        """The first safety intent (in knowledge order) one of whose patterns matches the prepared message."""
        starts = {normalized[i : i + 3] for i in range(len(normalized) - 2)}
        present = {
            k for start in starts & self._keys_by_start.keys() for k in self._keys_by_start[start] if k in normalized
        }
        for intent_id, pattern, keys in self._patterns:
            if (keys is None or not keys.isdisjoint(present)) and pattern.search(normalized):
                return intent_id
        return None

    def match_every_pattern(self, normalized: str) -> str | None:
        """The same answer without the prefilter: every pattern searched. For tests and benchmarks."""
        return next((i for i, pattern, _ in self._patterns if pattern.search(normalized)), None)
