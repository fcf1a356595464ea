"""Export networks to the formats other tools read, and import them back: the public names.

Formats read: BIF (``.bif``), XMLBIF (``.xml``, ``.xmlbif``, ``.bifxml``), Hugin NET
(``.net``), GeNIe XDSL (``.xdsl``) and DSL (``.dsl``), Netica DNE (``.dne``) and UAI
(``.uai``), each by gmnet's own reader (one module per format under :mod:`gmnet.io`).
Formats written: BIF, XMLBIF, NET, XDSL and UAI.

An exported file holds the network at its point values: plain tables. Everything else goes to a
*sidecar* JSON file beside it, ``FILE.gmnet.json``. Importing the file with its sidecar gives
back the original network when the file's tables are unchanged; when the file was edited in
another tool, the edited tables win and the rest is restored where it still fits.

The work is done in :mod:`gmnet.io.export`, :mod:`gmnet.io.importing` and
:mod:`gmnet.io.sidecar`; this module keeps the names in one place.
"""

from __future__ import annotations

from gmnet.io.export import READER_WARNINGS, ExportResult, export_network, export_text
from gmnet.io.importer import import_network, load_foreign
from gmnet.io.importing import IMPORT_SUM_TOLERANCE, MAX_FOREIGN_BYTES, network_from_model
from gmnet.io.registry import (
    EXTENSIONS,
    FORMAT_NAMES,
    FORMATS,
    READ_FORMATS,
    SIDECAR_KIND,
    SIDECAR_SUFFIX,
    format_of,
    sidecar_path,
)
from gmnet.io.sidecar import MATCH_TOLERANCE

__all__ = [
    "FORMATS",
    "READ_FORMATS",
    "EXTENSIONS",
    "FORMAT_NAMES",
    "SIDECAR_SUFFIX",
    "SIDECAR_KIND",
    "MATCH_TOLERANCE",
    "IMPORT_SUM_TOLERANCE",
    "MAX_FOREIGN_BYTES",
    "READER_WARNINGS",
    "ExportResult",
    "export_network",
    "export_text",
    "import_network",
    "load_foreign",
    "format_of",
    "sidecar_path",
    "network_from_model",
]
