"""Reading the YAML data files (networks, scenarios, worldviews) safely and within bounds.

Only plain data is built (PyYAML's safe loader: no objects). On top of that, every file is
checked before anything is built from it:

- a key given twice in one mapping is an error naming both lines (YAML would keep the last one
  silently); a merge (``<<: *defaults``) followed by keys of its own is the intended override and
  stays allowed;
- aliases are bounded: at most :data:`MAX_ALIASES` uses, and the document expanded through its
  aliases at most :data:`MAX_EXPANDED_NODES` values (an "alias bomb" of a few hundred bytes would
  otherwise expand to gigabytes); an alias that contains itself is refused;
- nesting at most :data:`MAX_DEPTH` levels, integers at most :data:`MAX_INT_DIGITS` digits.

Every failure is a :class:`~gmnet.errors.NetworkFileError` naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gmnet.errors import NetworkFileError
from gmnet.model.inputs import note_input

__all__ = ["read_yaml", "load_yaml_text", "MAX_FILE_BYTES", "MAX_ALIASES",
           "MAX_EXPANDED_NODES", "MAX_DEPTH", "MAX_INT_DIGITS"]

MAX_FILE_BYTES = 5_000_000
MAX_ALIASES = 1_000
MAX_EXPANDED_NODES = 2_000_000
MAX_DEPTH = 64
MAX_INT_DIGITS = 60

_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"


class _Refused(Exception):
    """A bound or rule broken while reading; carries the problem text."""


class _Loader(yaml.SafeLoader):
    """The safe loader, counting aliases and refusing duplicate keys and huge integers."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _Refused(f"more than {MAX_ALIASES} aliases (line {mark.line + 1}); "
                               "write the values out or use fewer anchors")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict:
        if isinstance(node, MappingNode):
            _check_duplicates(node)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        digits = sum(ch.isdigit() for ch in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise _Refused(f"line {node.start_mark.line + 1}: an integer with {digits} digits; "
                           f"the limit is {MAX_INT_DIGITS}")
        return super().construct_yaml_int(node)


_Loader.add_constructor(_INT_TAG, _Loader.construct_yaml_int)


def _check_duplicates(node: MappingNode) -> None:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
            continue
        key = (key_node.tag, key_node.value)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise _Refused(f"key {_clip(key_node.value)!r} is given twice in one mapping (lines "
                           f"{seen[key]} and {line}); keep one of them")
        seen[key] = line


def _clip(text: str, limit: int = 60) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


def _check_graph(root: Node) -> None:
    """Depth, cycles and expanded size of the composed document, without expanding it."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    # iterative post-order walk: (node, depth, children visited?)
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(size[id(c)] for c in children)
            if total > MAX_EXPANDED_NODES:
                raise _Refused(f"the document expands through its aliases to more than "
                               f"{MAX_EXPANDED_NODES:,} values (line {node.start_mark.line + 1}); "
                               "aliases this deep are refused")
            size[key] = total
            continue
        if key in size:
            continue
        if key in on_path:
            raise _Refused(f"line {node.start_mark.line + 1}: an alias refers to the value that "
                           "contains it (a circular alias)")
        if depth > MAX_DEPTH:
            raise _Refused(f"line {node.start_mark.line + 1}: values nested more than "
                           f"{MAX_DEPTH} levels deep")
        on_path.add(key)
        stack.append((node, depth, True))
        for child in children:
            if id(child) in on_path:
                raise _Refused(f"line {child.start_mark.line + 1}: an alias refers to the value "
                               "that contains it (a circular alias)")
            if id(child) not in size:
                stack.append((child, depth + 1, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def load_yaml_text(text: str, *, path: str = "<text>") -> Any:
    """The data of one YAML document, read within the bounds above; a NetworkFileError names
    ``path`` and the line of any problem."""
    try:
        loader = _Loader(text)  # reads the text's first characters: may fail already
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            _check_graph(root)
            return loader.construct_document(root)
        finally:
            loader.dispose()
    except _Refused as exc:
        raise NetworkFileError(path, [str(exc)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise NetworkFileError(path, [f"not valid YAML{where}: {problem}"]) from None
    except RecursionError:
        raise NetworkFileError(path, [f"values nested too deeply (the limit is {MAX_DEPTH} "
                                      "levels)"]) from None
    except (ValueError, OverflowError) as exc:
        raise NetworkFileError(path, [f"a value cannot be read: {_clip(exc, 200)}"]) from None
    except MemoryError:
        raise NetworkFileError(path, ["too large to read into memory"]) from None


def read_yaml(path: Path) -> Any:
    """Read a YAML data file safely (no object construction), with the bounds above and a
    size limit; the file is noted as an input of this run (outputs may not replace it)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NetworkFileError(str(path), [f"cannot read: {exc.strerror}"]) from None
    if size > MAX_FILE_BYTES:
        raise NetworkFileError(str(path), [f"file is {size} bytes; the limit is {MAX_FILE_BYTES}"])
    note_input(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkFileError(str(path), [f"cannot read as UTF-8 text: {_clip(exc, 200)}"]
                               ) from None
    return load_yaml_text(text, path=str(path))
