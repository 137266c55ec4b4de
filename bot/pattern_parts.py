"""Named parts of the safety patterns: written once under `pattern_parts:` and used as `{{name}}`.

The guard that keeps "can I still be a nurse with asthma?" a career question sits in twenty health patterns,
and the list of medicines in a dozen. Written once as a part, a change to it reaches every pattern that uses
it, and the patterns read as what they add. A part belongs to the file that defines it and may use the parts
above it; each must be a regular expression on its own (a whole group such as `(a|b)` or `(?!...)`), so an
error in it is reported at the part and not in every pattern. The loader expands each pattern before
compiling it: the rest of the bot sees whole patterns, and the stored keys table is keyed by them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import yaml

from bot.yaml_source import Doc

KEY = "pattern_parts"
_REFERENCE = re.compile(r"\{\{([^{}]*)\}\}")  # "{{" never occurs in a regular expression of its own
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass
class PatternParts:
    """One file's parts by name, and those no pattern has used yet (reported by `report_unused`)."""

    doc: Doc
    texts: dict[str, str] = field(default_factory=dict)
    unused: dict[str, yaml.Node] = field(default_factory=dict)

    def expand(self, text: str, node: yaml.Node) -> str | None:
        """The pattern with each `{{name}}` replaced by its part; None (and a problem) if a name is unknown."""
        unknown: list[str] = []

        def part(reference: re.Match[str]) -> str:
            name = reference.group(1).strip()
            if name not in self.texts:
                unknown.append(name)
                return reference.group(0)
            self.unused.pop(name, None)
            return self.texts[name]

        expanded = _REFERENCE.sub(part, text)
        for name in unknown:
            guess = difflib.get_close_matches(name, list(self.texts), n=1)
            fix = f"did you mean `{{{{{guess[0]}}}}}`?" if guess else f"define `{name}` under `{KEY}:` in this file"
            self.doc.error(node, f"`{{{{{name}}}}}` is not a part defined above it in this file", fix)
        return None if unknown else expanded

    def report_unused(self) -> None:
        for name, node in self.unused.items():
            self.doc.error(node, f"part `{name}` is used by no pattern", f"use it as `{{{{{name}}}}}`, or remove it")


def read_parts(doc: Doc, node: yaml.Node | None) -> PatternParts:
    """The parts a file defines under `pattern_parts:` (none when it has no such key), each checked to compile."""
    parts = PatternParts(doc)
    entries = doc.mapping(node, f"`{KEY}`") if node is not None else None
    for name, value_node in (entries or {}).items():
        text = doc.string(value_node, f"part `{name}`")
        if not _NAME.fullmatch(name):
            doc.error(value_node, f"part name `{name}` is not snake_case", "use a-z, 0-9 and _ only")
            continue
        expanded = parts.expand(text, value_node) if text is not None else None
        if expanded is None:
            continue
        try:
            re.compile(expanded)
        except re.error as err:
            fix = "make it a whole group, such as `(a|b)` or `(?!...)`"
            doc.error(value_node, f"part `{name}` is not a regular expression on its own ({err})", fix)
            continue
        parts.texts[name] = expanded
        parts.unused[name] = value_node
    return parts
