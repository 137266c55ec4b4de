"""Line-aware YAML reading for the knowledge loader: every value keeps the file and line it came from.

PyYAML's `compose` gives nodes with `start_mark.line`; this module turns them into plain values while
recording problems that `yaml.safe_load` would hide (duplicate keys, unquoted dates and booleans).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_STR_TAG = "tag:yaml.org,2002:str"
# libyaml's parser (shipped in PyYAML's wheels) reads the knowledge ~50× faster and keeps line marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_READ_AS = {
    "tag:yaml.org,2002:bool": "a true/false value",
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "an empty value",
    "tag:yaml.org,2002:timestamp": "a date",
}


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a knowledge file, shown to maintainers as `FILE:LINE`."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class Problems:
    """Collects every problem of one load, so all of them are reported in one run."""

    items: list[str] = field(default_factory=list)

    def add(self, where: Where, what: str, fix: str) -> None:
        self.items.append(f"{where}: {what} — {fix}")

    def __bool__(self) -> bool:
        return bool(self.items)


class Doc:
    """One YAML file's nodes, with helpers that read typed values and report what is wrong."""

    def __init__(self, display_name: str, problems: Problems) -> None:
        self.name = display_name
        self.problems = problems

    def where(self, node: yaml.Node) -> Where:
        return Where(self.name, node.start_mark.line + 1)

    def error(self, node: yaml.Node, what: str, fix: str) -> None:
        self.problems.add(self.where(node), what, fix)

    def mapping(self, node: yaml.Node, what: str) -> dict[str, yaml.Node] | None:
        """A mapping's entries by key; duplicate keys are reported, the first one is kept."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what} should be a mapping of `key: value` lines", "indent its keys under it")
            return None
        entries: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in entries:
                first = self.where(entries[key]).line
                self.error(key_node, f"duplicate key `{key}` (first at line {first})", "keep only one of them")
                continue
            entries[key] = value_node
        return entries

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        self.error(node, f"{what} should be a list", "write one `- item` per line, or `[a, b]`")
        return []

    def string(self, node: yaml.Node, what: str) -> str | None:
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
            if not node.value.strip():
                self.error(node, f"{what} is empty", "write the text, or remove the entry")
                return None
            return str(node.value)
        if isinstance(node, yaml.ScalarNode):
            read_as = _READ_AS.get(node.tag, "something other than text")
            self.error(node, f"{what} `{node.value}` was read as {read_as}", "put it in quotes")
        else:
            self.error(node, f"{what} should be text", "write a single string, not a list or mapping")
        return None

    def strings(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node]]:
        """A list of strings, each with its node (for line numbers); bad items are reported and skipped."""
        items = []
        for item in self.sequence(node, what):
            value = self.string(item, f"an item of {what}")
            if value is not None:
                items.append((value, item))
        return items

    def boolean(self, node: yaml.Node, what: str) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return node.value.lower() in ("true", "yes", "on")
        self.error(node, f"{what} should be true or false", "write `true` or `false`")
        return False

    def unknown_keys(self, entries: dict[str, yaml.Node], allowed: Iterable[str], what: str) -> None:
        allowed = list(allowed)
        for key, node in entries.items():
            if key not in allowed:
                guess = difflib.get_close_matches(key, allowed, n=1)
                fix = f"did you mean `{guess[0]}`?" if guess else f"use one of: {', '.join(allowed)}"
                self.error(node, f"unknown key `{key}` in {what}", fix)

    def require(self, entries: dict[str, yaml.Node], key: str, owner: yaml.Node, what: str) -> yaml.Node | None:
        if key not in entries:
            self.error(owner, f"{what} has no `{key}`", f"add `{key}:`")
            return None
        return entries[key]


def read_documents(directory: Path, display_dir: str, problems: Problems) -> Iterator[tuple[Doc, Any]]:
    """Each `*.yaml` file in name order, composed into nodes; unreadable files become problems."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        problems.add(Where(display_dir, 0), "no knowledge files found", "add at least one `*.yaml` file")
    for path in files:
        display = f"{display_dir}/{path.name}"
        try:
            root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_LOADER)
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            line = mark.line + 1 if mark else 1
            problems.add(Where(display, line), f"YAML syntax error: {err.problem or err}", _syntax_hint(err))
            continue
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            problems.add(Where(display, 1), f"cannot read the file: {err}", "save it as UTF-8 text")
            continue
        if root is not None:
            yield Doc(display, problems), root


def _syntax_hint(err: yaml.MarkedYAMLError) -> str:
    problem = str(err.problem or "")
    if "mapping values" in problem:
        return "quote text that contains `: ` (a colon followed by a space)"
    if "expected <block end>" in problem or "indentation" in problem:
        return "check the indentation: items of one list must line up"
    if "found character '\\t'" in problem:
        return "indent with spaces, not tabs"
    return "fix the YAML at this line (quote text with special characters)"
