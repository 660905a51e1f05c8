"""Reading YAML into plain data while remembering the line of every node.

PyYAML's composer gives nodes with marks; this module builds the Python data
from them itself so that each mapping key and sequence item has a line number,
duplicate keys are reported (PyYAML would silently keep the last), and alias
bombs or recursive aliases are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from scenarios.errors import ErrorItem

MAX_NODES = 200_000
MAX_BYTES = 5_000_000

Path = tuple[str | int, ...]
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


@dataclass
class Source:
    """Parsed YAML data plus the 1-based line of every path in it."""

    data: object = None
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """Line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def format_path(path: Path) -> str:
    """``("scenarios", 2, "turns", 0, "expect")`` -> ``scenarios[2].turns[0].expect``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, filename: str, source: Source):
        self.loader = loader
        self.filename = filename
        self.source = source
        self.errors: list[ErrorItem] = []
        self.count = 0
        self.stack: set[int] = set()

    def error(self, line: int, path: Path, message: str) -> None:
        self.errors.append(ErrorItem(self.filename, line, format_path(path), message))

    def build(self, node: Node, path: Path):
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        if id(node) in self.stack:
            self.error(node.start_mark.line + 1, path, "recursive YAML alias")
            return None
        if isinstance(node, ScalarNode):
            try:
                return self.loader.construct_object(node, deep=True)
            except yaml.constructor.ConstructorError as exc:
                self.error(node.start_mark.line + 1, path, f"unsupported YAML value: {exc.problem}")
                return None
        if node.tag not in _PLAIN_TAGS:
            self.error(node.start_mark.line + 1, path, f"unsupported YAML tag {node.tag!r}")
            return None
        self.stack.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                items = []
                for i, item in enumerate(node.value):
                    self.source.lines[(*path, i)] = item.start_mark.line + 1
                    items.append(self.build(item, (*path, i)))
                return items
            return self.build_mapping(node, path)
        finally:
            self.stack.discard(id(node))

    def build_mapping(self, node: MappingNode, path: Path) -> dict:
        self.loader.flatten_mapping(node)
        result: dict = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key = self.build(key_node, path) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                self.error(line, path, f"keys must be text, got {key_node.value!r}")
                continue
            if key in result:
                first = self.source.lines.get((*path, key), line)
                self.error(line, (*path, key), f"duplicate key (first given at line {first})")
                continue
            self.source.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result


class _TooLarge(Exception):
    pass


def tab_errors(text: str, filename: str) -> list[ErrorItem]:
    """A tab in a line's indentation is an error YAML reports poorly; name the line."""
    return [ErrorItem(filename, n, "", "tab character in indentation; indent with spaces")
            for n, line in enumerate(text.splitlines(), start=1)
            if "\t" in re.match(r"[ \t]*", line).group(0)]


def parse(text: str, filename: str) -> tuple[Source, list[ErrorItem]]:
    """Parse one YAML document into a Source, or return the errors that prevent it."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return Source(), [ErrorItem(filename, 0, "", f"file is larger than {MAX_BYTES} bytes")]
    tabs = tab_errors(text, filename)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        if any(t.line == line for t in tabs):
            return Source(), tabs
        problem = ", ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        return Source(), [*tabs, ErrorItem(filename, line, "", f"YAML syntax error: {problem}")]
    finally:
        loader.dispose()
    if node is None:
        return Source(), [*tabs, ErrorItem(filename, 0, "", "the file is empty")]
    source = Source(lines={(): node.start_mark.line + 1})
    builder = _Builder(loader, filename, source)
    try:
        source.data = builder.build(node, ())
    except _TooLarge:
        return Source(), [ErrorItem(filename, node.start_mark.line + 1, "",
                                    f"document expands to more than {MAX_NODES} nodes")]
    return source, tabs + builder.errors
