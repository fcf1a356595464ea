"""The brace-and-semicolon syntax shared by GeNIe DSL and Netica DNE files.

Both are C-like: ``//`` and ``/* */`` comments, quoted strings, ``KEY = VALUE;`` attributes,
parenthesised (comma-separated, possibly nested) lists, and named blocks ``KIND NAME { ... };``
(``node X { ... };``, ``visual V1 { ... };``). :func:`parse_blocks` turns the text into
:class:`Block` objects; the format modules give the blocks their meaning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gmnet.io.parsed import FileFormatError

__all__ = ["Block", "parse_blocks", "Quoted", "flatten"]

_TOKEN = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?P<q>(?:[^"\\]|\\.)*)"|(?P<p>[{}()=;,])|(?P<w>(?:[^\s{}()=;,"/]|/(?![/*]))+)',
    re.DOTALL)


class Quoted(str):
    """A quoted string in the file (never a keyword)."""


@dataclass
class Block:
    """A ``{ ... }`` block: its attributes in order and its named sub-blocks."""

    kind: str = ""
    name: str = ""
    attributes: dict[str, object] = field(default_factory=dict)
    children: list[Block] = field(default_factory=list)

    def get(self, key: str, default=None):
        """An attribute by name, ignoring case (DSL writes upper case, DNE lower)."""
        for k, v in self.attributes.items():
            if k.lower() == key.lower():
                return v
        return default


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in ("w", "p"):
            out.append(m.group(kind))
        elif kind == "q":
            out.append(Quoted(m.group("q")))
    return out


class _Parser:
    def __init__(self, tokens: list[str], what: str):
        self.tokens = tokens
        self.pos = 0
        self.what = what

    def take(self, expected: str) -> str:
        if self.pos >= len(self.tokens):
            raise FileFormatError(f"the file ends where {expected} was expected")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def block_body(self, block: Block, where: str) -> Block:
        """Items up to the '}' closing a block whose '{' was taken."""
        while True:
            tok = self.take(f"'}}' closing {where}")
            if tok == "}" and not isinstance(tok, Quoted):
                if self.peek() == ";":
                    self.pos += 1
                return block
            if tok == ";":
                continue
            if tok in "{}()=," and not isinstance(tok, Quoted):
                raise FileFormatError(f"unexpected '{tok}' in {where}")
            nxt = self.take(f"'=' or a name after {tok[:40]!r} in {where}")
            if nxt == "=" and not isinstance(nxt, Quoted):
                block.attributes[str(tok)] = self.value(f"{tok[:40]} in {where}")
            else:
                self._expect("{", f"after '{tok[:40]} {nxt[:40]}' in {where}")
                child = Block(kind=str(tok), name=str(nxt))
                block.children.append(self.block_body(child, f"{tok} {nxt}"))

    def value(self, where: str):
        tok = self.take(f"a value of {where}")
        if isinstance(tok, Quoted):
            value: object = tok
        elif tok == "(":
            value = self.items(where)
        elif tok == "{":
            value = self.block_body(Block(), where)
            return value
        elif tok in "}=;,)":
            raise FileFormatError(f"unexpected '{tok}' as the value of {where}")
        else:
            # a word, or a few words before ';' (DNE: "font {shape = ...}" is not an attribute)
            value = tok
            while self.peek() not in (";", "}", None):
                extra = self.take("a value")
                if extra == "{":
                    self.block_body(Block(), where)
                elif extra == "(":
                    self.items(where)
                else:
                    value = f"{value} {extra}"
        if self.peek() == ";":
            self.pos += 1
        return value

    def items(self, where: str) -> list:
        out: list = []
        expect_item = True
        while True:
            tok = self.take(f"')' closing a list in {where}")
            if isinstance(tok, Quoted):
                out.append(tok)
                expect_item = False
            elif tok == ")":
                return out
            elif tok == ",":
                if expect_item:
                    out.append("")  # an empty entry keeps its place (Netica: "(, B)")
                expect_item = True
            elif tok == "(":
                out.append(self.items(where))
                expect_item = False
            elif tok in "{}=;":
                raise FileFormatError(f"unexpected '{tok}' inside a list in {where}")
            else:
                out.append(tok)
                expect_item = False

    def _expect(self, token: str, where: str) -> None:
        got = self.take(f"'{token}' {where}")
        if got != token or isinstance(got, Quoted):
            raise FileFormatError(f"expected '{token}' {where}, got {got[:40]!r}")


def parse_blocks(text: str, what: str) -> list[Block]:
    """The top-level named blocks of ``text`` (``net NAME { ... };``, ``bnet NAME { ... };``)."""
    parser = _Parser(_tokens(text), what)
    out: list[Block] = []
    while parser.peek() is not None:
        kind = parser.take("a block")
        if kind == ";":
            continue
        name = parser.take(f"the name of the {kind[:40]} block")
        parser._expect("{", f"after '{kind[:40]} {name[:40]}'")
        out.append(parser.block_body(Block(kind=str(kind), name=str(name)), f"{kind} {name}"))
    if not out:
        raise FileFormatError(f"no {what} network block in the file")
    return out


def flatten(value, where: str) -> list[str]:
    """The leaves of a (nested) list, in order."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise FileFormatError(f"{where} is not a list")
    out: list[str] = []
    for item in value:
        out.extend(flatten(item, where))
    return out
