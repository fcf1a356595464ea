"""XMLBIF (``.xml``, ``.xmlbif``, pyAgrum's ``.bifxml``), read by gmnet.

pgmpy 1.1's ``XMLBIFReader`` fails on files without a ``NETWORK/NAME`` ("'NoneType' object has
no attribute 'text'") and on whitespace before ``<?xml``; this reader accepts both, the old
``PROBABILITY`` spelling of ``DEFINITION`` and tags in any case. A ``TABLE`` lists the entries
with the ``FOR`` variable fastest and the ``GIVEN`` variables in order, the last fastest of them.
Entity declarations are refused (no file needs them, and they are how XML bombs work).
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

from gmnet.io.parsed import FileFormatError, ParsedNetwork, numbers

__all__ = ["parse_xmlbif", "xml_root"]


def xml_root(text: str, what: str) -> etree.Element:
    """The root element of ``text``, tags lower-cased; refuses entity declarations."""
    text = text.lstrip()
    if "<!ENTITY" in text.upper():
        raise FileFormatError(f"the {what} file declares XML entities; gmnet does not expand "
                              "them")
    try:
        root = etree.fromstring(text.encode("utf-8"))
    except etree.ParseError as exc:
        raise FileFormatError(f"not well-formed XML: {exc}") from None
    for elem in root.iter():
        if isinstance(elem.tag, str):
            elem.tag = elem.tag.rsplit("}", 1)[-1].lower()
    return root


def _text(elem: etree.Element | None) -> str:
    return "" if elem is None or elem.text is None else elem.text.strip()


def parse_xmlbif(text: str) -> ParsedNetwork:
    """A :class:`ParsedNetwork` from the text of an XMLBIF file."""
    root = xml_root(text, "XMLBIF")
    network = root if root.tag == "network" else root.find("network")
    if network is None:
        raise FileFormatError(f"no <NETWORK> element (the root is <{root.tag}>)")
    parsed = ParsedNetwork(name=_text(network.find("name")) or None)
    for var in network.findall("variable"):
        name = _text(var.find("name"))
        if not name:
            raise FileFormatError("a <VARIABLE> without a <NAME>")
        kind = (var.attrib.get("TYPE") or var.attrib.get("type") or "nature").lower()
        if kind != "nature":
            raise FileFormatError(f"variable {name} is of TYPE {kind!r}; gmnet reads chance "
                                  "(nature) variables only")
        parsed.add_variable(name, tuple(_text(o) for o in var.findall("outcome")))
    definitions = network.findall("definition") + network.findall("probability")
    for definition in definitions:
        child = _text(definition.find("for"))
        if child not in parsed.states:
            raise FileFormatError(f"a <DEFINITION> for undeclared variable {child!r}")
        if child in parsed.tables:
            raise FileFormatError(f"two <DEFINITION>s for {child}")
        parents = tuple(_text(g) for g in definition.findall("given"))
        shape = parsed.shape(child, parents)
        table = definition.find("table")
        if table is None:
            raise FileFormatError(f"the <DEFINITION> of {child} has no <TABLE>")
        values = numbers(_text(table).replace(",", " ").split(), f"the table of {child}")
        size = 1
        for d in shape:
            size *= d
        if values.size != size:
            raise FileFormatError(f"the table of {child} has {values.size} entries; its "
                                  f"parents and states need {size}")
        parsed.parents[child] = parents
        parsed.tables[child] = values.reshape(shape)
    return parsed
