"""gmnet's version, in one place the lowest layer can import (the report and the web server
print it without importing the whole package)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gmnet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree, not installed
    __version__ = "0.1.0"

__all__ = ["__version__"]
