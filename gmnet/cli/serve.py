"""``gmnet serve``: the local web page and its JSON API, on uvicorn, bound to loopback."""

from __future__ import annotations

import ipaddress
import socket

import click

from gmnet.cli.common import echo
from gmnet.errors import GmnetError, InvalidArgumentError

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
              help="Threads that compute answers.")
@click.option("--access-log", is_flag=True, help="Log every request.")
def serve(host: str, port: int, networks: tuple[str, ...], open_browser: bool, timeout: float,
          workers: int, access_log: bool) -> None:
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
    if loopback:
        allowed: tuple[str, ...] | None = LOOPBACK_NAMES
    elif host in ("0.0.0.0", "::"):
        allowed = None  # any address of this machine: the Host header cannot be predicted
    else:
        allowed = (*LOOPBACK_NAMES, host.strip("[]").lower())
    app = create_app(list(networks) or None, timeout=timeout, workers=workers,
                     allowed_hosts=allowed)
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound_port}/"
    served = ", ".join(app.state.gmnet.networks)
    echo(f"gmnet: serving {served} at {url} (Ctrl+C to stop)")
    if not loopback:
        echo(f"gmnet: warning: listening on {host}, not loopback: other machines can reach "
             "this page (no authentication)", err=True)
    if open_browser:
        import threading
        import webbrowser

        browse = url.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]")
        threading.Timer(0.8, webbrowser.open, args=(browse,)).start()
    config = uvicorn.Config(app, log_level="warning", access_log=access_log,
                            timeout_graceful_shutdown=3, server_header=False)
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
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


COMMANDS = [serve]
