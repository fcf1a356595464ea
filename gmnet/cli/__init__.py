"""The ``gmnet`` command line: a thin layer over the Python API.

Errors the user can fix exit with code 2 and one line ``gmnet: error: ...``; anything
unexpected exits 1 with a short message (``--debug`` shows the traceback).
"""

from __future__ import annotations

import sys

import click

from gmnet.errors import GmnetError, NetworkFileError, clip_message

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
@click.version_option(package_name="gmnet")
def cli(debug: bool) -> None:
    """gmnet: ask the goal-misgeneralization model what-if questions."""


def _register() -> None:
    """Every module of this package that defines COMMANDS adds them to the group."""
    import importlib
    import pkgutil

    import gmnet.cli as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "common":
            continue
        module = importlib.import_module(f"gmnet.cli.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 unexpected failure, 2 bad input,
    130 interrupted)."""
    from gmnet._interrupt import interrupted_code
    from gmnet.model.inputs import guard_inputs

    try:
        with guard_inputs():
            return _main(argv)
    except KeyboardInterrupt:  # between the handlers below, or while they print
        return interrupted_code()


def _main(argv: list[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:  # `gmnet` or `python -m gmnet` alone: the help, not a usage error
        args = ["--help"]
    debug = "--debug" in args
    if "serve" not in args:
        # a command is one short process: let long batched runs reuse freed memory
        from gmnet.inference.allocator import keep_freed_memory

        keep_freed_memory()
    try:
        with cli.make_context("gmnet", args) as ctx:
            cli.invoke(ctx)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        from gmnet._interrupt import interrupted_code

        return interrupted_code()
    except click.UsageError as exc:
        _error(exc.format_message())
        return 2
    except click.ClickException as exc:
        _error(exc.format_message())
        return exc.exit_code if exc.exit_code != 1 else 2
    except NetworkFileError as exc:
        _error(exc.one_line())
        return 2
    except GmnetError as exc:
        _error(str(exc))
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a file that cannot be read or written: the user can fix it
        _error(_os_error(exc))
        return 2
    except (RecursionError, MemoryError) as exc:
        if debug:
            raise
        what = "nested too deeply" if isinstance(exc, RecursionError) else "too large for memory"
        _error(f"the input is {what} to handle; make it smaller")
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if debug:
            raise
        click.echo(f"gmnet: internal error: {type(exc).__name__}: {clip_message(str(exc))} "
                   "(rerun with --debug for the traceback)", err=True)
        return 1
    return 0


def _error(message: str) -> None:
    click.echo(f"gmnet: error: {clip_message(message)}", err=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _os_error(exc: OSError) -> str:
    """'cannot use FILE: reason' for a file error (a temporary file beside an output file is
    named by its output file)."""
    import re

    reason = exc.strerror or _one_line(str(exc)) or type(exc).__name__
    name = exc.filename
    if name is None:
        return _one_line(reason)
    path = str(name)
    # gmnet.io.atomic writes ".NAME.XXXXXXXX.SUFFIX" beside NAME first
    temp = re.fullmatch(r"(?P<dir>.*?)\.(?P<name>[^/]+)\.[A-Za-z0-9_]{8}(?:\.[^./]*)?", path)
    if temp:
        path = temp.group("dir") + temp.group("name")
    return f"cannot use {path}: {_one_line(reason)}"


def entry() -> None:  # pragma: no cover - console script
    code = main()
    try:
        sys.stdout.flush()
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    sys.exit(code)
