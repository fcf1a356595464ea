"""``gmnet serve``: the local web page and its JSON API, on uvicorn, bound to loopback."""

from __future__ import annotations

import ipaddress
import socket

import click

from gmnet.cli.common import echo
from gmnet.errors import GmnetError, InvalidArgumentError
from gmnet.web.cache import DEFAULT_CACHE_ENTRIES
from gmnet.web.connections import (
    BACKLOG,
    DEFAULT_HEADER_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    connection_limit,
    guarded_protocol,
)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep the loopback default unless you mean to share "
                   "the page with other machines.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--network", "networks", multiple=True, metavar="PATH|NAME",
              help="A network to serve (repeatable; the first is the default). Default: the "
                   "bundled goal_misgeneralization network. Clients can use only these.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a web browser.")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Time limit of one request's computation, in seconds.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Processes (or threads, with --compute threads) that compute answers.")
@click.option("--compute", type=click.Choice(["processes", "threads"]), default="processes",
              show_default=True,
              help="Compute the questions, comparisons, uncertainty, sensitivity and diagrams "
                   "in worker processes (every core works) or in threads of the server's "
                   "process (one core; less memory).")
@click.option("--cache", "cache_entries", default=DEFAULT_CACHE_ENTRIES, show_default=True,
              type=click.IntRange(0, 1_000_000),
              help="Answers kept to serve the same request again (0: none).")
@click.option("--access-log", is_flag=True, help="Log every request.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also accept requests whose Host header is NAME (repeatable), e.g. the "
                   "machine's name when --host is not loopback. Always accepted: the --host "
                   "address, localhost, 127.0.0.1 and ::1.")
@click.option("--max-connections", default=DEFAULT_MAX_CONNECTIONS, show_default=True,
              type=click.IntRange(8, 100_000),
              help="Connections held at once; beyond it the oldest idle one is closed (lowered "
                   "to fit the open-files limit).")
@click.option("--header-timeout", default=DEFAULT_HEADER_TIMEOUT, show_default=True,
              type=click.FloatRange(min=0.1, max=3600),
              help="Seconds a connection has to send its request head (or the next part of "
                   "its body) before it is closed.")
def serve(host: str, port: int, networks: tuple[str, ...], open_browser: bool, timeout: float,
          workers: int, compute: str, cache_entries: int, access_log: bool,
          allow_hosts: tuple[str, ...], max_connections: int, header_timeout: float) -> None:
    """Explore what-ifs in a local web page: the diagram with live probabilities, scenarios,
    worldviews, mitigations, P(harm) with its uncertainty band.

    The JSON API is under /api/ and described at /openapi.json.
    """
    try:
        import uvicorn
    except ImportError:
        raise GmnetError("gmnet serve needs uvicorn and FastAPI; install them with "
                         "pip install 'gmnet[web]'") from None
    from gmnet.web import create_app

    loopback = _is_loopback(host)
    allowed = allowed_hosts(host, allow_hosts)
    app = create_app(list(networks) or None, timeout=timeout, workers=workers,
                     allowed_hosts=allowed, compute=compute, cache_entries=cache_entries)
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound_port}/"
    served = ", ".join(app.state.gmnet.networks)
    echo(f"gmnet: serving {served} at {url} (Ctrl+C to stop)")
    if not loopback:
        everywhere = host.strip("[]") in ("0.0.0.0", "::")
        where = "every network interface of this machine" if everywhere else host
        echo(f"gmnet: warning: listening on {where}, not loopback: any machine that can reach "
             f"port {bound_port} can use this page and its JSON API (no authentication): every "
             f"question, analysis and diagram of {served}. Host names accepted: "
             f"{', '.join(allowed)} (add more with --allow-host NAME)", err=True)
    if open_browser:
        import threading
        import webbrowser

        browse = url.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]")
        threading.Timer(0.8, webbrowser.open, args=(browse,)).start()
    config = uvicorn.Config(app, log_level="warning", access_log=access_log,
                            timeout_graceful_shutdown=3, server_header=False, backlog=BACKLOG)
    config.load()
    config.http_protocol_class = guarded_protocol(
        config.http_protocol_class, max_connections=connection_limit(max_connections),
        header_timeout=header_timeout)
    if access_log:
        # the server's own chatter stays at warning; the request lines are at info, so the
        # access logger alone is turned up (at warning it would drop every request line)
        import logging

        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def allowed_hosts(host: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The Host header values the server accepts: the bind address, the loopback names and
    every ``extra`` name (checked: a name or address, no port or path)."""
    names = [host.strip("[]").lower(), *LOOPBACK_NAMES]
    for name in extra:
        clean = name.strip().strip("[]").lower()
        if not clean or any(ch in clean for ch in "/ @?#") or clean.count(":") == 1:
            raise InvalidArgumentError(f"--allow-host {name!r}: give a host name or address "
                                       "without port or path, e.g. --allow-host mybox.local")
        names.append(clean)
    return tuple(dict.fromkeys(names))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket, or a one-line error naming the problem (e.g. port in use)."""
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidArgumentError(f"cannot listen on host {host!r}: {exc.strerror}; "
                                   "use an address such as 127.0.0.1") from None
    family, kind, proto, _, address = infos[0]
    # the protocol number matters: asyncio sets TCP_NODELAY only on sockets that say TCP, and
    # without it every response waits ~40 ms for the client's delayed ACK (Nagle)
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if port and exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise InvalidArgumentError(f"port {port} on {host} is already in use; choose "
                                       "another with --port (or --port 0 for any free one)"
                                       ) from None
        raise InvalidArgumentError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


COMMANDS = [serve]
