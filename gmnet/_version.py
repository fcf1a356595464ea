"""gmnet's version, in one place the lowest layer can import (the report and the web server
print it without importing the whole package). The package's metadata takes it from here
(pyproject.toml: ``dynamic = ["version"]``), so reading it costs no importlib.metadata (60 ms
of every command's start-up)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
